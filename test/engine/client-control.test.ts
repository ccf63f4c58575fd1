import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidInstanceStateError, TaskFailedError } from '../../src/index.js';
import { Gate, eventually, eventsOf, finished, historyOf, historyWhere, run, statusWhere, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';
import type { DFApp } from '../../src/index.js';

/** Registers `name`: an orchestration whose one activity ('held') returns `result` once `gate` opens. */
function heldActivityOrchestration(app: DFApp, name: string, gate: Gate, result: string): void {
  app.activity('held', async () => {
    await gate.wait();
    return result;
  });
  app.orchestration(name, function* (ctx) {
    return yield ctx.callActivity('held');
  });
}

for (const store of engineStores()) {
  describe(`client: instance control on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('terminate ends a running instance with the reason; a late activity result changes nothing', async () => {
      const gate = new Gate();
      await withApp(
        store,
        (app) => heldActivityOrchestration(app, 'longRunning', gate, 'late'),
        async ({ client }) => {
          const id = await client.startNew('longRunning');
          await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'TaskScheduled'));
          await client.terminate(id, 'operator said so');
          const status = await finished(client, id);
          assert.equal(status.runtimeStatus, 'Terminated');
          assert.equal(status.output, 'operator said so');
          const history = await historyOf(client, id);
          assert.deepEqual(history.slice(-3).map((e) => e.eventType), ['ExecutionTerminated', 'ExecutionCompleted', 'OrchestratorCompleted']);
          assert.equal(eventsOf(history, 'ExecutionCompleted')[0]?.orchestrationStatus, 'Terminated');

          gate.open();
          await new Promise((resolve) => setTimeout(resolve, 100));
          assert.equal((await client.getStatus(id))?.runtimeStatus, 'Terminated');
          assert.equal((await historyOf(client, id)).length, history.length);

          await assert.rejects(client.terminate(id, 'again'), (error: unknown) => {
            assert.ok(error instanceof InvalidInstanceStateError);
            assert.equal(error.status, 'Terminated');
            return true;
          });
          await assert.rejects(client.terminate('missing', 'x'), { name: 'InstanceNotFoundError' });
        },
      );
    });

    test('terminating a sub-orchestration fails the waiting parent task', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('stuckChild', function* (ctx) {
            return yield ctx.waitForExternalEvent('never');
          });
          app.orchestration('parentOfStuck', function* (ctx) {
            try {
              yield ctx.callSubOrchestrator('stuckChild', undefined, 'stuck');
              return 'child finished';
            } catch (error) {
              assert.ok(error instanceof TaskFailedError);
              return { type: error.failureDetails.errorType, message: error.failureDetails.message };
            }
          });
        },
        async ({ client }) => {
          const parent = await client.startNew('parentOfStuck');
          await statusWhere(client, 'stuck', (s) => s.runtimeStatus === 'Running');
          await client.terminate('stuck', 'cut short');
          const status = await finished(client, parent);
          assert.equal(status.runtimeStatus, 'Completed');
          const output = status.output as { type: string; message: string };
          assert.match(output.message, /stuck.*terminated.*cut short/);
          assert.equal((await client.getStatus('stuck'))?.runtimeStatus, 'Terminated');
        },
      );
    });

    test('suspend holds events and activity results until resume, which delivers them in order', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('value', (v: string) => v);
          app.orchestration('pausable', function* (ctx) {
            const first = yield ctx.waitForExternalEvent('item');
            const second = yield ctx.waitForExternalEvent('item');
            const third = yield ctx.callActivity('value', 'from activity');
            return [first, second, third];
          });
        },
        async ({ client }) => {
          const id = await client.startNew('pausable');
          await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'OrchestratorCompleted'));
          await client.suspend(id, 'maintenance');
          const suspended = await statusWhere(client, id, (s) => s.runtimeStatus === 'Suspended');
          assert.equal(suspended.runtimeStatus, 'Suspended');
          await client.raiseEvent(id, 'item', 'one');
          await client.raiseEvent(id, 'item', 'two');
          // Held in the inbox, not delivered.
          await new Promise((resolve) => setTimeout(resolve, 100));
          assert.equal((await client.getStatus(id))?.runtimeStatus, 'Suspended');
          assert.equal(eventsOf(await historyOf(client, id), 'EventRaised').length, 0);

          await client.resume(id, 'back');
          const status = await finished(client, id);
          assert.equal(status.runtimeStatus, 'Completed');
          assert.deepEqual(status.output, ['one', 'two', 'from activity']);
          const history = await historyOf(client, id);
          assert.deepEqual(
            history.filter((e) => e.eventType === 'ExecutionSuspended' || e.eventType === 'ExecutionResumed').map((e) => e.eventType),
            ['ExecutionSuspended', 'ExecutionResumed'],
          );
        },
      );
    });

    test('an activity that finishes while its instance is suspended is held until resume', async () => {
      const gate = new Gate();
      await withApp(
        store,
        (app) => heldActivityOrchestration(app, 'suspendDuringActivity', gate, 'result'),
        async ({ client }) => {
          const id = await client.startNew('suspendDuringActivity');
          await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'TaskScheduled'));
          await client.suspend(id, 'hold on');
          await statusWhere(client, id, (s) => s.runtimeStatus === 'Suspended');
          gate.open();
          await eventually('the activity to run', () => gate.entered === 1);
          await new Promise((resolve) => setTimeout(resolve, 100));
          assert.equal((await client.getStatus(id))?.runtimeStatus, 'Suspended');
          assert.equal(eventsOf(await historyOf(client, id), 'TaskCompleted').length, 0);
          await client.resume(id, 'go on');
          const status = await finished(client, id);
          assert.equal(status.runtimeStatus, 'Completed');
          assert.equal(status.output, 'result');
        },
      );
    });

    test('a suspended instance can be terminated; finished instances refuse suspend, resume and events', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('idle', function* (ctx) {
            return yield ctx.waitForExternalEvent('never');
          });
          app.orchestration('instant', () => 'done');
        },
        async ({ client }) => {
          const id = await client.startNew('idle');
          await statusWhere(client, id, (s) => s.runtimeStatus === 'Running');
          await client.suspend(id, 'pause');
          await statusWhere(client, id, (s) => s.runtimeStatus === 'Suspended');
          await client.terminate(id, 'stop while suspended');
          assert.equal((await finished(client, id)).runtimeStatus, 'Terminated');

          const done = await run(client, 'instant');
          for (const operation of [
            () => client.suspend(done.instanceId, 'x'),
            () => client.resume(done.instanceId, 'x'),
            () => client.raiseEvent(done.instanceId, 'e', 1),
            () => client.terminate(done.instanceId, 'x'),
            () => client.rewind(done.instanceId, 'x'),
          ]) {
            await assert.rejects(operation(), (error: unknown) => error instanceof InvalidInstanceStateError && error.status === 'Completed');
          }
          for (const operation of [() => client.suspend('missing'), () => client.resume('missing'), () => client.rewind('missing')]) {
            await assert.rejects(operation(), { name: 'InstanceNotFoundError' });
          }
        },
      );
    });

    test('rewind re-runs only the failed activity; successful results replay from history', async () => {
      const calls = { A: 0, B: 0, C: 0 };
      let broken = true;
      await withApp(
        store,
        (app) => {
          app.activity('A', () => ++calls.A);
          app.activity('B', () => {
            calls.B++;
            if (broken) throw new Error('B is broken');
            return 'B ok';
          });
          app.activity('C', () => ++calls.C);
          app.orchestration('pipeline', function* (ctx) {
            const a = yield ctx.callActivity('A');
            const b = yield ctx.callActivity('B');
            const c = yield ctx.callActivity('C');
            return [a, b, c];
          });
        },
        async ({ client }) => {
          const failed = await run(client, 'pipeline');
          assert.equal(failed.runtimeStatus, 'Failed');
          assert.deepEqual(calls, { A: 1, B: 1, C: 0 });
          broken = false;
          await client.rewind(failed.instanceId, 'fixed B');
          // From the moment rewind returns, nobody sees the old failure as final.
          assert.notEqual((await client.getStatus(failed.instanceId))?.runtimeStatus, 'Failed');
          const status = await client.waitForCompletion(failed.instanceId, { timeoutInMilliseconds: 20_000 });
          assert.equal(status.runtimeStatus, 'Completed');
          assert.deepEqual(status.output, [1, 'B ok', 1]);
          assert.deepEqual(calls, { A: 1, B: 2, C: 1 });
          const history = await historyOf(client, failed.instanceId);
          assert.equal(eventsOf(history, 'TaskFailed').length, 0);
          assert.equal(eventsOf(history, 'ExecutionCompleted').length, 1);
          assert.equal(eventsOf(history, 'ExecutionCompleted')[0]?.orchestrationStatus, 'Completed');
        },
      );
    });

    test('rewind reaches into a failed sub-orchestration and re-runs only its failed activity', async () => {
      const calls = { parentStep: 0, childStep: 0, childFlaky: 0 };
      let broken = true;
      await withApp(
        store,
        (app) => {
          app.activity('parentStep', () => ++calls.parentStep);
          app.activity('childStep', () => ++calls.childStep);
          app.activity('childFlaky', () => {
            calls.childFlaky++;
            if (broken) throw new Error('flaky');
            return 'fine';
          });
          app.orchestration('rewindChild', function* (ctx) {
            const step = yield ctx.callActivity('childStep');
            const flaky = yield ctx.callActivity('childFlaky');
            return { step, flaky };
          });
          app.orchestration('rewindParent', function* (ctx) {
            const step = yield ctx.callActivity('parentStep');
            const child = yield ctx.callSubOrchestrator('rewindChild', undefined, 'rw-child');
            return { step, child };
          });
        },
        async ({ client }) => {
          const failed = await run(client, 'rewindParent', undefined, { instanceId: 'rw-parent' });
          assert.equal(failed.runtimeStatus, 'Failed');
          assert.equal((await client.getStatus('rw-child'))?.runtimeStatus, 'Failed');
          broken = false;
          await client.rewind('rw-parent', 'retry');
          await statusWhere(client, 'rw-parent', (s) => s.runtimeStatus !== 'Failed');
          const status = await finished(client, 'rw-parent');
          assert.equal(status.runtimeStatus, 'Completed');
          assert.deepEqual(status.output, { step: 1, child: { step: 1, flaky: 'fine' } });
          assert.deepEqual(calls, { parentStep: 1, childStep: 1, childFlaky: 2 });
          assert.equal((await client.getStatus('rw-child'))?.runtimeStatus, 'Completed');
        },
      );
    });

    test('restart runs an instance again from its input, under the same or a new id', async () => {
      let runs = 0;
      await withApp(
        store,
        (app) => {
          app.activity('count', () => ++runs);
          app.orchestration('restartable', function* (ctx) {
            const run = yield ctx.callActivity('count');
            return { input: ctx.getInput(), run };
          });
          app.orchestration('idle', function* (ctx) {
            return yield ctx.waitForExternalEvent('never');
          });
        },
        async ({ client }) => {
          const first = await run(client, 'restartable', { x: 1 }, { instanceId: 'rs' });
          assert.deepEqual(first.output, { input: { x: 1 }, run: 1 });

          assert.equal(await client.restart('rs', { restartWithNewInstanceId: false }), 'rs');
          const same = await finished(client, 'rs');
          assert.deepEqual(same.output, { input: { x: 1 }, run: 2 });
          assert.equal(eventsOf(await historyOf(client, 'rs'), 'ExecutionStarted').length, 1);

          const newId = await client.restart('rs');
          assert.notEqual(newId, 'rs');
          const fresh = await finished(client, newId);
          assert.equal(fresh.name, 'restartable');
          assert.deepEqual(fresh.output, { input: { x: 1 }, run: 3 });

          const idle = await client.startNew('idle', { instanceId: 'idle-1' });
          await statusWhere(client, idle, (s) => s.runtimeStatus === 'Running');
          await assert.rejects(client.restart(idle, { restartWithNewInstanceId: false }), { name: 'InstanceAlreadyExistsError' });
          await assert.rejects(client.restart('missing'), { name: 'InstanceNotFoundError' });
          await client.terminate(idle, 'done');
        },
      );
    });

    test('purgeInstanceHistory deletes a finished instance and refuses a running one', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('instant', () => 'done');
          app.orchestration('idle', function* (ctx) {
            return yield ctx.waitForExternalEvent('never');
          });
        },
        async ({ client }) => {
          const done = await run(client, 'instant');
          assert.deepEqual(await client.purgeInstanceHistory(done.instanceId), { instancesDeleted: 1 });
          assert.equal(await client.getStatus(done.instanceId), undefined);
          assert.deepEqual(await client.purgeInstanceHistory(done.instanceId), { instancesDeleted: 0 });

          const idle = await client.startNew('idle');
          await statusWhere(client, idle, (s) => s.runtimeStatus === 'Running');
          await assert.rejects(client.purgeInstanceHistory(idle), { name: 'InvalidInstanceStateError' });
          assert.equal((await client.getStatus(idle))?.runtimeStatus, 'Running');
          await client.terminate(idle, 'done');
          await finished(client, idle);
          assert.deepEqual(await client.purgeInstanceHistory(idle), { instancesDeleted: 1 });
        },
      );
    });

    test('purgeInstanceHistoryBy deletes only finished instances matching the filter', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('instant', () => 'done');
          app.orchestration('fails', () => {
            throw new Error('no');
          });
          app.orchestration('idle', function* (ctx) {
            return yield ctx.waitForExternalEvent('never');
          });
        },
        async ({ client }) => {
          for (const id of ['pa-1', 'pa-2']) await run(client, 'instant', undefined, { instanceId: id });
          await run(client, 'fails', undefined, { instanceId: 'pa-3' });
          await client.startNew('idle', { instanceId: 'pa-running' });
          await statusWhere(client, 'pa-running', (s) => s.runtimeStatus === 'Running');
          for (const id of ['pb-1', 'pb-2']) await run(client, 'instant', undefined, { instanceId: id });
          const since = (await client.getStatus('pb-1'))!.createdTime;

          assert.deepEqual(await client.purgeInstanceHistoryBy({ instanceIdPrefix: 'pa-', runtimeStatus: ['Running'] }), { instancesDeleted: 0 });
          assert.deepEqual(await client.purgeInstanceHistoryBy({ instanceIdPrefix: 'pa-', runtimeStatus: ['Failed'] }), { instancesDeleted: 1 });
          assert.deepEqual(await client.purgeInstanceHistoryBy({ instanceIdPrefix: 'pa-' }), { instancesDeleted: 2 });
          assert.deepEqual(await client.purgeInstanceHistoryBy({ createdTimeFrom: since }), { instancesDeleted: 2 });
          assert.deepEqual((await client.getStatusAll()).map((s) => s.instanceId), ['pa-running']);
          await client.terminate('pa-running', 'done');
        },
      );
    });
  });
}
