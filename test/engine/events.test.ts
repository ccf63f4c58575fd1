import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Gate, eventsOf, finished, historyOf, historyWhere, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

for (const store of engineStores()) {
  describe(`external events on ${store.label}`, () => {
    useOrchestratorStyle(store);
    for (const cacheSize of [undefined, 0]) {
      test(`events raised before the wait are buffered first-in first-out and each is consumed once${cacheSize === 0 ? ' (replaying)' : ''}`, async () => {
        const gate = new Gate();
        await withApp(
          store,
          (app) => {
            app.activity('hold', () => gate.wait().then(() => 'held'));
            app.orchestration('collector', function* (ctx) {
              yield ctx.callActivity('hold');
              const received = [];
              for (let i = 0; i < 3; i++) received.push(yield ctx.waitForExternalEvent('item'));
              // A fourth wait finds nothing buffered: the timer wins.
              const fourth = ctx.waitForExternalEvent('item');
              const timeout = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 100));
              const winner = yield ctx.taskAny([fourth, timeout]);
              return { received, fourth: winner === fourth ? 'event' : 'timeout' };
            });
          },
          async ({ client }) => {
            const id = await client.startNew('collector');
            await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'TaskScheduled'));
            for (const value of ['a', 'b', 'c']) await client.raiseEvent(id, 'item', value);
            // All three are in history (delivered and buffered) before the orchestrator waits.
            await historyWhere(client, id, (h) => eventsOf(h, 'EventRaised').length === 3);
            gate.open();
            const status = await finished(client, id);
            assert.deepEqual(status.output, { received: ['a', 'b', 'c'], fourth: 'timeout' });
            assert.equal(eventsOf(await historyOf(client, id), 'EventRaised').length, 3);
          },
          cacheSize === 0 ? { worker: { cacheSize: 0 } } : {},
        );
      });
    }

    test('buffers are per event name', async () => {
      const gate = new Gate();
      await withApp(
        store,
        (app) => {
          app.activity('hold', () => gate.wait());
          app.orchestration('twoNames', function* (ctx) {
            yield ctx.callActivity('hold');
            const a = yield ctx.waitForExternalEvent('a');
            const b = yield ctx.waitForExternalEvent('b');
            const a2 = yield ctx.waitForExternalEvent('a');
            return [a, b, a2];
          });
        },
        async ({ client }) => {
          const id = await client.startNew('twoNames');
          await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'TaskScheduled'));
          await client.raiseEvent(id, 'b', 'b1');
          await client.raiseEvent(id, 'a', 'a1');
          await client.raiseEvent(id, 'a', 'a2');
          gate.open();
          assert.deepEqual((await finished(client, id)).output, ['a1', 'b1', 'a2']);
        },
      );
    });

    test('two pending waits on one name each get one event, the newest wait first', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('twoWaits', function* (ctx) {
            const first = ctx.waitForExternalEvent('x');
            const second = ctx.waitForExternalEvent('x');
            ctx.setCustomStatus('waiting');
            const values = yield ctx.taskAll([first, second]);
            return values;
          });
        },
        async ({ client }) => {
          const id = await client.startNew('twoWaits');
          await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'OrchestratorCompleted'));
          await client.raiseEvent(id, 'x', 1);
          await historyWhere(client, id, (h) => eventsOf(h, 'EventRaised').length === 1);
          await client.raiseEvent(id, 'x', 2);
          // Pending waits form a stack (as in DTFx): the most recent wait receives the next event.
          assert.deepEqual((await finished(client, id)).output, [2, 1]);
        },
      );
    });

    test('an event raised right after the start is not lost, and event data of any JSON shape arrives intact', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('echoEvent', function* (ctx) {
            return yield ctx.waitForExternalEvent('data');
          });
        },
        async ({ client }) => {
          const data = { nested: { list: [1, 'two', null, true] }, unicode: 'héllo ✓ 🎉' };
          const id = await client.startNew('echoEvent');
          await client.raiseEvent(id, 'data', data);
          assert.deepEqual((await finished(client, id)).output, data);
        },
      );
    });

    test('raising an event without data gives undefined; bad event names are refused', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('noData', function* (ctx) {
            const value = yield ctx.waitForExternalEvent('ping');
            return { isUndefined: value === undefined };
          });
        },
        async ({ client }) => {
          const id = await client.startNew('noData');
          await assert.rejects(client.raiseEvent(id, ''), { name: 'ValidationError' });
          await assert.rejects(client.raiseEvent('no-such-instance', 'ping'), { name: 'InstanceNotFoundError' });
          await client.raiseEvent(id, 'ping');
          assert.deepEqual((await finished(client, id)).output, { isUndefined: true });
          await assert.rejects(client.raiseEvent(id, 'ping'), { name: 'InvalidInstanceStateError' });
        },
      );
    });
  });
}
