/**
 * `waitForCompletion` costs no store read per waiter per notice: a terminal status committed in this process is
 * handed to its waiters from the commit (one read each, when the wait begins), and the status they return is
 * the one a read gives afterwards — outputs, failures, custom status, continue-as-new. Across processes
 * (PostgreSQL: a second store object, so notices come over LISTEN) each waiter reads once more, on the notice.
 * Observed on the real stores through a call-recording wrapper used by the client only.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { DFApp } from '../../src/index.js';
import { StoreClient } from '../../src/client/store-client.js';
import { startWorker } from '../../src/runtime/worker.js';
import { acquireStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { FaultyStore } from '../support/faulty-store.js';
import { testStores } from '../support/stores.js';

const WAITERS = 20;

function app(url: string): DFApp {
  const app = new DFApp({ store: url });
  app.activity('slowHello', async (name: string) => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return `Hello ${name}!`;
  });
  app.orchestration('hello', function* (ctx, name: string) {
    ctx.setCustomStatus({ step: 'greeting', name });
    return [yield ctx.callActivity('slowHello', name), yield ctx.callActivity('slowHello', `${name} again`)];
  });
  app.orchestration('failing', function* (ctx) {
    yield ctx.callActivity('slowHello', 'x');
    throw new RangeError('out of range');
  });
  app.orchestration('again', function* (ctx, round: number) {
    yield ctx.callActivity('slowHello', `round ${round}`);
    if (round < 2) ctx.continueAsNew(round + 1);
    return `done after ${round}`;
  });
  return app;
}

for (const store of testStores()) {
  describe(`waitForCompletion on ${store.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** A worker on one store object, and a client whose reads are counted on `clientStore` (default: the same object). */
    const setup = async (separateClientStore = false) => {
      const created = await store.create();
      const handle = await acquireStore(created.url);
      cleanups.push(async () => {
        await handle.release();
        await created.cleanup();
      });
      let clientStore: Store = handle.store;
      if (separateClientStore) {
        // A store object of its own sees the worker's commits as another process would.
        const { openPostgresStore } = await import('../../src/store/postgres/postgres-store.js');
        const other = await openPostgresStore(created.url);
        cleanups.push(() => other.close());
        clientStore = other;
      }
      const a = app(created.url);
      const worker = await startWorker(handle.store, a.taskHub, a.registry, {});
      cleanups.push(() => worker.stop());
      const observed = new FaultyStore(clientStore);
      const client = new StoreClient({ store: observed, taskHub: a.taskHub, registry: a.registry });
      return { client, reads: () => observed.calls('getInstance') };
    };

    test('waiters of commits in this process read once each, and return what a read returns', async () => {
      const { client, reads } = await setup();
      const ids = await Promise.all(
        Array.from({ length: WAITERS }, (_, i) => client.startNew('hello', { input: `city ${i}`, tags: { lane: String(i % 3) } })),
      );
      const before = reads();
      const statuses = await Promise.all(ids.map((id) => client.waitForCompletion(id, { timeoutInMilliseconds: 30_000 })));
      assert.equal(reads() - before, WAITERS, 'a waiter read the store more than once');
      for (const [i, status] of statuses.entries()) {
        assert.equal(status.runtimeStatus, 'Completed');
        assert.deepEqual(status.output, [`Hello city ${i}!`, `Hello city ${i} again!`]);
        assert.deepEqual(status.tags, { lane: String(i % 3) });
        assert.deepEqual(status, await client.getStatus(ids[i]!));
      }
    });

    test('a failure, custom status and continue-as-new are handed over as a read gives them', async () => {
      const { client } = await setup();
      const failing = await client.startNew('failing');
      const again = await client.startNew('again', { input: 0 });
      const [failed, continued] = await Promise.all([
        client.waitForCompletion(failing, { timeoutInMilliseconds: 30_000 }),
        client.waitForCompletion(again, { timeoutInMilliseconds: 30_000 }),
      ]);
      assert.equal(failed.runtimeStatus, 'Failed');
      assert.equal(failed.failureDetails?.errorType, 'RangeError');
      assert.match(failed.failureDetails?.message ?? '', /out of range/);
      assert.deepEqual(failed, await client.getStatus(failing));
      assert.equal(continued.runtimeStatus, 'Completed');
      assert.equal(continued.output, 'done after 2');
      assert.equal(continued.input, 2, 'the input of the execution that completed');
      assert.deepEqual(continued, await client.getStatus(again));
    });

    test('a wait that times out returns the status as it is', async () => {
      const { client } = await setup();
      const id = await client.startNew('again', { input: 0 });
      const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 1 });
      assert.ok(['Pending', 'Running', 'Completed'].includes(status.runtimeStatus), status.runtimeStatus);
      const done = await client.waitForCompletion(id, { timeoutInMilliseconds: 30_000 });
      assert.equal(done.output, 'done after 2');
    });

    if (store.name === 'postgres') {
      test('waiters of commits made by another store object read once more each, on the notice', async () => {
        const { client, reads } = await setup(true);
        const ids = await Promise.all(Array.from({ length: WAITERS }, (_, i) => client.startNew('hello', { input: `city ${i}` })));
        const before = reads();
        const statuses = await Promise.all(ids.map((id) => client.waitForCompletion(id, { timeoutInMilliseconds: 30_000 })));
        assert.ok(reads() - before <= 2 * WAITERS, `${reads() - before} reads for ${WAITERS} waiters`);
        for (const [i, status] of statuses.entries()) assert.deepEqual(status.output, [`Hello city ${i}!`, `Hello city ${i} again!`]);
      });
    }
  });
}
