/**
 * The PostgreSQL server of the tests (env DURAFLOW_TEST_PG, default postgres://postgres@127.0.0.1:5432/test):
 * a reachability probe, and fresh schemas that are dropped after use.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server URL tests use. */
export const PG_TEST_URL = process.env['DURAFLOW_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Schemas of test runs start with this, followed by their creation time in seconds. */
const SCHEMA_PREFIX = 'duraflow_test_';

/** Runs `fn` with a short-lived client on the test server. */
export async function withPgClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_TEST_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Why the test server cannot be used, or undefined when it can. */
export async function pgUnavailableReason(): Promise<string | undefined> {
  try {
    await withPgClient(async (client) => {
      await client.query('SELECT 1');
      await dropStaleSchemas(client);
    });
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${PG_TEST_URL} is unreachable: ${(error as Error).message}`;
  }
}

/** Drops schemas that test runs killed before their cleanup left behind (older than an hour). */
async function dropStaleSchemas(client: pg.Client): Promise<void> {
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
}

/** A store URL on a schema of its own, and the function that drops that schema. */
export interface TestSchema {
  url: string;
  schema: string;
  drop(): Promise<void>;
}

/** A fresh schema name and its store URL (the store creates the schema on open). */
export function newTestSchema(): TestSchema {
  const schema = `${SCHEMA_PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(6).toString('hex')}`;
  const separator = PG_TEST_URL.includes('?') ? '&' : '?';
  return {
    url: `${PG_TEST_URL}${separator}schema=${schema}`,
    schema,
    drop: () =>
      withPgClient(async (client) => {
        // A connection left in a transaction would make the drop wait forever: fail instead.
        await client.query(`SET lock_timeout = '20s'`);
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }),
  };
}

/**
 * The plan PostgreSQL picks for `sql` with sequential scans forbidden (tiny test tables are scanned whatever the
 * indexes), as text: whether an index can serve a query, without filling a table to make the planner want it.
 */
export async function planWithoutSeqscan(sql: string): Promise<string> {
  return withPgClient(async (client) => {
    await client.query('BEGIN');
    try {
      await client.query('SET LOCAL enable_seqscan = off');
      const rows = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`);
      return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await client.query('ROLLBACK');
    }
  });
}
