/**
 * The migration that adds the index of live flow-controlled instances (SQLite 13, PostgreSQL 12): a store made
 * before it opens with its instances intact, a claim still takes flow-controlled and plain instances alike, and the
 * question every claim asks (are flow-controlled instances waiting?) is answered from the new partial index.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Store } from '../../src/store/store.js';
import { makeEvent } from '../../src/sdk/history.js';
import { SCHEMA_VERSION as SQLITE_VERSION } from '../../src/store/sqlite/schema.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { SCHEMA_VERSION as PG_VERSION, tablesOf } from '../../src/store/postgres/schema.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { pgUnavailableReason, planWithoutSeqscan } from '../support/postgres.js';
import { oldPgSchema, oldSqliteFile, removeSqliteFiles } from '../support/old-schemas.js';

/** Rows written by an older version: a flow-controlled instance (concurrency key k, limit 1) and a plain one. */
const OLD_ROWS = `(hub, instance_id, name, execution_id, status, created_at, updated_at, history_length, lock_epoch, flow) VALUES
  ('h', 'flowed', 'orch', 'e1', 'Running', 1000, 1000, 0, 1, '{"concurrency":{"key":"k","limit":1}}'),
  ('h', 'plain', 'orch', 'e2', 'Running', 1001, 1001, 0, 2, NULL)`;

/** Each instance gets a message; one claim then takes both, the flow-controlled one through its key's limit. */
async function checkClaims(store: Store): Promise<void> {
  const hub = store.hub('h');
  const event = makeEvent({ eventType: 'EventRaised', name: 'go' }, new Date());
  await hub.sendMessages([{ instanceId: 'flowed', event }, { instanceId: 'plain', event }]);
  const items = await hub.claimOrchestrations({ workerId: 'w', limit: 10, leaseMs: 60_000 });
  assert.deepEqual(items.map((i) => [i.instance.instanceId, i.messages.length]).sort(), [['flowed', 1], ['plain', 1]]);
}

const SQLITE_BEFORE = 12;

describe('flow index migration: SQLite', () => {
  const paths: string[] = [];
  after(() => {
    for (const path of paths) removeSqliteFiles(path);
  });

  test('a version-12 file gets the partial index, and claims take flow-controlled instances through it', async () => {
    assert.ok(SQLITE_VERSION > SQLITE_BEFORE);
    const store = new SqliteStore(oldSqliteFile(SQLITE_BEFORE, OLD_ROWS, paths));
    try {
      assert.equal(store.db.pragma('user_version', { simple: true }), SQLITE_VERSION);
      const sql = store.db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'instances_by_flow'`).pluck().get() as string;
      assert.match(sql, /\(hub, lock_until\) WHERE flow IS NOT NULL AND status NOT IN/);
      // The claim's probe names the index (INDEXED BY): it fails outright if the index is missing or unusable.
      await checkClaims(store);
    } finally {
      await store.close();
    }
  });
});

const unavailable = await pgUnavailableReason();
const PG_BEFORE = 11;

describe('flow index migration: PostgreSQL', { skip: unavailable && process.env['CI'] !== 'true' ? unavailable : false }, () => {
  const drops: (() => Promise<void>)[] = [];
  after(async () => {
    for (const drop of drops) await drop();
  });

  test('a version-11 schema gets the partial index; claims take flow-controlled instances, and the probe can use it', async () => {
    assert.ok(PG_VERSION > PG_BEFORE);
    const schema = await oldPgSchema(PG_BEFORE, OLD_ROWS, drops);
    const tables = tablesOf(schema.schema);
    const store = await openPostgresStore(schema.url);
    try {
      await checkClaims(store);
      const plan = await planWithoutSeqscan(
        `SELECT EXISTS (SELECT 1 FROM ${tables.instances} f WHERE f.hub = 'h' AND f.flow IS NOT NULL AND f.lock_until <= 5
           AND f.status NOT IN ('Completed','Failed','Terminated','Canceled'))`,
      );
      assert.match(plan, /instances_by_flow/);
    } finally {
      await store.close();
    }
  });
});
