/**
 * The physical limits the benchmark compares against: how many single-row INSERT transactions per second each
 * store's disk and engine commit when nothing else is done (SQLite WAL with synchronous=FULL, duraflow's default
 * durability; one PostgreSQL connection with the server's own durability settings).
 */
import pg from 'pg';
import { WalSpace } from '../src/store/sqlite/wal-space.js';
import { freshWalDatabase, PG_BENCH_URL } from './stores.js';

/**
 * Single-row INSERT transactions per second on a fresh SQLite file (WAL, synchronous=FULL): `commits` of them,
 * or as many as fit in `maxSeconds`. The WAL is reserved first, as a duraflow worker's is (`WalSpace.reserve`):
 * commits that append to a growing WAL are slower, and the limit is measured in the state duraflow commits in.
 */
export function sqliteCommitRate(commits = 3000, maxSeconds = Number.POSITIVE_INFINITY): number {
  const { db, path, close } = freshWalDatabase();
  try {
    new WalSpace(db, path, 0).reserve();
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const commit = db.transaction(() => insert.run('x'));
    commit(); // not counted: its fsync writes out the reserved WAL
    const started = performance.now();
    const deadline = started + maxSeconds * 1000;
    let done = 0;
    while (done < commits && (done % 64 !== 0 || performance.now() < deadline)) {
      commit();
      done++;
    }
    return done / ((performance.now() - started) / 1000);
  } finally {
    close();
  }
}

/**
 * Single-row INSERT transactions per second through one PostgreSQL connection (autocommit, a prepared
 * statement, one round trip each) into a table of `schema`, for `seconds`. The caller drops the schema.
 */
export async function pgCommitRate(schema: string, seconds: number, server = PG_BENCH_URL): Promise<number> {
  const client = new pg.Client({ connectionString: server });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`CREATE TABLE "${schema}".t (id bigserial PRIMARY KEY, v text NOT NULL)`);
    const insert = { name: 'bench-insert', text: `INSERT INTO "${schema}".t (v) VALUES ($1)`, values: ['x'] };
    const started = performance.now();
    const deadline = started + seconds * 1000;
    let done = 0;
    while (performance.now() < deadline) {
      await client.query(insert);
      done++;
    }
    return done / ((performance.now() - started) / 1000);
  } finally {
    await client.end().catch(() => undefined);
  }
}
