/**
 * Fast takeover through worker heartbeats, with real processes: the work a SIGKILLed worker held (a running
 * activity, an episode in progress) moves to a worker already running or to a restarted one within seconds,
 * although its leases would last ten minutes; a process restarted with its predecessor's worker id takes over at
 * once; and a SIGSTOPped worker taken over this way is fenced off when it resumes.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import { killAllChildren, waitFor } from '../support/child-processes.js';
import { assertCleanInstance, countFor } from '../support/history-checks.js';
import { testStores } from '../support/stores.js';
import { assertNothingLeft, assertStaleResultRefused, createFaultEnv, type FaultEnv } from './fault-env.js';
import { readInvocations } from './fixtures/fault-app.js';
import type { WorkerFixtureConfig } from './fixtures/worker.js';

/** Leases far longer than any wait below: only a takeover lets other workers have the work. */
const LONG_LEASES = { activityLeaseMs: 600_000, orchestrationLeaseMs: 600_000, pollIntervalMs: 50 };
/** How long a test waits for the work to move (a twentieth of the leases). */
const MOVE_MS = 30_000;

for (const store of testStores()) {
  describe(`takeover of a dead worker's work on ${store.name}`, () => {
    let env: FaultEnv | undefined;
    afterEach(async () => {
      await env?.dispose();
      env = undefined;
    });
    after(killAllChildren);

    test('kill -9 mid-activity: a running worker re-runs the activity long before its lease expires', { timeout: 90_000 }, async () => {
      env = await createFaultEnv(store);
      const config: Omit<WorkerFixtureConfig, 'dir'> = { worker: LONG_LEASES };
      const victim = await env.startWorker(config);
      const id = await env.client.startNew('blocking', { input: 'k1' });
      await waitFor(() => readInvocations(env!.dir).some((i) => i.key === 'k1'), 20_000, 'the activity to start');
      const standby = await env.startWorker(config);
      assert.equal((await victim.kill()).signal, 'SIGKILL');
      env.release('k1'); // only now: the victim must not finish it

      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: MOVE_MS });
      assert.equal(status.runtimeStatus, 'Completed');
      assert.equal(status.output, 'k1-done');
      assert.deepEqual(
        readInvocations(env.dir)
          .filter((i) => i.key === 'k1')
          .map((r) => [r.pid, r.dequeueCount]),
        [
          [victim.pid, 1],
          [standby.pid, 2],
        ],
      );
      const history = await assertCleanInstance(env.hub, id);
      assert.equal(countFor(history, 'TaskCompleted', 0), 1);
      standby.signal('SIGTERM');
      assert.equal((await standby.waitForExit(20_000)).code, 0);
      await assertNothingLeft(env.hub);
    });

    test('kill -9 mid-episode: a worker started after the kill takes the instance over within seconds', { timeout: 90_000 }, async () => {
      env = await createFaultEnv(store);
      // The orchestrator blocks its process mid-episode (instance leased, nothing committed).
      const victim = await env.startWorker({ stallMs: 600_000, worker: LONG_LEASES });
      const id = await env.client.startNew('stall', { input: 21 });
      await waitFor(() => existsSync(join(env!.dir, `stalled-${victim.pid}`)), 20_000, 'the episode to stall');
      await victim.kill();

      const restarted = await env.startWorker({ worker: LONG_LEASES });
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: MOVE_MS });
      assert.equal(status.runtimeStatus, 'Completed');
      assert.equal(status.output, 42);
      await assertCleanInstance(env.hub, id);
      restarted.signal('SIGTERM');
      assert.equal((await restarted.waitForExit(20_000)).code, 0);
    });

    test('a worker restarted with its predecessor’s id takes over at once, before the heartbeat runs out', { timeout: 90_000 }, async () => {
      env = await createFaultEnv(store);
      // A heartbeat that would take ten minutes to run out: only the restart with the same id frees the work.
      const config: Omit<WorkerFixtureConfig, 'dir'> = {
        worker: { ...LONG_LEASES, workerId: 'stable-worker-1', heartbeatTimeoutMs: 600_000 },
      };
      const first = await env.startWorker(config);
      const id = await env.client.startNew('blocking', { input: 'r1' });
      await waitFor(() => readInvocations(env!.dir).some((i) => i.key === 'r1'), 20_000, 'the activity to start');
      await first.kill();
      env.release('r1');

      const second = await env.startWorker(config);
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: MOVE_MS });
      assert.equal(status.output, 'r1-done');
      assert.deepEqual(
        readInvocations(env.dir)
          .filter((i) => i.key === 'r1')
          .map((r) => [r.pid, r.dequeueCount]),
        [
          [first.pid, 1],
          [second.pid, 2],
        ],
      );
      await assertCleanInstance(env.hub, id);
      second.signal('SIGTERM');
      assert.equal((await second.waitForExit(20_000)).code, 0);
      await assertNothingLeft(env.hub);
    });

    test('a SIGSTOPped worker whose work was taken over by heartbeat cannot commit after SIGCONT', { timeout: 90_000 }, async () => {
      env = await createFaultEnv(store);
      const paused = await env.startWorker({ stallMs: 4000, reportCommits: true, worker: LONG_LEASES });
      const id = await env.client.startNew('stall', { input: 21 });
      await waitFor(() => existsSync(join(env!.dir, `stalled-${paused.pid}`)), 20_000, 'the episode to stall');
      paused.signal('SIGSTOP');

      const other = await env.startWorker({ reportCommits: true, worker: LONG_LEASES });
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: MOVE_MS });
      assert.equal(status.output, 42);
      await other.waitForLine((l) => l === `commit ${id} committed`, 20_000, 'the other worker to commit');
      const before = await env.hub.getHistory(id);

      paused.signal('SIGCONT');
      await paused.waitForLine((l) => l.startsWith(`commit ${id} `), 20_000, 'the paused worker to try its commit');
      assert.deepEqual(
        paused.lines.filter((l) => l.startsWith(`commit ${id} `)),
        [`commit ${id} lease-lost`],
        'the paused worker was fenced off',
      );
      assert.deepEqual(await env.hub.getHistory(id), before, 'the history did not change');
      await assertCleanInstance(env.hub, id);
      await waitFor(() => paused.stderr.includes('heartbeat ran out'), 20_000, 'the paused worker to notice its lapse');
    });

    test('a SIGSTOPped activity worker taken over by heartbeat cannot record its result after SIGCONT', { timeout: 90_000 }, async () => {
      env = await createFaultEnv(store);
      const paused = await env.startWorker({ stallMs: 4000, reportCommits: true, worker: LONG_LEASES });
      const id = await env.client.startNew('stallableOne', { input: 'p1' });
      await waitFor(() => readInvocations(env!.dir).some((r) => r.key === 'p1'), 20_000, 'the activity to start');
      paused.signal('SIGSTOP');

      const other = await env.startWorker({ reportCommits: true, worker: LONG_LEASES });
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: MOVE_MS });
      assert.equal(status.output, 'p1');
      await assertStaleResultRefused(env, paused, other, id);
    });
  });
}
