/**
 * Helpers of the PostgreSQL fault tests: client calls that ride out killed connections and a restarting
 * server, waits on completion with the stored rows in the failure message, and the store's connections
 * as pg_stat_activity sees them (every connection of a store is named `duraflow:<schema>`).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DurableClient } from '../../src/index.js';
import { withPgClient } from '../support/postgres.js';

/** The schema of a PostgreSQL store URL. */
export function schemaOf(url: string): string {
  const schema = new URL(url).searchParams.get('schema');
  if (!schema) throw new Error(`no schema in ${url}`);
  return schema;
}

/**
 * Retries a client call that may hit a connection the test just killed. Only for calls that are safe to
 * repeat, or made while nothing kills connections (a lost answer to a committed call would repeat it).
 */
export async function retrying<T>(call: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleep(100);
    }
  }
}

/**
 * Starts `name` as `id`, retrying while connections are killed or the server restarts (up to ~30 s). A start
 * whose commit went through but whose answer was lost is not repeated: the retry looks for the instance first.
 */
export async function startRiding(client: DurableClient, name: string, id: string, input: unknown, signal?: AbortSignal): Promise<void> {
  try {
    await client.startNew(name, { instanceId: id, input });
    return;
  } catch {
    // a killed connection or a restarting server: retry below
  }
  for (let attempt = 1; !signal?.aborted; attempt++) {
    await sleep(100);
    try {
      if (!(await client.getStatus(id))) await client.startNew(name, { instanceId: id, input });
      return;
    } catch (error) {
      if (attempt >= 300) throw error;
    }
  }
}

/** The stored rows of one instance, for a failure message. */
export async function storedState(schema: string, id: string): Promise<string> {
  return withPgClient(async (client) => {
    const q = async (sql: string) => JSON.stringify((await client.query(sql, [id])).rows);
    const now = await q(`SELECT (extract(epoch from now()) * 1000)::bigint AS now, $1::text AS id`);
    const instance = await q(`SELECT status, history_length, lock_owner, lock_until, lock_epoch FROM "${schema}".instances WHERE instance_id = $1`);
    const inbox = await q(`SELECT id, event_type, visible_at, execution_id FROM "${schema}".inbox WHERE instance_id = $1`);
    const activities = await q(`SELECT id, name, lock_owner, lock_until, dequeue_count FROM "${schema}".activities WHERE instance_id = $1`);
    const history = await q(`SELECT string_agg(event::json->>'eventType', ',' ORDER BY seq) AS h FROM "${schema}".history WHERE instance_id = $1`);
    return `now ${now}\ninstance ${instance}\ninbox ${inbox}\nactivities ${activities}\nhistory ${history}`;
  });
}

/** Waits until `id` is Completed and returns its output (failing fast on Failed/Terminated), riding out killed connections. */
export async function completedOutput(client: DurableClient, schema: string, id: string, deadline: number): Promise<unknown> {
  for (;;) {
    const status = await retrying(() => client.getStatus(id));
    assert.ok(status, `${id} exists`);
    assert.ok(!['Failed', 'Terminated'].includes(status.runtimeStatus), `${id} ended ${status.runtimeStatus}: ${JSON.stringify(status.failureDetails)}`);
    if (status.runtimeStatus === 'Completed') return status.output;
    if (Date.now() > deadline) assert.fail(`${id} did not complete in time (${status.runtimeStatus}):\n${await storedState(schema, id)}`);
    await sleep(100);
  }
}

/** Kills every connection of the store on `schema` (workers', client's and hub's alike); returns how many. */
export async function terminateConnections(schema: string): Promise<number> {
  return withPgClient(
    async (client) =>
      (
        await client.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`,
          [`duraflow:${schema}`],
        )
      ).rowCount ?? 0,
  );
}

/** Connections of the store on `schema` that are LISTENing (the last statement of a notice connection is its LISTEN). */
export async function listeningConnections(schema: string): Promise<number> {
  return withPgClient(async (client) => {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`,
      [`duraflow:${schema}`],
    );
    return Number(rows[0]!.n);
  });
}

/** How many instances of `ids` are Completed (read straight from the schema). */
export async function completedCount(schema: string, ids: string[]): Promise<number> {
  return withPgClient(async (client) => {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${schema}".instances WHERE status = 'Completed' AND instance_id = ANY($1)`,
      [ids],
    );
    return Number(rows[0]!.n);
  });
}
