/**
 * Store errors named for what they are — in the log (both formats), in HTTP 500 bodies, and in the CLI's
 * one-line errors: a full disk (SQLite's `max_page_count` caps the file), a read-only file (immutable as root,
 * mode 0444 otherwise; SQLite's `query_only` in a running host), a corrupt file (one written by hand; injected
 * in a running host) and an unreachable PostgreSQL server (a closed port; injected in a running host).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { DFApp } from '../../src/index.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startHttpHost } from '../../src/http/host.js';
import { startWorker } from '../../src/runtime/worker.js';
import { acquireStore } from '../../src/store/open-store.js';
import { guardStore } from '../../src/store/store-errors.js';
import { FaultyStore, type HubMethod } from '../support/faulty-store.js';
import { captureLogs, findRecord, LOG_FORMATS, waitForRecord } from '../support/log-capture.js';
import { sqliteTestStore, testStores } from '../support/stores.js';
import { assertOneLineError, cli } from '../cli/cli-support.js';

const API = '/runtime/webhooks/durabletask';

function echoApp(store: string, logger: DFApp['options']['logger']): DFApp {
  const app = new DFApp({ store, httpAuthLevel: 'anonymous', ...(logger ? { logger } : {}), worker: { pollIntervalMs: 50 } });
  app.orchestration('echo', function* (ctx) {
    return ctx.getInput();
  });
  return app;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

/** Makes `path` read-only even for root (which ignores file modes): immutable; returns the undo. */
function makeReadOnly(path: string): () => void {
  if (process.getuid?.() === 0) {
    execFileSync('chattr', ['+i', path]);
    return () => execFileSync('chattr', ['-i', path]);
  }
  chmodSync(path, 0o444);
  return () => chmodSync(path, 0o644);
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

for (const format of LOG_FORMATS) {
  describe(`store errors in a running host (${format} logs)`, () => {
    test('a full disk: the 500 body and the log say so, with the file', async () => {
      const created = await sqliteTestStore.create();
      const logs = captureLogs(format);
      const host = await echoApp(created.url, logs.logger).start({ port: 0 });
      const handle = await acquireStore(created.url);
      try {
        const db = (handle.store as unknown as SqliteStore).db;
        db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
        const response = await fetch(`${host.url}${API}/orchestrators/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify('x'.repeat(100_000)) });
        assert.equal(response.status, 500);
        const body = await json(response);
        const path = resolve(created.url.slice('sqlite:'.length));
        assert.equal(body['ExceptionType'], 'StoreError');
        assert.equal(body['reason'], 'disk-full');
        assert.match(String(body['Message']), new RegExp(`^the disk is full: the SQLite store ${escape(path)} cannot grow \\(SQLITE_FULL: database or disk is full\\)`));
        const record = await waitForRecord(() => findRecord(logs.records(), /^store error: the disk is full/), 'the disk-full record', 5000, logs.text);
        assert.deepEqual([record.level, record.fields['reason'], record.fields['code'], record.fields['method'], record.fields['path']], ['error', 'disk-full', 'SQLITE_FULL', 'POST', `${API}/orchestrators/echo`]);
      } finally {
        await handle.release();
        await host.stop();
        await created.cleanup();
      }
    });

    test('a read-only database: the 500 body and the log say so', async () => {
      const created = await sqliteTestStore.create();
      const logs = captureLogs(format);
      const host = await echoApp(created.url, logs.logger).start({ port: 0 });
      const handle = await acquireStore(created.url);
      try {
        // The driver answers exactly as for a file it may not write (SQLITE_READONLY).
        (handle.store as unknown as SqliteStore).db.pragma('query_only = ON');
        const response = await fetch(`${host.url}${API}/orchestrators/echo`, { method: 'POST' });
        assert.equal(response.status, 500);
        const body = await json(response);
        assert.deepEqual([body['ExceptionType'], body['reason']], ['StoreError', 'read-only']);
        assert.match(String(body['Message']), /^the SQLite store is read-only: .*\(SQLITE_READONLY: attempt to write a readonly database\); give this process write access/);
        const record = await waitForRecord(() => findRecord(logs.records(), /^store error: the SQLite store is read-only/), 'the read-only record', 5000, logs.text);
        assert.equal(record.fields['reason'], 'read-only');
        (handle.store as unknown as SqliteStore).db.pragma('query_only = OFF');
      } finally {
        await handle.release();
        await host.stop();
        await created.cleanup();
      }
    });

    for (const store of testStores()) {
      const pg = store.name === 'postgres';
      const driverError = pg
        ? Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
        : Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' });
      const named = pg ? /^cannot reach PostgreSQL at 127\.0\.0\.1:5432 \(connect ECONNREFUSED 127\.0\.0\.1:5432\); is the server running/ : /^database file is corrupt: \/.*\.db \(SQLITE_CORRUPT: database disk image is malformed\)/;
      test(`${pg ? 'an unreachable PostgreSQL server' : 'a corrupt SQLite file'} (injected): the 500 body and the worker's and host's logs name it`, async () => {
        const created = await store.create();
        const handle = await acquireStore(created.url);
        const logs = captureLogs(format);
        const faulty = new FaultyStore(handle.store);
        const broken = guardStore(faulty);
        const app = echoApp(created.url, logs.logger);
        const worker = await startWorker(broken, app.taskHub, app.registry, { logger: logs.logger, pollIntervalMs: 50 });
        const http = await startHttpHost(app, broken, { port: 0, logger: logs.logger });
        try {
          for (const method of ['queryInstances', 'claimOrchestrations'] as HubMethod[]) {
            faulty.addFault({ method, nth: 1, every: 1, action: () => { throw driverError; } });
          }
          const response = await fetch(`${http.url}${API}/instances`);
          assert.equal(response.status, 500);
          const body = await json(response);
          assert.deepEqual([body['ExceptionType'], body['reason']], ['StoreError', pg ? 'unreachable' : 'corrupt']);
          assert.match(String(body['Message']), named);
          const host = await waitForRecord(() => findRecord(logs.records(), /^store error: /, { path: `${API}/instances` }), 'the host record', 5000, logs.text);
          assert.match(host.msg.slice('store error: '.length), named);
          const loop = await waitForRecord(() => findRecord(logs.records(), /^orchestration dispatcher: /), 'the worker record', 10_000, logs.text);
          assert.equal(loop.level, 'error');
          assert.match(loop.msg.slice('orchestration dispatcher: '.length), named);
        } finally {
          faulty.clearFaults();
          await http.close();
          await worker.stop();
          await handle.release();
          await created.cleanup();
        }
      });
    }
  });
}

describe('store errors from the CLI: one line that names the fault', () => {
  test('duraflow start and instances list on a corrupt file say "database file is corrupt: <path>"', async () => {
    const created = await sqliteTestStore.create();
    const path = resolve(created.url.slice('sqlite:'.length));
    writeFileSync(path, 'not a database, just some bytes '.repeat(200));
    try {
      const started = await cli(['start', 'samples/app.ts', '--port', '0', '--store', created.url]);
      assertOneLineError(started, new RegExp(`^duraflow: database file is corrupt: ${escape(path)} \\(SQLITE_NOTADB: file is not a database\\)`));
      assertOneLineError(await cli(['instances', 'list', '--store', created.url]), new RegExp(`^duraflow: database file is corrupt: ${escape(path)} `));
    } finally {
      await created.cleanup();
    }
  });

  test('duraflow start on a read-only file says so (and starts nothing)', async () => {
    const created = await sqliteTestStore.create();
    const path = resolve(created.url.slice('sqlite:'.length));
    const handle = await acquireStore(created.url); // creates the file with its tables
    await handle.release();
    const undo = makeReadOnly(path);
    try {
      const run = await cli(['start', 'samples/app.ts', '--port', '0', '--store', created.url, '--log-level', 'error']);
      assertOneLineError(run, new RegExp(`^duraflow: the SQLite store is read-only: ${escape(path)} \\(SQLITE_READONLY`));
    } finally {
      undo();
      await created.cleanup();
    }
  });

  test('duraflow start against a closed PostgreSQL port says it cannot reach PostgreSQL there', async () => {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as { port: number };
    await new Promise((done) => server.close(done));
    const run = await cli(['start', 'samples/app.ts', '--port', '0', '--store', `postgres://postgres:pw@127.0.0.1:${port}/test`]);
    assertOneLineError(run, new RegExp(`^duraflow: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)`));
  });
});
