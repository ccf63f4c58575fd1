import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DFApp } from '../../src/index.js';
import { eventsOf, finished, historyOf, historyWhere, run, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

const HOUR = 3_600_000;

for (const store of engineStores()) {
  describe(`timers on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('a timer fires at its time and the next episode starts no earlier', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('nap', function* (ctx) {
            const fireAt = new Date(ctx.currentUtcDateTime.getTime() + 150);
            const timer = ctx.createTimer(fireAt);
            yield timer;
            return { fireAt: fireAt.toISOString(), now: ctx.currentUtcDateTime.toISOString(), completed: timer.isCompleted };
          });
        },
        async ({ client }) => {
          const status = await run(client, 'nap');
          assert.equal(status.runtimeStatus, 'Completed');
          const output = status.output as { fireAt: string; now: string; completed: boolean };
          assert.ok(Date.parse(output.now) >= Date.parse(output.fireAt));
          assert.equal(output.completed, true);
          const history = await historyOf(client, status.instanceId);
          assert.deepEqual(eventsOf(history, 'TimerCreated').map((e) => [e.eventId, e.fireAt]), [[0, output.fireAt]]);
          assert.deepEqual(eventsOf(history, 'TimerFired').map((e) => [e.timerId, e.fireAt]), [[0, output.fireAt]]);
          // The fired event is stamped when it fired, never before it was due (nor before it was created).
          const [created] = eventsOf(history, 'TimerCreated');
          const [fired] = eventsOf(history, 'TimerFired');
          assert.ok(Date.parse(fired!.timestamp) >= Date.parse(output.fireAt), `fired ${fired!.timestamp} before due ${output.fireAt}`);
          assert.ok(Date.parse(fired!.timestamp) > Date.parse(created!.timestamp));
        },
      );
    });

    test('a timer in the past fires at once', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('past', function* (ctx) {
            yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() - HOUR));
            return 'fired';
          });
        },
        async ({ client }) => {
          const status = await run(client, 'past');
          assert.equal(status.output, 'fired');
        },
      );
    });

    test('a cancelled timer does not keep the instance open', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('quick', () => 'quick');
          app.orchestration('raceTimer', function* (ctx) {
            const timeout = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + HOUR));
            const work = ctx.callActivity('quick');
            const winner = yield ctx.taskAny([work, timeout]);
            if (winner !== timeout) timeout.cancel();
            return { winner: winner === work ? 'work' : 'timeout', cancelled: timeout.isCanceled };
          });
          app.orchestration('cancelAtOnce', function* (ctx) {
            const timer = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + HOUR));
            timer.cancel();
            timer.cancel(); // a second cancel is harmless
            return timer.isCanceled;
          });
        },
        async ({ client }) => {
          const raced = await run(client, 'raceTimer');
          assert.equal(raced.runtimeStatus, 'Completed');
          assert.deepEqual(raced.output, { winner: 'work', cancelled: true });
          const history = await historyOf(client, raced.instanceId);
          assert.equal(eventsOf(history, 'TimerCreated').length, 1);
          assert.equal(eventsOf(history, 'TimerFired').length, 0);

          const atOnce = await run(client, 'cancelAtOnce');
          assert.equal(atOnce.runtimeStatus, 'Completed');
          assert.equal(atOnce.output, true);
          assert.equal(eventsOf(await historyOf(client, atOnce.instanceId), 'TimerCreated').length, 1);
        },
      );
    });

    test('cancelling a timer that already fired is an error the orchestrator sees', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('lateCancel', function* (ctx) {
            const timer = ctx.createTimer(ctx.currentUtcDateTime);
            yield timer;
            try {
              timer.cancel();
              return 'cancelled';
            } catch (error) {
              return (error as Error).message;
            }
          });
        },
        async ({ client }) => {
          const status = await run(client, 'lateCancel');
          assert.match(String(status.output), /already fired/);
        },
      );
    });

    test('a timer has no length limit: a 30-day timer is recorded and waits', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('longNap', function* (ctx) {
            yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 30 * 24 * HOUR));
            return 'woke';
          });
        },
        async ({ client }) => {
          const id = await client.startNew('longNap');
          const history = await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'TimerCreated'));
          const created = eventsOf(history, 'TimerCreated')[0]!;
          assert.equal(Date.parse(created.fireAt) - Date.parse(created.timestamp), 30 * 24 * HOUR);
          assert.equal((await client.getStatus(id))?.runtimeStatus, 'Running');
          await client.terminate(id, 'test over');
          assert.equal((await finished(client, id)).runtimeStatus, 'Terminated');
        },
      );
    });

    test('a pending timer survives a worker restart on the same store', async () => {
      const { url, cleanup } = await store.create();
      const makeApp = () => {
        const app = new DFApp({ store: url });
        app.orchestration('sleeper', function* (ctx) {
          yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 2000));
          return 'woke';
        });
        return app;
      };
      try {
        const first = await makeApp().startWorker({ pollIntervalMs: 50 });
        let id: string;
        try {
          id = await first.client.startNew('sleeper');
          await historyWhere(first.client, id, (h) => h.some((e) => e.eventType === 'TimerCreated'));
        } finally {
          await first.stop();
        }
        const restartedAt = Date.now();
        const second = await makeApp().startWorker({ pollIntervalMs: 50 });
        try {
          const status = await finished(second.client, id);
          assert.equal(status.runtimeStatus, 'Completed');
          assert.equal(status.output, 'woke');
          const history = await historyOf(second.client, id);
          assert.equal(eventsOf(history, 'TimerFired').length, 1);
          // The fire was handled by the second worker.
          const lastEpisode = eventsOf(history, 'OrchestratorStarted').at(-1)!;
          assert.ok(Date.parse(lastEpisode.timestamp) >= restartedAt);
        } finally {
          await second.stop();
        }
      } finally {
        await cleanup();
      }
    });

    test('createTimer refuses a value that is not a valid Date', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('badTimer', function* (ctx) {
            yield ctx.createTimer(new Date(Number.NaN));
          });
        },
        async ({ client }) => {
          const status = await run(client, 'badTimer');
          assert.equal(status.runtimeStatus, 'Failed');
          assert.equal(status.failureDetails?.errorType, 'ValidationError');
          assert.match(status.failureDetails?.message ?? '', /valid Date/);
        },
      );
    });
  });
}
