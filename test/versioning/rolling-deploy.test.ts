/**
 * A rolling deploy on PostgreSQL with real worker processes. v1 workers (`CurrentOrOlder` + `Reject`) leave
 * instances in flight — waiting for an event and for a timer; `replay-check` clears the compatible v2 code and
 * flags the breaking one; a v2 worker takes over and finishes the v1 instances through its `ctx.version` and
 * `ctx.isPatched` branches; a v1 worker left running never takes a v2 instance (it stays Pending while that worker
 * runs v1 work), and a v1 worker with `failureStrategy: 'Fail'` fails it with a message naming both versions.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient, type DurableClient, type VersioningOptions } from '../../src/index.js';
import { Child, killAllChildren } from '../support/child-processes.js';
import { historyWhere, statusWhere } from '../support/engine-helpers.js';
import { postgresTestStore } from '../support/postgres-test-store.js';
import type { OrderResult } from './fixtures/order-functions.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/duraflow.js', import.meta.url));

/** A worker process running `module` with `versioning`. */
async function worker(module: string, url: string, versioning: VersioningOptions): Promise<Child> {
  const child = new Child(fixture('worker.ts'), [fixture(module), url], { DURAFLOW_TEST_VERSIONING: JSON.stringify(versioning) });
  await child.waitForLine((line) => line.startsWith('ready'), 60_000, 'ready');
  return child;
}

/** `duraflow replay-check` as a child process; resolves with its exit code and output. */
function replayCheck(module: string, url: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'replay-check', fixture(module), '--store', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

const V1: VersioningOptions = { defaultVersion: '1', matchStrategy: 'CurrentOrOlder', failureStrategy: 'Reject' };
const V2: VersioningOptions = { defaultVersion: '2', matchStrategy: 'CurrentOrOlder', failureStrategy: 'Reject' };

async function output(client: DurableClient, id: string): Promise<OrderResult> {
  const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 60_000 });
  assert.equal(status.runtimeStatus, 'Completed', `${id}: ${JSON.stringify(status.failureDetails ?? status.runtimeStatus)}`);
  return status.output as OrderResult;
}

if (!postgresTestStore) {
  test('rolling deploy on PostgreSQL', { skip: 'PostgreSQL is unreachable' }, () => undefined);
} else {
  const store = postgresTestStore;
  describe('rolling deploy on PostgreSQL', () => {
    after(killAllChildren);

    test('v1 instances in flight finish on v2 code; v1 workers never run v2 instances', { timeout: 300_000 }, async () => {
      const { url, cleanup } = await store.create();
      const client = await createClient({ store: url });
      try {
        // Before the deploy: a v1 worker, and instances waiting for an event and for a timer.
        const v1 = await worker('order-v1.ts', url, V1);
        for (const id of ['e1', 'e2']) await client.startNew('order', { instanceId: id });
        await client.startNew('orderTimer', { instanceId: 't1', input: { fireAt: new Date(Date.now() + 8000).toISOString() } });
        for (const id of ['e1', 'e2', 't1']) {
          await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'TaskCompleted'), 30_000);
          assert.equal((await client.getStatus(id))?.version, '1', 'stamped with the workers’ default version');
        }
        await historyWhere(client, 't1', (h) => h.some((e) => e.eventType === 'TimerCreated'), 30_000);
        await v1.kill(); // replaced by the new code (killed, so it cannot take the timer on its way out)

        // The gate: the compatible code passes, the breaking one names exactly the instances it would break.
        const passed = await replayCheck('order-v2.ts', url);
        assert.equal(passed.code, 0, passed.stdout);
        const flagged = await replayCheck('order-v2-breaking.ts', url);
        assert.equal(flagged.code, 1, flagged.stdout);
        assert.deepEqual(
          flagged.stdout.split('\n').filter((l) => l.startsWith('BREAKS')).map((l) => l.split(/\s+/)[3]).sort(),
          ['e1', 'e2'],
          flagged.stdout,
        );

        // The deploy: a v2 worker finishes the v1 instances on the branches v1 histories take.
        const v2 = await worker('order-v2.ts', url, V2);
        for (const id of ['e1', 'e2']) await client.raiseEvent(id, 'approve');
        for (const id of ['e1', 'e2', 't1']) {
          assert.deepEqual(await output(client, id), { code: 'v2', version: '1', fraudChecked: false, reserved: false, pid: v2.pid }, id);
        }

        // A v1 worker left running beside the v2 one never takes a v2 instance.
        const stale = await worker('order-v1.ts', url, V1);
        const fresh = ['n1', 'n2', 'n3', 'n4'];
        for (const id of fresh) await client.startNew('order', { instanceId: id });
        for (const id of fresh) {
          assert.equal((await client.getStatus(id))?.version, '2', 'new starts get the newest default version');
          await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'TaskScheduled' && e.name === 'reserveStock'), 30_000);
          await client.raiseEvent(id, 'approve');
        }
        for (const id of fresh) assert.deepEqual(await output(client, id), { code: 'v2', version: '2', fraudChecked: true, reserved: true, pid: v2.pid }, id);

        // With only the v1 worker left, a v2 instance stays Pending while v1 work started after it completes.
        v2.signal('SIGTERM');
        assert.equal((await v2.waitForExit(30_000)).code, 0);
        await client.startNew('order', { instanceId: 'late-v2', version: '2' });
        await client.startNew('order', { instanceId: 'late-v1', version: '1' });
        await historyWhere(client, 'late-v1', (h) => h.some((e) => e.eventType === 'TaskCompleted'), 30_000);
        await client.raiseEvent('late-v1', 'approve');
        assert.deepEqual(await output(client, 'late-v1'), { code: 'v1', version: '1', fraudChecked: false, reserved: false, pid: stale.pid });
        assert.equal((await client.getStatus('late-v2'))?.runtimeStatus, 'Pending');

        // A v1 worker that fails what it does not run: the v2 instance fails, naming both versions.
        const failing = await worker('order-v1.ts', url, { defaultVersion: '1', matchStrategy: 'CurrentOrOlder', failureStrategy: 'Fail' });
        const failed = await statusWhere(client, 'late-v2', (s) => s.runtimeStatus === 'Failed', 30_000);
        assert.equal(failed.failureDetails?.errorType, 'VersionMismatchError');
        assert.match(failed.failureDetails!.message, /The version '2' of orchestration 'order' does not match this worker's version '1'/);
        for (const child of [stale, failing]) child.signal('SIGTERM');
        for (const child of [stale, failing]) assert.equal((await child.waitForExit(30_000)).code, 0);
      } finally {
        await killAllChildren();
        await client.close();
        await cleanup();
      }
    });
  });
}
