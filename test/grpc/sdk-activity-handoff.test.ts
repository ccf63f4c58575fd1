/**
 * Activities an SDK worker's episode schedules are created leased to the sidecar by the episode's own commit and
 * sent on the worker's stream from there: no claim transaction takes them (the claim loop finds nothing), and
 * the orchestration's results and history are the same as through a claim. Microsoft's durabletask-js worker,
 * on every test store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OrchestrationStatus, whenAll, type OrchestrationContext, type TaskHubGrpcClient, type TaskHubGrpcWorker } from '@microsoft/durabletask-js';
import { acquireStore, type StoreHandle } from '../../src/store/open-store.js';
import type { ActivityWorkItem, ClaimOptions, HubStore } from '../../src/store/store.js';
import { testStores } from '../support/stores.js';
import { sdkClient, startGrpcHost, startSdkWorker, waitForRegistration, type GrpcHost } from './grpc-harness.js';

for (const store of testStores()) {
  describe(`activities handed over by their episode's commit, on ${store.name}`, () => {
    let env: GrpcHost;
    let worker: TaskHubGrpcWorker;
    let client: TaskHubGrpcClient;
    let handle: StoreHandle;
    let restore: () => void;
    /** Activity work items that claims returned (the claim loop keeps polling; it should find none). */
    const claimed: string[] = [];

    before(async () => {
      env = await startGrpcHost(store);
      handle = await acquireStore(env.storeUrl);
      // The host's hub store is of the same class: count what its activity claims return.
      const proto = Object.getPrototypeOf(handle.store.hub('default')) as HubStore;
      const original = proto.claimActivities;
      proto.claimActivities = async function (this: HubStore, options: ClaimOptions): Promise<ActivityWorkItem[]> {
        const items = await original.call(this, options);
        claimed.push(...items.map((i) => i.name));
        return items;
      };
      restore = () => (proto.claimActivities = original);
      worker = await startSdkWorker(env.address, (w) => {
        w.addNamedActivity('hello', async (_ctx, city: string) => `Hello ${city}!`);
        w.addNamedOrchestrator('sequenceThenFanOut', async function* (ctx: OrchestrationContext): any {
          const first = yield ctx.callActivity('hello', 'Tokyo');
          const second = yield ctx.callActivity('hello', 'Seattle');
          const fanned = yield whenAll(['a', 'b', 'c'].map((c) => ctx.callActivity('hello', c)));
          return [first, second, ...fanned];
        });
      });
      await waitForRegistration(env.storeUrl);
      client = sdkClient(env.address);
    });

    after(async () => {
      restore?.();
      await worker?.stop().catch(() => undefined);
      await client?.stop().catch(() => undefined);
      await handle?.release();
      await env?.stop();
    });

    test('a sequence and a fan-out complete with every activity dispatched without a claim', async () => {
      const ids = await Promise.all([1, 2, 3].map(() => client.scheduleNewOrchestration('sequenceThenFanOut')));
      for (const id of ids) {
        const state = await client.waitForOrchestrationCompletion(id, true, 30);
        assert.equal(state?.runtimeStatus, OrchestrationStatus.COMPLETED);
        assert.deepEqual(JSON.parse(state!.serializedOutput!), ['Hello Tokyo!', 'Hello Seattle!', 'Hello a!', 'Hello b!', 'Hello c!']);
        const history = await handle.store.hub('default').getHistory(id);
        const scheduled = history.filter((e) => e.eventType === 'TaskScheduled').map((e) => (e as { input?: string }).input);
        assert.deepEqual(scheduled, ['"Tokyo"', '"Seattle"', '"a"', '"b"', '"c"']);
        assert.equal(history.filter((e) => e.eventType === 'TaskCompleted').length, 5);
      }
      assert.deepEqual(claimed, [], 'no activity was claimed: each went out from the commit that created it');
    });
  });
}
