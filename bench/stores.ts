/**
 * Where benchmark runs keep their state: a fresh SQLite file per run, and on the PostgreSQL server a fresh
 * schema per run (duraflow's store creates it from the `?schema=` URL parameter; DBOS from its schema option),
 * dropped afterwards. Schemas left by a killed run are dropped by the next run after an hour.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

/** The PostgreSQL server of the benchmark (env DURAFLOW_BENCH_PG, else DURAFLOW_TEST_PG, else the local test db). */
export const PG_BENCH_URL =
  process.env['DURAFLOW_BENCH_PG'] ?? process.env['DURAFLOW_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Benchmark schemas start with this, then their creation time in seconds (so stale ones can be found). */
const SCHEMA_PREFIX = 'duraflow_bench_';

/** A fresh SQLite store URL, its file and the function that removes it (with its -wal and -shm files). */
export function freshSqlite(): { url: string; path: string; cleanup: () => void } {
  const path = join(tmpdir(), `duraflow-bench-${randomUUID()}.db`);
  return {
    url: `sqlite:${path}`,
    path,
    cleanup: () => ['', '-wal', '-shm'].forEach((suffix) => rmSync(path + suffix, { force: true })),
  };
}

/**
 * A fresh SQLite file opened as duraflow opens its store (WAL, synchronous=FULL), with a table `t (id, v)`; `close`
 * closes it and removes its files.
 */
export function freshWalDatabase(): { db: Database.Database; path: string; close: () => void } {
  const { path, cleanup } = freshSqlite();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  return { db, path, close: () => (db.close(), cleanup()) };
}

/** A new schema name (`duraflow_bench_<seconds>_<kind>_<random>`). */
export function newSchemaName(kind: string): string {
  return `${SCHEMA_PREFIX}${Math.floor(Date.now() / 1000)}_${kind}_${randomBytes(5).toString('hex')}`;
}

/** The duraflow store URL of `schema` on the benchmark server. */
export function schemaUrl(schema: string, server = PG_BENCH_URL): string {
  return `${server}${server.includes('?') ? '&' : '?'}schema=${schema}`;
}

/** Runs `fn` with a short-lived client on the benchmark server. */
export async function withPgClient<T>(fn: (client: pg.Client) => Promise<T>, server = PG_BENCH_URL): Promise<T> {
  const client = new pg.Client({ connectionString: server, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drops `schema` and everything in it (fails rather than waiting forever on a lock). */
export function dropSchema(schema: string, server = PG_BENCH_URL): Promise<void> {
  return withPgClient(async (client) => {
    await client.query(`SET lock_timeout = '20s'`);
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }, server);
}

/** Why the benchmark server cannot be used (undefined when it can); drops benchmark schemas older than an hour. */
export async function pgUnavailableReason(server = PG_BENCH_URL): Promise<string | undefined> {
  try {
    await withPgClient(async (client) => {
      const { rows } = await client.query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname LIKE '${SCHEMA_PREFIX}%'`,
      );
      const hourAgo = Date.now() / 1000 - 3600;
      for (const { nspname } of rows) {
        const created = Number(nspname.slice(SCHEMA_PREFIX.length).split('_')[0]);
        if (Number.isFinite(created) && created < hourAgo) {
          await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`).catch(() => undefined);
        }
      }
    }, server);
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${server} is unreachable: ${(error as Error).message}`;
  }
}
