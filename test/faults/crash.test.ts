/**
 * Crash tests with real worker processes and real SIGKILL: mid-activity and at random points under load.
 * Restarted workers must complete every instance with the right output and without a duplicated or
 * half-written history. (Kills at chosen store calls are in crash-points.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DurableOrchestrationStatus } from '../../src/index.js';
import type { Child } from '../support/child-processes.js';
import { killAllChildren, waitFor } from '../support/child-processes.js';
import { assertCleanInstance, countFor } from '../support/history-checks.js';
import { engineStores } from '../support/orchestrator-styles.js';
import { assertNothingLeft, createFaultEnv, waitAllCompleted, type FaultEnv } from './fault-env.js';
import { expectedFamily, expectedMixed, readInvocations } from './fixtures/fault-app.js';
import type { WorkerFixtureConfig } from './fixtures/worker.js';

const SHORT_LEASES = { activityLeaseMs: 1000, orchestrationLeaseMs: 1000, pollIntervalMs: 50 };

for (const store of engineStores()) {
  describe(`crashes on ${store.label}`, () => {
    let env: FaultEnv | undefined;
    afterEach(async () => {
      await env?.dispose();
      env = undefined;
    });
    after(killAllChildren);

    test('kill -9 mid-activity: the activity re-runs and the orchestration completes once', { timeout: 60_000 }, async () => {
      env = await createFaultEnv(store);
      const first = await env.startWorker({ worker: SHORT_LEASES });
      const id = await env.client.startNew('blocking', { input: 'k1' });
      const started = await waitFor(() => readInvocations(env!.dir).find((i) => i.key === 'k1'), 20_000, 'the activity to start');
      assert.equal(started.pid, first.pid);
      const exit = await first.kill();
      assert.equal(exit.signal, 'SIGKILL');

      env.release('k1');
      const second = await env.startWorker({ worker: SHORT_LEASES });
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      assert.equal(status.runtimeStatus, 'Completed');
      assert.equal(status.output, 'k1-done');

      const runs = readInvocations(env.dir).filter((i) => i.key === 'k1');
      assert.deepEqual(
        runs.map((r) => [r.pid, r.dequeueCount]),
        [
          [first.pid, 1],
          [second.pid, 2],
        ],
        'the activity ran once in each worker, the second time as a re-delivery',
      );
      const history = await assertCleanInstance(env.hub, id);
      assert.equal(countFor(history, 'TaskScheduled', 0), 1);
      assert.equal(countFor(history, 'TaskCompleted', 0), 1);
      assert.equal(history.filter((e) => e.eventType === 'ExecutionCompleted').length, 1);
      second.signal('SIGTERM');
      assert.equal((await second.waitForExit(20_000)).code, 0);
      await assertNothingLeft(env.hub);
    });

    test('kill -9 (and SIGTERM) at random points while 60 orchestrations (and their children) run: all complete, no duplicate history', { timeout: 120_000 }, async () => {
      env = await createFaultEnv(store);
      const config: Omit<WorkerFixtureConfig, 'dir'> = { worker: { ...SHORT_LEASES, orchestrationBatchSize: 10 } };
      const workers: Child[] = [await env.startWorker(config), await env.startWorker(config)];
      const ids: string[] = [];
      for (let n = 0; n < 50; n++) ids.push(await env.client.startNew('mixed', { instanceId: `mixed-${n}`, input: n }));
      const families: string[] = [];
      for (let n = 0; n < 10; n++) families.push(await env.client.startNew('family', { instanceId: `family-${n}`, input: n }));

      let killsWhileBusy = 0;
      for (let round = 0; round < 8; round++) {
        await sleep(Math.floor(Math.random() * (round === 0 ? 100 : 400)));
        const victim = workers[round % 2]!;
        const open = (await env.client.getStatusBy({ runtimeStatus: ['Pending', 'Running'] })).length;
        if (round % 3 === 2) {
          // Now and then a graceful stop under load instead: it must drain and exit 0.
          victim.signal('SIGTERM');
          assert.deepEqual(await victim.waitForExit(30_000), { code: 0, signal: null }, `SIGTERM exit (stderr: ${victim.stderr})`);
        } else {
          await victim.kill();
          if (open > 0) killsWhileBusy++;
        }
        workers[round % 2] = await env.startWorker(config);
      }
      assert.ok(killsWhileBusy > 0, 'at least one worker was killed while instances were still running');

      const outputs = await waitAllCompleted(env.client, ids, 60_000);
      for (let n = 0; n < 50; n++) assert.deepEqual(outputs.get(`mixed-${n}`), expectedMixed(n), `output of mixed-${n}`);
      for (const id of ids) {
        const history = await assertCleanInstance(env.hub, id);
        assert.equal(history.filter((e) => e.eventType === 'TaskCompleted').length, 7, `${id} completed its 7 activities once each`);
        assert.equal(history.filter((e) => e.eventType === 'TimerFired').length, 2, `${id} fired its 2 timers once each`);
      }
      const familyOutputs = await waitAllCompleted(env.client, families, 30_000);
      for (let n = 0; n < 10; n++) {
        const id = `family-${n}`;
        assert.deepEqual(familyOutputs.get(id), expectedFamily(n), `output of ${id}`);
        await assertCleanInstance(env.hub, id);
        const children: DurableOrchestrationStatus[] = await env.client.getStatusBy({ instanceIdPrefix: `${id}:` });
        assert.deepEqual(children.map((c) => [c.instanceId, c.runtimeStatus]).sort(), [
          [`${id}:1`, 'Completed'],
          [`${id}:2`, 'Completed'],
        ]);
        for (const child of children) await assertCleanInstance(env.hub, child.instanceId);
      }
      for (const w of workers) w.signal('SIGTERM');
      for (const w of workers) assert.equal((await w.waitForExit(20_000)).code, 0);
      await assertNothingLeft(env.hub);
    });
  });
}
