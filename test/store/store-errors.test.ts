/**
 * How driver errors are named (src/store/store-errors.ts): SQLite and node-postgres codes become a StoreError
 * with the path or address and what to do; everything else passes through unchanged; URLs lose their password.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { StoreError } from '../../src/index.js';
import { ValidationError } from '../../src/sdk/errors.js';
import { describeStoreError, postgresAddress, redactStoreUrl } from '../../src/store/store-errors.js';

const driver = (code: string, message: string) => Object.assign(new Error(message), { code });

test('SQLite codes become named StoreErrors with the absolute path', () => {
  const path = resolve('data/app.db');
  const cases: [string, string, RegExp][] = [
    ['SQLITE_FULL', 'disk-full', /^the disk is full: the SQLite store .*data\/app\.db cannot grow \(SQLITE_FULL: x\)/],
    ['SQLITE_READONLY', 'read-only', /^the SQLite store is read-only: .*data\/app\.db \(SQLITE_READONLY: x\)/],
    ['SQLITE_READONLY_DBMOVED', 'read-only', /read-only/],
    ['SQLITE_CORRUPT', 'corrupt', new RegExp(`^database file is corrupt: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(SQLITE_CORRUPT: x\\)`)],
    ['SQLITE_NOTADB', 'corrupt', /^database file is corrupt: /],
    ['SQLITE_CANTOPEN', 'cannot-open', /^cannot open the SQLite store /],
    ['SQLITE_IOERR_WRITE', 'io-error', /^I\/O error on the SQLite store .*data\/app\.db \(SQLITE_IOERR_WRITE: x\); check the disk and its file system/],
  ];
  for (const [code, reason, message] of cases) {
    const cause = driver(code, 'x');
    const error = describeStoreError(cause, 'sqlite:data/app.db') as StoreError;
    assert.ok(error instanceof StoreError, code);
    assert.deepEqual([error.name, error.reason, error.code, error.cause], ['StoreError', reason, code, cause]);
    assert.match(error.message, message);
  }
  const busy = driver('SQLITE_BUSY', 'database is locked');
  assert.equal(describeStoreError(busy, 'sqlite:data/app.db'), busy, 'other codes pass through');
});

test('node-postgres connection errors name the server address; refusals name the reason; the rest passes', () => {
  const url = 'postgres://app:s3cret@db.internal:6432/app?schema=x';
  for (const cause of [driver('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:6432'), driver('57P01', 'terminating connection due to administrator command'), new Error('Connection terminated unexpectedly')]) {
    const error = describeStoreError(cause, url) as StoreError;
    assert.equal(error.reason, 'unreachable');
    assert.match(error.message, /^cannot reach PostgreSQL at db\.internal:6432 \(.+\); is the server running, and is the store URL \(postgres:\/\/app:\*\*\*@db\.internal:6432\/app\?schema=x\) right\?$/);
    assert.ok(!error.message.includes('s3cret'));
  }
  const refused = describeStoreError(driver('28P01', 'password authentication failed for user "app"'), url) as StoreError;
  assert.equal(refused.reason, 'refused');
  assert.match(refused.message, /^PostgreSQL at db\.internal:6432 refused the connection \(28P01: password authentication failed/);
  const syntax = driver('42601', 'syntax error');
  assert.equal(describeStoreError(syntax, url), syntax);
  const typed = new ValidationError('bad token');
  assert.equal(describeStoreError(typed, url), typed);
});

test('store URLs for logs and messages: no password, default address parts', () => {
  assert.equal(redactStoreUrl('postgres://app:s3cret@db:5432/app'), 'postgres://app:***@db:5432/app');
  assert.equal(redactStoreUrl('postgresql://app@db/app?password=x&schema=s'), 'postgresql://app@db/app?password=***&schema=s');
  assert.equal(redactStoreUrl('sqlite:.duraflow/duraflow.db'), 'sqlite:.duraflow/duraflow.db');
  assert.equal(postgresAddress('postgres://app@db/app'), 'db:5432');
  assert.equal(postgresAddress('postgres:///app'), 'localhost:5432');
});
