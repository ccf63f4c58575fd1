import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeConformanceSuite } from './store-conformance.js';

storeConformanceSuite('sqlite', async () => {
  const path = join(tmpdir(), `duraflow-conformance-${randomUUID()}.db`);
  const store = new SqliteStore(path);
  return {
    store,
    cleanup: async () => {
      await store.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    },
  };
});
