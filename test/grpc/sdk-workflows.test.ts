/**
 * Microsoft's durabletask-js worker and client against duraflow's gRPC sidecar, on every test store: activities,
 * sequences, fan-out/fan-in, timers, external events, retries, continue-as-new, custom status, sub-orchestrations
 * mixed with TypeScript functions both ways, suspend/resume/terminate/purge, restart, and the client's queries.
 * One host and one SDK worker (no work-item filters, the SDK's default) serve all tests of a store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  OrchestrationStatus,
  PurgeInstanceCriteria,
  RetryPolicy,
  whenAll,
  type OrchestrationContext as SdkContext,
  type TaskHubGrpcClient,
  type TaskHubGrpcWorker,
} from '@microsoft/durabletask-js';
import { DFApp, type DurableClient } from '../../src/index.js';
import { testStores } from '../support/stores.js';
import { sdkClient, startGrpcHost, startSdkWorker, waitForRegistration, type GrpcHost } from './grpc-harness.js';

const TIMEOUT_S = 30;

/** TypeScript functions on the duraflow side. */
function tsApp(url: string): DFApp {
  const app = new DFApp({ store: url });
  app.activity('tsShout', async (text: string) => `${text.toUpperCase()}!`);
  app.orchestration('tsChild', function* (ctx) {
    const input = ctx.getInput<string>();
    return yield ctx.callActivity('tsShout', input);
  });
  // A TypeScript parent calling a child that only the gRPC worker serves.
  app.orchestration('tsParentOfJs', function* (ctx) {
    const child = yield ctx.callSubOrchestrator('jsGreet', ctx.getInput<string>());
    const shouted = yield ctx.callActivity('jsShout', 'from ts');
    return { child, shouted };
  });
  // The same calls from an async TypeScript orchestrator: awaits of a gRPC-served child and activities.
  app.orchestration('tsAsyncParentOfJs', async (ctx) => {
    const child = await ctx.callSubOrchestrator('jsGreet', ctx.getInput<string>());
    const [shouted, squared] = await Promise.all([ctx.callActivity('jsShout', 'from async ts'), ctx.callActivity('jsSquare', 7)]);
    return { child, shouted, squared };
  });
  return app;
}

/** JavaScript (durabletask-js) functions on the gRPC worker side. */
function registerJs(worker: TaskHubGrpcWorker, attempts: Map<string, number>): void {
  worker.addNamedActivity('jsHello', async (_ctx, city: string) => `Hello ${city}!`);
  worker.addNamedActivity('jsShout', async (_ctx, text: string) => `${text.toUpperCase()}!!`);
  worker.addNamedActivity('jsSquare', async (_ctx, n: number) => n * n);
  worker.addNamedActivity('jsFlaky', async (_ctx, key: string) => {
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    if (n < 3) throw new Error(`flaky failure #${n}`);
    return `ok after ${n}`;
  });
  worker.addNamedActivity('jsFailsFirstTime', async (_ctx, key: string) => {
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    if (n === 1) throw new Error('first time fails');
    return `fixed after ${n}`;
  });
  worker.addNamedActivity('jsAlwaysFails', async () => {
    throw new TypeError('nope');
  });
  worker.addNamedOrchestrator('jsHelloSequence', async function* (ctx: SdkContext, input: string): any {
    const a = yield ctx.callActivity('jsHello', 'Tokyo');
    const b = yield ctx.callActivity('jsHello', 'Seattle');
    const c = yield ctx.callActivity('jsHello', 'London');
    return [a, b, c, input];
  });
  worker.addNamedOrchestrator('jsFanOut', async function* (ctx: SdkContext, n: number): any {
    const tasks = Array.from({ length: n }, (_, i) => ctx.callActivity('jsSquare', i + 1));
    const squares: number[] = yield whenAll(tasks);
    return squares.reduce((sum, x) => sum + x, 0);
  });
  worker.addNamedOrchestrator('jsTimer', async function* (ctx: SdkContext, ms: number): any {
    const start = ctx.currentUtcDateTime.getTime();
    yield ctx.createTimer(new Date(start + ms));
    return ctx.currentUtcDateTime.getTime() - start;
  });
  worker.addNamedOrchestrator('jsWaitForEvents', async function* (ctx: SdkContext): any {
    ctx.setCustomStatus({ waiting: 'approval' });
    const approval = yield ctx.waitForExternalEvent('approval');
    ctx.setCustomStatus({ waiting: 'nothing' });
    return approval;
  });
  worker.addNamedOrchestrator('jsRetry', async function* (ctx: SdkContext, key: string): any {
    const retry = new RetryPolicy({ maxNumberOfAttempts: 3, firstRetryIntervalInMilliseconds: 50 });
    return yield ctx.callActivity('jsFlaky', key, { retry });
  });
  worker.addNamedOrchestrator('jsRewindable', async function* (ctx: SdkContext, key: string): any {
    const before = yield ctx.callActivity('jsHello', 'Rome');
    const after = yield ctx.callActivity('jsFailsFirstTime', key);
    return [before, after];
  });
  worker.addNamedOrchestrator('jsFails', async function* (ctx: SdkContext): any {
    return yield ctx.callActivity('jsAlwaysFails');
  });
  worker.addNamedOrchestrator('jsCounter', async function* (ctx: SdkContext, n: number): any {
    if (n < 3) {
      yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 10));
      ctx.continueAsNew(n + 1, false);
      return;
    }
    return n;
  });
  worker.addNamedOrchestrator('jsGreet', async function* (ctx: SdkContext, name: string): any {
    return yield ctx.callActivity('jsHello', name);
  });
  // A gRPC parent calling a TypeScript child (which calls a TypeScript activity) and a TypeScript activity.
  worker.addNamedOrchestrator('jsParentOfTs', async function* (ctx: SdkContext, text: string): any {
    const child = yield ctx.callSubOrchestrator('tsChild', text);
    const direct = yield ctx.callActivity('tsShout', 'direct');
    const jsChild = yield ctx.callSubOrchestrator('jsGreet', 'Oslo', { instanceId: `${ctx.instanceId}-greet` });
    return { child, direct, jsChild };
  });
}

