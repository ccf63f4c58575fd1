import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OrchestrationContext, Task } from '../../src/index.js';
import { eventsOf, finished, historyOf, run, statusWhere, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

type Body = (ctx: OrchestrationContext) => Generator<Task<unknown>, unknown, unknown>;

/** v1 of the orchestrator: one activity, then waits for 'go'. */
const callA: Body = function* (ctx) {
  yield ctx.callActivity('A', 1);
  ctx.setCustomStatus('waiting');
  yield ctx.waitForExternalEvent('go');
  return 'v1';
};

interface Deployment {
  name: string;
  before?: Body;
  after: Body;
  /** Fragments the failure message must contain. */
  expect: RegExp[];
}

const changes: Deployment[] = [
  {
    name: 'a different activity name',
    after: function* (ctx) {
      yield ctx.callActivity('B', 1);
      yield ctx.waitForExternalEvent('go');
      return 'v2';
    },
    expect: [/recorded callActivity\('A'\) #0/, /now schedules callActivity\('B'\) #0/],
  },
  {
    name: 'a timer instead of an activity',
    after: function* (ctx) {
      yield ctx.createTimer(ctx.currentUtcDateTime);
      yield ctx.waitForExternalEvent('go');
      return 'v2';
    },
    expect: [/recorded callActivity\('A'\) #0/, /now schedules createTimer\(.*\) #0/],
  },
  {
    name: 'a sub-orchestration instead of an activity',
    after: function* (ctx) {
      yield ctx.callSubOrchestrator('A');
      yield ctx.waitForExternalEvent('go');
      return 'v2';
    },
    expect: [/recorded callActivity\('A'\) #0/, /now schedules callSubOrchestrator\('A'\) #0/],
  },
  {
    name: 'fewer actions',
    before: function* (ctx) {
      yield ctx.callActivity('A', 1);
      yield ctx.callActivity('B', 2);
      ctx.setCustomStatus('waiting');
      yield ctx.waitForExternalEvent('go');
      return 'v1';
    },
    after: function* (ctx) {
      yield ctx.callActivity('A', 1);
      yield ctx.waitForExternalEvent('go');
      return 'v2';
    },
    expect: [/recorded callActivity\('B'\) #1/, /did not schedule it/],
  },
  {
    name: 'more actions',
    after: function* (ctx) {
      yield ctx.callActivity('A', 1);
      yield ctx.callActivity('C', 3);
      yield ctx.waitForExternalEvent('go');
      return 'v2';
    },
    expect: [/now schedules callActivity\('C'\) #1/, /history recorded no such action/],
  },
];

for (const store of engineStores()) {
  describe(`determinism on ${store.label}`, () => {
    useOrchestratorStyle(store);
    for (const change of changes) {
      test(`changing the code to ${change.name} fails the instance with NonDeterministicOrchestrationError`, async () => {
        let impl: Body = change.before ?? callA;
        await withApp(
          store,
          (app) => {
            for (const name of ['A', 'B', 'C']) app.activity(name, (n: number) => n);
            app.orchestration('evolving', function* (ctx) {
              return yield* impl(ctx);
            });
          },
          async ({ client }) => {
            const id = await client.startNew('evolving');
            await statusWhere(client, id, (s) => s.customStatus === 'waiting');
            impl = change.after; // "deploy" new code; the next episode replays history against it
            await client.raiseEvent(id, 'go');
            const status = await finished(client, id);
            assert.equal(status.runtimeStatus, 'Failed');
            assert.equal(status.failureDetails?.errorType, 'NonDeterministicOrchestrationError');
            for (const pattern of change.expect) assert.match(status.failureDetails?.message ?? '', pattern);
            assert.match(status.failureDetails?.message ?? '', /'evolving'/);
          },
          { worker: { cacheSize: 0 } },
        );
      });
    }

    test('changes DTFx does not treat as non-deterministic (inputs, name case) replay fine', async () => {
      let impl: Body = callA;
      await withApp(
        store,
        (app) => {
          app.activity('A', (n: number) => n);
          app.orchestration('tolerant', function* (ctx) {
            return yield* impl(ctx);
          });
        },
        async ({ client }) => {
          const id = await client.startNew('tolerant');
          await statusWhere(client, id, (s) => s.customStatus === 'waiting');
          impl = function* (ctx) {
            const recorded = yield ctx.callActivity('a', 999);
            yield ctx.waitForExternalEvent('go');
            return { recorded };
          };
          await client.raiseEvent(id, 'go');
          const status = await finished(client, id);
          assert.equal(status.runtimeStatus, 'Completed');
          assert.deepEqual(status.output, { recorded: 1 });
        },
        { worker: { cacheSize: 0 } },
      );
    });

    test('yielding something that is not a task is a clear error', { skip: store.style === 'async' && 'yields belong to generators' }, async () => {
      await withApp(
        store,
        (app) => {
          app.activity('A', () => 1);
          app.orchestration('yieldsNumber', function* () {
            yield 42 as never;
          });
          app.orchestration('yieldsPromise', function* () {
            yield Promise.resolve(1) as never;
          });
          app.orchestration('yieldsArray', function* (ctx) {
            yield [ctx.callActivity('A'), ctx.callActivity('A')] as never;
          });
        },
        async ({ client }) => {
          const number = await run(client, 'yieldsNumber');
          assert.equal(number.runtimeStatus, 'Failed');
          assert.equal(number.failureDetails?.errorType, 'TypeError');
          assert.match(number.failureDetails?.message ?? '', /'yieldsNumber' yielded number, which is not a task/);

          const promise = await run(client, 'yieldsPromise');
          assert.equal(promise.runtimeStatus, 'Failed');
          assert.match(promise.failureDetails?.message ?? '', /yielded a Promise.*activity/);

          const array = await run(client, 'yieldsArray');
          assert.equal(array.runtimeStatus, 'Failed');
          assert.match(array.failureDetails?.message ?? '', /an array \(use ctx\.taskAll\)/);

        },
      );
    });

    test('an async orchestrator that awaits something that is not a task fails, on a live run and on a replay', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('A', () => 1);
          app.orchestration('awaitsTimeout', async (ctx) => {
            await ctx.callActivity('A');
            await new Promise((resolve) => setTimeout(resolve, 1));
            return 'never';
          });
        },
        async ({ client }) => {
          const status = await run(client, 'awaitsTimeout');
          assert.equal(status.runtimeStatus, 'Failed');
          assert.equal(status.failureDetails?.errorType, 'NonDeterministicOrchestrationError');
          assert.match(status.failureDetails?.message ?? '', /'awaitsTimeout' is waiting for something that is not a duraflow task/);
        },
        { worker: { cacheSize: 0 } },
      );
    });

    test('completion rule: returning with an uncancelled timer completes only after it fires', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('leavesTimer', function* (ctx) {
            ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 300));
            return 'returned';
          });
        },
        async ({ client }) => {
          const status = await run(client, 'leavesTimer');
          assert.equal(status.runtimeStatus, 'Completed');
          assert.equal(status.output, 'returned');
          const history = await historyOf(client, status.instanceId);
          const created = eventsOf(history, 'TimerCreated')[0]!;
          const fired = history.findIndex((e) => e.eventType === 'TimerFired');
          const completed = history.findIndex((e) => e.eventType === 'ExecutionCompleted');
          assert.ok(fired >= 0 && fired < completed, 'the timer fired before the execution completed');
          assert.ok(Date.parse(history[completed]!.timestamp) >= Date.parse(created.fireAt));
        },
      );
    });

    test('completion rule: a pending external-event wait does not keep the instance open', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('leavesWait', function* (ctx) {
            ctx.waitForExternalEvent('never');
            return 'done';
          });
        },
        async ({ client }) => {
          const status = await run(client, 'leavesWait');
          assert.equal(status.runtimeStatus, 'Completed');
          assert.equal(status.output, 'done');
        },
      );
    });
  });
}
