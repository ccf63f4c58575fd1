/**
 * TaskHubSidecarService at the protocol level, with the test playing the gRPC worker through a raw client built
 * from our `.proto`: work-item filters, health pings, the work item shapes, stale completions, disconnects and
 * abandons re-dispatching work, API keys, task hub metadata, scheduled starts, the reuse policy, bad input, and
 * long polls that end when the caller cancels.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { createClient, UnknownFunctionError } from '../../src/index.js';
import { startGrpcSidecar, type GrpcSidecar, type GrpcSidecarOptions } from '../../src/grpc/sidecar-server.js';
import { acquireStore, type StoreHandle } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { testStores } from '../support/stores.js';
import { json, rawClient, WorkItemInbox, type RawClient } from './grpc-harness.js';

const COMPLETED = 1;
const RUNNING = 0;
const PENDING = 6;
const TERMINATED = 5;

/** Every event StreamInstanceHistory sends for `instanceId`, once the stream ends. */
function streamHistory(client: RawClient, instanceId: string): Promise<any[]> {
  const events: any[] = [];
  return new Promise((resolve, reject) => {
    const stream = client.stream('StreamInstanceHistory', { instanceId });
    stream.on('data', (chunk: { events?: any[] }) => events.push(...(chunk.events ?? [])));
    stream.on('end', () => resolve(events));
    stream.on('error', reject);
  });
}

