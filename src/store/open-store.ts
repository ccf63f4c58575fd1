/**
 * Opens a store from its URL: `sqlite:<path>`, `sqlite::memory:` or `postgres://…`.
 * Within one process, every opener of the same URL shares one store, so an app and the clients it
 * creates see each other's notices (no polling delay in-process).
 */
import { ValidationError } from '../sdk/errors.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/** Store URL used when neither the option nor `DURAFLOW_STORE` names one. */
export const DEFAULT_STORE_URL = 'sqlite:.duraflow/duraflow.db';

/** The store URL to use: the given one, else `DURAFLOW_STORE`, else the default SQLite file. */
export function resolveStoreUrl(url?: string): string {
  return url ?? process.env['DURAFLOW_STORE'] ?? DEFAULT_STORE_URL;
}

interface SharedStore {
  store: Promise<Store>;
  refs: number;
}
const shared = new Map<string, SharedStore>();

async function createStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (!path) throw new ValidationError(`The store URL '${url}' names no file; use 'sqlite:<path>' or 'sqlite::memory:'.`);
    return new SqliteStore(path);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    // Loaded on demand so SQLite users never load the PostgreSQL driver.
    const specifier = './postgres/postgres-store.js';
    const module = (await import(specifier).catch((error: unknown) => {
      throw new ValidationError(`The PostgreSQL store could not be loaded: ${(error as Error).message}`);
    })) as { openPostgresStore(url: string): Promise<Store> };
    return module.openPostgresStore(url);
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
    return new SqliteStore(path, { readOnly: true });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const specifier = './postgres/postgres-store.js';
    const module = (await import(specifier)) as { openPostgresStore(url: string, options: { readOnly: boolean; poolSize: number }): Promise<Store> };
    return module.openPostgresStore(url, { readOnly: true, poolSize: 2 });
  }
  throw new ValidationError(`Unknown store URL '${url}': expected 'sqlite:<path>' or 'postgres://user@host:port/database'.`);
}

/** A handle on a shared store; `release()` closes it when the last holder lets go. */
export interface StoreHandle {
  store: Store;
  release(): Promise<void>;
}

/** Opens (or joins) the store at `url`. `sqlite::memory:` is never shared: each open is a new database. */
export async function acquireStore(url: string): Promise<StoreHandle> {
  if (url === 'sqlite::memory:') {
    const store = await createStore(url);
    return { store, release: () => store.close() };
  }
  let entry = shared.get(url);
  if (!entry) {
    entry = { store: createStore(url), refs: 0 };
    shared.set(url, entry);
    entry.store.catch(() => shared.delete(url));
  }
  entry.refs++;
  const current = entry;
  const store = await current.store;
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
