/**
 * SQLite schema migrations: a database made by an older version is brought up to date with its data intact.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { makeEvent, type HistoryEvent } from '../../src/sdk/history.js';
import { migrate } from '../../src/store/sqlite/schema.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { claimOne, commitOf, marker, startRequest } from './conformance-fixtures.js';

const paths: string[] = [];
function tempPath(): string {
  const path = join(tmpdir(), `duraflow-schema-${randomUUID()}.db`);
  paths.push(path);
  return path;
}
afterEach(() => {
  for (const path of paths.splice(0)) for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
});

function historySql(db: Database.Database): string {
  return (db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'history'`).pluck().get() as string).replace(/\s+/g, ' ');
}

/** The schema version of a new database (13: the index of live flow-controlled instances). */
const LATEST = 13;

describe('SQLite schema', () => {
  test('migrations 3 and 4 rebuild history (one row per episode, in a rowid table) and keep every event of a version-2 database', async () => {
    const path = tempPath();
    const events: HistoryEvent[] = [
      makeEvent({ eventType: 'OrchestratorStarted' }, new Date(1_000)),
      makeEvent({ eventType: 'ExecutionStarted', name: 'orch', instanceId: 'old', executionId: 'e1', input: '"in"' }, new Date(1_001)),
      makeEvent({ eventType: 'TaskScheduled', eventId: 0, name: 'act' }, new Date(1_002)),
    ];
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    migrate(old, 2);
    assert.equal(old.pragma('user_version', { simple: true }), 2);
    assert.doesNotMatch(historySql(old), /WITHOUT ROWID/);
    old
      .prepare(
        `INSERT INTO instances (hub, instance_id, name, execution_id, status, created_at, updated_at, history_length, lock_epoch)
         VALUES ('default', 'old', 'orch', 'e1', 'Running', 1000, 1000, ?, 1)`,
      )
      .run(events.length);
    // Inserted out of order: reads must follow seq, not insertion order.
    const insert = old.prepare('INSERT INTO history (hub, instance_id, seq, event) VALUES (?, ?, ?, ?)');
    for (const seq of [2, 0, 1]) insert.run('default', 'old', seq, JSON.stringify(events[seq]));
    insert.run('other', 'old', 0, JSON.stringify(events[0]));
    old.close();

    const store = new SqliteStore(path);
    try {
      assert.equal(store.db.pragma('user_version', { simple: true }), LATEST);
      assert.match(historySql(store.db), /events TEXT NOT NULL, PRIMARY KEY \(hub, instance_id, seq\) \)$/, 'a rowid table again');
      assert.deepEqual(await store.hub('default').getHistory('old'), events);
      assert.equal((await store.hub('other').getHistory('old')).length, 1);
      assert.deepEqual(store.db.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(store.db.prepare(`SELECT name FROM sqlite_master WHERE name LIKE 'history%'`).pluck().all(), ['history'], 'no leftover table');
      // The migrated table takes new events as before.
      const hub = store.hub('default');
      await hub.createInstance(startRequest('new'));
      const item = await claimOne(hub, 'new');
      const added = [marker(), marker()];
      await hub.commitEpisodes([commitOf(item, { history: added })]);
      assert.deepEqual(await hub.getHistory('new'), added);
      // The next episode's events follow, in a row of their own.
      const next = [marker()];
      await hub.sendMessages([{ instanceId: 'new', event: makeEvent({ eventType: 'EventRaised', name: 'e' }, new Date()) }]);
      await hub.commitEpisodes([commitOf(await claimOne(hub, 'new'), { history: next })]);
      assert.deepEqual(await hub.getHistory('new'), [...added, ...next]);
      assert.deepEqual(
        store.db.prepare(`SELECT seq, json_array_length(events) AS n FROM history WHERE instance_id = 'new' ORDER BY seq`).all(),
        [{ seq: 0, n: 2 }, { seq: 2, n: 1 }],
        'one row per episode, at the position of its first event',
      );
    } finally {
      await store.close();
    }
  });

  test('a new database gets the latest history table, and migrating again changes nothing', async () => {
    const path = tempPath();
    const store = new SqliteStore(path);
    await store.close();
    const db = new Database(path);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), LATEST);
      assert.match(historySql(db), /events TEXT NOT NULL/);
      assert.doesNotMatch(historySql(db), /WITHOUT ROWID/);
      migrate(db);
      assert.equal(db.pragma('user_version', { simple: true }), LATEST);
    } finally {
      db.close();
    }
  });

  test('migration 5 adds worker liveness: workers of a version-4 database keep their names and count as never having beaten', async () => {
    const path = tempPath();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    migrate(old, 4);
    const names = { orchestrations: ['o'], activities: ['a'], entities: [] };
    old.prepare(`INSERT INTO workers (hub, worker_id, names, updated_at) VALUES ('default', 'w-old', ?, 1000)`).run(JSON.stringify(names));
    old.close();

    const store = new SqliteStore(path);
    try {
      assert.equal(store.db.pragma('user_version', { simple: true }), LATEST);
      assert.deepEqual(store.db.prepare(`SELECT worker_id, alive_until FROM workers`).all(), [{ worker_id: 'w-old', alive_until: 0 }]);
      const hub = store.hub('default');
      assert.deepEqual(await hub.getRegisteredNames(), names);
      assert.deepEqual(await hub.heartbeat('w-old', { timeoutMs: 60_000 }), { registered: true, lapsed: false, takenOver: [] });
      const indexes = store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('workers_by_liveness', 'instances_by_lock') ORDER BY name`);
      assert.deepEqual(indexes.pluck().all(), ['instances_by_lock', 'workers_by_liveness']);
    } finally {
      await store.close();
    }
  });

  test("migration 6 adds activities' trace context: an activity of a version-5 database runs without one", async () => {
    const path = tempPath();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    migrate(old, 5);
    old.prepare(
      `INSERT INTO activities (hub, instance_id, execution_id, task_id, name, input) VALUES ('default', 'i-old', 'e1', 0, 'a', '1')`,
    ).run();
    old.close();

    const store = new SqliteStore(path);
    try {
      assert.equal(store.db.pragma('user_version', { simple: true }), LATEST);
      const [item] = await store.hub('default').claimActivities({ workerId: 'w', limit: 10, leaseMs: 60_000 });
      assert.equal(item?.instanceId, 'i-old');
      assert.equal(item?.traceContext, undefined);
    } finally {
      await store.close();
    }
  });
});
