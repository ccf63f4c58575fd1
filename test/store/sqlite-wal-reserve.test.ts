/**
 * The SQLite WAL reserved when a worker starts (`WalSpace.reserve`): it is grown to its checkpoint size by a
 * rolled-back transaction, so nothing is committed, a crash image taken right after it holds exactly what was
 * committed, and another process's write lock makes it give up at once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { WalSpace } from '../../src/store/sqlite/wal-space.js';
import { startRequest } from './conformance-fixtures.js';

/** The reserve's size on a 4 KB page: the WAL header and 1,064 frames of a 24-byte header and one page. */
const RESERVED_BYTES = 32 + 1064 * (24 + 4096);

const paths: string[] = [];
function tempPath(): string {
  const path = join(tmpdir(), `duraflow-wal-${randomUUID()}.db`);
  paths.push(path);
  return path;
}
afterEach(() => {
  for (const path of paths.splice(0)) for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
});

function walSize(path: string): number {
  return statSync(`${path}-wal`).size;
}

function tables(db: Database.Database): string[] {
  return db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[];
}

/**
 * The files of the open database at `path` copied, as a power cut leaves them, and opened (recovery reads the WAL
 * up to its last commit frame); checked sound, with no table but t.
 */
function crashImage(path: string): Database.Database {
  const crashed = tempPath();
  copyFileSync(path, crashed);
  copyFileSync(`${path}-wal`, `${crashed}-wal`);
  const image = new Database(crashed);
  assert.equal(image.pragma('quick_check', { simple: true }), 'ok');
  assert.deepEqual(tables(image), ['t']);
  return image;
}

/** A WAL-mode database with `rows` committed rows in table t. */
function databaseWithRows(path: string, rows: number): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  for (let i = 0; i < rows; i++) insert.run(`row ${i}`);
  return db;
}

test('a worker registering on a new SQLite file reserves the WAL, commits nothing of it, and the store works on', async () => {
  const path = tempPath();
  const store = new SqliteStore(path);
  try {
    const hub = store.hub('h');
    const before = walSize(path);
    assert.ok(before < RESERVED_BYTES, `a new store's WAL is short (${before} bytes)`);
    await hub.registerWorker('w1', { orchestrations: ['o'], activities: [], entities: [] });
    assert.ok(walSize(path) >= RESERVED_BYTES, `WAL of ${walSize(path)} bytes after the worker registered`);
    assert.ok(!tables(store.db).includes('duraflow_wal_reserve'), 'the reserve table was rolled back');
    // A WAL already reserved is not written again: the next worker's registration only commits its row.
    const executed: string[] = [];
    const exec = store.db.exec.bind(store.db);
    store.db.exec = (sql: string) => (executed.push(sql), exec(sql));
    await hub.registerWorker('w2', { orchestrations: ['o'], activities: [], entities: [] });
    store.db.exec = exec;
    assert.deepEqual(executed.filter((sql) => sql.includes('duraflow_wal_reserve')), []);
    assert.equal(store.db.pragma('busy_timeout', { simple: true }), 10_000, 'busy_timeout restored');
    assert.ok((store.db.pragma('cache_size', { simple: true }) as number) !== 16, 'cache_size restored');
    await hub.createInstance(startRequest('after-reserve', { name: 'o' }));
    assert.equal((await hub.getInstance('after-reserve'))?.status, 'Pending');
    assert.deepEqual(await hub.getRegisteredNames(), { orchestrations: ['o'], activities: [], entities: [] });
  } finally {
    await store.close();
  }
  // Reopened, the file holds what was committed, and its pages are sound.
  const reopened = new SqliteStore(path);
  try {
    assert.equal(reopened.db.pragma('quick_check', { simple: true }), 'ok');
    assert.equal((await reopened.hub('h').getInstance('after-reserve'))?.status, 'Pending');
  } finally {
    await reopened.close();
  }
});

test('a crash image taken right after the reserve, and after a commit written over it, holds exactly what was committed', () => {
  const path = tempPath();
  const db = databaseWithRows(path, 50);
  try {
    new WalSpace(db, path, 1000).reserve();
    assert.ok(walSize(path) >= RESERVED_BYTES);
    const image = crashImage(path);
    assert.equal(image.prepare('SELECT count(*) FROM t').pluck().get(), 50);
    image.close();

    db.prepare('INSERT INTO t (v) VALUES (?)').run('after the reserve');
    const later = crashImage(path);
    assert.equal(later.prepare('SELECT count(*) FROM t').pluck().get(), 51);
    assert.equal(later.prepare('SELECT v FROM t ORDER BY id DESC LIMIT 1').pluck().get(), 'after the reserve');
    later.close();
  } finally {
    db.close();
  }
});

test('the reserve gives up at once while another connection holds the write lock, and changes nothing', () => {
  const path = tempPath();
  const db = databaseWithRows(path, 3);
  const other = new Database(path);
  try {
    db.pragma('busy_timeout = 1000');
    other.exec('BEGIN IMMEDIATE');
    const before = walSize(path);
    new WalSpace(db, path, 1000).reserve();
    assert.equal(walSize(path), before);
    assert.equal(db.pragma('busy_timeout', { simple: true }), 1000, 'busy_timeout restored');
    assert.equal(db.inTransaction, false);
    other.exec('ROLLBACK');
    // Once the lock is free, the reserve is made.
    new WalSpace(db, path, 1000).reserve();
    assert.ok(walSize(path) >= RESERVED_BYTES);
    assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 3);
  } finally {
    other.close();
    db.close();
  }
});
