/**
 * Versioning in the engine, on every store: default versions stamped on starts, restarts and sub-orchestrations,
 * side-by-side registrations, and what workers whose strategy does not accept an instance do with it (Reject
 * leaves it Pending for a worker that does, Fail fails it naming both versions).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DFApp, EntityId, UnknownFunctionError, ValidationError, type DFAppOptions, type OrchestrationContext, type Task } from '../../src/index.js';
import { createTestHost } from '../../src/testing/index.js';
import { eventsOf, finished, historyOf, run, statusWhere, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

/** Reports the version it ran at and which registration ran it. */
const reporter = (label: string) =>
  function* (ctx: OrchestrationContext): Generator<Task<any>, { label: string; version: string | undefined }, any> {
    yield ctx.callActivity('noop');
    return { label, version: ctx.version };
  };

/** An app on `url` with a `noop` activity and `order` at the given versions (`undefined`: unversioned). */
function orderApp(url: string, versions: (string | undefined)[], versioning?: DFAppOptions['versioning']): DFApp {
  const app = new DFApp({ store: url, ...(versioning ? { versioning } : {}) });
  app.activity('noop', () => null);
  for (const version of versions) app.orchestration('order', reporter(version ?? 'any'), version !== undefined ? { version } : {});
  return app;
}

