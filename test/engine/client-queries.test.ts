import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DFApp, InstanceAlreadyExistsError, createClient } from '../../src/index.js';
import { eventsOf, finished, historyOf, run, statusWhere, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

function basics(app: DFApp): void {
  app.activity('echo', (v: unknown) => v);
  app.orchestration('quick', (ctx) => ctx.getInput());
  app.orchestration('echoOnce', function* (ctx) {
    return yield ctx.callActivity('echo', ctx.getInput());
  });
  app.orchestration('waits', function* (ctx) {
    const value = yield ctx.waitForExternalEvent('go');
    return { input: ctx.getInput(), value };
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const store of engineStores()) {
  describe(`client: starts and queries on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('startNew refuses invalid instance ids with a ValidationError and writes nothing', async () => {
      await withApp(store, basics, async ({ client }) => {
        const invalid = ['@entity', 'a/b', 'a\\b', 'a#b', 'a?b', 'tab\there', 'line\nbreak', 'nul\u0000', 'del\u007f', 'x'.repeat(257), ''];
        for (const instanceId of invalid) {
          await assert.rejects(client.startNew('quick', { instanceId }), { name: 'ValidationError' }, JSON.stringify(instanceId));
        }
        await assert.rejects(client.startNew('quick', { instanceId: 42 as never }), { name: 'ValidationError' });
        await assert.rejects(client.startNew('', {}), { name: 'ValidationError' });
        assert.deepEqual(await client.getStatusAll(), []);
      });
    });

    test('startNew accepts unusual but valid ids (256 chars, unicode, spaces, %, :) and finds them again', async () => {
      await withApp(store, basics, async ({ client }) => {
        const valid = ['x'.repeat(256), 'héllo wörld ✓ 🎉', 'with space', 'a%20b', 'a:b', 'a.b-c_d'];
        for (const instanceId of valid) {
          assert.equal(await client.startNew('quick', { instanceId, input: instanceId }), instanceId);
          const status = await finished(client, instanceId);
          assert.equal(status.instanceId, instanceId);
          assert.equal(status.output, instanceId);
        }
        const generated = await client.startNew('quick');
        assert.match(generated, /^[0-9a-f]{32}$/);
        assert.equal((await client.getStatusAll()).length, valid.length + 1);
      });
    });

    test('starting an id that is running fails with InstanceAlreadyExistsError; a finished one is replaced', async () => {
      await withApp(store, basics, async ({ client }) => {
        await client.startNew('waits', { instanceId: 'dup', input: 'first' });
        await statusWhere(client, 'dup', (s) => s.runtimeStatus === 'Running');
        await assert.rejects(client.startNew('waits', { instanceId: 'dup', input: 'second' }), (error: unknown) => {
          assert.ok(error instanceof InstanceAlreadyExistsError);
          assert.equal(error.instanceId, 'dup');
          return true;
        });
        assert.equal((await client.getStatus('dup'))?.input, 'first');
        await client.raiseEvent('dup', 'go', 1);
        assert.deepEqual((await finished(client, 'dup')).output, { input: 'first', value: 1 });

        await client.startNew('echoOnce', { instanceId: 'dup', input: 'third' });
        const replaced = await finished(client, 'dup');
        assert.equal(replaced.name, 'echoOnce');
        assert.equal(replaced.output, 'third');
        const history = await historyOf(client, 'dup');
        assert.equal(eventsOf(history, 'ExecutionStarted').length, 1);
        assert.equal(eventsOf(history, 'EventRaised').length, 0);
      });
    });

    test('two concurrent starts of one id create exactly one instance', async () => {
      await withApp(store, basics, async ({ client }) => {
        const results = await Promise.allSettled([
          client.startNew('waits', { instanceId: 'race', input: 1 }),
          client.startNew('waits', { instanceId: 'race', input: 2 }),
        ]);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.equal((rejected?.reason as Error).name, 'InstanceAlreadyExistsError');
        await client.raiseEvent('race', 'go', 0);
        await finished(client, 'race');
        assert.equal(eventsOf(await historyOf(client, 'race'), 'ExecutionStarted').length, 1);
      });
    });

    test('getStatus shows input by default, history on request, and results only with showHistoryOutput', async () => {
      await withApp(store, basics, async ({ client }) => {
        await run(client, 'echoOnce', { secret: 'in' }, { instanceId: 'st' });
        const plain = await client.getStatus('st');
        assert.equal(plain?.name, 'echoOnce');
        assert.equal(plain?.runtimeStatus, 'Completed');
        assert.deepEqual(plain?.input, { secret: 'in' });
        assert.deepEqual(plain?.output, { secret: 'in' });
        assert.equal(plain?.history, undefined);
        assert.ok(plain!.createdTime instanceof Date && plain!.lastUpdatedTime instanceof Date);
        assert.ok(plain!.createdTime.getTime() <= plain!.lastUpdatedTime.getTime());

        const noInput = await client.getStatus('st', { showInput: false });
        assert.equal(noInput?.input, undefined);
        assert.deepEqual(noInput?.output, { secret: 'in' });

        const withHistory = await client.getStatus('st', { showHistory: true });
        const history = withHistory?.history ?? [];
        assert.deepEqual(
          history.map((e) => e.eventType),
          ['OrchestratorStarted', 'ExecutionStarted', 'TaskScheduled', 'OrchestratorCompleted', 'OrchestratorStarted', 'TaskCompleted', 'ExecutionCompleted', 'OrchestratorCompleted'],
        );
        assert.equal(eventsOf(history, 'ExecutionStarted')[0]?.input, JSON.stringify({ secret: 'in' }));
        assert.equal(eventsOf(history, 'TaskCompleted')[0]?.result, undefined);
        assert.equal(eventsOf(history, 'ExecutionCompleted')[0]?.result, undefined);

        const withOutput = await client.getStatus('st', { showHistory: true, showHistoryOutput: true });
        assert.equal(eventsOf(withOutput?.history ?? [], 'TaskCompleted')[0]?.result, JSON.stringify({ secret: 'in' }));
        assert.equal(eventsOf(withOutput?.history ?? [], 'ExecutionCompleted')[0]?.result, JSON.stringify({ secret: 'in' }));

        const hidden = await client.getStatus('st', { showHistory: true, showHistoryOutput: true, showInput: false });
        assert.equal(eventsOf(hidden?.history ?? [], 'ExecutionStarted')[0]?.input, undefined);
        assert.equal(eventsOf(hidden?.history ?? [], 'TaskScheduled')[0]?.input, undefined);

        assert.equal(await client.getStatus('nobody'), undefined);
        await assert.rejects(client.getStatus(''), { name: 'ValidationError' });
      });
    });

    test('getStatusBy filters by status, id prefix and created-time range', async () => {
      await withApp(store, basics, async ({ client }) => {
        for (const id of ['ord-1', 'ord-2']) await run(client, 'quick', id, { instanceId: id });
        await sleep(5);
        await client.startNew('waits', { instanceId: 'ord-3' });
        await sleep(5);
        await client.startNew('waits', { instanceId: 'inv-1' });
        await statusWhere(client, 'ord-3', (s) => s.runtimeStatus === 'Running');
        await statusWhere(client, 'inv-1', (s) => s.runtimeStatus === 'Running');
        const ids = (list: { instanceId: string }[]) => list.map((s) => s.instanceId).sort();

        assert.deepEqual(ids(await client.getStatusAll()), ['inv-1', 'ord-1', 'ord-2', 'ord-3']);
        assert.deepEqual(ids(await client.getStatusBy({ runtimeStatus: ['Completed'] })), ['ord-1', 'ord-2']);
        assert.deepEqual(ids(await client.getStatusBy({ runtimeStatus: ['Running', 'Completed'] })), ['inv-1', 'ord-1', 'ord-2', 'ord-3']);
        assert.deepEqual(ids(await client.getStatusBy({ instanceIdPrefix: 'ord-' })), ['ord-1', 'ord-2', 'ord-3']);
        assert.deepEqual(ids(await client.getStatusBy({ instanceIdPrefix: 'ord-', runtimeStatus: ['Running'] })), ['ord-3']);
        assert.deepEqual(ids(await client.getStatusBy({ instanceIdPrefix: 'nothing' })), []);

        const third = (await client.getStatus('ord-3'))!.createdTime;
        assert.deepEqual(ids(await client.getStatusBy({ createdTimeFrom: third })), ['inv-1', 'ord-3']);
        assert.deepEqual(ids(await client.getStatusBy({ createdTimeFrom: third, createdTimeTo: third })), ['ord-3']);
        assert.deepEqual(ids(await client.getStatusBy({ createdTimeTo: new Date(third.getTime() - 1) })), ['ord-1', 'ord-2']);

        await assert.rejects(client.getStatusBy({ runtimeStatus: ['Bogus' as never] }), { name: 'ValidationError' });
        await assert.rejects(client.getStatusBy({ createdTimeFrom: new Date('nope') }), { name: 'ValidationError' });
        for (const id of ['ord-3', 'inv-1']) await client.terminate(id, 'cleanup');
      });
    });

    test('listInstances pages with continuation tokens', async () => {
      await withApp(store, basics, async ({ client }) => {
        const expected: string[] = [];
        for (let i = 0; i < 25; i++) {
          const id = `page-${String(i).padStart(2, '0')}`;
          expected.push(id);
          await client.startNew('quick', { instanceId: id, input: i });
        }
        for (let i = 0; i < 3; i++) await client.startNew('quick', { instanceId: `other-${i}` });

        const sizes: number[] = [];
        const seen: string[] = [];
        let continuationToken: string | undefined;
        do {
          const page = await client.listInstances({ instanceIdPrefix: 'page-', pageSize: 10, ...(continuationToken ? { continuationToken } : {}) });
          sizes.push(page.instances.length);
          seen.push(...page.instances.map((s) => s.instanceId));
          continuationToken = page.continuationToken;
        } while (continuationToken);
        assert.deepEqual(sizes, [10, 10, 5]);
        assert.deepEqual([...seen].sort(), expected);

        const all = await client.listInstances({ pageSize: 1000 });
        assert.equal(all.instances.length, 28);
        assert.equal(all.continuationToken, undefined);
        const noInput = await client.listInstances({ instanceIdPrefix: 'page-00', showInput: false });
        assert.equal(noInput.instances[0]?.input, undefined);

        await assert.rejects(client.listInstances({ pageSize: 0 }), { name: 'ValidationError' });
        await assert.rejects(client.listInstances({ continuationToken: 'garbage!' }), { name: 'ValidationError' });
      });
    });

    test('waitForCompletion returns the current status at its timeout and refuses unknown ids', async () => {
      await withApp(store, basics, async ({ client }) => {
        const id = await client.startNew('waits');
        const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 100 });
        assert.ok(['Pending', 'Running'].includes(status.runtimeStatus));
        await assert.rejects(client.waitForCompletion('missing', { timeoutInMilliseconds: 100 }), { name: 'InstanceNotFoundError' });
        await client.raiseEvent(id, 'go', 'now');
        assert.deepEqual((await finished(client, id)).output, { value: 'now' });
      });
    });

    test('host.client of a started host starts, steers and reads instances', async () => {
      const { url, cleanup } = await store.create();
      try {
        const app = new DFApp({ store: url });
        basics(app);
        const host = await app.start({ port: 0 });
        try {
          const id = await host.client.startNew('waits', { input: 'via host' });
          await host.client.raiseEvent(id, 'go', true);
          const status = await finished(host.client, id);
          assert.deepEqual(status.output, { input: 'via host', value: true });
          assert.equal(host.client.createHttpManagementPayload(id).id, id);
          assert.ok(host.client.createHttpManagementPayload(id).statusQueryGetUri.startsWith(host.url));
        } finally {
          await host.stop();
        }
      } finally {
        await cleanup();
      }
    });

    test('a client created from the store URL sees and steers the same instances', async () => {
      await withApp(store, basics, async ({ client, url }) => {
        const other = await createClient({ store: url });
        try {
          const id = await other.startNew('waits', { input: 'from other' });
          await other.raiseEvent(id, 'go', 5);
          const status = await finished(other, id);
          assert.deepEqual(status.output, { input: 'from other', value: 5 });
          assert.deepEqual((await client.getStatus(id))?.output, status.output);
        } finally {
          await other.close();
        }
      });
    });
  });
}
