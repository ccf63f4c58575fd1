/**
 * Engine behaviours the SDKs' workers rely on, on every store, with the test playing the worker through a raw
 * client (for what durabletask-js never sends, such as the Python SDK's retries under the same task id) or with
 * the real durabletask-js worker: a task scheduled again under its id, the first batch of a continued-as-new
 * execution (ExecutionStarted first, carried-over events ahead of newer ones), rewinding a parent whose failed
 * child was purged, and entity signals with a scheduled time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EntityInstanceId, OrchestrationStatus, TaskEntity, type OrchestrationContext as SdkContext, type TaskHubGrpcClient, type TaskHubGrpcWorker } from '@microsoft/durabletask-js';
import { testStores } from '../support/stores.js';
import { json, rawClient, sdkClient, startGrpcHost, startSdkWorker, waitForRegistration, WorkItemInbox, type GrpcHost, type RawClient } from './grpc-harness.js';

const COMPLETED = 1;
const CONTINUED_AS_NEW = 2;

/** The protocol event kind of each event of a work item's `newEvents`. */
const kinds = (events: any[]) => events.map((e) => e.eventType);

/** The raised events (name and value) among `events`. */
const raised = (events: any[]) => events.filter((e) => e.eventRaised).map((e) => `${e.eventRaised.name}=${json(e.eventRaised.input)}`);

