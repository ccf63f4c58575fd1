/**
 * The embedded store: one SQLite file in WAL mode (`better-sqlite3`). Every method is one transaction;
 * writes use IMMEDIATE transactions so concurrent processes queue on the lock instead of failing.
 * Commits of other processes on the same file are noticed by a {@link CommitWatcher}. This file holds the
 * store itself (database, group commit, notices); the hub operations are in `sqlite-hub-store.ts` and the
 * concept files it delegates to.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StoreError } from '../../sdk/errors.js';
import { silentLogger, type Logger } from '../../sdk/logger.js';
import { ValidationError } from '../../sdk/errors.js';
import { NoticeBus } from '../shared.js';
import type { HubStore, Store, StoreNotice } from '../store.js';
import { CommitWatcher } from './commit-watcher.js';
import { migrate, SCHEMA_VERSION } from './schema.js';
import { compareVersions } from '../../sdk/versioning.js';
import type { SqliteStoreContext } from './sqlite-context.js';
import { SqliteHubStore } from './sqlite-hub-store.js';
import { LruCache, MAX_CACHED_HUBS } from '../lru-cache.js';
import { WalSpace } from './wal-space.js';
import { leaveOpenUntilExit, mayBeUnwritable, unwritableFileError } from './unwritable-files.js';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Clock for leases and visibility (the test host passes a virtual one). */
  clock?: () => number;
  /** `synchronous` pragma: FULL (default) survives power loss; NORMAL is faster and survives process crashes. */
  synchronous?: 'FULL' | 'NORMAL' | 'OFF';
  /** Gets debug messages (e.g. that the directory cannot be watched for other processes' commits). */
  logger?: Logger;
  /**
   * Open an existing store for reading only (`duraflow replay-check`): no file or directory is created, no
   * migration runs, and any write fails. A file that is not a duraflow store is a `ValidationError`.
   */
  readOnly?: boolean;
  /** Open only an existing duraflow database: create no directory, file or tables (a `StoreError` otherwise). */
  mustExist?: boolean;
}

/** How long a write waits for another process's write lock before it fails with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

/** How many problems a failed {@link SqliteStore.verify} names (quick_check stops after as many). */
const MAX_REPORTED_PROBLEMS = 5;

/** The end of the message of a close that found the files unwritable. */
const LEFT_OPEN = 'the store was left open, not closed (closing writes them): its committed work is in the WAL, recovered at the next start once they are writable';

/** What a subscriber hears when another process committed: it cannot tell what, so anything may have changed. */
const FOREIGN_COMMIT_NOTICES: readonly StoreNotice[] = [
  { kind: 'orchestrations' },
  { kind: 'activities' },
  { kind: 'timers' },
  { kind: 'instances' },
  { kind: 'schedules' },
];

