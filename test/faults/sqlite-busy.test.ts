/**
 * SQLite busy from another process: a second process holds the write lock (BEGIN IMMEDIATE) while a worker
 * process runs, within and past the busy timeout. Everything must complete afterwards, once and cleanly.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { Child, killAllChildren } from '../support/child-processes.js';
import { assertCleanInstance } from '../support/history-checks.js';
import { sqliteTestStore } from '../support/stores.js';
import { assertNothingLeft, createFaultEnv, fixture, waitAllCompleted, type FaultEnv } from './fault-env.js';
import { expectedMixed } from './fixtures/fault-app.js';

describe('SQLite busy from another process', () => {
  let env: FaultEnv | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });
  after(killAllChildren);

  const dbPath = (url: string) => url.slice('sqlite:'.length);
  const config = { worker: { activityLeaseMs: 1000, orchestrationLeaseMs: 1000, pollIntervalMs: 50 } };

  test('a write transaction held for 3 s by another process: the worker waits, everything completes', { timeout: 60_000 }, async () => {
    env = await createFaultEnv(sqliteTestStore);
    const worker = await env.startWorker(config);
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) ids.push(await env.client.startNew('mixed', { instanceId: `b${n}`, input: n }));
    const holder = new Child(fixture('hold-lock.ts'), [dbPath(env.url), '3000']);
    await holder.waitForLine((l) => l === 'locked', 30_000, 'the lock');
    // A client start while the lock is held waits for it too (busy timeout), then succeeds.
    ids.push(await env.client.startNew('mixed', { instanceId: 'b20', input: 20 }));
    assert.equal((await holder.waitForExit(30_000)).code, 0);

    const outputs = await waitAllCompleted(env.client, ids, 45_000);
    for (let n = 0; n <= 20; n++) assert.deepEqual(outputs.get(`b${n}`), expectedMixed(n));
    for (const id of ids) await assertCleanInstance(env.hub, id);
    assert.ok(!worker.hasExited, `the worker survived (stderr: ${worker.stderr})`);
  });

  test('a write transaction held past the busy timeout: the worker rides out SQLITE_BUSY and recovers', { timeout: 90_000 }, async () => {
    env = await createFaultEnv(sqliteTestStore);
    const worker = await env.startWorker(config);
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) ids.push(await env.client.startNew('mixed', { instanceId: `c${n}`, input: n }));
    const holder = new Child(fixture('hold-lock.ts'), [dbPath(env.url), '12000']);
    await holder.waitForLine((l) => l === 'locked', 30_000, 'the lock');
    assert.equal((await holder.waitForExit(40_000)).code, 0);

    const outputs = await waitAllCompleted(env.client, ids, 45_000);
    for (let n = 0; n < 20; n++) assert.deepEqual(outputs.get(`c${n}`), expectedMixed(n));
    for (const id of ids) await assertCleanInstance(env.hub, id);
    assert.ok(!worker.hasExited, `the worker survived (stderr: ${worker.stderr})`);
    worker.signal('SIGTERM');
    assert.equal((await worker.waitForExit(20_000)).code, 0);
    await assertNothingLeft(env.hub);
  });
});
