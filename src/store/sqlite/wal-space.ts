/**
 * A SQLite WAL on a disk that is full. Frames are whole pages, so the WAL grows by several pages per commit and
 * only restarts from its beginning after a checkpoint, which SQLite runs every 1000 pages (4 MB). On a full
 * disk that growth is what fails: space the operator frees is eaten by the next few commits before a checkpoint
 * can run, and the store makes no progress again. So when a commit fails for a full disk, {@link WalSpace}
 * checkpoints the WAL into the database and truncates it (its blocks go back to the file system), and until the
 * disk has room again has SQLite checkpoint every {@link TIGHT_CHECKPOINT_PAGES} pages: the WAL is then reused
 * instead of grown, and the database grows only by the pages that are really new.
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';

/** SQLite's default `wal_autocheckpoint`, in pages. */
const DEFAULT_CHECKPOINT_PAGES = 1000;
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
