import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TaskFailedError } from '../../src/index.js';
import { Gate, eventsOf, finished, historyOf, run, statusWhere, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

const HOUR = 3_600_000;

for (const store of engineStores()) {
  describe(`taskAll and taskAny on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('taskAll gives every value in input order, whatever the completion order', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('slowSquare', async (n: number) => {
            await new Promise((resolve) => setTimeout(resolve, (5 - n) * 10));
            return n * n;
          });
          app.orchestration('fanOut', function* (ctx) {
            const tasks = [1, 2, 3, 4, 5].map((n) => ctx.callActivity('slowSquare', n));
            const values: number[] = yield ctx.taskAll(tasks);
            const empty = yield ctx.taskAll([]);
            return { values, empty };
          });
        },
        async ({ client }) => {
          const status = await run(client, 'fanOut');
          assert.deepEqual(status.output, { values: [1, 4, 9, 16, 25], empty: [] });
          const history = await historyOf(client, status.instanceId);
          assert.equal(eventsOf(history, 'TaskScheduled').length, 5);
        },
      );
    });

    test('taskAll fails with the first failure without waiting for the others, which keep running', async () => {
      const gate = new Gate();
      let slowFinished = false;
      await withApp(
        store,
        (app) => {
          app.activity('failsFast', () => {
            throw new RangeError('first failure');
          });
          app.activity('slow', async () => {
            await gate.wait();
            slowFinished = true;
            return 'slow';
          });
          app.orchestration('allOrNothing', function* (ctx) {
            const slow = ctx.callActivity('slow');
            try {
              yield ctx.taskAll([slow, ctx.callActivity('failsFast')]);
              return 'not reached';
            } catch (error) {
              assert.ok(error instanceof TaskFailedError);
              ctx.setCustomStatus({ caught: error.failureDetails.errorType, slowDone: slow.isCompleted });
              return error.failureDetails.message;
            }
          });
        },
        async ({ client }) => {
          const id = await client.startNew('allOrNothing');
          const caught = await statusWhere(client, id, (s) => s.customStatus !== undefined);
          assert.deepEqual(caught.customStatus, { caught: 'RangeError', slowDone: false });
          assert.equal(slowFinished, false);
          // The orchestrator returned, but the slow activity is still open: the instance stays Running (§6.2).
          assert.equal(caught.runtimeStatus, 'Running');
          gate.open();
          const status = await finished(client, id);
          assert.equal(status.runtimeStatus, 'Completed');
          assert.equal(status.output, 'first failure');
          assert.equal(slowFinished, true);
        },
      );
    });

    test('taskAny returns the winning task; the loser keeps the instance open until it finishes', async () => {
      const gate = new Gate();
      await withApp(
        store,
        (app) => {
          app.activity('fast', () => 'fast result');
          app.activity('held', async () => {
            await gate.wait();
            return 'held result';
          });
          app.orchestration('race', function* (ctx) {
            const fast = ctx.callActivity('fast');
            const held = ctx.callActivity('held');
            const winner = yield ctx.taskAny([held, fast]);
            ctx.setCustomStatus('returned');
            return { isFast: winner === fast, result: winner.result, loserDone: held.isCompleted };
          });
        },
        async ({ client }) => {
          const id = await client.startNew('race');
          const returned = await statusWhere(client, id, (s) => s.customStatus === 'returned');
          assert.equal(returned.runtimeStatus, 'Running');
          gate.open();
          const status = await finished(client, id);
          assert.equal(status.runtimeStatus, 'Completed');
          assert.deepEqual(status.output, { isFast: true, result: 'fast result', loserDone: false });
          // Completion waited for the loser's result.
          const history = await historyOf(client, id);
          assert.equal(eventsOf(history, 'TaskCompleted').length, 2);
          assert.equal(history.findIndex((e) => e.eventType === 'ExecutionCompleted') > history.findLastIndex((e) => e.eventType === 'TaskCompleted'), true);
        },
      );
    });

    test('taskAny does not throw when the winner failed: the winner carries the failure', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('boom', () => {
            throw new Error('boom');
          });
          app.orchestration('failedWinner', function* (ctx) {
            const timer = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + HOUR));
            const boom = ctx.callActivity('boom');
            const winner = yield ctx.taskAny([timer, boom]);
            timer.cancel();
            return { isBoom: winner === boom, faulted: winner.isFaulted, message: winner.error?.message };
          });
        },
        async ({ client }) => {
          const status = await run(client, 'failedWinner');
          assert.equal(status.runtimeStatus, 'Completed');
          const output = status.output as { isBoom: boolean; faulted: boolean; message: string };
          assert.equal(output.isBoom, true);
          assert.equal(output.faulted, true);
          assert.match(output.message, /boom/);
        },
      );
    });

    for (const cacheSize of [undefined, 0]) {
      test(`nested compound tasks complete correctly${cacheSize === 0 ? ' (replaying)' : ''}`, async () => {
        const gate = new Gate();
        await withApp(
          store,
          (app) => {
            app.activity('value', (v: string) => v);
            app.activity('held', async () => {
              await gate.wait();
              return 'held';
            });
            app.orchestration('nested', function* (ctx) {
              // An all inside an any: the pair wins over the held activity.
              const pair = ctx.taskAll([ctx.callActivity('value', 'a'), ctx.callActivity('value', 'b')]);
              const held = ctx.callActivity('held');
              const winner = yield ctx.taskAny([held, pair]);
              // An any inside an all: each inner race is won by its activity before the hour-long timer.
              const races = ['c', 'd'].map((v) => {
                const timer = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + HOUR));
                return { timer, race: ctx.taskAny([timer, ctx.callActivity('value', v)]) };
              });
              const winners = yield ctx.taskAll(races.map((r) => r.race));
              for (const r of races) r.timer.cancel();
              ctx.setCustomStatus('returned');
              return { pairWon: winner === pair, pair: winner.result, inner: winners.map((w: { result: unknown }) => w.result) };
            });
          },
          async ({ client }) => {
            const id = await client.startNew('nested');
            await statusWhere(client, id, (s) => s.customStatus === 'returned');
            gate.open();
            const status = await finished(client, id);
            assert.equal(status.runtimeStatus, 'Completed');
            assert.deepEqual(status.output, { pairWon: true, pair: ['a', 'b'], inner: ['c', 'd'] });
          },
          cacheSize === 0 ? { worker: { cacheSize: 0 } } : {},
        );
      });
    }

    test('taskAll and taskAny accept tasks that already completed', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('value', (v: number) => v);
          app.orchestration('reuse', function* (ctx) {
            const a = ctx.callActivity('value', 1);
            yield a;
            const b = ctx.callActivity('value', 2);
            const all = yield ctx.taskAll([a, b]);
            const any = yield ctx.taskAny([ctx.callActivity('value', 3), a]);
            return { all, anyIsA: any === a, again: yield a };
          });
        },
        async ({ client }) => {
          const status = await run(client, 'reuse');
          assert.deepEqual(status.output, { all: [1, 2], anyIsA: true, again: 1 });
        },
      );
    });

    test('taskAll and taskAny refuse values that are not tasks, and taskAny an empty list', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('badCompound', function* (ctx) {
            const errors: string[] = [];
            for (const attempt of [
              () => ctx.taskAll([Promise.resolve(1)] as never),
              () => ctx.taskAny('nope' as never),
              () => ctx.taskAny([]),
            ]) {
              try {
                attempt();
              } catch (error) {
                errors.push((error as Error).message);
              }
            }
            return errors;
          });
        },
        async ({ client }) => {
          const status = await run(client, 'badCompound');
          const errors = status.output as string[];
          assert.equal(errors.length, 3);
          assert.match(errors[0]!, /taskAll accepts only tasks/);
          assert.match(errors[1]!, /taskAny needs an array/);
          assert.match(errors[2]!, /at least one task/);
        },
      );
    });
  });
}
