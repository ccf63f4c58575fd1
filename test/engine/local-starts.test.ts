/**
 * Starts handed to a worker in the client's process: an idle worker commits the start with its first episode
 * (`EpisodeCommit.start`); otherwise the start commit leases the new instance to the worker, which runs the first
 * episode from the returned work item instead of claiming it. Observed on the real stores through a
 * call-recording wrapper that both the worker and the client use.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { DFApp } from '../../src/index.js';
import { StoreClient } from '../../src/client/store-client.js';
import { startInstanceRequest } from '../../src/store/start-request.js';
import { reserveLocalStart } from '../../src/store/local-starts.js';
import { startWorker, type WorkerHandle, type WorkerOptions } from '../../src/runtime/worker.js';
import { acquireStore } from '../../src/store/open-store.js';
import type { CommitOutcome, EpisodeCommit, OrchestrationWorkItem, StartLease } from '../../src/store/store.js';
import { FUSE_WAIT_MS } from '../../src/runtime/start-fusion.js';
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
      app.orchestration('instant', function* (ctx, name: string) {
        ctx.setCustomStatus('quick');
        return `done ${name}`;
      });
      app.orchestration('waiter', function* (ctx) {
        return yield ctx.waitForExternalEvent('go');
      });
      const observed = new FaultyStore(handle.store);
      const leases: (StartLease | undefined)[] = [];
      const claimed: string[] = [];
      /** Every commit that carried a fused start, with its outcome. */
      const fusedCommits: { commit: EpisodeCommit; outcome: CommitOutcome | undefined }[] = [];
      observed.observe((call) => {
        if (call.method === 'createInstance') leases.push(call.args[1] as StartLease | undefined);
        if (call.method === 'commitEpisodes') {
          const outcomes = call.result as CommitOutcome[] | undefined;
          (call.args[0] as EpisodeCommit[]).forEach((commit, i) => commit.start && fusedCommits.push({ commit, outcome: outcomes?.[i] }));
        }
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
      const fusedIds = () => fusedCommits.filter((f) => f.outcome === 'committed').map((f) => f.commit.lease.id);
      return { observed, client, worker, run, leases, claimed, app, fusedCommits, fusedIds };
    };

    test('every start is taken by the worker, fused or leased at its commit, and none is claimed', async () => {
      const { worker, run, leases, claimed, fusedCommits, fusedIds } = await setup();
      const { workerId } = await worker({ pollIntervalMs: 60_000 });
      const ids = await run(['Tokyo', 'Seattle', 'London']);
      assert.equal(leases.length + fusedIds().length, 3, `leases: ${JSON.stringify(leases)}, fused: ${fusedIds()}`);
      assert.ok(leases.every((lease) => lease?.workerId === workerId), `leases: ${JSON.stringify(leases)}`);
      assert.ok(fusedCommits.every((f) => f.commit.start!.lease.workerId === workerId));
      assert.deepEqual(claimed.filter((id) => ids.includes(id)), [], 'a start taken here was claimed');
    });

    test('an idle worker commits a start with its first episode: no start write of its own, the activity scheduled', async () => {
      const { client, worker, leases, claimed, fusedCommits, fusedIds } = await setup();
      const handle = await worker({ pollIntervalMs: 60_000 });
      await waitFor(async () => handle.isIdle());
      const id = await client.startNew('hello', { input: 'Oslo' });
      assert.deepEqual(leases, [], 'the start was not written by itself');
      assert.deepEqual(fusedIds(), [id]);
      const { commit } = fusedCommits[0]!;
      assert.deepEqual(commit.activities.map((a) => a.name), ['greet'], 'the first episode scheduled the activity');
      assert.ok(commit.lease.epoch > 0, `the store gave the instance its epoch: ${commit.lease.epoch}`);
      assert.deepEqual(commit.consumedMessageIds, [], 'no start message to consume');
      // Acknowledged only once the first episode committed: the instance is past Pending already.
      const status = await client.getStatus(id);
      assert.ok(status && status.runtimeStatus !== 'Pending', `status after startNew: ${status?.runtimeStatus}`);
      assert.equal((await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 })).output, 'Hello Oslo!');
      const history = (await client.getStatus(id, { showHistory: true }))!.history!;
      assert.equal(history.filter((e) => e.eventType === 'ExecutionStarted').length, 1);
      assert.deepEqual(claimed.filter((c) => c === id), [], 'the fused start was claimed');
    });

    test('a fused start whose first episode completes it: startNew answers a finished instance, and its waiter gets the output', async () => {
      const { client, worker, fusedIds } = await setup();
      const handle = await worker({ pollIntervalMs: 60_000 });
      await waitFor(async () => handle.isIdle());
      const id = await client.startNew('instant', { input: 'now' });
      assert.deepEqual(fusedIds(), [id]);
      const status = (await client.getStatus(id))!;
      assert.equal(status.runtimeStatus, 'Completed');
      assert.equal(status.customStatus, 'quick');
      assert.equal(status.input, 'now');
      assert.equal((await client.waitForCompletion(id, { timeoutInMilliseconds: 5_000 })).output, 'done now');
    });

    test('a fused start whose episode is not ready in time is written by the client, and runs once', async () => {
      const { observed, client, worker, leases, fusedIds, app } = await setup();
      const handle = await worker({ pollIntervalMs: 60_000 });
      await waitFor(async () => handle.isIdle());
      // The step reads the served names (at most once a second) before it prepares: slowed past the wait.
      const hub = observed.hub(app.taskHub);
      const read = hub.getRegisteredNames.bind(hub);
      hub.getRegisteredNames = async () => {
        await new Promise((resolve) => setTimeout(resolve, FUSE_WAIT_MS * 3));
        return read();
      };
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const began = Date.now();
      const id = await client.startNew('hello', { input: 'Lima' });
      assert.ok(Date.now() - began < FUSE_WAIT_MS * 3, `startNew waited ${Date.now() - began} ms, not for the slow step`);
      assert.equal(leases.length, 1, 'the client wrote the start itself');
      assert.equal((await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 })).output, 'Hello Lima!');
      assert.deepEqual(fusedIds(), [], 'the given-back episode was not committed');
      const history = (await client.getStatus(id, { showHistory: true }))!.history!;
      assert.equal(history.filter((e) => e.eventType === 'ExecutionStarted').length, 1);
      assert.equal(history.filter((e) => e.eventType === 'TaskScheduled').length, 1, 'the activity was scheduled once');
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

    test('a fused commit the store refuses gives the start back: the client writes it, and it runs once', async () => {
      const { observed, client, worker, leases, fusedCommits } = await setup();
      const handle = await worker({ pollIntervalMs: 60_000 });
      await waitFor(async () => handle.isIdle());
      observed.addFault({ method: 'commitEpisodes', nth: observed.calls('commitEpisodes') + 1 });
      const id = await client.startNew('hello', { input: 'Quito' });
      assert.equal(fusedCommits.filter((f) => f.commit.lease.id === id).length, 1, 'the fused commit was tried');
      assert.equal(leases.length, 1, 'then the client wrote the start itself');
      assert.equal((await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 })).output, 'Hello Quito!');
      const history = (await client.getStatus(id, { showHistory: true }))!.history!;
      assert.equal(history.filter((e) => e.eventType === 'ExecutionStarted').length, 1);
    });

    test('a start that conflicts cancels its reservation: the worker is idle and takes later starts', async () => {
      const { client, worker, run, leases, fusedCommits, fusedIds } = await setup();
      await worker({ orchestrationBatchSize: 1 });
      await client.startNew('waiter', { instanceId: 'dup' });
      await waitFor(async () => (await client.getStatus('dup'))?.runtimeStatus === 'Running');
      leases.length = 0;
      await assert.rejects(client.startNew('waiter', { instanceId: 'dup' }), { name: 'InstanceAlreadyExistsError' });
      const refused = fusedCommits.filter((f) => f.commit.lease.id === 'dup' && f.outcome === 'lease-lost');
      assert.ok(leases[0] || refused.length === 1, 'the conflicting start had a reservation');
      if (refused.length) assert.equal(refused[0]!.commit.start!.conflict, 'Running', 'the fused commit names the live instance');
      await client.raiseEvent('dup', 'go', 1);
      assert.equal((await client.waitForCompletion('dup', { timeoutInMilliseconds: 20_000 })).output, 1);
      leases.length = 0;
      const [after] = await run(['after']);
      // With batch size 1, a reservation the failed start never gave back would leave no room for this one.
      assert.ok(leases[0] || fusedIds().includes(after!), 'the start after the conflict was taken here');
    });
  });
}