for (const store of engineStores()) {
  describe(`versioning on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('defaultVersion is stamped on starts, shown as ctx.version and in the status; an explicit version wins', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('noop', () => null);
          app.orchestration('order', reporter('any'));
        },
        async ({ client }) => {
          const stamped = await run(client, 'order');
          assert.deepEqual(stamped.output, { label: 'any', version: '2.0' });
          assert.equal(stamped.version, '2.0');
          assert.deepEqual((await run(client, 'order', undefined, { version: '1.5' })).output, { label: 'any', version: '1.5' });
          const none = await run(client, 'order', undefined, { version: '' });
          assert.deepEqual(none.output, { label: 'any' }); // version undefined: not in the JSON output
          assert.equal(none.version, undefined);
          await assert.rejects(client.startNew('order', { version: ' 1' }), ValidationError);
          // listInstances filters by version, as versions compare.
          const listed = await client.listInstances({ version: '2.0' });
          assert.deepEqual(listed.instances.map((s) => s.instanceId), [stamped.instanceId]);
          assert.equal((await client.getStatusBy({ version: '' })).length, 1);
        },
        { app: { versioning: { defaultVersion: '2.0' } } },
      );
    });

    test('restart stamps the current default version; sub-orchestrations get it unless the call names one', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('noop', () => null);
          app.orchestration('child', reporter('child'));
          app.entity('starter', (ctx) => {
            ctx.startNewOrchestration('child', undefined, 'from-entity');
          });
          app.orchestration('parent', function* (ctx) {
            const a = yield ctx.callSubOrchestrator('child');
            const b = yield ctx.callSubOrchestrator('child', undefined, undefined, '0.9');
            return [a, b];
          });
        },
        async ({ client }) => {
          const parent = await run(client, 'parent', undefined, { instanceId: 'P', version: '1.0' });
          assert.deepEqual(parent.output, [
            { label: 'child', version: '3' },
            { label: 'child', version: '0.9' },
          ]);
          const created = eventsOf(await historyOf(client, 'P'), 'SubOrchestrationInstanceCreated');
          assert.deepEqual(created.map((e) => e.version), ['3', '0.9']);
          const restarted = await client.restart('P');
          assert.equal((await finished(client, restarted)).version, '3');
          // An orchestration an entity starts is a new instance like any other.
          await client.signalEntity(new EntityId('starter', 'k'), 'go');
          assert.equal((await statusWhere(client, 'from-entity', (s) => s.runtimeStatus === 'Completed')).version, '3');
        },
        { app: { versioning: { defaultVersion: '3' } } },
      );
    });

    test('side by side: an instance runs its own version; no version means the newest registered', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('noop', () => null);
          const v1 = app.orchestration('order', reporter('v1'), { version: '1' });
          app.orchestration('order', reporter('v10'), { version: '10' });
          app.orchestration('order', reporter('v9'), { version: '9' });
          app.orchestration('viaRef', function* (ctx) {
            return yield ctx.callSubOrchestrator(v1);
          });
          app.orchestration('childAt', function* (ctx) {
            return yield ctx.callSubOrchestrator('order', undefined, undefined, ctx.getInput<string>());
          });
        },
        async ({ client }) => {
          assert.deepEqual((await run(client, 'order')).output, { label: 'v10', version: '10' });
          assert.deepEqual((await run(client, 'order', undefined, { version: '9' })).output, { label: 'v9', version: '9' });
          assert.deepEqual((await run(client, 'viaRef')).output, { label: 'v1', version: '1' });
          // A child at a version no worker serves fails fast, naming the registered versions.
          const child = await run(client, 'childAt', '3');
          assert.equal(child.runtimeStatus, 'Failed');
          assert.match(child.failureDetails!.message, /no registration for version '3'. Registered versions of 'order': '1', '9', '10'/);
          const error = await client.startNew('order', { version: '3' }).catch((e: unknown) => e);
          assert.ok(error instanceof UnknownFunctionError);
          assert.equal(error.version, '3');
          assert.deepEqual(error.registeredVersions, ['1', '9', '10']);
          assert.match(error.message, /no registration for version '3'.*'1', '9', '10'/);
        },
      );
    });

    test('CurrentOrOlder + Reject: a v1 worker leaves a v2 instance Pending for a v2 worker; Fail fails it naming both versions', async () => {
      const { url, cleanup } = await store.create();
      const v1 = orderApp(url, [undefined], { defaultVersion: '1', matchStrategy: 'CurrentOrOlder', failureStrategy: 'Reject' });
      const v2 = orderApp(url, [undefined], { defaultVersion: '2', matchStrategy: 'CurrentOrOlder', failureStrategy: 'Reject' });
      const failing = orderApp(url, [undefined], { defaultVersion: '1', matchStrategy: 'Strict', failureStrategy: 'Fail' });
      const worker1 = await v1.startWorker({ pollIntervalMs: 50 });
      let worker2;
      try {
        // Started beside the v1 worker (it could take the start locally): it must leave it.
        const newer = await worker1.client.startNew('order', { version: '2' });
        const older = await worker1.client.startNew('order');
        assert.deepEqual((await finished(worker1.client, older)).output, { label: 'any', version: '1' });
        assert.equal((await worker1.client.getStatus(newer))?.runtimeStatus, 'Pending', 'the v1 worker claimed work after the v2 start and left it');
        worker2 = await v2.startWorker({ pollIntervalMs: 50 });
        assert.deepEqual((await finished(worker1.client, newer)).output, { label: 'any', version: '2' });
        await worker2.stop();
        worker2 = undefined;

        const worker3 = await failing.startWorker({ pollIntervalMs: 50 });
        try {
          const mismatched = await worker1.client.startNew('order', { version: '2' });
          const status = await statusWhere(worker1.client, mismatched, (s) => s.runtimeStatus === 'Failed');
          assert.equal(status.failureDetails?.errorType, 'VersionMismatchError');
          assert.match(status.failureDetails!.message, /version '2' of orchestration 'order' does not match this worker's version '1'/);
        } finally {
          await worker3.stop();
        }
      } finally {
        await worker2?.stop();
        await worker1.stop();
        await cleanup();
      }
    });

    test('Strict + Reject runs only its own versions; side-by-side registrations count as its versions', async () => {
      const { url, cleanup } = await store.create();
      const app = orderApp(url, ['1', '2'], { matchStrategy: 'Strict' });
      const worker = await app.startWorker({ pollIntervalMs: 50 });
      try {
        const other = await worker.client.startNew('order', { version: '1.5' }).catch((e: unknown) => e);
        assert.ok(other instanceof UnknownFunctionError, 'no worker serves 1.5');
        assert.deepEqual((await run(worker.client, 'order', undefined, { version: '1' })).output, { label: '1', version: '1' });
        assert.deepEqual((await run(worker.client, 'order')).output, { label: '2', version: '2' });
      } finally {
        await worker.stop();
        await cleanup();
      }
    });
  });
}

describe('versioning under the test host', () => {
  test('the default version is stamped, the versioning applies, and a mock stands for every version of its name', async () => {
    const app = orderApp('sqlite::memory:', ['1', '2'], { defaultVersion: '2', matchStrategy: 'CurrentOrOlder' });
    app.orchestration('parent', function* (ctx) {
      return yield ctx.callSubOrchestrator('order', undefined, undefined, '1');
    });
    const env = await createTestHost(app);
    try {
      const id = await env.client.startNew('order');
      assert.deepEqual((await env.client.waitForCompletion(id)).output, { label: '2', version: '2' });
      env.mockOrchestration('order', (ctx) => ({ label: 'mock', version: ctx.version }));
      const parent = await env.client.startNew('parent');
      assert.deepEqual((await env.client.waitForCompletion(parent)).output, { label: 'mock', version: '1' });
    } finally {
      await env.stop();
    }
  });
});
