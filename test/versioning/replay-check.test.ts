/**
 * The pre-deploy gate: `replayCheck` (duraflow/testing) and `duraflow replay-check` as a real child process, over
 * instances a v1 app left in flight on SQLite. Compatible code passes, breaking code is flagged for exactly the
 * instances it would hit, and the store is never changed or created.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { replayCheck } from '../../src/testing/index.js';
import { StoreError } from '../../src/index.js';
import { sqliteTestStore } from '../support/stores.js';
import { historyWhere, statusWhere } from '../support/engine-helpers.js';
import { orderApp } from './fixtures/order-functions.js';

const CLI = fileURLToPath(new URL('../../bin/duraflow.js', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Runs the CLI to completion. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env['DURAFLOW_STORE'];
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`duraflow ${args.join(' ')} did not finish; stderr: ${stderr}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('replay-check', () => {
  let url: string;
  let path: string;
  let cleanup: () => Promise<void>;
  /** Instances left in flight by the v1 code. */
  const waiting = ['order-1', 'order-2'];
  const timers = ['timer-1'];

  before(async () => {
    ({ url, cleanup } = await sqliteTestStore.create());
    path = url.slice('sqlite:'.length);
    const v1 = orderApp('v1', { store: url, versioning: { defaultVersion: '1' } });
    const worker = await v1.startWorker({ pollIntervalMs: 50 });
    try {
      for (const id of waiting) await worker.client.startNew('order', { instanceId: id });
      await worker.client.startNew('orderTimer', { instanceId: timers[0]!, input: { fireAt: new Date(Date.now() + 3_600_000).toISOString() } });
      // A finished instance is never checked (nothing of it can break).
      await worker.client.startNew('order', { instanceId: 'done' });
      for (const id of [...waiting, ...timers, 'done']) {
        await statusWhere(worker.client, id, (s) => s.runtimeStatus === 'Running' && s.lastUpdatedTime > s.createdTime);
      }
      // Each waits past its first activity (charge completed, at the event or the timer).
      for (const id of [...waiting, ...timers, 'done']) await historyWhere(worker.client, id, (h) => h.some((e) => e.eventType === 'TaskCompleted'));
      await worker.client.raiseEvent('done', 'approve');
      await statusWhere(worker.client, 'done', (s) => s.runtimeStatus === 'Completed');
    } finally {
      await worker.stop();
    }
  });
  after(async () => cleanup());

  const digest = () => createHash('sha256').update(readFileSync(path)).digest('hex');

  test('replayCheck passes compatible code and flags exactly the instances breaking code would hit', async () => {
    const compatible = await replayCheck(orderApp('v2', { store: url }));
    assert.equal(compatible.ok, true, JSON.stringify(compatible.results, null, 2));
    assert.deepEqual(compatible.results.map((r) => [r.instanceId, r.outcome]).sort(), [...waiting, ...timers].map((id) => [id, 'ok']).sort());

    const breaking = await replayCheck(orderApp('v2-breaking'), { store: url });
    assert.equal(breaking.ok, false);
    assert.equal(breaking.broken, 2);
    const broken = breaking.results.filter((r) => r.outcome === 'breaks');
    assert.deepEqual(broken.map((r) => r.instanceId).sort(), waiting);
    assert.deepEqual(broken[0]!.divergence, { recorded: 'nothing', current: "callActivity('checkFraud') #1" });
    assert.equal(breaking.results.find((r) => r.instanceId === 'timer-1')?.outcome, 'ok');

    const limited = await replayCheck(orderApp('v2-breaking'), { store: url, name: 'orderTimer' });
    assert.deepEqual([limited.ok, limited.checked], [true, 1]);
    assert.equal((await replayCheck(orderApp('v2-breaking'), { store: url, limit: 1 })).checked, 1);
  });

  test('instances a strategy leaves to other workers are skipped; Fail counts as breaking', async () => {
    const strict = await replayCheck(orderApp('v2-breaking', { store: url, versioning: { defaultVersion: '2', matchStrategy: 'Strict' } }));
    assert.deepEqual([strict.ok, strict.skipped, strict.broken], [true, 3, 0]);
    assert.match(strict.results[0]!.reason!, /leaves it to workers that run its version/);
    const failing = await replayCheck(orderApp('v2', { store: url, versioning: { defaultVersion: '2', matchStrategy: 'Strict', failureStrategy: 'Fail' } }));
    assert.deepEqual([failing.ok, failing.broken], [false, 3]);
    assert.match(failing.results[0]!.reason!, /does not match this worker's version '2'/);
  });

  test('the CLI prints ok or the divergence per instance and exits 1 only when one would break; the store is untouched', async () => {
    const before = digest();
    const ok = await cli(['replay-check', fixture('order-v2.ts'), '--store', url]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.split('\n').filter((l) => l.startsWith('ok ')).length, 3, ok.stdout);
    assert.match(ok.stdout, /3 instances checked in task hub 'default': 3 ok, 0 would break, 0 skipped\./);

    const bad = await cli(['replay-check', fixture('order-v2-breaking.ts'), '--store', url]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.equal(bad.stdout.split('\n').filter((l) => l.startsWith('BREAKS ')).length, 2, bad.stdout);
    assert.match(bad.stdout, /BREAKS +order v1 order-1 \(Running\)[^\n]*\n +recorded: nothing\n +new code: callActivity\('checkFraud'\) #1/);
    assert.match(bad.stdout, /ok +orderTimer v1 timer-1/);

    const json = await cli(['replay-check', fixture('order-v2-breaking.ts'), '--store', url, '--status', 'Running', '--name', 'order', '--limit', '1', '--json']);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as { ok: boolean; checked: number; results: { instanceId: string; outcome: string }[] };
    assert.deepEqual([report.ok, report.checked, report.results[0]!.outcome], [false, 1, 'breaks']);
    assert.equal(digest(), before, 'the store file was not changed');
  });

  test('a store that does not exist is an error, and is not created', async () => {
    const missing = join(tmpdir(), `duraflow-missing-${process.pid}.db`);
    const run = await cli(['replay-check', fixture('order-v2.ts'), '--store', `sqlite:${missing}`]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no SQLite store at/);
    assert.equal(existsSync(missing), false);
    await assert.rejects(replayCheck(orderApp('v2'), { store: `sqlite:${missing}` }), StoreError);
    assert.equal(existsSync(missing), false);
    assert.equal((await cli(['replay-check', fixture('order-v2.ts'), '--store', url, '--status', 'Sleeping'])).code, 1);
  });
});