for (const store of testStores()) {
  describe(`sidecar engine behaviours on ${store.name} (raw worker)`, () => {
    let env: GrpcHost;
    let client: RawClient;
    let worker: WorkItemInbox;

    before(async () => {
      env = await startGrpcHost(store);
      client = await rawClient(env.address);
      worker = new WorkItemInbox(client.stream('GetWorkItems', {}));
      await waitForRegistration(env.storeUrl);
    });
    after(async () => {
      worker?.cancel();
      client?.close();
      await env?.stop();
    });

    const start = (name: string, instanceId: string) =>
      client.call<{ instanceId: string }>('StartInstance', { name, instanceId, input: { value: '"in"' } }).then((r) => r.instanceId);
    const respond = (item: any, actions: object[]) =>
      client.call('CompleteOrchestratorTask', { instanceId: item.orchestratorRequest.instanceId, completionToken: item.completionToken, actions });
    /** The next work item of `instanceId` of the given kind. */
    const nextFor = (instanceId: string, kind: 'orchestratorRequest' | 'activityRequest', seen: Set<unknown>) =>
      worker.until(
        () => {
          const item = worker.items.find((i) => !seen.has(i) && i[kind] && (i[kind].instanceId ?? i[kind].orchestrationInstance?.instanceId) === instanceId);
          if (item) seen.add(item);
          return item;
        },
        15_000,
        `a ${kind} of ${instanceId} (got ${JSON.stringify(worker.items.filter((i) => !seen.has(i)))})`,
      );

    test('a task scheduled again under its id (the Python SDK retries so) gets its second result', async () => {
      const id = await start('pyRetry', `retry-${store.name}`);
      const seen = new Set<unknown>();
      await respond(await nextFor(id, 'orchestratorRequest', seen), [{ id: 1, scheduleTask: { name: 'flaky', input: { value: '1' } } }]);
      const first = await nextFor(id, 'activityRequest', seen);
      assert.equal(first.activityRequest.taskId, 1);
      await client.call('CompleteActivityTask', {
        instanceId: id,
        taskId: 1,
        failureDetails: { errorType: 'Error', errorMessage: 'first attempt fails' },
        completionToken: first.completionToken,
      });
      const failed = await nextFor(id, 'orchestratorRequest', seen);
      assert.deepEqual(kinds(failed.orchestratorRequest.newEvents), ['orchestratorStarted', 'taskFailed']);
      const fireAt = { seconds: Math.floor(Date.now() / 1000), nanos: 0 };
      await respond(failed, [{ id: 2, createTimer: { fireAt } }]);
      const fired = await nextFor(id, 'orchestratorRequest', seen);
      assert.deepEqual(kinds(fired.orchestratorRequest.newEvents), ['orchestratorStarted', 'timerFired']);
      // The retry: the same task id as the first attempt.
      await respond(fired, [{ id: 1, scheduleTask: { name: 'flaky', input: { value: '1' } } }]);
      const second = await nextFor(id, 'activityRequest', seen);
      assert.equal(second.activityRequest.taskId, 1);
      await client.call('CompleteActivityTask', { instanceId: id, taskId: 1, result: { value: '"second attempt"' }, completionToken: second.completionToken });
      const done = await nextFor(id, 'orchestratorRequest', seen);
      assert.deepEqual(kinds(done.orchestratorRequest.newEvents), ['orchestratorStarted', 'taskCompleted']);
      assert.equal(done.orchestratorRequest.newEvents[1].taskCompleted.taskScheduledId, 1);
      await respond(done, [{ id: 3, completeOrchestration: { orchestrationStatus: COMPLETED, result: { value: '"retried"' } } }]);
      const state = await client.call('GetInstance', { instanceId: id, getInputsAndOutputs: true });
      assert.equal(state.orchestrationState.orchestrationStatus, COMPLETED);
      assert.equal(json(state.orchestrationState.output), 'retried');
      const history = await env.host.client.getStatus(id, { showHistory: true });
      const types = history!.history!.map((e) => e.eventType).filter((t) => t.startsWith('Task'));
      assert.deepEqual(types, ['TaskScheduled', 'TaskFailed', 'TaskScheduled', 'TaskCompleted']);
    });

    test('a continued-as-new execution starts with ExecutionStarted, then carried-over events in order, then newer ones', async () => {
      const id = await start('pyCarry', `carry-${store.name}`);
      const seen = new Set<unknown>();
      const raise = (name: string, value: number) => client.call('RaiseEvent', { instanceId: id, name, input: { value: String(value) } });
      const first = await nextFor(id, 'orchestratorRequest', seen);
      // While the first episode is out at the worker: e=0 arrives (the next episode sees it; it stays unconsumed).
      await raise('e', 0);
      await respond(first, []);
      const second = await nextFor(id, 'orchestratorRequest', seen);
      assert.deepEqual(raised(second.orchestratorRequest.newEvents), ['e=0']);
      await raise('e', 1);
      await raise('e', 2);
      await respond(second, []);
      const third = await nextFor(id, 'orchestratorRequest', seen);
      assert.deepEqual(raised(third.orchestratorRequest.newEvents), ['e=1', 'e=2']);
      // While the third episode is out: 3 and 4 arrive. The worker consumed 1 and carries 0 (from history) and 2 over.
      await raise('e', 3);
      await raise('e', 4);
      const carried = [0, 2].map((n) => ({ eventId: -1, eventRaised: { name: 'e', input: { value: String(n) } } }));
      await respond(third, [{ id: 1, completeOrchestration: { orchestrationStatus: CONTINUED_AS_NEW, result: { value: '"next"' }, carryoverEvents: carried } }]);
      const fourth = await nextFor(id, 'orchestratorRequest', seen);
      const events = fourth.orchestratorRequest.newEvents;
      assert.deepEqual(kinds(events), ['orchestratorStarted', 'executionStarted', 'eventRaised', 'eventRaised', 'eventRaised', 'eventRaised']);
      assert.deepEqual(raised(events), ['e=0', 'e=2', 'e=3', 'e=4']);
      assert.equal(fourth.orchestratorRequest.pastEvents.length, 0);
      assert.equal(json(events[1].executionStarted.input), 'next');
      await respond(fourth, [{ id: 1, completeOrchestration: { orchestrationStatus: COMPLETED, result: { value: '"done"' } } }]);
    });
  });

  describe(`sidecar engine behaviours on ${store.name} (durabletask-js worker)`, () => {
    let env: GrpcHost;
    let worker: TaskHubGrpcWorker;
    let client: TaskHubGrpcClient;
    const childAttempts = new Map<string, number>();
    const deliveries: { op: string; at: number }[] = [];

    class Clock extends TaskEntity<number> {
      tick(): number {
        deliveries.push({ op: 'tick', at: Date.now() });
        return ++this.state;
      }
      protected override initializeState(): number {
        return 0;
      }
    }

    before(async () => {
      env = await startGrpcHost(store);
      worker = await startSdkWorker(env.address, (w) => {
        w.addNamedOrchestrator('jsParent', async function* (ctx: SdkContext, key: string): any {
          return yield ctx.callSubOrchestrator('jsChild', key, { instanceId: `${ctx.instanceId}-child` });
        });
        w.addNamedOrchestrator('jsChild', async function* (_ctx: SdkContext, key: string): any {
          const n = (childAttempts.get(key) ?? 0) + 1;
          childAttempts.set(key, n);
          if (n === 1) throw new Error('the child fails the first time');
          return `child ok after ${n}`;
        });
        w.addNamedEntity('clock', () => new Clock());
        w.addNamedOrchestrator('jsDelayedSignal', async function* (ctx: SdkContext, delayMs: number): any {
          const entity = new EntityInstanceId('clock', 'delayed');
          ctx.entities.signalEntity(entity, 'tick', undefined, { signalTime: new Date(ctx.currentUtcDateTime.getTime() + delayMs) });
          return ctx.currentUtcDateTime.getTime();
        });
      });
      await waitForRegistration(env.storeUrl);
      client = sdkClient(env.address);
    });
    after(async () => {
      await client?.stop();
      await worker?.stop();
      await env?.stop();
    });

    test('rewinding a parent whose failed child was purged starts the child again', async () => {
      const id = await client.scheduleNewOrchestration('jsParent', `rw-${store.name}`, `rewind-${store.name}`);
      const failed = await client.waitForOrchestrationCompletion(id, true, 30);
      assert.equal(failed?.runtimeStatus, OrchestrationStatus.FAILED);
      const childId = `${id}-child`;
      assert.equal((await client.getOrchestrationState(childId))?.runtimeStatus, OrchestrationStatus.FAILED);
      assert.equal((await client.purgeOrchestration(childId))?.deletedInstanceCount, 1);
      await env.host.client.rewind(id, 'try again');
      const done = await client.waitForOrchestrationCompletion(id, true, 30);
      assert.equal(done?.runtimeStatus, OrchestrationStatus.COMPLETED, done?.failureDetails?.message);
      assert.equal(done?.serializedOutput, JSON.stringify('child ok after 2'));
      assert.equal(childAttempts.get(`rw-${store.name}`), 2);
      assert.equal((await client.getOrchestrationState(childId))?.runtimeStatus, OrchestrationStatus.COMPLETED);
    });

    test('an entity signal with a scheduled time from an orchestration is delivered at that time, not at once', async () => {
      const delayMs = 1500;
      const id = await client.scheduleNewOrchestration('jsDelayedSignal', delayMs, `delayed-${store.name}`);
      const done = await client.waitForOrchestrationCompletion(id, true, 30);
      const sentAt = JSON.parse(done!.serializedOutput!) as number;
      const deadline = Date.now() + 15_000;
      while (deliveries.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      // (A batch given back under load runs again at the worker; only its first run's time matters here.)
      assert.ok(deliveries.length >= 1, 'the signal arrived');
      assert.ok(deliveries[0]!.at >= sentAt + delayMs - 50, `delivered ${deliveries[0]!.at - sentAt} ms after the send, scheduled for ${delayMs} ms`);
      // The worker ran the operation; its state is committed when the sidecar gets the result, a moment later.
      let state: number | undefined;
      while (state !== 1 && Date.now() < deadline) {
        state = (await client.getEntity<number>(new EntityInstanceId('clock', 'delayed'), true))?.state;
        if (state !== 1) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(state, 1);
    });
  });
}
