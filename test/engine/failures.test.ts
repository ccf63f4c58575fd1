import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TaskFailedError } from '../../src/index.js';
import { eventsOf, historyOf, run, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

class InventoryError extends Error {
  override name = 'InventoryError';
}

function reserveStock(item: string): never {
  throw new InventoryError(`out of stock: ${item}`);
}

for (const store of engineStores()) {
  describe(`failures on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('an activity failure surfaces as a TaskFailedError with the original type, message and stack, and can be caught', async () => {
      const released: string[] = [];
      await withApp(
        store,
        (app) => {
          app.activity('reserve', (item: string) => reserveStock(item));
          app.activity('release', (item: string) => void released.push(item));
          app.orchestration('order', function* (ctx) {
            try {
              yield ctx.callActivity('reserve', 'widget');
              return 'reserved';
            } catch (error) {
              if (!(error instanceof TaskFailedError)) throw error;
              yield ctx.callActivity('release', 'widget');
              return {
                name: error.name,
                taskId: error.taskId,
                message: error.message,
                details: error.failureDetails,
              };
            }
          });
        },
        async ({ client }) => {
          const status = await run(client, 'order');
          assert.equal(status.runtimeStatus, 'Completed');
          assert.deepEqual(released, ['widget']);
          const output = status.output as { name: string; taskId: number; message: string; details: { errorType: string; message: string; stack: string } };
          assert.equal(output.name, 'TaskFailedError');
          assert.equal(output.taskId, 0);
          assert.match(output.message, /Activity 'reserve'.*out of stock: widget/);
          assert.equal(output.details.errorType, 'InventoryError');
          assert.equal(output.details.message, 'out of stock: widget');
          assert.match(output.details.stack, /reserveStock/);
          const failed = eventsOf(await historyOf(client, status.instanceId), 'TaskFailed');
          assert.equal(failed.length, 1);
          assert.equal(failed[0]!.failureDetails.errorType, 'InventoryError');
        },
      );
    });

    test('an uncaught activity failure fails the instance with the activity error as the inner failure', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('reserve', (item: string) => reserveStock(item));
          app.orchestration('careless', function* (ctx) {
            yield ctx.callActivity('reserve', 'gadget');
          });
        },
        async ({ client }) => {
          const status = await run(client, 'careless');
          assert.equal(status.runtimeStatus, 'Failed');
          assert.equal(status.failureDetails?.errorType, 'TaskFailedError');
          assert.match(status.failureDetails?.message ?? '', /out of stock: gadget/);
          assert.equal(status.failureDetails?.inner?.errorType, 'InventoryError');
          assert.match(status.failureDetails?.inner?.stack ?? '', /reserveStock/);
          assert.match(String(status.output), /careless.*out of stock: gadget/);
          const completed = eventsOf(await historyOf(client, status.instanceId), 'ExecutionCompleted');
          assert.equal(completed[0]?.orchestrationStatus, 'Failed');
        },
      );
    });

    test('an error cause chain is kept', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('wraps', () => {
            throw new Error('outer', { cause: new TypeError('root cause') });
          });
          app.orchestration('causes', function* (ctx) {
            try {
              yield ctx.callActivity('wraps');
            } catch (error) {
              const details = (error as TaskFailedError).failureDetails;
              return [details.errorType, details.message, details.inner?.errorType, details.inner?.message];
            }
          });
        },
        async ({ client }) => {
          assert.deepEqual((await run(client, 'causes')).output, ['Error', 'outer', 'TypeError', 'root cause']);
        },
      );
    });

    test('an orchestrator that throws ends Failed with the error details; non-Error throws are described too', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('one', () => 1);
          app.orchestration('thrower', function* (ctx) {
            yield ctx.callActivity('one');
            throw new RangeError('bad range');
          });
          app.orchestration('throwsString', function* () {
            throw 'plain string';
          });
          app.orchestration('throwsAtOnce', () => {
            throw new SyntaxError('before any yield');
          });
        },
        async ({ client }) => {
          const thrown = await run(client, 'thrower');
          assert.equal(thrown.runtimeStatus, 'Failed');
          assert.equal(thrown.failureDetails?.errorType, 'RangeError');
          assert.equal(thrown.failureDetails?.message, 'bad range');
          assert.match(thrown.failureDetails?.stack ?? '', /RangeError: bad range/);

          const stringly = await run(client, 'throwsString');
          assert.equal(stringly.runtimeStatus, 'Failed');
          assert.equal(stringly.failureDetails?.message, 'plain string');

          const atOnce = await run(client, 'throwsAtOnce');
          assert.equal(atOnce.runtimeStatus, 'Failed');
          assert.equal(atOnce.failureDetails?.errorType, 'SyntaxError');
        },
      );
    });

    test('a failed sub-orchestration surfaces in the parent with the child failure chain', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('reserve', (item: string) => reserveStock(item));
          app.orchestration('failingChild', function* (ctx) {
            yield ctx.callActivity('reserve', 'gizmo');
          });
          app.orchestration('carefulParent', function* (ctx) {
            try {
              yield ctx.callSubOrchestrator('failingChild');
            } catch (error) {
              assert.ok(error instanceof TaskFailedError);
              const chain: string[] = [];
              for (let d: typeof error.failureDetails | undefined = error.failureDetails; d; d = d.inner) chain.push(d.errorType);
              return { message: error.message, chain };
            }
          });
        },
        async ({ client }) => {
          const status = await run(client, 'carefulParent', undefined, { instanceId: 'careful' });
          assert.equal(status.runtimeStatus, 'Completed');
          const output = status.output as { message: string; chain: string[] };
          assert.match(output.message, /Sub-orchestration 'failingChild'.*out of stock: gizmo/);
          assert.deepEqual(output.chain, ['TaskFailedError', 'InventoryError']);
          assert.equal((await client.getStatus('careful:0'))?.runtimeStatus, 'Failed');
        },
      );
    });
  });
}