for (const testStore of testStores()) {
  describe(`gRPC sidecar protocol on ${testStore.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    });
    after(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    });

    /** A sidecar on a fresh store (optionally wrapped), with a raw client. */
    async function setup(options: Partial<GrpcSidecarOptions> = {}, wrap: (store: Store) => Store = (s) => s) {
      const { url, cleanup } = await testStore.create();
      const handle: StoreHandle = await acquireStore(url);
      const store = wrap(handle.store);
      const sidecar: GrpcSidecar = await startGrpcSidecar({ store, taskHub: 'default', port: 0, pollIntervalMs: 50, ...options });
      const client: RawClient = await rawClient(sidecar.address);
      const inboxes: WorkItemInbox[] = [];
      cleanups.push(async () => {
        for (const inbox of inboxes) inbox.cancel();
        client.close();
        await sidecar.stop();
        await handle.release();
        await cleanup();
      });
      const connect = (request: object = {}, metadata?: Record<string, string>) => {
        const inbox = new WorkItemInbox(client.stream('GetWorkItems', request, metadata));
        inboxes.push(inbox);
        return inbox;
      };
      const start = (name: string, extra: object = {}, metadata?: Record<string, string>) =>
        client.call<{ instanceId: string }>('StartInstance', { name, input: { value: '"in"' }, ...extra }, metadata).then((r) => r.instanceId);
      const complete = (item: any, result: unknown, metadata?: Record<string, string>) =>
        client.call('CompleteOrchestratorTask', {
          instanceId: item.orchestratorRequest.instanceId,
          completionToken: item.completionToken,
          actions: [{ id: 100, completeOrchestration: { orchestrationStatus: COMPLETED, result: { value: JSON.stringify(result) } } }],
        }, metadata);
      const state = (instanceId: string) => client.call('GetInstance', { instanceId, getInputsAndOutputs: true });
      return { url, handle, sidecar, client, connect, start, complete, state };
    }

    /** Waits until a worker is registered (GetWorkItems is processed asynchronously). */
    async function registered(handle: StoreHandle, name: string, hub = 'default') {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const names = await handle.store.hub(hub).getRegisteredNames();
        if (names?.orchestrations.includes(name)) return;
        if (Date.now() > deadline) throw new Error(`'${name}' was never registered`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    test('health pings keep an idle GetWorkItems stream alive; the server never ends it', async () => {
      const { connect } = await setup({ healthPingMs: 50 });
      const inbox = connect();
      await inbox.until(() => inbox.pings >= 3, 10_000, 'three health pings');
      assert.equal(inbox.ended, false);
      assert.equal(inbox.items.length, 0);
    });

    test('a worker receives only the orchestrations its filters name; filtered names are registered for clients', async () => {
      const { url, handle, connect, start, complete, state } = await setup();
      const a = connect({ workItemFilters: { orchestrations: [{ name: 'alpha' }], activities: [], entities: [] } });
      const b = connect({ workItemFilters: { orchestrations: [{ name: 'beta' }], activities: [], entities: [] } });
      await registered(handle, 'alpha');
      await registered(handle, 'beta');
      const alphaId = await start('alpha', { instanceId: 'alpha-1' });
      const betaId = await start('beta', { instanceId: 'beta-1' });
      const itemA = await a.next(0);
      const itemB = await b.next(0);
      assert.equal(itemA.orchestratorRequest.instanceId, alphaId);
      assert.equal(itemB.orchestratorRequest.instanceId, betaId);

      // The request: no past events, new events beginning with orchestratorStarted, then the start.
      const request = itemA.orchestratorRequest;
      assert.equal(request.pastEvents.length, 0);
      assert.equal(request.newEvents[0].eventType, 'orchestratorStarted');
      const started = request.newEvents.find((e: any) => e.eventType === 'executionStarted').executionStarted;
      assert.equal(started.name, 'alpha');
      assert.equal(json(started.input), 'in');
      assert.equal(started.orchestrationInstance.instanceId, alphaId);
      assert.equal(started.orchestrationInstance.executionId.value, request.executionId.value);
      assert.equal(started.tags, undefined, 'an untagged start sends no tags');

      await complete(itemA, 'A!');
      await complete(itemB, 'B!');
      const doneA = await state(alphaId);
      assert.equal(doneA.orchestrationState.orchestrationStatus, COMPLETED);
      assert.equal(json(doneA.orchestrationState.output), 'A!');
      assert.equal(json((await state(betaId)).orchestrationState.output), 'B!');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(a.items.length, 1, 'alpha worker got nothing else');
      assert.equal(b.items.length, 1, 'beta worker got nothing else');

      const duraflow = await createClient({ store: url });
      try {
        const id = await duraflow.startNew('alpha');
        assert.ok(id);
        await assert.rejects(duraflow.startNew('gamma'), (error: unknown) => {
          assert.ok(error instanceof UnknownFunctionError);
          assert.deepEqual(error.registeredNames, ['alpha', 'beta']);
          return true;
        });
      } finally {
        await duraflow.close();
      }
    });

    test('activities: the work item carries name, input, task id and instance; the result reaches the next episode', async () => {
      const { connect, start, client, state } = await setup();
      const worker = connect();
      const id = await start('withActivity');
      const first = await worker.next(0);
      await client.call('CompleteOrchestratorTask', {
        instanceId: id,
        completionToken: first.completionToken,
        actions: [{ id: 1, scheduleTask: { name: 'double', input: { value: '21' } } }],
      });
      const activity = (await worker.next(1)).activityRequest;
      assert.equal(activity.name, 'double');
      assert.equal(json(activity.input), 21);
      assert.equal(activity.taskId, 1);
      assert.equal(activity.orchestrationInstance.instanceId, id);
      await client.call('CompleteActivityTask', { instanceId: id, taskId: 1, result: { value: '42' }, completionToken: worker.items[1].completionToken });
      const second = (await worker.next(2)).orchestratorRequest;
      // As the Durable Task Scheduler sends it: no orchestratorCompleted at the end of an episode.
      assert.deepEqual(second.pastEvents.map((e: any) => e.eventType), ['orchestratorStarted', 'executionStarted', 'taskScheduled']);
      assert.deepEqual(second.newEvents.map((e: any) => e.eventType), ['orchestratorStarted', 'taskCompleted']);
      assert.equal(json(second.newEvents[1].taskCompleted.result), 42);
      assert.equal(second.newEvents[1].taskCompleted.taskScheduledId, 1);
      await client.call('CompleteOrchestratorTask', {
        instanceId: id,
        completionToken: worker.items[2].completionToken,
        actions: [{ id: 2, completeOrchestration: { orchestrationStatus: COMPLETED, result: { value: '42' } } }],
      });
      assert.equal(json((await state(id)).orchestrationState.output), 42);
    });

    test('activities an episode schedules beyond the worker\'s free slots wait for claims; it never holds more than it asked for', async () => {
      const { connect, start, client, state } = await setup();
      const worker = connect({ maxConcurrentActivityWorkItems: 1 });
      const id = await start('threeAtOnce');
      let seen = 0;
      let most = 0; // activities delivered and not yet completed
      const ran: number[] = [];
      for (;;) {
        const item = await worker.next(seen++);
        if (item.activityRequest) {
          // Held a moment: an activity sent meanwhile would exceed the one slot the worker asked for.
          await new Promise((resolve) => setTimeout(resolve, 50));
          most = Math.max(most, worker.items.filter((i) => i.activityRequest).length - ran.length);
          ran.push(item.activityRequest.taskId);
          await client.call('CompleteActivityTask', { instanceId: id, taskId: item.activityRequest.taskId, result: { value: '1' }, completionToken: item.completionToken });
          continue;
        }
        const request = item.orchestratorRequest;
        const events = [...request.pastEvents, ...request.newEvents];
        const done = events.filter((e: any) => e.taskCompleted).length;
        const actions = events.some((e: any) => e.taskScheduled)
          ? done === 3
            ? [{ id: 4, completeOrchestration: { orchestrationStatus: COMPLETED, result: { value: '3' } } }]
            : []
          : [1, 2, 3].map((taskId) => ({ id: taskId, scheduleTask: { name: 'one', input: { value: String(taskId) } } }));
        await client.call('CompleteOrchestratorTask', { instanceId: id, completionToken: item.completionToken, actions });
        if (done === 3) break;
      }
      assert.deepEqual(ran.sort(), [1, 2, 3], 'each activity ran once');
      assert.equal(most, 1);
      assert.equal(json((await state(id)).orchestrationState.output), 3);
    });

    test('a completion that comes after the work item timed out is refused, and the re-dispatched item completes once', async () => {
      const { connect, start, complete, state, handle } = await setup({ workItemTimeoutMs: 300, orchestrationLeaseMs: 5000 });
      const worker = connect();
      const id = await start('slow');
      const first = await worker.next(0);
      const second = await worker.next(1, 10_000); // given back after the timeout and sent again
      assert.equal(second.orchestratorRequest.instanceId, id);
      assert.notEqual(second.completionToken, first.completionToken);
      await assert.rejects(complete(first, 'late'), (error: any) => error.code === 9 /* FAILED_PRECONDITION */);
      await complete(second, 'on time');
      assert.equal(json((await state(id)).orchestrationState.output), 'on time');
      const history = await handle.store.hub('default').getHistory(id);
      assert.equal(history.filter((e) => e.eventType === 'ExecutionStarted').length, 1);
      assert.equal(history.filter((e) => e.eventType === 'ExecutionCompleted').length, 1);
      await assert.rejects(complete(second, 'again'), (error: any) => error.code === 9, 'a token completes once');
    });

    test('a worker that disconnects gets its activity re-dispatched; its late completion is refused', async () => {
      const { connect, start, client, state } = await setup();
      const first = connect();
      const id = await start('flow');
      const orchestration = await first.next(0);
      await client.call('CompleteOrchestratorTask', {
        instanceId: id,
        completionToken: orchestration.completionToken,
        actions: [{ id: 1, scheduleTask: { name: 'work' } }],
      });
      const lost = await first.next(1);
      assert.ok(lost.activityRequest);
      first.cancel();
      const second = connect();
      const again = await second.next(0);
      assert.equal(again.activityRequest.taskId, 1);
      assert.equal(again.activityRequest.orchestrationInstance.instanceId, id);
      await assert.rejects(
        client.call('CompleteActivityTask', { instanceId: id, taskId: 1, result: { value: '"late"' }, completionToken: lost.completionToken }),
        (error: any) => error.code === 9,
      );
      await client.call('CompleteActivityTask', { instanceId: id, taskId: 1, result: { value: '"fresh"' }, completionToken: again.completionToken });
      const next = (await second.next(1)).orchestratorRequest;
      assert.equal(json(next.newEvents.find((e: any) => e.taskCompleted).taskCompleted.result), 'fresh');
      await client.call('CompleteOrchestratorTask', {
        instanceId: id,
        completionToken: second.items[1].completionToken,
        actions: [{ id: 2, completeOrchestration: { orchestrationStatus: COMPLETED } }],
      });
      assert.equal((await state(id)).orchestrationState.orchestrationStatus, COMPLETED);
    });

    test("a disconnected worker's activity result still counts while no other worker has taken the activity", async () => {
      const { connect, start, client, state } = await setup();
      const first = connect();
      const id = await start('late');
      const orchestration = await first.next(0);
      await client.call('CompleteOrchestratorTask', {
        instanceId: id,
        completionToken: orchestration.completionToken,
        actions: [{ id: 1, scheduleTask: { name: 'slowWork' } }],
      });
      const activity = await first.next(1);
      first.cancel(); // given back, but nobody else is connected to take it
      await new Promise((resolve) => setTimeout(resolve, 200));
      await client.call('CompleteActivityTask', { instanceId: id, taskId: 1, result: { value: '"late but valid"' }, completionToken: activity.completionToken });
      const second = connect();
      const next = (await second.next(0)).orchestratorRequest;
      assert.ok(next, 'the next work item is the orchestration, not the activity again');
      assert.equal(json(next.newEvents.find((e: any) => e.taskCompleted).taskCompleted.result), 'late but valid');
      await client.call('CompleteOrchestratorTask', {
        instanceId: id,
        completionToken: second.items[0].completionToken,
        actions: [{ id: 2, completeOrchestration: { orchestrationStatus: COMPLETED, result: { value: '"ok"' } } }],
      });
      assert.equal(json((await state(id)).orchestrationState.output), 'ok');
    });

    test('an abandoned work item is dispatched again', async () => {
      const { connect, start, client, complete, state } = await setup({ abandonDelayMs: 20 });
      const worker = connect();
      const id = await start('fickle');
      const first = await worker.next(0);
      await client.call('AbandonTaskOrchestratorWorkItem', { completionToken: first.completionToken });
      const second = await worker.next(1);
      assert.equal(second.orchestratorRequest.instanceId, id);
      await complete(second, 'second time');
      assert.equal(json((await state(id)).orchestrationState.output), 'second time');
    });

    test('with an API key every call needs it as a bearer token', async () => {
      const { client, connect } = await setup({ apiKey: 'sesame' });
      await assert.rejects(client.call('Hello', {}), (error: any) => error.code === 16 /* UNAUTHENTICATED */);
      await assert.rejects(client.call('Hello', {}, { authorization: 'Bearer wrong' }), (error: any) => error.code === 16);
      await client.call('Hello', {}, { authorization: 'Bearer sesame' });
      const refused = connect();
      await refused.until(() => refused.error, 5000, 'the stream to be refused');
      assert.equal((refused.error as any).code, 16);
      await assert.rejects(
        startGrpcSidecar({ store: {} as Store, taskHub: 'default', port: 0, hostname: '0.0.0.0', apiKey: '' }),
        /Refusing to listen on '0.0.0.0' without an API key/,
      );
    });

    test('taskhub metadata selects the task hub for clients and workers', async () => {
      const { handle, connect, start, complete, state } = await setup();
      const other = { taskhub: 'other-hub' };
      const defaultWorker = connect();
      const otherWorker = connect({}, other);
      const id = await start('hubbed', {}, other);
      const item = await otherWorker.next(0);
      assert.equal(item.orchestratorRequest.instanceId, id);
      assert.equal((await handle.store.hub('other-hub').getInstance(id))?.name, 'hubbed');
      assert.equal(await handle.store.hub('default').getInstance(id), undefined);
      assert.deepEqual(await state(id), { exists: false });
      await complete(item, 'other', other);
      assert.equal((await handle.store.hub('other-hub').getInstance(id))?.status, 'Completed');
      assert.equal(defaultWorker.items.length, 0);
      await assert.rejects(start('bad', {}, { taskhub: 'no spaces please' }), (error: any) => error.code === 3 /* INVALID_ARGUMENT */);
    });

    test('bad input is refused with the matching status and changes nothing', async () => {
      const { client, start, handle, connect, complete } = await setup({ maxPayloadBytes: 1000 });
      await assert.rejects(start('x', { instanceId: 'bad-json', input: { value: '{nope' } }), (error: any) => error.code === 3);
      assert.equal(await handle.store.hub('default').getInstance('bad-json'), undefined);
      await assert.rejects(start('x', { instanceId: 'too-big', input: { value: JSON.stringify('x'.repeat(2000)) } }), (error: any) => error.code === 8 /* RESOURCE_EXHAUSTED */);
      assert.equal(await handle.store.hub('default').getInstance('too-big'), undefined);
      await assert.rejects(start('', {}), (error: any) => error.code === 3);
      await assert.rejects(start('x', { instanceId: 'a/b' }), (error: any) => error.code === 3);
      await assert.rejects(client.call('RaiseEvent', { instanceId: 'missing', name: 'e' }), (error: any) => error.code === 5 /* NOT_FOUND */);
      assert.deepEqual(await client.call('GetInstance', { instanceId: 'missing' }), { exists: false });
      await assert.rejects(
        client.call('CompleteOrchestratorTask', { instanceId: 'x', completionToken: 'not-a-token', actions: [] }),
        (error: any) => error.code === 9,
      );

      const worker = connect();
      const id = await start('once', { instanceId: 'once' });
      await assert.rejects(start('once', { instanceId: 'once' }), (error: any) => error.code === 6 /* ALREADY_EXISTS */);
      await complete(await worker.next(0), 'done');
      await assert.rejects(client.call('TerminateInstance', { instanceId: id }), (error: any) => error.code === 9);
      await assert.rejects(client.call('RaiseEvent', { instanceId: id, name: 'late' }), (error: any) => error.code === 9);
    });

    test("ExecutionStarted carries the instance's tags, in the work item and in StreamInstanceHistory", async () => {
      const { client, connect, start, complete } = await setup();
      const worker = connect();
      const id = await start('tagged', { instanceId: 'tagged-1', tags: { env: 'prod', team: 'blue' } });
      const item = await worker.next(0);
      const started = item.orchestratorRequest.newEvents.find((e: any) => e.executionStarted).executionStarted;
      assert.deepEqual({ ...started.tags }, { env: 'prod', team: 'blue' });
      await complete(item, 'done');
      const events = await streamHistory(client, id);
      const streamed = events.find((e) => e.executionStarted)?.executionStarted;
      assert.deepEqual({ ...streamed?.tags }, { env: 'prod', team: 'blue' });
    });

    test('StreamInstanceHistory streams the execution as protocol events; an unknown instance is NOT_FOUND', async () => {
      const { client, connect, start, complete } = await setup();
      const worker = connect();
      const id = await start('streamed', { instanceId: 'streamed-1' });
      await complete(await worker.next(0), { done: true });
      const events = await streamHistory(client, id);
      const kinds = events.map((e) => Object.keys(e).find((k) => !['eventId', 'timestamp'].includes(k) && e[k] !== null && e[k] !== undefined));
      assert.ok(kinds.includes('executionStarted'), JSON.stringify(kinds));
      assert.ok(kinds.includes('executionCompleted'), JSON.stringify(kinds));
      assert.equal(kinds.indexOf('executionStarted') < kinds.indexOf('executionCompleted'), true);
      // As the Durable Task Scheduler returns a history: episodes open with orchestratorStarted, none is closed.
      assert.deepEqual(kinds, ['orchestratorStarted', 'executionStarted', 'executionCompleted']);
      const missing = await new Promise<any>((resolve) => {
        const stream = client.stream('StreamInstanceHistory', { instanceId: 'no-such-instance' });
        stream.on('data', () => undefined);
        stream.on('error', resolve);
        stream.on('end', () => resolve(undefined));
      });
      assert.equal(missing?.code, 5, 'NOT_FOUND');
    });

    test('PurgeInstances by a batch of ids deletes the finished ones and keeps the running one', async () => {
      const { client, connect, start, complete, state } = await setup();
      const worker = connect();
      await start('batch', { instanceId: 'batch-1' });
      await complete(await worker.next(0), 1);
      await start('batch', { instanceId: 'batch-2' });
      await complete(await worker.next(1), 2);
      await start('batch', { instanceId: 'batch-3' });
      await worker.next(2); // its episode is out at the worker: still running
      const result = await client.call('PurgeInstances', { instanceBatch: { instanceIds: ['batch-1', 'batch-2', 'batch-3', 'nope'] } });
      assert.equal(result.deletedInstanceCount, 2);
      assert.deepEqual(await state('batch-1'), { exists: false });
      assert.deepEqual(await state('batch-2'), { exists: false });
      assert.equal((await state('batch-3')).exists, true);
    });

    test('WaitForInstanceCompletion is a long poll that stops when the caller cancels it', async () => {
      let subscriptions = 0;
      const counting = (store: Store): Store => ({
        url: store.url,
        crossProcessNotices: store.crossProcessNotices,
        hub: (name) => store.hub(name),
        close: () => store.close(),
        subscribe: (hub, listener) => {
          subscriptions++;
          const unsubscribe = store.subscribe(hub, listener);
          return () => {
            subscriptions--;
            unsubscribe();
          };
        },
      });
      const { client, start, connect, complete } = await setup({}, counting);
      const id = await start('waited');
      const baseline = subscriptions;
      await assert.rejects(client.call('WaitForInstanceCompletion', { instanceId: id }, {}, 300), (error: any) => error.code === 4 /* DEADLINE_EXCEEDED */);
      const deadline = Date.now() + 5000;
      while (subscriptions !== baseline) {
        if (Date.now() > deadline) throw new Error(`the cancelled long poll kept its subscription (${subscriptions} vs ${baseline})`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // An uncancelled wait returns as soon as the instance completes.
      const waiting = client.call('WaitForInstanceCompletion', { instanceId: id, getInputsAndOutputs: true });
      const started = client.call('WaitForInstanceStart', { instanceId: id });
      const worker = connect();
      await complete(await worker.next(0), 'finally');
      const done = await waiting;
      assert.equal(done.orchestrationState.orchestrationStatus, COMPLETED);
      assert.equal(json(done.orchestrationState.output), 'finally');
      assert.notEqual((await started).orchestrationState.orchestrationStatus, PENDING);
    });

    test('a worker never holds more work items than it asked for, and claimed work is not released again', async () => {
      let releases = 0;
      const counting = (store: Store): Store => ({
        url: store.url,
        crossProcessNotices: store.crossProcessNotices,
        subscribe: (hub, listener) => store.subscribe(hub, listener),
        close: () => store.close(),
        hub: (name) => {
          const hub = store.hub(name);
          return new Proxy(hub, {
            get(target, property) {
              if (property === 'releaseOrchestrations') {
                return (leases: Parameters<typeof hub.releaseOrchestrations>[0]) => {
                  releases += leases.length;
                  return target.releaseOrchestrations(leases);
                };
              }
              const value = Reflect.get(target, property, target) as unknown;
              return typeof value === 'function' ? value.bind(target) : value;
            },
          });
        },
      });
      const { connect, start, complete, state } = await setup({}, counting);
      const worker = connect({ maxConcurrentOrchestrationWorkItems: 3 });
      const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => start('limited', { instanceId: `limited-${i}` })));
      for (let done = 0; done < 10; done++) {
        const item = await worker.next(done);
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.ok(worker.items.length <= done + 3, `at most 3 items out at once (got ${worker.items.length - done})`);
        await complete(item, done);
      }
      for (const id of ids) assert.equal((await state(id)).orchestrationState.orchestrationStatus, COMPLETED);
      assert.equal(releases, 0);
    });

    test('a scheduled start stays Pending until its time, then runs', async () => {
      const { client, start, connect, complete, state } = await setup();
      const worker = connect();
      const at = new Date(Date.now() + 1500);
      const id = await start('later', { scheduledStartTimestamp: { seconds: Math.floor(at.getTime() / 1000), nanos: (at.getTime() % 1000) * 1e6 } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await state(id)).orchestrationState.orchestrationStatus, PENDING);
      assert.equal(worker.items.length, 0);
      const item = await worker.next(0, 10_000);
      const startedAt = item.orchestratorRequest.newEvents[0].timestamp;
      assert.ok(Number(startedAt.seconds) * 1000 + Math.floor(startedAt.nanos / 1e6) >= at.getTime() - 5, 'the episode ran at or after the scheduled time');
      await complete(item, 'on schedule');
      assert.equal((await client.call('GetInstance', { instanceId: id })).orchestrationState.orchestrationStatus, COMPLETED);
    });

    test('the id reuse policy replaces listed statuses (terminating a running instance) and refuses others', async () => {
      const { start, connect, complete, state, client } = await setup();
      const worker = connect();
      await start('reuse', { instanceId: 'r1' });
      await complete(await worker.next(0), 'first');
      await assert.rejects(start('reuse', { instanceId: 'r1', orchestrationIdReusePolicy: { replaceableStatus: [] } }), (error: any) => error.code === 6);
      await start('reuse', { instanceId: 'r1', input: { value: '"second"' }, orchestrationIdReusePolicy: { replaceableStatus: [COMPLETED] } });
      const second = await worker.next(1);
      const started = second.orchestratorRequest.newEvents.find((e: any) => e.executionStarted).executionStarted;
      assert.equal(json(started.input), 'second');
      // r1 is running now (its episode is out at the worker and not completed): replace it.
      await client.call('CompleteOrchestratorTask', { instanceId: 'r1', completionToken: second.completionToken, actions: [] });
      assert.equal((await state('r1')).orchestrationState.orchestrationStatus, RUNNING);
      await assert.rejects(start('reuse', { instanceId: 'r1' }), (error: any) => error.code === 6);
      const replacing = start('reuse', { instanceId: 'r1', input: { value: '"third"' }, orchestrationIdReusePolicy: { replaceableStatus: [RUNNING, COMPLETED, TERMINATED] } });
      await replacing;
      const third = await worker.until(
        () => worker.items.find((i) => json(i.orchestratorRequest?.newEvents.find((e: any) => e.executionStarted)?.executionStarted.input) === 'third'),
        10_000,
        'the replacing start',
      );
      await complete(third, 'third');
      assert.equal(json((await state('r1')).orchestrationState.output), 'third');
    });
  });
}
