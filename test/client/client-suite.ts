/**
 * The one test suite every DurableClient implementation must pass: the store-backed client and the HTTP
 * client run exactly these tests (test/client/store-client.test.ts, test/client/http-client.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DFApp,
  EntityId,
  InstanceAlreadyExistsError,
  InstanceNotFoundError,
  InvalidInstanceStateError,
  PayloadTooLargeError,
  ScheduleAlreadyExistsError,
  ScheduleNotFoundError,
  SerializationError,
  UnknownFunctionError,
  ValidationError,
  type DurableClient,
  type DurableOrchestrationStatus,
} from '../../src/index.js';
import { eventually } from '../support/engine-helpers.js';

/** Payload limit of the suite's app (small so that "too large" is cheap to produce). */
export const SUITE_PAYLOAD_LIMIT = 64 * 1024;

/** A client under test and how to tear it down. */
export interface ClientUnderTest {
  client: DurableClient;
  /** Base URL the client's management URLs should use when no request gives one. */
  origin: string;
  stop(): Promise<void>;
}

const rewindAttempts = new Map<string, number>();

/** The app every client suite runs against. */
export function suiteApp(storeUrl: string): DFApp {
  const app = new DFApp({ store: storeUrl, maxPayloadBytes: SUITE_PAYLOAD_LIMIT });
  app.activity('greet', (name: string) => `Hello ${name}!`);
  app.activity('flakyStep', (id: string) => {
    const attempt = (rewindAttempts.get(id) ?? 0) + 1;
    rewindAttempts.set(id, attempt);
    if (attempt === 1) throw new Error(`first attempt of ${id} fails`);
    return attempt;
  });
  app.orchestration('hello', function* (ctx) {
    return yield ctx.callActivity('greet', ctx.getInput<string>());
  });
  app.orchestration('echo', (ctx) => ctx.getInput());
  app.orchestration('waiter', function* (ctx) {
    ctx.setCustomStatus({ waiting: 'go' });
    return yield ctx.waitForExternalEvent('go');
  });
  app.orchestration('fails', () => {
    throw new TypeError('the orchestration failed on purpose');
  });
  app.orchestration('flaky', function* (ctx) {
    const attempt = yield ctx.callActivity('flakyStep', ctx.instanceId);
    return { attempt };
  });
  return app;
}

const TIMEOUT = { timeoutInMilliseconds: 15_000 };

