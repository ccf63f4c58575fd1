import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TaskFailedError } from '../../src/index.js';
import { eventsOf, historyOf, run, statusWhere, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

for (const store of engineStores()) {
  describe(`sub-orchestrations on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('children get default ids from the parent id and sequence id, or the explicit id given', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('double', (n: number) => n * 2);
          app.orchestration('child', function* (ctx) {
            const value = yield ctx.callActivity('double', ctx.getInput<number>());
            return { id: ctx.instanceId, parent: ctx.parentInstanceId, value };
          });
          app.orchestration('parent', function* (ctx) {
            const a = yield ctx.callSubOrchestrator('child', 1);
            yield ctx.callActivity('double', 0);
            const b = yield ctx.callSubOrchestrator('child', 2, 'explicit-child');
            const fan = yield ctx.taskAll([3, 4].map((n) => ctx.callSubOrchestrator('child', n)));
            return [a, b, ...fan];
          });
        },
        async ({ client }) => {
          const status = await run(client, 'parent', undefined, { instanceId: 'P' });
          assert.equal(status.runtimeStatus, 'Completed');
          assert.deepEqual(status.output, [
            { id: 'P:0', parent: 'P', value: 2 },
            { id: 'explicit-child', parent: 'P', value: 4 },
            { id: 'P:3', parent: 'P', value: 6 },
            { id: 'P:4', parent: 'P', value: 8 },
          ]);
          const history = await historyOf(client, 'P');
          assert.deepEqual(
            eventsOf(history, 'SubOrchestrationInstanceCreated').map((e) => [e.eventId, e.name, e.instanceId, e.input]),
            [
              [0, 'child', 'P:0', '1'],
              [2, 'child', 'explicit-child', '2'],
              [3, 'child', 'P:3', '3'],
              [4, 'child', 'P:4', '4'],
            ],
          );
          assert.equal(eventsOf(history, 'SubOrchestrationInstanceCompleted').length, 4);
          for (const id of ['P:0', 'explicit-child', 'P:3', 'P:4']) {
            const child = await client.getStatus(id);
            assert.equal(child?.runtimeStatus, 'Completed');
            assert.equal(child?.name, 'child');
          }
        },
      );
    });

    test('a child id that is invalid or equal to the parent id is refused in the orchestrator', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('child', () => 'child');
          app.orchestration('badIds', function* (ctx) {
            const errors: string[] = [];
            for (const id of [ctx.instanceId, '@entity', 'a/b', '']) {
              try {
                ctx.callSubOrchestrator('child', undefined, id);
              } catch (error) {
                errors.push((error as Error).name);
              }
            }
            return errors;
          });
        },
        async ({ client }) => {
          const status = await run(client, 'badIds');
          assert.deepEqual(status.output, ['ValidationError', 'ValidationError', 'ValidationError', 'ValidationError']);
        },
      );
    });

    test('starting a child over a running instance fails the task with InstanceAlreadyExistsError', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('waiter', function* (ctx) {
            return yield ctx.waitForExternalEvent('go');
          });
          app.orchestration('clashingParent', function* (ctx) {
            try {
              yield ctx.callSubOrchestrator('waiter', undefined, 'busy');
              return 'started';
            } catch (error) {
              return (error as TaskFailedError).failureDetails.errorType;
            }
          });
        },
        async ({ client }) => {
          await client.startNew('waiter', { instanceId: 'busy' });
          await statusWhere(client, 'busy', (s) => s.runtimeStatus === 'Running');
          const status = await run(client, 'clashingParent');
          assert.equal(status.output, 'InstanceAlreadyExistsError');
          // The running instance is untouched.
          const busy = await client.getStatus('busy');
          assert.equal(busy?.runtimeStatus, 'Running');
          assert.equal(eventsOf(await historyOf(client, 'busy'), 'ExecutionStarted')[0]?.parentInstance, undefined);
          await client.terminate('busy', 'done');
        },
      );
    });
  });
}
