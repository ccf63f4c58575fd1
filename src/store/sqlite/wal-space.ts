/**
 * A SQLite WAL on a disk that is full. Frames are whole pages, so the WAL grows by several pages per commit and
 * only restarts from its beginning after a checkpoint, which SQLite runs every 1000 pages (4 MB). On a full
 * disk that growth is what fails: space the operator frees is eaten by the next few commits before a checkpoint
 * can run, and the store makes no progress again. So when a commit fails for a full disk, {@link WalSpace}
 * checkpoints the WAL into the database and truncates it (its blocks go back to the file system), and until the
 * disk has room again has SQLite checkpoint every {@link TIGHT_CHECKPOINT_PAGES} pages: the WAL is then reused
 * instead of grown, and the database grows only by the pages that are really new.
 *
 * The other way round, a WAL that grows costs every commit: fdatasync of a file that got longer also commits its new
 * size to the file system's journal, so a commit of 10 pages that appends took 0.33–0.49 ms here against 0.19–0.31 ms
 * for one that overwrites a WAL restarted after a checkpoint (bench/wal-growth.ts). SQLite deletes the WAL when its last connection closes, so
 * every start of a host would pay that for its first ~1000 pages of commits; {@link WalSpace.reserve} grows the WAL
 * to its checkpoint size once, when a worker starts.
 */
import { statSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';

/** SQLite's default `wal_autocheckpoint`, in pages. */
const DEFAULT_CHECKPOINT_PAGES = 1000;
/** WAL frames {@link WalSpace.reserve} writes: the checkpoint size and room for the commit that crosses it. */
const RESERVED_FRAMES = DEFAULT_CHECKPOINT_PAGES + 64;
/** Bytes of a WAL's header and of each frame's header (sqlite.org/fileformat2.html#walformat). */
const WAL_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;
/** The page cache while reserving: the pages of the reserve table spill to the WAL as soon as it is full. */
const SPILL_CACHE_PAGES = 16;
/** `wal_autocheckpoint` while the disk is short of space (256 KB of WAL). */
const TIGHT_CHECKPOINT_PAGES = 64;
/** Least time between two checkpoints after failed commits (every commit of every loop fails meanwhile). */
const RECLAIM_EVERY_MS = 250;
/** How often a store short of space looks whether the disk has room again. */
const SPACE_CHECK_EVERY_MS = 10_000;
/** Free space from which the disk counts as roomy again (the default checkpoints come back). */
const ROOMY_BYTES = 256 * 1024 * 1024;

/** Keeps the WAL of `db` (a file at `path`) from eating a full disk; see the file comment. */
export class WalSpace {
  #reclaimedAt = 0;
  /** Set while the disk is short of space: when it was last looked at. */
  #tightSince: number | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
    private readonly busyTimeoutMs: number,
  ) {}

  /**
   * Grows the WAL to its checkpoint size if it is shorter (see the file comment), so commits overwrite frames in
   * place instead of appending. The frames are written by a transaction that SQLite spills to the WAL (a cache of
   * a few pages, a table of zeros) and that is then rolled back: nothing is committed, a frame without a commit
   * frame after it is never read, and the next commit writes from the WAL's first frame again. Best effort and
   * skipped while another process writes (no wait), on a disk short of space, or inside a transaction.
   */
  reserve(): void {
    if (this.#tightSince !== undefined || this.db.inTransaction) return;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    try {
      const bytes = WAL_HEADER_BYTES + RESERVED_FRAMES * (FRAME_HEADER_BYTES + pageSize);
      if (walBytes(this.path) >= bytes) return;
      const space = statfsSync(dirname(this.path));
      if (space.bavail * space.bsize < ROOMY_BYTES) return;
    } catch {
      return;
    }
    const cacheSize = this.db.pragma('cache_size', { simple: true }) as number;
    try {
      this.db.pragma('busy_timeout = 0');
      this.db.pragma(`cache_size = ${SPILL_CACHE_PAGES}`);
      this.db.exec('BEGIN IMMEDIATE');
      try {
        this.db.exec('CREATE TABLE duraflow_wal_reserve (b BLOB)');
        // Pages beyond RESERVED_FRAMES: the last ones stay in the cache, unspilled, when the transaction ends.
        const bytes = (RESERVED_FRAMES + 2 * SPILL_CACHE_PAGES) * pageSize;
        this.db.prepare('INSERT INTO duraflow_wal_reserve (b) VALUES (zeroblob(?))').run(bytes);
      } finally {
        this.db.exec('ROLLBACK');
      }
    } catch {
      // busy (another process writes: its WAL is in use anyway), or no room: commits append as before
    } finally {
      this.db.pragma(`cache_size = ${cacheSize}`);
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  /** A commit failed with SQLITE_FULL (outside any transaction now). */
  commitFailed(): void {
    const now = Date.now();
    if (now - this.#reclaimedAt < RECLAIM_EVERY_MS || this.db.inTransaction) return;
    this.#reclaimedAt = now;
    try {
      if (this.#tightSince === undefined) this.db.pragma(`wal_autocheckpoint = ${TIGHT_CHECKPOINT_PAGES}`);
      this.#tightSince = now;
      // Never waiting for readers (of other processes): the next failure tries again.
      this.db.pragma('busy_timeout = 0');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // no room yet for the pages the checkpoint adds to the database: the next failure tries again
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  /** A commit succeeded: once the disk has room again, SQLite's default checkpoints come back. */
  committed(): void {
    if (this.#tightSince === undefined || Date.now() - this.#tightSince < SPACE_CHECK_EVERY_MS) return;
    this.#tightSince = Date.now();
    try {
      const space = statfsSync(dirname(this.path));
      if (space.bavail * space.bsize < ROOMY_BYTES) return;
    } catch {
      return;
    }
    this.db.pragma(`wal_autocheckpoint = ${DEFAULT_CHECKPOINT_PAGES}`);
    this.#tightSince = undefined;
  }
}

/** The size of the WAL file of the database at `path`, 0 if there is none. */
function walBytes(path: string): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}
