/**
 * The migration that adds instance tags (SQLite 6, PostgreSQL 5): a store made before it opens with its
 * instances intact and untagged, takes tagged starts and tag filters at once; opened read-only before any
 * writer migrated it, it is refused with a StoreError ('outdated') that says what to do, and left unchanged.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError } from '../../src/sdk/errors.js';
import type { Store } from '../../src/store/store.js';
import { SCHEMA_VERSION as SQLITE_VERSION } from '../../src/store/sqlite/schema.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { SCHEMA_VERSION as PG_VERSION } from '../../src/store/postgres/schema.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { pgUnavailableReason, withPgClient } from '../support/postgres.js';
import { oldPgSchema, oldSqliteFile, removeSqliteFiles } from '../support/old-schemas.js';
import { startRequest } from './conformance-fixtures.js';

/** The one instance an old store holds, in the columns before tags. */
const OLD_ROW = `(hub, instance_id, name, execution_id, status, created_at, updated_at, history_length, lock_epoch)
  VALUES ('h', 'old', 'orch', 'e1', 'Running', 1000, 1000, 0, 1)`;

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
    for (const path of paths) removeSqliteFiles(path);
  });
  const oldStore = () => oldSqliteFile(SQLITE_BEFORE_TAGS, OLD_ROW, paths);
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
  const oldSchema = () => oldPgSchema(PG_BEFORE_TAGS, OLD_ROW, drops);
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
