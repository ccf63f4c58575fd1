/**
 * The plans PostgreSQL keeps for duraflow's prepared statements: a plan made while a hub is empty must not scan
 * the whole hub once it is big (see `PER_ROW` in hub-writes.ts and `planGeneration` in connection.ts).
 * Skipped (with the reason printed) when the server is unreachable, except in CI where that fails.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePostgresUrl, PgDatabase, planGeneration, prepared } from '../../src/store/postgres/connection.js';
import { sendMessagesInOneStatement } from '../../src/store/postgres/hub-writes.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { tablesOf } from '../../src/store/postgres/schema.js';
import { makeEvent } from '../../src/sdk/history.js';
import { silentLogger } from '../../src/sdk/logger.js';
import { newTestSchema, pgUnavailableReason } from '../support/postgres.js';

describe('prepared statement plan generations', () => {
  test('a new generation in the first second, then each time the age doubles, then no more', () => {
    const at = (seconds: number) => planGeneration(seconds * 1000);
    assert.deepEqual([0, 0.999, 1, 1.999, 2, 3.9, 4, 8, 255, 256, 511, 512, 86_400].map(at), [0, 0, 1, 1, 2, 2, 3, 4, 8, 9, 9, 9, 9]);
  });

  test('the name of a statement is its text and the current generation', () => {
    const a = prepared('SELECT 1', []);
    const b = prepared('SELECT 1', []);
    const c = prepared('SELECT 2', []);
    assert.equal(a.name, b.name);
    assert.notEqual(a.name, c.name);
    assert.match(a.name!, new RegExp(`^duraflow_[0-9a-f]{20}_${planGeneration()}$`));
  });
});

const unavailable = await pgUnavailableReason();

if (unavailable && process.env['CI'] !== 'true') {
  console.log(`# skipping PostgreSQL plan tests: ${unavailable}`);
  test('PostgreSQL plans', { skip: unavailable }, () => undefined);
} else {
  test('a send prepared on an empty hub looks each target up by primary key, never hashing the hub', async () => {
    if (unavailable) throw new Error(unavailable);
    const schema = newTestSchema();
    const store = await openPostgresStore(schema.url);
    const db = new PgDatabase(parsePostgresUrl(schema.url), silentLogger, 1);
    const client = await db.pool.connect();
    try {
      const t = tablesOf(schema.schema);
      const event = makeEvent({ eventType: 'EventRaised', name: 'op', input: '1' }, new Date());
      // One message creates an entity row, one goes to an orchestration that does not exist (it is dropped).
      await sendMessagesInOneStatement(client, t, 'default', [
        { instanceId: '@counter@a', event },
        { instanceId: 'missing', event },
      ]);
      const { rows: statements } = await client.query<{ name: string }>(
        `SELECT name FROM pg_prepared_statements WHERE statement LIKE 'WITH entities AS%'`,
      );
      assert.equal(statements.length, 1);
      // The plan this connection keeps, for a send to an entity and an orchestration (an empty hub's plan).
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN EXECUTE ${statements[0]!.name}('default', '{@counter@b,x}', '{NULL,NULL}', '{EventRaised,EventRaised}',
           '{"{}","{}"}', '{NULL,NULL}', '{@counter@b}', '{counter}')`,
      );
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      assert.doesNotMatch(plan, /hashed SubPlan|Anti Join|Semi Join|Hash Join/, plan);
      assert.match(plan, /Index Cond: \(\(hub = \$1\) AND \(instance_id = /, plan);
      const { rows: inbox } = await client.query<{ instance_id: string }>(`SELECT instance_id FROM ${t.inbox}`);
      assert.deepEqual(inbox.map((r) => r.instance_id), ['@counter@a']);
    } finally {
      client.release();
      await db.close();
      await store.close();
      await schema.drop();
    }
  });
}