/** Registers the suite for the client produced by `setup`. */
export function clientSuite(name: string, setup: () => Promise<ClientUnderTest>): void {
  describe(`DurableClient suite: ${name}`, () => {
    let under: ClientUnderTest;
    let client: DurableClient;
    before(async () => {
      under = await setup();
      client = under.client;
    });
    after(() => under.stop());

    const statusOf = async (id: string) => {
      const status = await client.getStatus(id);
      assert.ok(status, `instance ${id} exists`);
      return status;
    };
    const waitFor = (id: string, predicate: (s: DurableOrchestrationStatus) => boolean, what: string) =>
      eventually(what, async () => {
        const status = await client.getStatus(id);
        return status && predicate(status) ? status : undefined;
      });

    test('startNew runs an orchestration to completion and the status carries every field', async () => {
      const before = Date.now();
      const id = await client.startNew('hello', { input: 'Tokyo' });
      assert.match(id, /^[0-9a-f]{32}$/);
      const status = await client.waitForCompletion(id, TIMEOUT);
      assert.equal(status.runtimeStatus, 'Completed');
      assert.equal(status.name, 'hello');
      assert.equal(status.instanceId, id);
      assert.equal(status.input, 'Tokyo');
      assert.equal(status.output, 'Hello Tokyo!');
      assert.ok(status.createdTime instanceof Date && status.lastUpdatedTime instanceof Date);
      assert.ok(status.createdTime.getTime() >= before - 1000, 'created after the test began');
      assert.ok(status.lastUpdatedTime.getTime() >= status.createdTime.getTime());
      const typed = await client.startNew({ kind: 'orchestration', name: 'hello', fn: function* () {} } as never, { input: 'Lima' });
      assert.equal((await client.waitForCompletion(typed, TIMEOUT)).output, 'Hello Lima!');
    });

    test('falsy inputs and outputs round-trip unchanged; no input stays undefined', async () => {
      for (const value of [0, '', false, null, [], {}]) {
        const id = await client.startNew('echo', { input: value });
        const status = await client.waitForCompletion(id, TIMEOUT);
        assert.deepEqual(status.input, value, `input ${JSON.stringify(value)}`);
        assert.deepEqual(status.output, value, `output ${JSON.stringify(value)}`);
      }
      const id = await client.startNew('echo');
      const status = await client.waitForCompletion(id, TIMEOUT);
      assert.equal(status.input, undefined);
      assert.equal(status.output, undefined);
    });

    test('an explicit instance id is used; starting it again while it runs is refused', async () => {
      const id = `explicit-${Date.now()}`;
      assert.equal(await client.startNew('waiter', { instanceId: id }), id);
      await assert.rejects(client.startNew('waiter', { instanceId: id }), InstanceAlreadyExistsError);
      await client.terminate(id, 'cleanup');
      await client.waitForCompletion(id, TIMEOUT);
      // A finished instance may be started again (history replaced).
      assert.equal(await client.startNew('hello', { instanceId: id, input: 'again' }), id);
      assert.equal((await client.waitForCompletion(id, TIMEOUT)).output, 'Hello again!');
    });

    test('unknown orchestration names are refused with the registered names', async () => {
      const error = await client.startNew('noSuchThing').then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof UnknownFunctionError, `got ${String(error)}`);
      assert.match(error.message, /noSuchThing/);
      for (const name of ['echo', 'hello', 'waiter']) {
        assert.ok(error.registeredNames.includes(name), `registered names include ${name}`);
        assert.match(error.message, new RegExp(`'${name}'`));
      }
    });

    test('odd instance ids are accepted or refused consistently', async () => {
      for (const id of ['ünïcødé-😀', 'with space', 'per%cent', 'a+b=c&d', "quote'd"]) {
        assert.equal(await client.startNew('echo', { instanceId: id, input: id }), id);
        const status = await client.waitForCompletion(id, TIMEOUT);
        assert.equal(status.instanceId, id);
        assert.equal(status.output, id);
      }
      for (const id of ['a/b', 'a?b', 'a#b', 'back\\slash', '@entity', 'x'.repeat(257), '..']) {
        await assert.rejects(client.startNew('echo', { instanceId: id }), ValidationError, `id ${JSON.stringify(id.slice(0, 20))}`);
      }
      assert.equal(await client.getStatus('never-started-id'), undefined);
    });

    test('text a store cannot hold, forged page tokens and bad filters are refused alike, creating nothing', async () => {
      const countBefore = (await client.getStatusAll()).length;
      await assert.rejects(client.startNew('echo', { version: 'v\u0000' }), ValidationError);
      await assert.rejects(client.startNew('echo', { instanceId: 'c1-\u0085' }), ValidationError);
      await assert.rejects(client.listInstances({ instanceIdPrefix: 'a\u0000' }), ValidationError);
      for (const forged of [[1.5, 'x'], [1e300, 'x'], [-1, 'x'], [1, 'x\u0000'], ['1', 'x'], [1]]) {
        const continuationToken = Buffer.from(JSON.stringify(forged)).toString('base64url');
        await assert.rejects(client.listInstances({ continuationToken }), ValidationError, JSON.stringify(forged));
      }
      await assert.rejects(client.signalEntity({ name: 'counter', key: 'k\u0000' } as never, 'add', 1), ValidationError);
      await assert.rejects(client.signalEntity(new EntityId('counter', 'k'), '', 1), ValidationError);
      assert.equal((await client.getStatusAll()).length, countBefore, 'nothing was created');
    });

    test('payloads over the limit and values JSON cannot carry are refused', async () => {
      const big = 'x'.repeat(SUITE_PAYLOAD_LIMIT + 1);
      const countBefore = (await client.getStatusAll()).length;
      await assert.rejects(client.startNew('echo', { input: big }), PayloadTooLargeError);
      await assert.rejects(client.startNew('echo', { input: { n: 1n } }), SerializationError);
      assert.equal((await client.getStatusAll()).length, countBefore, 'nothing was created');
      const atLimit = 'y'.repeat(SUITE_PAYLOAD_LIMIT - 2); // two quotes make it exactly the limit
      const id = await client.startNew('echo', { input: atLimit });
      assert.equal((await client.waitForCompletion(id, TIMEOUT)).output, atLimit);
    });

    test('getStatus options: showInput=false hides the input, showHistory returns the history', async () => {
      const id = await client.startNew('hello', { input: 'Paris' });
      await client.waitForCompletion(id, TIMEOUT);
      const hidden = await client.getStatus(id, { showInput: false });
      assert.equal(hidden?.input, undefined);
      assert.equal(hidden?.output, 'Hello Paris!');
      assert.equal(hidden?.history, undefined);
      const withHistory = await client.getStatus(id, { showHistory: true, showHistoryOutput: true });
      const types = withHistory?.history?.map((e) => e.eventType) ?? [];
      assert.equal(types[0], 'OrchestratorStarted');
      assert.ok(types.includes('ExecutionStarted') && types.includes('TaskScheduled') && types.includes('TaskCompleted'));
      assert.equal(types.at(-1), 'OrchestratorCompleted');
      const completed = withHistory?.history?.find((e) => e.eventType === 'TaskCompleted');
      assert.equal(completed && 'result' in completed ? completed.result : undefined, '"Hello Paris!"');
      const noOutput = await client.getStatus(id, { showHistory: true });
      const completedNoOutput = noOutput?.history?.find((e) => e.eventType === 'TaskCompleted');
      assert.ok(completedNoOutput && !('result' in completedNoOutput), 'results hidden without showHistoryOutput');
    });

    test('raiseEvent delivers data; custom status is visible while waiting', async () => {
      const id = await client.startNew('waiter');
      const waiting = await waitFor(id, (s) => s.runtimeStatus === 'Running', 'waiter running');
      assert.deepEqual(waiting.customStatus, { waiting: 'go' });
      await client.raiseEvent(id, 'go', { answer: 42 });
      const status = await client.waitForCompletion(id, TIMEOUT);
      assert.equal(status.runtimeStatus, 'Completed');
      assert.deepEqual(status.output, { answer: 42 });
    });

    test('raiseEvent refuses unknown and finished instances and empty names', async () => {
      await assert.rejects(client.raiseEvent('no-such-instance', 'go', 1), InstanceNotFoundError);
      const id = await client.startNew('echo', { input: 1 });
      await client.waitForCompletion(id, TIMEOUT);
      await assert.rejects(client.raiseEvent(id, 'go', 1), (e: unknown) => e instanceof InvalidInstanceStateError && /Completed/.test(e.message));
      await assert.rejects(client.raiseEvent(id, '', 1), ValidationError);
    });

    test('terminate ends a running instance with the reason as output; finished and unknown instances are refused', async () => {
      const id = await client.startNew('waiter');
      await client.terminate(id, 'enough');
      const status = await client.waitForCompletion(id, TIMEOUT);
      assert.equal(status.runtimeStatus, 'Terminated');
      assert.equal(status.output, 'enough');
      await assert.rejects(client.terminate(id, 'again'), InvalidInstanceStateError);
      await assert.rejects(client.terminate('no-such-instance', 'x'), InstanceNotFoundError);
    });

    test('suspend holds events until resume', async () => {
      const id = await client.startNew('waiter');
      await waitFor(id, (s) => s.runtimeStatus === 'Running', 'waiter running');
      await client.suspend(id, 'pause');
      await waitFor(id, (s) => s.runtimeStatus === 'Suspended', 'suspended');
      await client.raiseEvent(id, 'go', 'held');
      // The event waits in the inbox: the instance stays suspended, with no output.
      const held = await statusOf(id);
      assert.equal(held.runtimeStatus, 'Suspended');
      assert.equal(held.output, undefined);
      await client.resume(id, 'continue');
      const status = await client.waitForCompletion(id, TIMEOUT);
      assert.equal(status.runtimeStatus, 'Completed');
      assert.equal(status.output, 'held');
      await assert.rejects(client.suspend(id, 'late'), InvalidInstanceStateError);
      await assert.rejects(client.resume('no-such-instance', 'x'), InstanceNotFoundError);
    });

    test('a failed orchestration reports its failure; rewind re-runs only the failed work', async () => {
      const failed = await client.startNew('fails');
      const failure = await client.waitForCompletion(failed, TIMEOUT);
      assert.equal(failure.runtimeStatus, 'Failed');
      assert.match(String(failure.output), /failed on purpose/);
      assert.equal(failure.failureDetails?.errorType, 'TypeError');

      const id = await client.startNew('flaky');
      assert.equal((await client.waitForCompletion(id, TIMEOUT)).runtimeStatus, 'Failed');
      await client.rewind(id, 'try again');
      // The rewind is a message: until a worker takes it the instance still reads Failed.
      const status = await waitFor(id, (s) => s.runtimeStatus === 'Completed', 'rewound instance completed');
      assert.deepEqual(status.output, { attempt: 2 });
      await assert.rejects(client.rewind(id, 'not failed'), InvalidInstanceStateError);
      await assert.rejects(client.rewind('no-such-instance', 'x'), InstanceNotFoundError);
    });

    test('restart starts the same orchestration with the same input, under a new id or the same one', async () => {
      const id = await client.startNew('hello', { input: 'Oslo' });
      await client.waitForCompletion(id, TIMEOUT);
      const fresh = await client.restart(id);
      assert.notEqual(fresh, id);
      const restarted = await client.waitForCompletion(fresh, TIMEOUT);
      assert.equal(restarted.output, 'Hello Oslo!');
      assert.equal(restarted.input, 'Oslo');
      assert.equal(await client.restart(id, { restartWithNewInstanceId: false }), id);
      assert.equal((await client.waitForCompletion(id, TIMEOUT)).output, 'Hello Oslo!');
      await assert.rejects(client.restart('no-such-instance'), InstanceNotFoundError);
    });

    test('listInstances pages with continuation tokens and applies every filter', async () => {
      const prefix = `page-${Date.now()}-`;
      const from = new Date(Date.now() - 1000);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await client.startNew('echo', { instanceId: `${prefix}${i}`, input: i }));
      const waiting = await client.startNew('waiter', { instanceId: `${prefix}waiting` });
      for (const id of ids) await client.waitForCompletion(id, TIMEOUT);
      await waitFor(waiting, (s) => s.runtimeStatus === 'Running', 'waiter running');

      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await client.listInstances({ instanceIdPrefix: prefix, pageSize: 2, ...(token ? { continuationToken: token } : {}) });
        assert.ok(page.instances.length <= 2);
        seen.push(...page.instances.map((s) => s.instanceId));
        token = page.continuationToken;
        pages++;
      } while (token);
      assert.equal(pages, 3);
      assert.deepEqual([...seen].sort(), [...ids, waiting].sort());

      const completed = await client.getStatusBy({ instanceIdPrefix: prefix, runtimeStatus: ['Completed'] });
      assert.deepEqual(completed.map((s) => s.instanceId).sort(), [...ids].sort());
      const running = await client.getStatusBy({ instanceIdPrefix: prefix, runtimeStatus: ['Running', 'Pending'] });
      assert.deepEqual(running.map((s) => s.instanceId), [waiting]);
      assert.equal((await client.getStatusBy({ instanceIdPrefix: prefix, createdTimeFrom: from })).length, 6);
      assert.equal((await client.getStatusBy({ instanceIdPrefix: prefix, createdTimeTo: from })).length, 0);
      const noInput = await client.listInstances({ instanceIdPrefix: prefix, showInput: false });
      assert.ok(noInput.instances.every((s) => s.input === undefined));
      const all = await client.getStatusAll();
      for (const id of [...ids, waiting]) assert.ok(all.some((s) => s.instanceId === id), `getStatusAll has ${id}`);
      await client.terminate(waiting, 'done');
      await assert.rejects(client.listInstances({ pageSize: 0 }), ValidationError);
      await assert.rejects(client.listInstances({ continuationToken: 'garbage!' }), ValidationError);
    });

    test('purge by id and by filter deletes finished instances only', async () => {
      const prefix = `purge-${Date.now()}-`;
      const done = await client.startNew('echo', { instanceId: `${prefix}done`, input: 1 });
      await client.waitForCompletion(done, TIMEOUT);
      assert.deepEqual(await client.purgeInstanceHistory(done), { instancesDeleted: 1 });
      assert.equal(await client.getStatus(done), undefined);
      assert.deepEqual(await client.purgeInstanceHistory(done), { instancesDeleted: 0 });

      const running = await client.startNew('waiter', { instanceId: `${prefix}running` });
      await assert.rejects(client.purgeInstanceHistory(running), InvalidInstanceStateError);
      for (let i = 0; i < 3; i++) await client.waitForCompletion(await client.startNew('echo', { instanceId: `${prefix}${i}` }), TIMEOUT);
      const result = await client.purgeInstanceHistoryBy({ instanceIdPrefix: prefix, runtimeStatus: ['Completed'] });
      assert.deepEqual(result, { instancesDeleted: 3 });
      assert.deepEqual((await client.getStatusBy({ instanceIdPrefix: prefix })).map((s) => s.instanceId), [running]);
      assert.deepEqual(await client.purgeInstanceHistoryBy({ instanceIdPrefix: prefix, runtimeStatus: ['Completed'] }), { instancesDeleted: 0 });
      await client.terminate(running, 'done');
    });

    test('management payload and check-status response name every URL of the instance', async () => {
      const id = 'payload id/ü';
      const payload = client.createHttpManagementPayload(id);
      const base = `${under.origin}/runtime/webhooks/durabletask/instances/${encodeURIComponent(id)}`;
      assert.equal(payload.id, id);
      assert.ok(payload.statusQueryGetUri.startsWith(`${base}?`), payload.statusQueryGetUri);
      assert.match(payload.statusQueryGetUri, new RegExp(`taskHub=${client.taskHub}`));
      assert.ok(payload.sendEventPostUri.startsWith(`${base}/raiseEvent/{eventName}?`));
      assert.ok(payload.terminatePostUri.startsWith(`${base}/terminate?reason={text}&`));
      assert.ok(payload.rewindPostUri.startsWith(`${base}/rewind?reason={text}&`));
      assert.ok(payload.purgeHistoryDeleteUri.startsWith(`${base}?`));
      assert.ok(payload.restartPostUri.startsWith(`${base}/restart?`));
      assert.ok(payload.suspendPostUri.startsWith(`${base}/suspend?reason={text}&`));
      assert.ok(payload.resumePostUri.startsWith(`${base}/resume?reason={text}&`));

      const response = client.createCheckStatusResponse(new Request('https://public.example:8443/api/start'), id);
      assert.equal(response.status, 202);
      assert.equal(response.headers.get('retry-after'), '10');
      const body = (await response.json()) as Record<string, string>;
      assert.equal(response.headers.get('location'), body['statusQueryGetUri']);
      assert.ok(body['statusQueryGetUri']?.startsWith('https://public.example:8443/runtime/webhooks/durabletask/instances/'));
      assert.equal(body['rewindPostUri'], undefined, 'the 202 body omits the rewind URL, as the extension does');
      assert.deepEqual(Object.keys(body).sort(), [
        'id',
        'purgeHistoryDeleteUri',
        'restartPostUri',
        'resumePostUri',
        'sendEventPostUri',
        'statusQueryGetUri',
        'suspendPostUri',
        'terminatePostUri',
      ]);
    });

    test('waitForCompletionOrCreateCheckStatusResponse answers 200, 500 or 202 by outcome', async () => {
      const request = new Request('http://caller.example/api/x');
      const done = await client.startNew('hello', { input: 'Rome' });
      const ok = await client.waitForCompletionOrCreateCheckStatusResponse(request, done, { timeoutInMilliseconds: 15_000, retryIntervalInMilliseconds: 50 });
      assert.equal(ok.status, 200);
      assert.equal(await ok.json(), 'Hello Rome!');

      const failed = await client.startNew('fails');
      const bad = await client.waitForCompletionOrCreateCheckStatusResponse(request, failed, { timeoutInMilliseconds: 15_000, retryIntervalInMilliseconds: 50 });
      assert.equal(bad.status, 500);
      assert.equal(((await bad.json()) as { runtimeStatus: string }).runtimeStatus, 'Failed');

      const waiting = await client.startNew('waiter');
      const pending = await client.waitForCompletionOrCreateCheckStatusResponse(request, waiting, { timeoutInMilliseconds: 100, retryIntervalInMilliseconds: 20 });
      assert.equal(pending.status, 202);
      assert.ok(pending.headers.get('location')?.startsWith('http://caller.example/runtime/webhooks/durabletask/instances/'));
      await assert.rejects(
        client.waitForCompletionOrCreateCheckStatusResponse(request, waiting, { timeoutInMilliseconds: 100, retryIntervalInMilliseconds: 200 }),
        ValidationError,
      );
      await client.terminate(waiting, 'done');
    });

    test('schedules: create, read, list, pause, resume, update, trigger and delete with the same answers and typed errors', async () => {
      const startAt = new Date(Date.UTC(2030, 0, 1));
      const created = await client.createSchedule({ scheduleId: 'suite-nightly', orchestration: 'echo', input: { n: 0 }, cron: '0 2 * * *', timeZone: 'Europe/Berlin', startAt, overlap: 'bufferOne', catchUpWindowMs: 5000 });
      assert.deepEqual(
        [created.scheduleId, created.orchestration, created.input, created.cron, created.timeZone, created.startAt?.toISOString(), created.overlap, created.catchUpWindowMs, created.state, created.declared],
        ['suite-nightly', 'echo', { n: 0 }, '0 2 * * *', 'Europe/Berlin', startAt.toISOString(), 'bufferOne', 5000, 'Active', false],
      );
      assert.equal(created.nextRunAt?.toISOString(), '2030-01-01T01:00:00.000Z', '02:00 in Berlin in winter');
      assert.ok(created.createdAt instanceof Date && Array.isArray(created.recentRuns));
      assert.deepEqual(await client.getSchedule('suite-nightly'), created);
      assert.ok((await client.listSchedules()).some((s) => s.scheduleId === 'suite-nightly'));
      await assert.rejects(client.createSchedule({ scheduleId: 'suite-nightly', orchestration: 'echo', every: 1000 }), ScheduleAlreadyExistsError);
      await assert.rejects(client.createSchedule({ scheduleId: 'suite-bad', orchestration: 'echo', every: 999 }), ValidationError);
      await assert.rejects(client.createSchedule({ scheduleId: 'suite-bad', orchestration: 'echo', cron: 'x' }), ValidationError);
      await assert.rejects(client.createSchedule({ scheduleId: 'suite-bad', orchestration: 'no-such-orchestration', every: 1000 }), /not registered/);
      assert.equal(await client.getSchedule('suite-bad'), undefined);
      const paused = await client.pauseSchedule('suite-nightly', 'for the suite');
      assert.deepEqual([paused.state, paused.pausedReason, paused.nextRunAt], ['Paused', 'for the suite', undefined]);
      const resumed = await client.resumeSchedule('suite-nightly');
      assert.deepEqual([resumed.state, resumed.nextRunAt?.toISOString()], ['Active', '2030-01-01T01:00:00.000Z']);
      const updated = await client.updateSchedule('suite-nightly', { input: { n: 1 }, startAt: null, endAt: new Date(Date.UTC(2031, 0, 1)) });
      assert.deepEqual([updated.input, updated.startAt, updated.endAt?.toISOString()], [{ n: 1 }, undefined, '2031-01-01T00:00:00.000Z']);
      const runId = await client.triggerSchedule('suite-nightly');
      assert.match(runId, /^suite-nightly:20\d\d-/);
      assert.deepEqual((await client.waitForCompletion(runId, TIMEOUT)).output, { n: 1 });
      const after = (await client.getSchedule('suite-nightly'))!;
      assert.deepEqual([after.lastInstanceId, after.recentRuns[0]?.outcome, after.recentRuns[0]?.instanceId], [runId, 'triggered', runId]);
      await client.deleteSchedule('suite-nightly');
      assert.equal(await client.getSchedule('suite-nightly'), undefined);
      for (const call of [() => client.deleteSchedule('suite-nightly'), () => client.pauseSchedule('suite-nightly'), () => client.triggerSchedule('suite-nightly')]) {
        await assert.rejects(call(), ScheduleNotFoundError);
      }
      await assert.rejects(client.getSchedule('a/b'), ValidationError);
    });

    test('waitForCompletion returns the running status at its timeout and refuses unknown instances', async () => {
      const id = await client.startNew('waiter');
      const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 50 });
      assert.ok(['Pending', 'Running'].includes(status.runtimeStatus));
      await assert.rejects(client.waitForCompletion('no-such-instance', { timeoutInMilliseconds: 50 }), InstanceNotFoundError);
      await client.terminate(id, 'done');
    });
  });
}
