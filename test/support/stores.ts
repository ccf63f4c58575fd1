/**
 * The stores every engine and client test runs against. SQLite always; PostgreSQL when its store exists
 * (a server at DURAFLOW_TEST_PG, default postgres://postgres@127.0.0.1:5432/test). In CI (CI=true) an
 * unreachable PostgreSQL server is a failure, not a skip.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresTestStore } from './postgres-test-store.js';

/** A store a test can use: a fresh URL per call, removed by `cleanup`. */
export interface TestStore {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty store URL. */
  create(): Promise<{ url: string; cleanup: () => Promise<void> }>;
}

/** SQLite on a temporary file. */
export const sqliteTestStore: TestStore = {
  name: 'sqlite',
  async create() {
    const path = join(tmpdir(), `duraflow-test-${randomUUID()}.db`);
    return {
      url: `sqlite:${path}`,
      cleanup: async () => {
        for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
      },
    };
  },
};

const extraStores: TestStore[] = [];

/** Adds a store (the PostgreSQL test store registers itself here). */
export function registerTestStore(store: TestStore): void {
  extraStores.push(store);
}

if (postgresTestStore) registerTestStore(postgresTestStore);

/** Every store engine tests must pass on. */
export function testStores(): TestStore[] {
  return [sqliteTestStore, ...extraStores];
}
