/**
 * Opens a store from its URL: `sqlite:<path>`, `sqlite::memory:` or `postgres://…`.
 * Within one process, every opener of the same URL shares one store, so an app and the clients it
 * creates see each other's notices (no polling delay in-process). Stores opened here name their errors
 * (a full disk, a corrupt file, an unreachable server: see `store-errors.ts`).
 */
import { ValidationError } from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { adoptStoreLogger, describeStoreError, guardStore, redactStoreUrl } from './store-errors.js';
import type { Store } from './store.js';

/** Store URL used when neither the option nor `DURAFLOW_STORE` names one. */
export const DEFAULT_STORE_URL = 'sqlite:.duraflow/duraflow.db';

/** The store URL to use: the given one, else `DURAFLOW_STORE`, else the default SQLite file. */
export function resolveStoreUrl(url?: string): string {
  return url ?? process.env['DURAFLOW_STORE'] ?? DEFAULT_STORE_URL;
}

/** How to open a store. */
export interface OpenStoreOptions {
  /** Gets the store's warnings (lost PostgreSQL connections, an unwatchable SQLite directory). */
  logger?: Logger;
  /**
   * Only open a store that exists: no SQLite file or directory, no PostgreSQL schema is created, and a missing
   * one is a `StoreError` with reason `missing` (for commands that only read).
   */
  mustExist?: boolean;
  /**
   * Check the store before handing it out ({@link Store.verify}: SQLite's `quick_check`); a damaged store is a
   * `StoreError` ('corrupt'). The host and worker start paths ask for it; the CLI's inspecting commands do not
   * (the check reads the whole file: about 0.25 s per 200 MB from the page cache, 5 s from a cold disk).
   */
  verify?: boolean;
}

interface SharedStore {
  store: Promise<Store>;
  refs: number;
  /** The {@link OpenStoreOptions.verify} check, once one opener asked for it. */
  verified?: Promise<void>;
}
const shared = new Map<string, SharedStore>();

async function createStore(url: string, options: OpenStoreOptions): Promise<Store> {
  const logger = options.logger ? { logger: options.logger } : {};
  const mustExist = options.mustExist ? { mustExist: true } : {};
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (!path) throw new ValidationError(`The store URL '${url}' names no file; use 'sqlite:<path>' or 'sqlite::memory:'.`);
    return new SqliteStore(path, { ...logger, ...mustExist });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    // Loaded on demand so SQLite users never load the PostgreSQL driver.
    const specifier = './postgres/postgres-store.js';
    const module = (await import(specifier).catch((error: unknown) => {
      throw new ValidationError(`The PostgreSQL store could not be loaded: ${(error as Error).message}`);
    })) as { openPostgresStore(url: string, options?: OpenStoreOptions): Promise<Store> };
    return module.openPostgresStore(url, { ...logger, ...mustExist });
  }
  throw new ValidationError(
    `Unknown store URL '${url}': expected 'sqlite:<path>', 'sqlite::memory:' or 'postgres://user@host:port/database'.`,
  );
}

/**
 * Opens the existing store at `url` for reading only, never shared and never created: a missing SQLite file or a
 * PostgreSQL schema without a store is a `ValidationError`, and every write fails. Close it when done.
 */
export async function openStoreReadOnly(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (!path) throw new ValidationError(`The store URL '${url}' names no file; use 'sqlite:<path>'.`);
    return guardNamed(() => new SqliteStore(path, { readOnly: true }), url);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const specifier = './postgres/postgres-store.js';
    const module = (await import(specifier)) as { openPostgresStore(url: string, options: { readOnly: boolean; poolSize: number }): Promise<Store> };
    return guardNamed(() => module.openPostgresStore(url, { readOnly: true, poolSize: 2 }), url);
  }
  throw new ValidationError(`Unknown store URL '${url}': expected 'sqlite:<path>' or 'postgres://user@host:port/database'.`);
}

/** A store opened by `open`, with its errors named (see store-errors.ts) and its recovery logged to `logger`. */
async function guardNamed(open: () => Store | Promise<Store>, url: string, logger?: Logger): Promise<Store> {
  try {
    return guardStore(await open(), logger);
  } catch (error) {
    throw describeStoreError(error, url);
  }
}

/** Opens the store at `url` with its errors named. */
function openStore(url: string, options: OpenStoreOptions): Promise<Store> {
  return guardNamed(() => createStore(url, options), url, options.logger);
}

/** Runs the store's {@link Store.verify} check; says how long it took when that was long enough to notice. */
async function verifyStore(store: Store, logger: Logger | undefined): Promise<void> {
  const started = performance.now();
  await store.verify?.();
  const ms = performance.now() - started;
  if (ms >= 1000) logger?.info(`store checked in ${(ms / 1000).toFixed(1)} s (integrity check before starting)`, { store: redactStoreUrl(store.url), ms: Math.round(ms) });
}

/** A handle on a shared store; `release()` closes it when the last holder lets go. */
export interface StoreHandle {
  store: Store;
  release(): Promise<void>;
}

/** Opens (or joins) the store at `url`. `sqlite::memory:` is never shared: each open is a new database. */
export async function acquireStore(url: string, options: OpenStoreOptions = {}): Promise<StoreHandle> {
  if (url === 'sqlite::memory:') {
    const store = await openStore(url, options);
    return { store, release: () => store.close() };
  }
  let entry = shared.get(url);
  if (!entry) {
    entry = { store: openStore(url, options), refs: 0 };
    shared.set(url, entry);
    entry.store.catch(() => shared.delete(url));
  }
  entry.refs++;
  const current = entry;
  let store: Store;
  try {
    store = await current.store;
    if (options.logger) adoptStoreLogger(store, options.logger);
    if (options.verify) await (current.verified ??= verifyStore(store, options.logger));
  } catch (error) {
    // Closed when its last holder lets go (a store that failed its check is closed at once).
    if (--current.refs === 0 && shared.get(url) === current) {
      shared.delete(url);
      await current.store.then((opened) => opened.close()).catch(() => undefined);
    }
    throw error;
  }
  let released = false;
  return {
    store,
    release: async () => {
      if (released) return;
      released = true;
      if (--current.refs === 0) {
        shared.delete(url);
        await store.close();
      }
    },
  };
}
