/**
 * Instance trees and long answers over the sidecar, on every store: recursive terminate and purge through the
 * durabletask-js client (children and grandchildren, also those an execution replaced by a continue-as-new
 * started; without the flag only the instance itself), an
 * orchestration terminating another instance and its sub-orchestrations (`TerminateOrchestrationAction`, sent by
 * a raw worker: durabletask-js has no such call), and an orchestrator response sent in chunks, committed once
 * its last chunk arrives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OrchestrationStatus, terminateOptions, type OrchestrationContext as SdkContext, type TaskHubGrpcClient, type TaskHubGrpcWorker } from '@microsoft/durabletask-js';
import { DFApp } from '../../src/index.js';
import { testStores } from '../support/stores.js';
import { json, rawClient, sdkClient, startGrpcHost, startSdkWorker, waitForRegistration, WorkItemInbox, type GrpcHost, type RawClient } from './grpc-harness.js';

const TIMEOUT_S = 30;
const COMPLETED = 1;
const INVALID_ARGUMENT = 3;

/** TypeScript orchestrations that a raw worker's orchestration terminates. */
function app(url: string): DFApp {
  const df = new DFApp({ store: url });
  df.orchestration('tsVictim', function* (ctx) {
    return yield ctx.callSubOrchestrator('tsVictimChild', undefined, `${ctx.instanceId}-c`);
  });
  df.orchestration('tsVictimChild', function* (ctx) {
    return yield ctx.waitForExternalEvent('never');
  });
  return df;
}

