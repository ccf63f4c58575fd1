import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventsOf, finished, historyOf, historyWhere, run, statusWhere, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

for (const store of engineStores()) {
  describe(`continueAsNew on ${store.label}`, () => {
    useOrchestratorStyle(store);
    for (const cacheSize of [undefined, 0]) {
      test(`each generation gets a new execution id and a fresh history; custom status carries over${cacheSize === 0 ? ' (replaying)' : ''}`, async () => {
        await withApp(
          store,
          (app) => {
            app.activity('inc', (n: number) => n + 1);
            app.orchestration('counter', function* (ctx) {
              const n = ctx.getInput<number>();
              if (n === 0) {
                ctx.setCustomStatus({ setIn: 'generation 0' });
                yield ctx.waitForExternalEvent('go');
              }
              if (n >= 3) return n;
              const next: number = yield ctx.callActivity('inc', n);
              ctx.continueAsNew(next);
            });
          },
          async ({ client }) => {
            const id = await client.startNew('counter', { input: 0 });
            const first = await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'OrchestratorCompleted'));
            const firstExecution = eventsOf(first, 'ExecutionStarted')[0]!.executionId;
            await client.raiseEvent(id, 'go');
            const status = await finished(client, id);
            assert.equal(status.runtimeStatus, 'Completed');
            assert.equal(status.output, 3);
            assert.equal(status.input, 3);
            assert.deepEqual(status.customStatus, { setIn: 'generation 0' });
            // Only the last generation's history is kept.
            const history = await historyOf(client, id);
            const starts = eventsOf(history, 'ExecutionStarted');
            assert.equal(starts.length, 1);
            assert.equal(starts[0]!.input, '3');
            assert.notEqual(starts[0]!.executionId, firstExecution);
            assert.equal(eventsOf(history, 'TaskScheduled').length, 0);
            assert.equal(eventsOf(history, 'EventRaised').length, 0);
          },
          cacheSize === 0 ? { worker: { cacheSize: 0 } } : {},
        );
      });
    }

    test('events raised while generations turn over are not lost', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('eventLoop', function* (ctx) {
            const received = ctx.getInput<number[]>();
            if (received.length === 5) return received;
            const value: number = yield ctx.waitForExternalEvent('next');
            ctx.continueAsNew([...received, value]);
          });
        },
        async ({ client }) => {
          // All at once: most arrive while an earlier generation is still running or handing over.
          const burst = await client.startNew('eventLoop', { input: [] });
          for (let i = 1; i <= 5; i++) await client.raiseEvent(burst, 'next', i);
          assert.deepEqual((await finished(client, burst)).output, [1, 2, 3, 4, 5]);

          // One at a time, each after the previous generation moved on.
          const paced = await client.startNew('eventLoop', { input: [] });
          for (let i = 1; i <= 5; i++) {
            await client.raiseEvent(paced, 'next', i * 10);
            if (i < 5) await statusWhere(client, paced, (s) => Array.isArray(s.input) && s.input.length === i);
          }
          assert.deepEqual((await finished(client, paced)).output, [10, 20, 30, 40, 50]);
        },
      );
    });

    test('carried-over events keep their order: one from an earlier episode comes before one from the last batch', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('carryOrder', function* (ctx) {
            const got = ctx.getInput<number[] | null>();
            if (got === null) {
              yield ctx.waitForExternalEvent('go');
              ctx.continueAsNew([]);
              return;
            }
            while (got.length < 2) got.push(yield ctx.waitForExternalEvent('x'));
            return got;
          });
        },
        async ({ client }) => {
          const id = await client.startNew('carryOrder', { input: null });
          await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'OrchestratorCompleted'));
          // x=1 is recorded in an episode of its own (unconsumed); go and x=2 then arrive in one batch.
          await client.raiseEvent(id, 'x', 1);
          await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'EventRaised' && e.name === 'x'));
          await client.suspend(id, 'hold the next events together');
          await statusWhere(client, id, (s) => s.runtimeStatus === 'Suspended');
          await client.raiseEvent(id, 'go');
          await client.raiseEvent(id, 'x', 2);
          await client.resume(id, 'go on');
          assert.deepEqual((await finished(client, id)).output, [1, 2]);
        },
      );
    });

    test('nothing scheduled after continueAsNew runs; the version carries over', async () => {
      let sideEffects = 0;
      await withApp(
        store,
        (app) => {
          app.activity('sideEffect', () => ++sideEffects);
          app.orchestration('stopsAtContinue', function* (ctx) {
            const n = ctx.getInput<number>();
            if (n === 1) return { generation: 'second', version: ctx.version };
            ctx.continueAsNew(1);
            assert.equal(ctx.willContinueAsNew, true);
            yield ctx.callActivity('sideEffect');
            return 'not reached';
          });
        },
        async ({ client }) => {
          const status = await run(client, 'stopsAtContinue', 0, { version: '1.5' });
          // The version stays with the instance across generations.
          assert.deepEqual(status.output, { generation: 'second', version: '1.5' });
          assert.equal(sideEffects, 0);
        },
      );
    });

    test('a sub-orchestration that continues as new reports its final output to the parent', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('countdown', function* (ctx) {
            const n = ctx.getInput<number>();
            if (n === 0) return { done: true, parent: ctx.parentInstanceId };
            ctx.continueAsNew(n - 1);
          });
          app.orchestration('awaitsCountdown', function* (ctx) {
            return yield ctx.callSubOrchestrator('countdown', 3, 'cd-child');
          });
        },
        async ({ client }) => {
          const status = await run(client, 'awaitsCountdown', undefined, { instanceId: 'cd-parent' });
          assert.equal(status.runtimeStatus, 'Completed');
          assert.deepEqual(status.output, { done: true, parent: 'cd-parent' });
          assert.equal((await client.getStatus('cd-child'))?.input, 0);
        },
      );
    });
  });
}
