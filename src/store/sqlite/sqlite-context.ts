/**
 * What the SQLite hub-store concepts need from their store. An interface rather than the `SqliteStore` class,
 * so the concept files never import the store that imports them.
 */
import type Database from 'better-sqlite3';
import type { ClaimOptions, StoreNotice } from '../store.js';

/** The parts of `SqliteStore` that hub operations use; `SqliteStore` implements it. */
export interface SqliteStoreContext {
  /** The open database, for statements that must not be cached (their text varies with a filter). */
  readonly db: Database.Database;
  /** Clock for leases and visibility. */
  readonly now: () => number;
  /** A cached prepared statement. */
  sql(text: string): Database.Statement;
  /**
   * Runs `fn` in the group commit (see `SqliteStore.write`); `durable: false` for writes of leases only,
   * which a crash may lose without harm (no fsync of their own).
   */
  write<T>(fn: () => T, durable: boolean): Promise<T>;
  /** Grows the WAL to its checkpoint size once, for a worker that is starting (see `WalSpace.reserve`). */
  reserveWal(): void;
  /** Delivers a notice to this process's subscribers of `hub`. */
  emit(hub: string, notice: StoreNotice): void;
}

/** The claim's name filter as a JSON array for `json_each(?)`, or null for any name. */
export function namesParam(options: ClaimOptions): string | null {
  return options.names ? JSON.stringify(options.names) : null;
}