for (const store of testStores()) {
  describe(`instance trees and chunked answers on ${store.name}`, () => {
    let env: GrpcHost;
    let worker: TaskHubGrpcWorker;
    let client: TaskHubGrpcClient;
    let raw: RawClient;
    let rawWorker: WorkItemInbox;

    before(async () => {
      env = await startGrpcHost(store, app);
      worker = await startSdkWorker(
        env.address,
        (w) => {
          w.addNamedOrchestrator('jsRoot', async function* (ctx: SdkContext): any {
            return yield ctx.callSubOrchestrator('jsMiddle', undefined, { instanceId: `${ctx.instanceId}-c` });
          });
          w.addNamedOrchestrator('jsMiddle', async function* (ctx: SdkContext): any {
            return yield ctx.callSubOrchestrator('jsLeaf', undefined, { instanceId: `${ctx.instanceId}-g` });
          });
          w.addNamedOrchestrator('jsLeaf', async function* (ctx: SdkContext): any {
            return yield ctx.waitForExternalEvent('never');
          });
          // Children started without being awaited outlive the execution that started them: the first execution's
          // jsMiddle (and its jsLeaf) keep running after the continue-as-new, which replaces the history naming them.
          w.addNamedOrchestrator('jsGenerations', async function* (ctx: SdkContext, generation: number): any {
            if (generation === 1) {
              ctx.callSubOrchestrator('jsLeaf', undefined, { instanceId: `${ctx.instanceId}-c1` });
              return yield ctx.waitForExternalEvent('never');
            }
            ctx.callSubOrchestrator('jsMiddle', undefined, { instanceId: `${ctx.instanceId}-c0` });
            yield ctx.waitForExternalEvent('next');
            ctx.continueAsNew(1, false);
          });
        },
        { workItemFilters: 'auto' },
      );
      raw = await rawClient(env.address);
      rawWorker = new WorkItemInbox(
        raw.stream('GetWorkItems', { workItemFilters: { orchestrations: [{ name: 'rawKiller' }, { name: 'rawChunked' }], activities: [{ name: 'rawAct' }], entities: [] } }),
      );
      await waitForRegistration(env.storeUrl, ['jsRoot', 'jsMiddle', 'jsLeaf', 'jsGenerations', 'rawKiller', 'rawChunked']);
      client = sdkClient(env.address);
    });
    after(async () => {
      rawWorker?.cancel();
      raw?.close();
      await client?.stop();
      await worker?.stop();
      await env?.stop();
    });

    /** Polls until `id` is Running (not just started: it waits). */
    async function untilRunning(id: string): Promise<void> {
      const deadline = Date.now() + TIMEOUT_S * 1000;
      while ((await client.getOrchestrationState(id))?.runtimeStatus !== OrchestrationStatus.RUNNING) {
        if (Date.now() > deadline) throw new Error(`${id} never ran`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }

    /** Starts jsRoot as `id` and waits until its grandchild runs. */
    async function startTree(id: string): Promise<string[]> {
      await client.scheduleNewOrchestration('jsRoot', undefined, id);
      const ids = [id, `${id}-c`, `${id}-c-g`];
      await untilRunning(ids[2]!);
      return ids;
    }
    const statusOf = async (id: string) => (await client.getOrchestrationState(id))?.runtimeStatus;

    test('terminate with recursive ends the children and grandchildren; without it only the instance', async () => {
      const [root, child, grandchild] = await startTree(`tree-${store.name}`);
      await client.terminateOrchestration(root!, terminateOptions({ output: 'stop all', recursive: true }));
      for (const id of [root!, child!, grandchild!]) {
        const state = await client.waitForOrchestrationCompletion(id, true, TIMEOUT_S);
        assert.equal(state?.runtimeStatus, OrchestrationStatus.TERMINATED, id);
        assert.equal(JSON.parse(state!.serializedOutput!), 'stop all');
      }

      const [lone, loneChild, loneGrandchild] = await startTree(`lone-${store.name}`);
      await client.terminateOrchestration(lone!, 'only the root');
      assert.equal((await client.waitForOrchestrationCompletion(lone!, false, TIMEOUT_S))?.runtimeStatus, OrchestrationStatus.TERMINATED);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(await statusOf(loneChild!), OrchestrationStatus.RUNNING);
      assert.equal(await statusOf(loneGrandchild!), OrchestrationStatus.RUNNING);
      await client.terminateOrchestration(loneChild!, terminateOptions({ output: 'clean up', recursive: true }));
      await client.waitForOrchestrationCompletion(loneGrandchild!, false, TIMEOUT_S);
    });

    test('purge with recursive deletes the children and grandchildren; without it only the instance', async () => {
      const [root, child, grandchild] = await startTree(`purge-${store.name}`);
      await client.terminateOrchestration(root!, terminateOptions({ output: 'done', recursive: true }));
      for (const id of [root!, child!, grandchild!]) await client.waitForOrchestrationCompletion(id, false, TIMEOUT_S);
      assert.equal((await client.purgeOrchestration(root!, { recursive: true }))?.deletedInstanceCount, 3);
      for (const id of [root!, child!, grandchild!]) assert.equal(await statusOf(id), undefined, `${id} is gone`);

      const [lone, loneChild, loneGrandchild] = await startTree(`purge-lone-${store.name}`);
      await client.terminateOrchestration(lone!, terminateOptions({ output: 'done', recursive: true }));
      for (const id of [lone!, loneChild!, loneGrandchild!]) await client.waitForOrchestrationCompletion(id, false, TIMEOUT_S);
      assert.equal((await client.purgeOrchestration(lone!))?.deletedInstanceCount, 1);
      assert.equal(await statusOf(loneChild!), OrchestrationStatus.TERMINATED);
      // A running root is refused, recursive or not, and nothing is deleted.
      const [running] = await startTree(`purge-running-${store.name}`);
      await assert.rejects(client.purgeOrchestration(running!, { recursive: true }));
      assert.equal(await statusOf(`${running}-c`), OrchestrationStatus.RUNNING);
      await client.terminateOrchestration(running!, terminateOptions({ output: 'clean up', recursive: true }));
    });

    test('recursive terminate and purge reach the children of an execution a continue-as-new replaced', async () => {
      const root = `generations-${store.name}`;
      await client.scheduleNewOrchestration('jsGenerations', 0, root);
      await untilRunning(`${root}-c0-g`);
      await client.raiseOrchestrationEvent(root, 'next', null);
      // Started by the second execution: the first one's history, which named jsMiddle, is gone.
      await untilRunning(`${root}-c1`);
      const tree = [root, `${root}-c0`, `${root}-c0-g`, `${root}-c1`];
      await client.terminateOrchestration(root, terminateOptions({ output: 'all generations', recursive: true }));
      for (const id of tree) {
        const state = await client.waitForOrchestrationCompletion(id, true, TIMEOUT_S);
        assert.equal(state?.runtimeStatus, OrchestrationStatus.TERMINATED, id);
        assert.equal(JSON.parse(state!.serializedOutput!), 'all generations');
      }
      assert.equal((await client.purgeOrchestration(root, { recursive: true }))?.deletedInstanceCount, tree.length);
      for (const id of tree) assert.equal(await statusOf(id), undefined, `${id} is gone`);
    });

    /** The next orchestration work item of `instanceId` at the raw worker. */
    const nextFor = (instanceId: string, seen: Set<unknown>) =>
      rawWorker.until(
        () => {
          const item = rawWorker.items.find((i) => !seen.has(i) && i.orchestratorRequest?.instanceId === instanceId);
          if (item) seen.add(item);
          return item;
        },
        15_000,
        `a work item of ${instanceId}`,
      );

    test('an orchestration terminates another instance and, with recurse, its sub-orchestrations', async () => {
      const victim = await env.host.client.startNew('tsVictim', { instanceId: `victim-${store.name}` });
      const deadline = Date.now() + 15_000;
      while ((await env.host.client.getStatus(`${victim}-c`))?.runtimeStatus !== 'Running') {
        if (Date.now() > deadline) throw new Error('the victim never started its child');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const killer = (await raw.call<{ instanceId: string }>('StartInstance', { name: 'rawKiller', instanceId: `killer-${store.name}` })).instanceId;
      const seen = new Set<unknown>();
      await raw.call('CompleteOrchestratorTask', {
        instanceId: killer,
        completionToken: (await nextFor(killer, seen)).completionToken,
        actions: [
          { id: 1, terminateOrchestration: { instanceId: victim, reason: { value: '"by the killer"' }, recurse: true } },
          { id: 2, completeOrchestration: { orchestrationStatus: COMPLETED, result: { value: '"sent"' } } },
        ],
      });
      for (const id of [victim, `${victim}-c`]) {
        const status = await env.host.client.waitForCompletion(id, { timeoutInMilliseconds: 15_000 });
        assert.equal(status.runtimeStatus, 'Terminated', id);
        assert.equal(status.output, 'by the killer');
      }
      assert.equal((await env.host.client.getStatus(killer))?.runtimeStatus, 'Completed');
    });

    test('an orchestrator response in chunks is committed once, when its last chunk arrives; a chunk out of order is refused', async () => {
      const id = (await raw.call<{ instanceId: string }>('StartInstance', { name: 'rawChunked', instanceId: `chunked-${store.name}` })).instanceId;
      const seen = new Set<unknown>();
      const item = await nextFor(id, seen);
      const chunk = (chunkIndex: number, isPartial: boolean, actions: object[]) =>
        raw.call('CompleteOrchestratorTask', { instanceId: id, completionToken: item.completionToken, actions, isPartial, chunkIndex: { value: chunkIndex }, customStatus: { value: `"chunk ${chunkIndex}"` } });
      await chunk(0, true, [{ id: 1, scheduleTask: { name: 'rawAct', input: { value: '1' } } }]);
      await assert.rejects(chunk(2, true, []), (error: any) => error.code === INVALID_ARGUMENT);
      await chunk(1, true, [{ id: 2, scheduleTask: { name: 'rawAct', input: { value: '2' } } }]);
      // Nothing is committed before the last chunk.
      assert.equal((await env.host.client.getStatus(id, { showHistory: true }))?.history?.length ?? 0, 0);
      await chunk(2, false, [{ id: 3, scheduleTask: { name: 'rawAct', input: { value: '3' } } }]);
      const activities = await rawWorker.until(() => {
        const found = rawWorker.items.filter((i) => i.activityRequest?.orchestrationInstance.instanceId === id);
        return found.length === 3 && found;
      }, 15_000, 'three activities');
      assert.deepEqual(activities.map((a) => json(a.activityRequest.input)).sort(), [1, 2, 3]);
      const status = await env.host.client.getStatus(id, { showHistory: true });
      assert.equal(status?.customStatus, 'chunk 2');
      assert.deepEqual(status!.history!.filter((e) => e.eventType === 'TaskScheduled').map((e) => e.eventId), [1, 2, 3]);
    });
  });
}
