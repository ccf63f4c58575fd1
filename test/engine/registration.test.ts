import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Blueprint, DFApp, TaskFailedError, UnknownFunctionError, createClient } from '../../src/index.js';
import { eventsOf, historyOf, run, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

for (const store of engineStores()) {
  describe(`registration on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('activities and orchestrations are called by name and by typed reference, with yield and yield*', async () => {
      await withApp(
        store,
        (app) => {
          const double = app.activity('double', async (n: number) => n * 2);
          app.activity('shout', (s: string) => s.toUpperCase());
          const child = app.orchestration('child', function* (ctx) {
            const n = ctx.getInput<number>();
            const doubled: number = yield* ctx.callActivity(double, n);
            return doubled + 1;
          });
          app.orchestration('parent', function* (ctx) {
            const byName = yield ctx.callActivity('double', 5);
            const byRef: number = yield* ctx.callActivity(double, 7);
            // @ts-expect-error a typed reference's result is a number, not a string
            const wrong: string = yield* ctx.callActivity(double, 1);
            const sync = yield ctx.callActivity('shout', 'hi');
            const childByRef: number = yield* ctx.callSubOrchestrator(child, 10);
            const childByName = yield ctx.callSubOrchestrator('child', 20);
            return { byName, byRef, wrong, sync, childByRef, childByName };
          });
        },
        async ({ client }) => {
          const status = await run(client, 'parent');
          assert.equal(status.runtimeStatus, 'Completed');
          assert.deepEqual(status.output, { byName: 10, byRef: 14, wrong: 2, sync: 'HI', childByRef: 21, childByName: 41 });
        },
      );
    });

    test('a blueprint registered on the app contributes its functions; startNew accepts a typed reference', async () => {
      const bp = new Blueprint();
      const greet = bp.activity('greet', async (name: string) => `Hello ${name}`);
      const greeter = bp.orchestration('greeter', function* (ctx) {
        return yield* ctx.callActivity(greet, ctx.getInput<string>());
      });
      await withApp(
        store,
        (app) => app.registerFunctions(bp),
        async ({ client }) => {
          const id = await client.startNew(greeter, { input: 'Ada' });
          const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 10_000 });
          assert.equal(status.name, 'greeter');
          assert.equal(status.output, 'Hello Ada');
        },
      );
    });

    test('registering a name twice, an empty name, or an entity-style orchestration name is refused', () => {
      const app = new DFApp({ store: 'sqlite::memory:' });
      app.activity('a', () => 1);
      assert.throws(() => app.activity('a', () => 2), { name: 'ValidationError', message: /already registered/ });
      assert.throws(() => app.activity('', () => 2), { name: 'ValidationError' });
      assert.throws(() => app.orchestration('@counter', () => 1), { name: 'ValidationError', message: /@/ });
      const bp = new Blueprint();
      bp.activity('a', () => 3);
      assert.throws(() => app.registerFunctions(bp), { name: 'ValidationError', message: /already registered/ });
    });

    test('starting an unknown orchestration is refused with the registered names and writes nothing', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('alpha', () => 1);
          app.orchestration('beta', () => 2);
        },
        async ({ client, url }) => {
          await assert.rejects(client.startNew('gamma', { instanceId: 'g1' }), (error: unknown) => {
            assert.ok(error instanceof UnknownFunctionError);
            assert.equal(error.functionName, 'gamma');
            assert.match(error.message, /'gamma'/);
            assert.match(error.message, /'alpha', 'beta'/);
            return true;
          });
          // A client in another role (built from the store URL, without the app's registry) refuses too.
          const other = await createClient({ store: url });
          try {
            await assert.rejects(other.startNew('gamma'), { name: 'UnknownFunctionError', message: /'alpha', 'beta'/ });
            assert.equal(await other.getStatus('g1'), undefined);
            assert.deepEqual(await other.getStatusAll(), []);
          } finally {
            await other.close();
          }
        },
      );
    });

    test('while no worker has ever registered, a start of any name is accepted and waits for one', async () => {
      const { url, cleanup } = await store.create();
      try {
        const client = await createClient({ store: url });
        try {
          const id = await client.startNew('lateComer', { input: 3 });
          assert.equal((await client.getStatus(id))?.runtimeStatus, 'Pending');
          const app = new DFApp({ store: url });
          app.orchestration('lateComer', (ctx) => ctx.getInput<number>() * 2);
          const worker = await app.startWorker({ pollIntervalMs: 50 });
          try {
            const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 10_000 });
            assert.equal(status.runtimeStatus, 'Completed');
            assert.equal(status.output, 6);
            // Now that a worker registered its names, unknown names are refused.
            await assert.rejects(client.startNew('stillUnknown'), { name: 'UnknownFunctionError', message: /'lateComer'/ });
          } finally {
            await worker.stop();
          }
        } finally {
          await client.close();
        }
      } finally {
        await cleanup();
      }
    });

    test('a scheduled unknown activity fails the orchestration with an UnknownFunctionError listing the activities', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('known', () => 'ok');
          app.activity('other', () => 'ok');
          app.orchestration('callsUnknown', function* (ctx) {
            yield ctx.callActivity('missing', 1);
          });
          app.orchestration('catchesUnknown', function* (ctx) {
            try {
              yield ctx.callActivity('missing');
              return 'not reached';
            } catch (error) {
              assert.ok(error instanceof TaskFailedError);
              return { type: error.failureDetails.errorType, message: error.failureDetails.message };
            }
          });
        },
        async ({ client }) => {
          const failed = await run(client, 'callsUnknown');
          assert.equal(failed.runtimeStatus, 'Failed');
          assert.equal(failed.failureDetails?.errorType, 'TaskFailedError');
          assert.equal(failed.failureDetails?.inner?.errorType, 'UnknownFunctionError');
          assert.match(failed.failureDetails?.inner?.message ?? '', /'missing'.*'known', 'other'/);
          const history = await historyOf(client, failed.instanceId);
          assert.equal(eventsOf(history, 'TaskScheduled')[0]?.name, 'missing');
          assert.equal(eventsOf(history, 'TaskFailed').length, 1);

          const caught = await run(client, 'catchesUnknown');
          assert.equal(caught.runtimeStatus, 'Completed');
          const output = caught.output as { type: string; message: string };
          assert.equal(output.type, 'UnknownFunctionError');
          assert.match(output.message, /'known', 'other'/);
        },
      );
    });

    test('an unknown sub-orchestration fails the parent with an UnknownFunctionError', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('parentOfUnknown', function* (ctx) {
            yield ctx.callSubOrchestrator('noSuchChild', 1);
          });
        },
        async ({ client }) => {
          const failed = await run(client, 'parentOfUnknown');
          assert.equal(failed.runtimeStatus, 'Failed');
          assert.equal(failed.failureDetails?.errorType, 'TaskFailedError');
          assert.equal(failed.failureDetails?.inner?.errorType, 'UnknownFunctionError');
          assert.match(failed.failureDetails?.inner?.message ?? '', /'noSuchChild'.*'parentOfUnknown'/);
          const history = await historyOf(client, failed.instanceId);
          assert.equal(eventsOf(history, 'SubOrchestrationInstanceFailed').length, 1);
          // No child instance was created.
          assert.deepEqual((await client.getStatusAll()).map((s) => s.instanceId), [failed.instanceId]);
        },
      );
    });
  });
}
