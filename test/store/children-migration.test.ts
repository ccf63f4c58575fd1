/**
 * The migration that adds the index of sub-orchestrations by parent (SQLite 12, PostgreSQL 11): a store made
 * before it opens with its instances intact, and `childInstances` finds the children recorded before the
 * migration through the new partial index (which holds only rows with a parent).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Store } from '../../src/store/store.js';
import { SCHEMA_VERSION as SQLITE_VERSION } from '../../src/store/sqlite/schema.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { SCHEMA_VERSION as PG_VERSION, tablesOf } from '../../src/store/postgres/schema.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { pgUnavailableReason, planWithoutSeqscan } from '../support/postgres.js';
import { oldPgSchema, oldSqliteFile, removeSqliteFiles } from '../support/old-schemas.js';

/** Rows written by an older version: a parent, two children (the second of an earlier execution), a lone instance. */
const OLD_ROWS = `(hub, instance_id, name, execution_id, status, parent_instance_id, created_at, updated_at, history_length, lock_epoch) VALUES
  ('h', 'p', 'orch', 'e2', 'Running', NULL, 1000, 1000, 0, 1),
  ('h', 'p-2', 'child', 'e3', 'Running', 'p', 1001, 1001, 0, 2),
  ('h', 'p-1', 'child', 'e4', 'Completed', 'p', 1002, 1002, 0, 3),
  ('h', 'lone', 'orch', 'e5', 'Running', NULL, 1003, 1003, 0, 4)`;

async function checkMigrated(store: Store): Promise<void> {
  const hub = store.hub('h');
  assert.deepEqual((await hub.childInstances('p', { limit: 10 })).map((r) => [r.instanceId, r.status, r.parentInstanceId]), [
    ['p-1', 'Completed', 'p'],
    ['p-2', 'Running', 'p'],
  ]);
  assert.deepEqual(await hub.childInstances('lone', { limit: 10 }), []);
  assert.equal((await hub.getInstance('lone'))?.status, 'Running');
}

/** The SQLite schema version just before the index (12). */
const SQLITE_BEFORE = 11;

describe('children index migration: SQLite', () => {
  const paths: string[] = [];
  after(() => {
    for (const path of paths) removeSqliteFiles(path);
  });

  test('a version-11 file gets the partial index; children recorded before it are listed through it', async () => {
    assert.ok(SQLITE_VERSION > SQLITE_BEFORE);
    const path = oldSqliteFile(SQLITE_BEFORE, OLD_ROWS, paths);
    const store = new SqliteStore(path);
    try {
      assert.equal(store.db.pragma('user_version', { simple: true }), SQLITE_VERSION);
      const sql = store.db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'instances_by_parent'`).pluck().get() as string;
      assert.match(sql, /\(hub, parent_instance_id, instance_id\) WHERE parent_instance_id IS NOT NULL/);
      // The read names the index (INDEXED BY): it fails outright if the index is missing or unusable.
      await checkMigrated(store);
    } finally {
      await store.close();
    }
  });
});

const unavailable = await pgUnavailableReason();
/** The PostgreSQL schema version just before the index (11). */
const PG_BEFORE = 10;

describe('children index migration: PostgreSQL', { skip: unavailable && process.env['CI'] !== 'true' ? unavailable : false }, () => {
  const drops: (() => Promise<void>)[] = [];
  after(async () => {
    for (const drop of drops) await drop();
  });

  test('a version-10 schema gets the partial index; children recorded before it are listed, and the read can use it', async () => {
    assert.ok(PG_VERSION > PG_BEFORE);
    const schema = await oldPgSchema(PG_BEFORE, OLD_ROWS, drops);
    const tables = tablesOf(schema.schema);
    const store = await openPostgresStore(schema.url);
    try {
      await checkMigrated(store);
      const plan = await planWithoutSeqscan(
        `SELECT instance_id FROM ${tables.instances} WHERE hub = 'h' AND parent_instance_id = 'p' AND instance_id > 'a' ORDER BY instance_id LIMIT 10`,
      );
      assert.match(plan, /instances_by_parent/);
    } finally {
      await store.close();
    }
  });
});
