/**
 * A durabletask-js worker process killed (SIGKILL) in the middle of an activity or of an orchestrator episode:
 * duraflow notices the broken `GetWorkItems` stream, gives the work back, and a newly connected worker finishes
 * it, with every step recorded exactly once.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Child, killAllChildren } from '../support/child-processes.js';
import { testStores } from '../support/stores.js';
import { startGrpcHost, waitForRegistration, type GrpcHost } from './grpc-harness.js';

const WORKER = fileURLToPath(new URL('./fixtures/sdk-worker.ts', import.meta.url));

for (const store of testStores()) {
  describe(`a gRPC worker killed mid-run on ${store.name}`, () => {
    const hosts: GrpcHost[] = [];
    after(async () => {
      await killAllChildren();
      for (const host of hosts) await host.stop();
    });

    async function startWorker(address: string, env: Record<string, string> = {}): Promise<Child> {
      const child = new Child(WORKER, [address], env);
      await child.waitForLine((line) => line === 'worker-ready', 30_000, 'worker-ready');
      return child;
    }

    test('mid-activity: the activity runs again on the new worker and the orchestration completes once', async () => {
      const env = await startGrpcHost(store);
      hosts.push(env);
      const first = await startWorker(env.address, { STALL_ACTIVITY: 'two' });
      await waitForRegistration(env.storeUrl);
      const id = await env.host.client.startNew('crashFlow');
      await first.waitForLine((line) => line === 'activity-started two', 30_000, 'the stalled activity');
      await first.kill();

      const second = await startWorker(env.address);
      const status = await env.host.client.waitForCompletion(id, { timeoutInMilliseconds: 60_000 });
      assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.failureDetails));
      const output = status.output as string[];
      assert.equal(output[0], `done one by ${first.pid}`);
      assert.equal(output[1], `done two by ${second.pid}`, 'the interrupted activity ran again on the new worker');
      assert.equal(output[2], `done three by ${second.pid}`);
      const history = (await env.host.client.getStatus(id, { showHistory: true }))!.history!;
      assert.equal(history.filter((e) => e.eventType === 'TaskScheduled').length, 3);
      assert.equal(history.filter((e) => e.eventType === 'TaskCompleted').length, 3);
      assert.equal(history.filter((e) => e.eventType === 'ExecutionCompleted').length, 1);
      second.signal('SIGTERM');
      await second.waitForExit(30_000);
    });

    test('mid-episode: the orchestrator episode is dispatched again to the new worker', async () => {
      const env = await startGrpcHost(store);
      hosts.push(env);
      const first = await startWorker(env.address, { STALL_ORCHESTRATOR: '1' });
      await waitForRegistration(env.storeUrl);
      const id = await env.host.client.startNew('crashSpin');
      await first.waitForLine((line) => line === 'orchestrator-running', 30_000, 'the stalled orchestrator');
      await first.kill();

      const second = await startWorker(env.address);
      const status = await env.host.client.waitForCompletion(id, { timeoutInMilliseconds: 60_000 });
      assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.failureDetails));
      assert.equal(status.output, `${id}: done spin by ${second.pid}`);
      const history = (await env.host.client.getStatus(id, { showHistory: true }))!.history!;
      assert.equal(history.filter((e) => e.eventType === 'ExecutionStarted').length, 1);
      assert.equal(history.filter((e) => e.eventType === 'TaskScheduled').length, 1);
      assert.equal(history.filter((e) => e.eventType === 'ExecutionCompleted').length, 1);
      second.signal('SIGTERM');
      await second.waitForExit(30_000);
    });
  });
}