for (const store of testStores()) {
  describe(`durabletask-js over gRPC on ${store.name}`, () => {
    let env: GrpcHost;
    let worker: TaskHubGrpcWorker;
    let client: TaskHubGrpcClient;
    let duraflow: DurableClient;
    const attempts = new Map<string, number>();

    before(async () => {
      env = await startGrpcHost(store, tsApp);
      duraflow = env.host.client;
      worker = await startSdkWorker(env.address, (w) => registerJs(w, attempts));
      await waitForRegistration(env.storeUrl);
      client = sdkClient(env.address);
    });

    after(async () => {
      await worker?.stop().catch(() => undefined);
      await client?.stop().catch(() => undefined);
      await env?.stop();
    });

    const run = async (name: string, input?: unknown) => {
      const id = await client.scheduleNewOrchestration(name, input);
      const state = await client.waitForOrchestrationCompletion(id, true, TIMEOUT_S);
      assert.ok(state, `instance ${id} exists`);
      return { id, state };
    };

    test('a sequence of three activities completes, and duraflow records the same history as for its own functions', async () => {
      const { id, state } = await run('jsHelloSequence', 'input');
      assert.equal(state.runtimeStatus, OrchestrationStatus.COMPLETED);
      assert.deepEqual(JSON.parse(state.serializedOutput!), ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!', 'input']);
      const status = await duraflow.getStatus(id, { showHistory: true, showHistoryOutput: true });
      assert.equal(status?.runtimeStatus, 'Completed');
      assert.equal(status?.name, 'jsHelloSequence');
      assert.deepEqual(status?.output, ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!', 'input']);
      const types = status!.history!.map((e) => e.eventType);
      assert.equal(types.filter((t) => t === 'TaskScheduled').length, 3);
      assert.equal(types.filter((t) => t === 'TaskCompleted').length, 3);
      assert.equal(types.filter((t) => t === 'ExecutionCompleted').length, 1);
      const scheduled = status!.history!.filter((e) => e.eventType === 'TaskScheduled');
      assert.deepEqual(
        scheduled.map((e) => (e as { input?: string }).input),
        ['"Tokyo"', '"Seattle"', '"London"'],
      );
      // The SDK's own history reader sees the same events, as the Durable Task Scheduler returns them: no
      // OrchestratorCompleted (12 events where duraflow's own history has 16).
      const history = await client.getOrchestrationHistory(id);
      const episode = (...events: string[]) => ['OrchestratorStarted', ...events];
      assert.deepEqual(history.map((e) => e.type), [
        ...episode('ExecutionStarted', 'TaskScheduled'),
        ...episode('TaskCompleted', 'TaskScheduled'),
        ...episode('TaskCompleted', 'TaskScheduled'),
        ...episode('TaskCompleted', 'ExecutionCompleted'),
      ]);
      assert.deepEqual(history.map((e) => e.type), types.filter((t) => t !== 'OrchestratorCompleted'));
    });

    test('fan-out/fan-in over ten activities', async () => {
      const { state } = await run('jsFanOut', 10);
      assert.equal(state.runtimeStatus, OrchestrationStatus.COMPLETED);
      assert.equal(JSON.parse(state.serializedOutput!), 385);
    });

    test('a durable timer fires and the orchestration resumes after it', async () => {
      const { id, state } = await run('jsTimer', 300);
      assert.equal(state.runtimeStatus, OrchestrationStatus.COMPLETED);
      assert.ok(JSON.parse(state.serializedOutput!) >= 300, 'orchestration time moved past the timer');
      const status = await duraflow.getStatus(id, { showHistory: true });
      const types = status!.history!.map((e) => e.eventType);
      assert.ok(types.includes('TimerCreated') && types.includes('TimerFired'));
    });

    test('external events (from the SDK client and from a duraflow client) and custom status', async () => {
      const first = await client.scheduleNewOrchestration('jsWaitForEvents');
      await client.waitForOrchestrationStart(first, false, TIMEOUT_S);
      const waiting = await waitForCustomStatus(client, first, { waiting: 'approval' });
      assert.equal(waiting.runtimeStatus, OrchestrationStatus.RUNNING);
      await client.raiseOrchestrationEvent(first, 'approval', { by: 'sdk' });
      const done = await client.waitForOrchestrationCompletion(first, true, TIMEOUT_S);
      assert.deepEqual(JSON.parse(done!.serializedOutput!), { by: 'sdk' });
      assert.deepEqual(JSON.parse(done!.serializedCustomStatus!), { waiting: 'nothing' });

      const second = await client.scheduleNewOrchestration('jsWaitForEvents');
      await client.waitForOrchestrationStart(second, false, TIMEOUT_S);
      await duraflow.raiseEvent(second, 'approval', { by: 'duraflow' });
      const status = await duraflow.waitForCompletion(second, { timeoutInMilliseconds: TIMEOUT_S * 1000 });
      assert.deepEqual(status.output, { by: 'duraflow' });
      assert.deepEqual(status.customStatus, { waiting: 'nothing' });
    });

    test('waitForOrchestrationStart issued before the instance exists completes once it starts', async () => {
      const id = `late-start-${store.name}`;
      let settled = false;
      const waiting = client.waitForOrchestrationStart(id, false, TIMEOUT_S).finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(await client.getOrchestrationState(id), undefined, 'the instance does not exist yet');
      assert.equal(settled, false, 'the wait is still open while the instance does not exist');
      await client.scheduleNewOrchestration('jsWaitForEvents', undefined, id);
      const started = await waiting;
      assert.equal(started?.instanceId, id);
      assert.notEqual(started?.runtimeStatus, OrchestrationStatus.PENDING);
      await client.raiseOrchestrationEvent(id, 'approval', { by: 'late' });
      assert.equal((await client.waitForOrchestrationCompletion(id, true, TIMEOUT_S))?.runtimeStatus, OrchestrationStatus.COMPLETED);
    });

    test('retries on durable timers until the activity succeeds; a failing activity fails the orchestration with its details', async () => {
      const { id, state } = await run('jsRetry', `key-${store.name}`);
      assert.equal(state.runtimeStatus, OrchestrationStatus.COMPLETED);
      assert.equal(JSON.parse(state.serializedOutput!), 'ok after 3');
      const history = (await duraflow.getStatus(id, { showHistory: true }))!.history!;
      assert.equal(history.filter((e) => e.eventType === 'TaskFailed').length, 2);
      assert.equal(history.filter((e) => e.eventType === 'TimerFired').length, 2);
      assert.equal(history.filter((e) => e.eventType === 'TaskCompleted').length, 1);

      const failed = await run('jsFails');
      assert.equal(failed.state.runtimeStatus, OrchestrationStatus.FAILED);
      assert.match(failed.state.failureDetails!.message, /nope/);
      const status = await duraflow.getStatus(failed.id);
      assert.equal(status?.runtimeStatus, 'Failed');
      assert.match(JSON.stringify(status?.failureDetails), /nope/);
    });

    test('rewind runs the failed activity again and the orchestration completes; the successful step is not repeated', async () => {
      const { id, state } = await run('jsRewindable', `rewind-${store.name}`);
      assert.equal(state.runtimeStatus, OrchestrationStatus.FAILED);
      await client.rewindInstance(id, 'fixed it');
      // The rewind is a message to the instance: it stays Failed until its episode runs.
      const deadline = Date.now() + TIMEOUT_S * 1000;
      while ((await client.getOrchestrationState(id))?.runtimeStatus === OrchestrationStatus.FAILED) {
        if (Date.now() > deadline) throw new Error('the rewind never ran');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const done = await client.waitForOrchestrationCompletion(id, true, TIMEOUT_S);
      assert.equal(done?.runtimeStatus, OrchestrationStatus.COMPLETED, done?.failureDetails?.message);
      assert.deepEqual(JSON.parse(done!.serializedOutput!), ['Hello Rome!', 'fixed after 2']);
      const history = (await duraflow.getStatus(id, { showHistory: true }))!.history!;
      assert.equal(history.filter((e) => e.eventType === 'TaskScheduled' && (e as { name: string }).name === 'jsHello').length, 1);
      assert.equal(history.filter((e) => e.eventType === 'TaskFailed').length, 0);
    });

    test('continue-as-new runs new executions until the counter reaches 3', async () => {
      const { id, state } = await run('jsCounter', 0);
      assert.equal(state.runtimeStatus, OrchestrationStatus.COMPLETED);
      assert.equal(JSON.parse(state.serializedOutput!), 3);
      const history = (await duraflow.getStatus(id, { showHistory: true }))!.history!;
      const started = history.filter((e) => e.eventType === 'ExecutionStarted');
      assert.equal(started.length, 1, 'only the last execution is in history');
      assert.equal((started[0] as { input?: string }).input, '3');
    });

    test('sub-orchestrations: a TypeScript parent calls a gRPC-served child and activity', async () => {
      const id = await duraflow.startNew('tsParentOfJs', { input: 'Lima' });
      const status = await duraflow.waitForCompletion(id, { timeoutInMilliseconds: TIMEOUT_S * 1000 });
      assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.failureDetails));
      assert.deepEqual(status.output, { child: 'Hello Lima!', shouted: 'FROM TS!!' });
    });

    test('an async TypeScript orchestrator awaits a gRPC-served child and activities (Promise.all)', async () => {
      const id = await duraflow.startNew('tsAsyncParentOfJs', { input: 'Quito' });
      const status = await duraflow.waitForCompletion(id, { timeoutInMilliseconds: TIMEOUT_S * 1000 });
      assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.failureDetails));
      assert.deepEqual(status.output, { child: 'Hello Quito!', shouted: 'FROM ASYNC TS!!', squared: 49 });
    });

    test('sub-orchestrations: a gRPC parent calls a TypeScript child and activity, and a gRPC child', async () => {
      const { id, state } = await run('jsParentOfTs', 'quiet');
      assert.equal(state.runtimeStatus, OrchestrationStatus.COMPLETED, state.failureDetails?.message);
      assert.deepEqual(JSON.parse(state.serializedOutput!), { child: 'QUIET!', direct: 'DIRECT!', jsChild: 'Hello Oslo!' });
      const child = await duraflow.getStatus(`${id}-greet`);
      assert.equal(child?.runtimeStatus, 'Completed');
      assert.equal(child?.output, 'Hello Oslo!');
    });

    test('suspend holds events until resume; terminate ends an instance with its reason; purge deletes it', async () => {
      const id = await client.scheduleNewOrchestration('jsWaitForEvents');
      await client.waitForOrchestrationStart(id, false, TIMEOUT_S);
      await client.suspendOrchestration(id);
      await waitForStatus(client, id, OrchestrationStatus.SUSPENDED);
      await client.raiseOrchestrationEvent(id, 'approval', 'while suspended');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await client.getOrchestrationState(id))?.runtimeStatus, OrchestrationStatus.SUSPENDED, 'the event waits while suspended');
      await client.resumeOrchestration(id);
      const done = await client.waitForOrchestrationCompletion(id, true, TIMEOUT_S);
      assert.equal(JSON.parse(done!.serializedOutput!), 'while suspended');

      const doomed = await client.scheduleNewOrchestration('jsWaitForEvents');
      await client.waitForOrchestrationStart(doomed, false, TIMEOUT_S);
      await client.terminateOrchestration(doomed, { why: 'test' });
      const terminated = await client.waitForOrchestrationCompletion(doomed, true, TIMEOUT_S);
      assert.equal(terminated?.runtimeStatus, OrchestrationStatus.TERMINATED);
      assert.deepEqual(JSON.parse(terminated!.serializedOutput!), { why: 'test' });
      assert.equal((await duraflow.getStatus(doomed))?.runtimeStatus, 'Terminated');

      const purged = await client.purgeOrchestration(doomed);
      assert.equal(purged?.deletedInstanceCount, 1);
      assert.equal(await client.getOrchestrationState(doomed), undefined);
      assert.equal(await duraflow.getStatus(doomed), undefined);
    });

    test('purge by filter deletes only finished instances in the range', async () => {
      const from = new Date(Date.now() - 1000);
      const finished = await run('jsGreet', 'Bergen');
      const running = await client.scheduleNewOrchestration('jsWaitForEvents');
      await client.waitForOrchestrationStart(running, false, TIMEOUT_S);
      const criteria = new PurgeInstanceCriteria();
      criteria.setCreatedTimeFrom(from);
      criteria.setCreatedTimeTo(new Date(Date.now() + 1000));
      criteria.setRuntimeStatusList([OrchestrationStatus.COMPLETED]);
      const result = await client.purgeOrchestration(criteria);
      assert.ok(result!.deletedInstanceCount >= 1);
      assert.equal(await duraflow.getStatus(finished.id), undefined);
      assert.equal((await duraflow.getStatus(running))?.runtimeStatus, 'Running');
      await client.terminateOrchestration(running, 'done');
    });

    test('restart, queries, instance ids and history streaming through the SDK client', async () => {
      const { id } = await run('jsGreet', 'Quito');
      const again = await client.restartOrchestration(id, true);
      assert.notEqual(again, id);
      const restarted = await client.waitForOrchestrationCompletion(again, true, TIMEOUT_S);
      assert.equal(JSON.parse(restarted!.serializedOutput!), 'Hello Quito!');

      const seen: string[] = [];
      for await (const state of client.getAllInstances({ statuses: [OrchestrationStatus.COMPLETED], pageSize: 2, fetchInputsAndOutputs: true })) {
        seen.push(state.instanceId);
        if (state.instanceId === again) assert.equal(JSON.parse(state.serializedInput!), 'Quito');
      }
      assert.ok(seen.includes(id) && seen.includes(again), 'paged query lists both');
      const page = await client.listInstanceIds({ pageSize: 1000, runtimeStatus: [OrchestrationStatus.COMPLETED] });
      assert.ok(page.values.includes(again));
      const state = await client.getOrchestrationState(again, true);
      assert.equal(state?.name, 'jsGreet');
      assert.equal(JSON.parse(state!.serializedInput!), 'Quito');
    });
  });
}

async function waitForStatus(client: TaskHubGrpcClient, id: string, status: OrchestrationStatus): Promise<void> {
  const deadline = Date.now() + TIMEOUT_S * 1000;
  while ((await client.getOrchestrationState(id))?.runtimeStatus !== status) {
    if (Date.now() > deadline) throw new Error(`instance ${id} never reached status ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function waitForCustomStatus(client: TaskHubGrpcClient, id: string, expected: unknown) {
  const deadline = Date.now() + TIMEOUT_S * 1000;
  for (;;) {
    const state = await client.getOrchestrationState(id, true);
    if (state?.serializedCustomStatus && JSON.stringify(JSON.parse(state.serializedCustomStatus)) === JSON.stringify(expected)) return state;
    if (Date.now() > deadline) throw new Error(`custom status of ${id} never became ${JSON.stringify(expected)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