/** A store on one SQLite file (or `:memory:`). */
export class SqliteStore implements Store, SqliteStoreContext {
  readonly url: string;
  readonly db: Database.Database;
  readonly now: () => number;
  readonly #bus = new NoticeBus();
  /** Runs while any hub has subscribers (`#bus.hubs()`); undefined for `:memory:` (no other process can open it). */
  readonly #watcher: CommitWatcher | undefined;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #hubs = new LruCache<string, SqliteHubStore>(MAX_CACHED_HUBS);
  readonly #synchronous: 'FULL' | 'NORMAL' | 'OFF';
  readonly #path: string;
  readonly #writableAtOpen: boolean;
  #currentSynchronous: string;
  #queue: QueuedWrite[] = [];
  #flushScheduled = false;
  /** Keeps the WAL from eating a full disk (undefined for `:memory:` and read-only opens). */
  readonly #walSpace: WalSpace | undefined;
  /** Set once a write found the files unwritable (see unwritable-files.ts); looked at again every 500 ms. */
  #unwritable: { error: StoreError; checkedAt: number } | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.url = `sqlite:${path}`;
    this.#path = path;
    this.#synchronous = options.synchronous ?? 'FULL';
    this.#currentSynchronous = this.#synchronous;
    if (options.readOnly || options.mustExist) {
      this.db = openExisting(path, { readonly: options.readOnly === true });
    } else {
      if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
    }
    // A file this process may not write is opened read-only by SQLite itself: closing it writes nothing.
    this.#writableAtOpen = !options.readOnly && (path === ':memory:' || path === '' || !unwritableFileError(path));
    if (!options.readOnly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${this.#synchronous}`);
    }
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.now = options.clock ?? Date.now;
    // Version filters of claims and queries compare as the SDK does (the same function, not a copy in SQL).
    this.db.function('duraflow_version_compare', { deterministic: true }, (a: unknown, b: unknown) =>
      compareVersions(typeof a === 'string' ? a : null, typeof b === 'string' ? b : null),
    );
    if (!options.readOnly) migrate(this.db);
    if (!options.readOnly && path !== ':memory:' && path !== '') this.#walSpace = new WalSpace(this.db, path, BUSY_TIMEOUT_MS);
    if (path !== ':memory:' && path !== '') {
      const dataVersion = this.db.prepare('PRAGMA data_version').pluck();
      this.#watcher = new CommitWatcher(
        path,
        () => dataVersion.get() as number,
        () => this.#foreignCommit(),
        options.logger ?? silentLogger,
      );
    }
  }

  /**
   * True for a file whose directory can be watched: commits of other processes then wake subscribers within
   * milliseconds, and workers poll only as a fallback (every 5 s by default instead of 500 ms).
   */
  get crossProcessNotices(): boolean {
    return this.#watcher?.supported ?? false;
  }

  hub(name: string): HubStore {
    return this.#hubs.getOrCreate(name, () => new SqliteHubStore(this, name));
  }

  subscribe(hub: string, listener: (notice: StoreNotice) => void): () => void {
    const unsubscribe = this.#bus.subscribe(hub, listener);
    if (this.db.open) this.#watcher?.start();
    return () => {
      unsubscribe();
      if (this.#bus.hubs().length === 0) this.#watcher?.stop();
    };
  }

  /** Another process committed something: every subscribed hub looks again. */
  #foreignCommit(): void {
    for (const hub of this.#bus.hubs()) {
      for (const notice of FOREIGN_COMMIT_NOTICES) this.#bus.emit(hub, notice);
    }
  }

  /** @internal */
  emit(hub: string, notice: StoreNotice): void {
    this.#bus.emit(hub, notice);
  }

  /** @internal See `SqliteStoreContext.reserveWal`. */
  reserveWal(): void {
    // Not on files found unwritable: like a write, the reserve would touch the WAL index's memory mapping.
    if (this.#writableAtOpen && !this.#stillUnwritable()) this.#walSpace?.reserve();
  }

  /** @internal A cached prepared statement. */
  sql(text: string): Database.Statement {
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  /**
   * @internal Group commit: every write issued in the same tick shares one IMMEDIATE transaction, each in its
   * own savepoint so a write that throws rolls back alone. The shared commit syncs to disk only when one of
   * its writes is `durable`; lease-only batches (claims, renewals, releases) skip the fsync, since a lease
   * lost in a crash is harmless.
   */
  write<T>(fn: () => T, durable: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, durable, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue.splice(0);
    if (!batch.length) return;
    if (!this.db.open) {
      for (const item of batch) item.reject(new Error('The SQLite store is closed.'));
      return;
    }
    const unwritable = this.#stillUnwritable();
    if (unwritable) {
      // Not even tried: SQLite could write its WAL index, through a mapping the kernel now answers with SIGBUS.
      for (const item of batch) item.reject(unwritable);
      return;
    }
    const level = batch.some((item) => item.durable) ? this.#synchronous : 'OFF';
    const outcomes: { ok: boolean; value?: unknown; error?: unknown }[] = [];
    try {
      if (level !== this.#currentSynchronous) {
        this.db.pragma(`synchronous = ${level}`);
        this.#currentSynchronous = level;
      }
      this.db
        .transaction(() => {
          for (const item of batch) {
            try {
              outcomes.push({ ok: true, value: this.db.transaction(item.fn)() });
            } catch (error) {
              outcomes.push({ ok: false, error });
              // A full disk, an I/O error or a corrupt page rolls back the whole transaction: the writes left
              // must not run on their own (outside it, each would commit by itself); the commit below fails.
              if (!this.db.inTransaction) throw error;
            }
          }
        })
        .immediate();
    } catch (error) {
      // The shared transaction failed as a whole (busy past the timeout, disk full): nothing was written.
      if ((error as { code?: unknown }).code === 'SQLITE_FULL') this.#walSpace?.commitFailed();
      const unwritable = mayBeUnwritable(error) ? this.#checkWritable() : undefined;
      for (const item of batch) item.reject(unwritable ?? error);
      return;
    }
    this.#watcher?.afterOwnWrite();
    this.#walSpace?.committed();
    batch.forEach((item, i) => (outcomes[i]!.ok ? item.resolve(outcomes[i]!.value) : item.reject(outcomes[i]!.error)));
  }

  async ping(): Promise<void> {
    // The schema lives on the first page: a closed, replaced or corrupt file fails here.
    this.sql('SELECT count(*) FROM sqlite_schema').get();
  }

  /**
   * `PRAGMA quick_check`: every page and B-tree of the file is read and its structure checked (not that indexes
   * match their tables, which the full `integrity_check` adds). A damaged file is a `StoreError` ('corrupt')
   * naming it, so a host refuses to start rather than answer 500s when a request reaches a damaged page.
   */
  async verify(): Promise<void> {
    if (this.#path === ':memory:' || this.#path === '') return;
    const problems = this.db.prepare(`PRAGMA quick_check(${MAX_REPORTED_PROBLEMS})`).pluck().all() as string[];
    if (problems.length === 1 && problems[0] === 'ok') return;
    // One line: a problem may span lines, and the first one may be a '*** in database main ***' heading.
    const found = problems.flatMap((p) => p.split('\n')).map((p) => p.trim()).filter((p) => p && !p.startsWith('***'));
    throw new StoreError(
      'corrupt',
      `database file is corrupt: ${resolve(this.#path)} (quick_check: ${found.join('; ')}); restore it from a backup or point --store at another file`,
      { code: 'SQLITE_CORRUPT' },
    );
  }

  /** The files' write access, probed now: the error that says which one may not be written, if any. */
  #checkWritable(): StoreError | undefined {
    if (this.#path === ':memory:' || this.#path === '') return undefined;
    const error = unwritableFileError(this.#path);
    this.#unwritable = error ? { error, checkedAt: Date.now() } : undefined;
    return error;
  }

  /** Whether the files a write found unwritable still are (probed again at most every 500 ms). */
  #stillUnwritable(): StoreError | undefined {
    if (!this.#unwritable) return undefined;
    if (Date.now() - this.#unwritable.checkedAt < 500) return this.#unwritable.error;
    return this.#checkWritable();
  }

  /**
   * Closes the database. When its files cannot be written (see unwritable-files.ts) it is left open until the
   * process exits, and this rejects with that `StoreError`: the committed work is in the WAL, recovered when the
   * store is next opened with the files writable.
   */
  async close(): Promise<void> {
    this.#watcher?.stop();
    if (this.#queue.length) await new Promise((resolve) => setImmediate(resolve));
    if (!this.db.open) return;
    const unwritable = this.#writableAtOpen && this.#path !== ':memory:' && this.#path !== '' ? unwritableFileError(this.#path, LEFT_OPEN) : undefined;
    if (unwritable) {
      leaveOpenUntilExit(this.db);
      throw unwritable;
    }
    this.db.close();
  }
}

/**
 * Opens an existing duraflow database, creating nothing: a missing file, or one without duraflow's schema, is a
 * `StoreError` ('missing') that names the path. `readonly` also refuses every write (`duraflow replay-check`).
 */
function openExisting(path: string, { readonly }: { readonly: boolean }): Database.Database {
  if (path === ':memory:' || path === '') throw new ValidationError('An in-memory SQLite store cannot be opened as an existing one: it would be empty.');
  if (!existsSync(path)) throw new StoreError('missing', `no SQLite store at ${resolve(path)}: the file does not exist (check the store URL)`);
  const db = new Database(path, { readonly, fileMustExist: true });
  let migrated: number;
  try {
    migrated = db.pragma('user_version', { simple: true }) as number;
  } catch (error) {
    db.close();
    throw error; // not a database (SQLITE_NOTADB): named as a corrupt file by store-errors.ts
  }
  if (migrated === 0) {
    db.close();
    throw new StoreError('missing', `${resolve(path)} is not a duraflow store (it has no duraflow tables)`);
  }
  // A read-only open cannot migrate, and reads name columns of the latest schema (instance tags, since 6).
  if (readonly && migrated < SCHEMA_VERSION) {
    db.close();
    throw new StoreError(
      'outdated',
      `${resolve(path)} has schema version ${migrated}, this duraflow reads ${SCHEMA_VERSION}: open it once with a worker (duraflow start) to migrate it`,
    );
  }
  return db;
}

/** A write waiting for the next group commit, with how to settle its promise. */
interface QueuedWrite {
  fn: () => unknown;
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}
