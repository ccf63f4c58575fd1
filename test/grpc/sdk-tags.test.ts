/**
 * Tags over the gRPC sidecar with Microsoft's durabletask-js client and worker, on every test store:
 * `scheduleNewOrchestration(…, { tags })` is stored and returned by `getOrchestrationState` and `getAllInstances`,
 * a worker's `callSubOrchestrator(…, { tags })` gives the child its parent's tags plus its own, a worker's
 * continue-as-new keeps them, the TypeScript
 * client filters SDK-started instances by tag, and bad tags are INVALID_ARGUMENT with nothing started.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OrchestrationContext as SdkContext, TaskHubGrpcClient, TaskHubGrpcWorker } from '@microsoft/durabletask-js';
import { createClient, type DurableClient } from '../../src/index.js';
import { testStores } from '../support/stores.js';
import { sdkClient, startGrpcHost, startSdkWorker, waitForRegistration, type GrpcHost } from './grpc-harness.js';

const TIMEOUT_S = 30;

for (const store of testStores()) {
  describe(`tags through durabletask-js on ${store.name}`, () => {
    let env: GrpcHost;
    let worker: TaskHubGrpcWorker;
    let client: TaskHubGrpcClient;
    let local: DurableClient;
    before(async () => {
      env = await startGrpcHost(store);
      worker = await startSdkWorker(env.address, (w) => {
        w.addNamedOrchestrator('jsChild', async function* (ctx: SdkContext): any {
          yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 1));
          return ctx.instanceId;
        });
        w.addNamedOrchestrator('jsLoop', async function* (ctx: SdkContext, n: number): any {
          if (n < 2) {
            yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 1));
            ctx.continueAsNew(n + 1, false);
            return;
          }
          return n;
        });
        w.addNamedOrchestrator('jsParent', async function* (ctx: SdkContext): any {
          return yield ctx.callSubOrchestrator('jsChild', undefined, { instanceId: `${ctx.instanceId}-child`, tags: { role: 'child', tenant: 'own' } });
        });
      });
      await waitForRegistration(env.storeUrl);
      client = sdkClient(env.address);
      local = await createClient({ store: env.storeUrl });
    });
    after(async () => {
      await local?.close();
      await client?.stop();
      await worker?.stop();
      await env?.stop();
    });

    test('scheduleNewOrchestration with tags: getOrchestrationState and getAllInstances return them', async () => {
      const id = await client.scheduleNewOrchestration('jsChild', undefined, { instanceId: 'sdk-tagged', tags: { env: 'prod', team: 'blue' } });
      const done = await client.waitForOrchestrationCompletion(id, true, TIMEOUT_S);
      assert.equal(done?.serializedOutput, JSON.stringify('sdk-tagged'));
      assert.deepEqual(done?.tags, { env: 'prod', team: 'blue' });
      assert.deepEqual((await client.getOrchestrationState(id))?.tags, { env: 'prod', team: 'blue' });
      const listed = [];
      for await (const state of client.getAllInstances({ instanceIdPrefix: 'sdk-tagged' })) listed.push(state);
      assert.deepEqual(listed.map((s) => [s.instanceId, s.tags]), [['sdk-tagged', { env: 'prod', team: 'blue' }]]);
      assert.deepEqual((await local.listInstances({ tags: { team: 'blue' } })).instances.map((s) => s.instanceId), ['sdk-tagged']);
      const plain = await client.scheduleNewOrchestration('jsChild', undefined, { instanceId: 'sdk-plain' });
      assert.equal((await client.waitForOrchestrationCompletion(plain, true, TIMEOUT_S))?.tags, undefined);
    });

    test("a worker's sub-orchestration tags: the child carries its parent's tags and its own, its own winning", async () => {
      const id = await client.scheduleNewOrchestration('jsParent', undefined, { instanceId: 'sdk-parent', tags: { tenant: 'acme', env: 'dev' } });
      const done = await client.waitForOrchestrationCompletion(id, true, TIMEOUT_S);
      assert.equal(done?.serializedOutput, JSON.stringify('sdk-parent-child'));
      assert.deepEqual((await client.getOrchestrationState('sdk-parent-child'))?.tags, { tenant: 'own', env: 'dev', role: 'child' });
      assert.deepEqual((await local.getStatus('sdk-parent-child'))?.tags, { tenant: 'own', env: 'dev', role: 'child' });
      assert.deepEqual((await local.listInstances({ tags: { env: 'dev' } })).instances.map((s) => s.instanceId).sort(), ['sdk-parent', 'sdk-parent-child']);
    });

    test("a worker's continue-as-new keeps the instance's tags, and the next execution's start event carries them", async () => {
      const id = await client.scheduleNewOrchestration('jsLoop', 0, { instanceId: 'sdk-loop', tags: { job: 'nightly' } });
      const done = await client.waitForOrchestrationCompletion(id, true, TIMEOUT_S);
      assert.equal(done?.serializedOutput, '2');
      assert.deepEqual(done?.tags, { job: 'nightly' });
      const history = (await local.getStatus(id, { showHistory: true }))?.history ?? [];
      const started = history.find((e) => e.eventType === 'ExecutionStarted');
      assert.deepEqual(started?.eventType === 'ExecutionStarted' ? [started.generation, started.tags] : undefined, [2, { job: 'nightly' }]);
    });

    test('bad tags are INVALID_ARGUMENT and start nothing', async () => {
      for (const [n, tags] of [{ k: 'v'.repeat(1025) }, { '': 'v' }, Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']))].entries()) {
        await assert.rejects(client.scheduleNewOrchestration('jsChild', undefined, { instanceId: `sdk-bad-${n}`, tags }), /INVALID_ARGUMENT|tag/);
        assert.equal(await client.getOrchestrationState(`sdk-bad-${n}`), undefined);
      }
    });
  });
}
