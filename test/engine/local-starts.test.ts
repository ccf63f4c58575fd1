/**
 * Starts handed to a worker in the client's process: the start commit leases the new instance to the worker,
 * which runs the first episode from the returned work item instead of claiming it. Observed on the real
 * stores through a call-recording wrapper that both the worker and the client use.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { DFApp } from '../../src/index.js';
import { StoreClient } from '../../src/client/store-client.js';
import { startInstanceRequest } from '../../src/store/start-request.js';
import { reserveLocalStart } from '../../src/store/local-starts.js';
import { startWorker, type WorkerHandle, type WorkerOptions } from '../../src/runtime/worker.js';
import { acquireStore } from '../../src/store/open-store.js';
import type { OrchestrationWorkItem, StartLease } from '../../src/store/store.js';
import { FaultyStore } from '../support/faulty-store.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

for (const store of engineStores()) {
  describe(`starts taken by a worker in the same process on ${store.label}`, () => {
    useOrchestratorStyle(store);
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** An app with a one-activity orchestration, over an observed store that the worker and client share. */
    const setup = async () => {
      const created = await store.create();
      const handle = await acquireStore(created.url);
      cleanups.push(async () => {
        await handle.release();
        await created.cleanup();
      });
      const app = new DFApp({ store: created.url });
      app.activity('greet', (name: string) => `Hello ${name}!`);
      app.orchestration('hello', function* (ctx, name: string) {
        return yield ctx.callActivity('greet', name);
      });
      app.orchestration('waiter', function* (ctx) {
        return yield ctx.waitForExternalEvent('go');
      });
      const observed = new FaultyStore(handle.store);
      const leases: (StartLease | undefined)[] = [];
      const claimed: string[] = [];
      observed.observe((call) => {
        if (call.method === 'createInstance') leases.push(call.args[1] as StartLease | undefined);
        if (call.method === 'claimOrchestrations') {
          claimed.push(...((call.result as OrchestrationWorkItem[] | undefined) ?? []).map((i) => i.instance.instanceId));
        }
      });
      const client = new StoreClient({ store: observed, taskHub: app.taskHub, registry: app.registry });
      const worker = async (options: WorkerOptions = {}) => {
        const handle: WorkerHandle = await startWorker(observed, app.taskHub, app.registry, options);
        cleanups.push(() => handle.stop());
        return handle;
      };
      const run = async (names: string[]) => {
        const ids = await Promise.all(names.map((name) => client.startNew('hello', { input: name })));
        for (const [i, id] of ids.entries()) {
          const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
          assert.equal(status.runtimeStatus, 'Completed', `${id}: ${JSON.stringify(status)}`);
          assert.equal(status.output, `Hello ${names[i]}!`);
        }
        return ids;
      };
      return { observed, client, worker, run, leases, claimed, app };
    };

    test('the start commit leases the instance to the worker, which runs it without a claim', async () => {
      const { worker, run, leases, claimed } = await setup();
      const { workerId } = await worker({ pollIntervalMs: 60_000 });
      const ids = await run(['Tokyo', 'Seattle', 'London']);
      assert.equal(leases.length, 3);
      assert.ok(leases.every((lease) => lease?.workerId === workerId), `leases: ${JSON.stringify(leases)}`);
      assert.deepEqual(claimed.filter((id) => ids.includes(id)), [], 'a start taken here was claimed');
    });

    test('with localStarts: false every start is claimed', async () => {
      const { worker, run, leases, claimed } = await setup();
      await worker({ localStarts: false });
      const ids = await run(['Tokyo', 'Seattle']);
      assert.deepEqual(leases, [undefined, undefined]);
      assert.deepEqual([...claimed].filter((id) => ids.includes(id)).sort(), [...ids].sort());
    });

    test('beyond a batch held in memory, starts are left to claims', async () => {
      const { worker, run, leases, claimed } = await setup();
      await worker({ orchestrationBatchSize: 2 });
      const names = Array.from({ length: 10 }, (_, i) => `city ${i}`);
      const ids = await run(names);
      // All ten starts were made in one tick, before any commit answered: two reservations, then no more.
      assert.equal(leases.filter(Boolean).length, 2, `leases: ${JSON.stringify(leases)}`);
      assert.equal(claimed.filter((id) => ids.includes(id)).length, 8);
    });

    test('a start taken by a worker that has stopped is released, so another worker runs it at once', async () => {
      const { observed, client, worker, app } = await setup();
      const first = await worker({ orchestrationLeaseMs: 600_000 });
      const reservation = reserveLocalStart(observed, app.taskHub, 'hello');
      assert.ok(reservation, 'the running worker takes starts of what it serves');
      assert.equal(reserveLocalStart(observed, app.taskHub, 'unknown'), undefined, 'but not of what it does not serve');
      const request = startInstanceRequest({ name: 'hello', instanceId: 'late', input: '"Paris"' }, new Date());
      const item = (await observed.hub(app.taskHub).createInstance(request, reservation.lease))!;
      await first.stop();
      assert.equal(reserveLocalStart(observed, app.taskHub, 'hello'), undefined, 'a stopped worker takes no starts');
      reservation.take(item);
      await worker();
      // Without the release the instance would wait for its 10-minute lease.
      const status = await client.waitForCompletion('late', { timeoutInMilliseconds: 15_000 });
      assert.equal(status.runtimeStatus, 'Completed');
      assert.equal(status.output, 'Hello Paris!');
    });

    test('a start that conflicts cancels its reservation: the worker is idle and takes later starts', async () => {
      const { client, worker, run, leases } = await setup();
      await worker({ orchestrationBatchSize: 1 });
      await client.startNew('waiter', { instanceId: 'dup' });
      await waitFor(async () => (await client.getStatus('dup'))?.runtimeStatus === 'Running');
      leases.length = 0;
      await assert.rejects(client.startNew('waiter', { instanceId: 'dup' }), { name: 'InstanceAlreadyExistsError' });
      assert.ok(leases[0], 'the conflicting start had a reservation');
      await client.raiseEvent('dup', 'go', 1);
      assert.equal((await client.waitForCompletion('dup', { timeoutInMilliseconds: 20_000 })).output, 1);
      leases.length = 0;
      await run(['after']);
      // With batch size 1, a reservation the failed start never gave back would leave no room for this one.
      assert.ok(leases[0], 'the start after the conflict was taken here');
    });
  });
}
