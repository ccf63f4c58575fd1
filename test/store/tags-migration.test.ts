/**
 * The migration that adds instance tags (SQLite 6, PostgreSQL 5): a store made before it opens with its
 * instances intact and untagged, takes tagged starts and tag filters at once; opened read-only before any
 * writer migrated it, it is refused with a StoreError ('outdated') that says what to do, and left unchanged.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError } from '../../src/sdk/errors.js';
import type { Store } from '../../src/store/store.js';
import { migrate as migrateSqlite, SCHEMA_VERSION as SQLITE_VERSION } from '../../src/store/sqlite/schema.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { migrate as migratePg, SCHEMA_VERSION as PG_VERSION, tablesOf } from '../../src/store/postgres/schema.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { parsePostgresUrl, PgDatabase } from '../../src/store/postgres/connection.js';
import { silentLogger } from '../../src/sdk/logger.js';
import { newTestSchema, pgUnavailableReason, withPgClient } from '../support/postgres.js';
import { startRequest } from './conformance-fixtures.js';

/** What every store must show after the migration: the old row untagged, new tagged starts filterable. */
async function checkMigrated(store: Store): Promise<void> {
  const hub = store.hub('h');
  const old = await hub.getInstance('old');
  assert.equal(old?.status, 'Running');
  assert.equal(old?.tags, undefined);
  await hub.createInstance(startRequest('new', { tags: { env: 'prod' } }));
  assert.deepEqual((await hub.getInstance('new'))?.tags, { env: 'prod' });
  assert.deepEqual((await hub.queryInstances({ tags: { env: 'prod' } })).instances.map((r) => r.instanceId), ['new']);
  assert.deepEqual((await hub.queryInstances({})).instances.map((r) => r.instanceId).sort(), ['new', 'old']);
}

/** The SQLite schema version just before the tags migration (6). */
const SQLITE_BEFORE_TAGS = 5;

describe('tags migration: SQLite', () => {
  const paths: string[] = [];
  after(() => {
    for (const path of paths) for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  });
  const oldStore = () => {
    const path = join(tmpdir(), `duraflow-tags-${randomUUID()}.db`);
    paths.push(path);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    migrateSqlite(db, SQLITE_BEFORE_TAGS);
    db.prepare(
      `INSERT INTO instances (hub, instance_id, name, execution_id, status, created_at, updated_at, history_length, lock_epoch)
       VALUES ('h', 'old', 'orch', 'e1', 'Running', 1000, 1000, 0, 1)`,
    ).run();
    db.close();
    return path;
  };
  const userVersion = (path: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return db.pragma('user_version', { simple: true }) as number;
    } finally {
      db.close();
    }
  };

  test('a version-5 file gets the tags column; its instances stay, untagged', async () => {
    const path = oldStore();
    const store = new SqliteStore(path);
    try {
      assert.equal(store.db.pragma('user_version', { simple: true }), SQLITE_VERSION);
      await checkMigrated(store);
    } finally {
      await store.close();
    }
  });

  test('opened read-only before it was migrated: StoreError outdated, the file untouched', () => {
    const path = oldStore();
    assert.throws(
      () => new SqliteStore(path, { readOnly: true }),
      (error: unknown) => error instanceof StoreError && error.reason === 'outdated' && /schema version 5.*duraflow start/.test(error.message),
    );
    assert.equal(userVersion(path), SQLITE_BEFORE_TAGS);
  });
});

const unavailable = await pgUnavailableReason();
/** The PostgreSQL schema version just before the tags migration (5). */
const PG_BEFORE_TAGS = 4;

describe('tags migration: PostgreSQL', { skip: unavailable && process.env['CI'] !== 'true' ? unavailable : false }, () => {
  const drops: (() => Promise<void>)[] = [];
  after(async () => {
    for (const drop of drops) await drop();
  });
  const oldSchema = async () => {
    const schema = newTestSchema();
    drops.push(() => schema.drop());
    const location = parsePostgresUrl(schema.url);
    const tables = tablesOf(location.schema);
    const db = new PgDatabase(location, silentLogger, 1);
    try {
      await migratePg(db, tables, PG_BEFORE_TAGS);
      await db.query(
        `INSERT INTO ${tables.instances} (hub, instance_id, name, execution_id, status, created_at, updated_at, history_length, lock_epoch)
         VALUES ('h', 'old', 'orch', 'e1', 'Running', 1000, 1000, 0, 1)`,
      );
    } finally {
      await db.pool.end();
    }
    return schema;
  };
  const appliedVersion = (schema: string) =>
    withPgClient(async (client) => (await client.query<{ v: number }>(`SELECT max(version)::int AS v FROM "${schema}".schema_migrations`)).rows[0]!.v);

  test('a version-4 schema gets the tags column; its instances stay, untagged', async () => {
    const schema = await oldSchema();
    const store = await openPostgresStore(schema.url);
    try {
      assert.equal(await appliedVersion(schema.schema), PG_VERSION);
      await checkMigrated(store);
    } finally {
      await store.close();
    }
  });

  test('opened read-only before it was migrated: StoreError outdated, the schema untouched', async () => {
    const schema = await oldSchema();
    await assert.rejects(
      openPostgresStore(schema.url, { readOnly: true }),
      (error: unknown) => error instanceof StoreError && error.reason === 'outdated' && /schema version 4.*duraflow start/.test(error.message),
    );
    assert.equal(await appliedVersion(schema.schema), PG_BEFORE_TAGS);
  });
});
