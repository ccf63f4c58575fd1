/**
 * Leases and fencing: a stale lease commits nothing (store level, and a SIGSTOPped worker process whose
 * lease expired), a long activity that renews its lease is not run twice, and SIGTERM drains or releases
 * in-flight activities and exits 0.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeEvent, type HistoryEvent } from '../../src/sdk/history.js';
import { acquireStore } from '../../src/store/open-store.js';
import type { EpisodeCommit, HubStore, OrchestrationWorkItem } from '../../src/store/store.js';
import { killAllChildren, waitFor } from '../support/child-processes.js';
import { assertCleanInstance } from '../support/history-checks.js';
import { testStores } from '../support/stores.js';
import { assertNothingLeft, assertStaleResultRefused, createFaultEnv, waitAllCompleted, type FaultEnv } from './fault-env.js';
import { readInvocations } from './fixtures/fault-app.js';

/** Creates instance `id` (Pending, with its ExecutionStarted in the inbox). */
async function createInstance(hub: HubStore, id: string): Promise<void> {
  const startEvent = makeEvent({ eventType: 'ExecutionStarted', name: 'fenced', instanceId: id, executionId: `${id}-e1` }, new Date());
  await hub.createInstance({ instanceId: id, name: 'fenced', executionId: `${id}-e1`, startEvent });
}

/** A commit of one episode by `who`: history, one activity, one timer message, status Running. */
function episodeBy(who: string, item: OrchestrationWorkItem): EpisodeCommit {
  const now = new Date();
  const { instanceId, executionId } = item.instance;
  const history: HistoryEvent[] = [
    makeEvent({ eventType: 'OrchestratorStarted' }, now),
    ...item.messages.map((m) => m.event),
    makeEvent({ eventType: 'TaskScheduled', eventId: 0, name: `act-${who}` }, now),
    makeEvent({ eventType: 'OrchestratorCompleted' }, now),
  ];
  return {
    lease: item.lease,
    historyMode: 'append',
    history,
    consumedMessageIds: item.messages.map((m) => m.id),
    instance: { status: 'Running', executionId, name: item.instance.name, customStatus: JSON.stringify(who) },
    activities: [{ instanceId, executionId, taskId: 0, name: `act-${who}` }],
    messages: [
      {
        instanceId,
        executionId,
        event: makeEvent({ eventType: 'TimerFired', timerId: 9, fireAt: now.toISOString() }, now),
        visibleAt: new Date(now.getTime() + 3_600_000),
      },
    ],
    startInstances: [],
  };
}

/** Claims `id` for `worker`, failing unless it is handed out. */
async function claim(hub: HubStore, worker: string, id: string, leaseMs: number): Promise<OrchestrationWorkItem> {
  const items = await hub.claimOrchestrations({ workerId: worker, limit: 10, leaseMs });
  const item = items.find((i) => i.instance.instanceId === id);
  assert.ok(item, `${worker} claimed ${id}`);
  return item;
}

for (const store of testStores()) {
  describe(`fencing in the ${store.name} store`, () => {
    let hub: HubStore;
    let dispose: () => Promise<void>;
    afterEach(async () => dispose());

    const open = async () => {
      const { url, cleanup } = await store.create();
      const handle = await acquireStore(url);
      hub = handle.store.hub('fencing');
      dispose = async () => {
        await handle.release();
        await cleanup();
      };
    };

    test('a commit with a stale lease returns lease-lost and writes nothing', async () => {
      await open();
      await createInstance(hub, 'f1');
      const a = await claim(hub, 'A', 'f1', 30);
      await sleep(80); // A's lease expires ...
      const b = await claim(hub, 'B', 'f1', 30_000); // ... and B takes the instance over
      assert.ok(b.lease.epoch > a.lease.epoch);

      assert.deepEqual(await hub.commitEpisodes([episodeBy('A', a)]), ['lease-lost']);
      const untouched = await hub.getInstance('f1');
      assert.equal(untouched?.status, 'Pending');
      assert.equal(untouched?.historyLength, 0);
      assert.deepEqual(await hub.getHistory('f1'), []);

      assert.deepEqual(await hub.commitEpisodes([episodeBy('B', b)]), ['committed']);
      const history = await hub.getHistory('f1');
      assert.deepEqual(
        history.filter((e) => e.eventType === 'TaskScheduled').map((e) => ('name' in e ? e.name : '')),
        ['act-B'],
      );
      assert.equal((await hub.getInstance('f1'))?.customStatus, JSON.stringify('B'));
      const activities = await hub.claimActivities({ workerId: 'probe', limit: 10, leaseMs: 30_000 });
      assert.deepEqual(
        activities.map((w) => w.name),
        ['act-B'],
        'only the fresh lease created work',
      );
      assert.equal((await hub.nextVisibleAt()) !== undefined, true, "B's timer is pending");
    });

    test('in one batch, a stale lease is refused while a fresh one commits', async () => {
      await open();
      await createInstance(hub, 'f2');
      const stale = await claim(hub, 'A', 'f2', 30);
      await sleep(80);
      const fresh2 = await claim(hub, 'B', 'f2', 30_000);
      await createInstance(hub, 'f3');
      const fresh3 = await claim(hub, 'A', 'f3', 30_000);
      assert.deepEqual(await hub.commitEpisodes([episodeBy('A', stale), episodeBy('A', fresh3)]), ['lease-lost', 'committed']);
      assert.equal((await hub.getInstance('f2'))?.historyLength, 0);
      assert.equal((await hub.getInstance('f3'))?.status, 'Running');
      assert.deepEqual(await hub.commitEpisodes([episodeBy('B', fresh2)]), ['committed']);
    });

    test('a batch that fails midway writes nothing of any of its episodes', async () => {
      await open();
      await createInstance(hub, 'f4');
      await createInstance(hub, 'f5');
      const items = await hub.claimOrchestrations({ workerId: 'A', limit: 10, leaseMs: 30_000 });
      const [i4, i5] = ['f4', 'f5'].map((id) => items.find((i) => i.instance.instanceId === id)!);
      const broken = episodeBy('A', i5!);
      broken.activities[0]!.name = null as unknown as string; // violates NOT NULL inside the transaction
      await assert.rejects(hub.commitEpisodes([episodeBy('A', i4!), broken]));
      for (const id of ['f4', 'f5']) {
        assert.equal((await hub.getInstance(id))?.historyLength, 0, `${id} has no history`);
        assert.equal((await hub.getInstance(id))?.status, 'Pending', `${id} is unchanged`);
      }
      assert.deepEqual(await hub.claimActivities({ workerId: 'probe', limit: 10, leaseMs: 1 }), []);
      // The leases still hold, so the episodes can be committed again.
      assert.deepEqual(await hub.commitEpisodes([episodeBy('A', i4!), episodeBy('A', i5!)]), ['committed', 'committed']);
    });

    test('a stale activity lease cannot complete, release or renew', async () => {
      await open();
      await createInstance(hub, 'f6');
      const item = await claim(hub, 'W', 'f6', 30_000);
      assert.deepEqual(await hub.commitEpisodes([episodeBy('W', item)]), ['committed']);
      const [a] = await hub.claimActivities({ workerId: 'A', limit: 1, leaseMs: 30 });
      assert.ok(a);
      await sleep(80);
      const [b] = await hub.claimActivities({ workerId: 'B', limit: 1, leaseMs: 30_000 });
      assert.equal(b?.id, a.id, 'B re-claims the expired activity');
      assert.equal(b?.dequeueCount, 2);
      assert.deepEqual(await hub.renewLeases('activity', [a.lease, b!.lease], 30_000), [false, true]);
      await hub.releaseActivities([a.lease]); // must not free B's work item
      assert.deepEqual(await hub.claimActivities({ workerId: 'C', limit: 1, leaseMs: 30_000 }), []);

      const done = (lease: typeof a.lease, result: string) => ({
        lease,
        message: {
          instanceId: 'f6',
          executionId: a.executionId,
          event: makeEvent({ eventType: 'TaskCompleted', taskScheduledId: 0, result }, new Date()),
        },
      });
      assert.deepEqual(await hub.completeActivities([done(a.lease, '"from A"')]), [false]);
      assert.deepEqual(await hub.completeActivities([done(b!.lease, '"from B"'), done(a.lease, '"from A"')]), [true, false]);
      const [next] = await hub.claimOrchestrations({ workerId: 'W', limit: 10, leaseMs: 30_000 });
      assert.deepEqual(
        next?.messages.map((m) => (m.event.eventType === 'TaskCompleted' ? m.event.result : m.event.eventType)),
        ['"from B"'],
        'exactly one completion, from the current lease',
      );
      assert.deepEqual(await hub.renewLeases('orchestration', [item.lease, next!.lease], 30_000), [false, true]);
    });
  });

  describe(`worker leases on ${store.name}`, () => {
    let env: FaultEnv | undefined;
    afterEach(async () => {
      await env?.dispose();
      env = undefined;
    });
    after(killAllChildren);

    test('a SIGSTOPped worker whose lease expired cannot commit after SIGCONT', { timeout: 60_000 }, async () => {
      env = await createFaultEnv(store);
      const leases = { orchestrationLeaseMs: 1000, activityLeaseMs: 1000, pollIntervalMs: 50 };
      const paused = await env.startWorker({ stallMs: 4000, reportCommits: true, worker: leases });
      const id = await env.client.startNew('stall', { input: 21 });
      // The orchestrator blocks its process mid-episode (lease taken, commit not yet made): freeze it there.
      await waitFor(() => existsSync(join(env!.dir, `stalled-${paused.pid}`)), 20_000, 'the episode to stall');
      paused.signal('SIGSTOP');

      const other = await env.startWorker({ reportCommits: true, worker: leases });
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      assert.equal(status.runtimeStatus, 'Completed');
      assert.equal(status.output, 42);
      // (Output lines may arrive after the store shows the result.)
      await other.waitForLine((l) => l === `commit ${id} committed`, 20_000, 'the other worker to commit');
      const before = await env.hub.getHistory(id);

      paused.signal('SIGCONT');
      await paused.waitForLine((l) => l.startsWith(`commit ${id} `), 20_000, 'the paused worker to try its commit');
      assert.deepEqual(
        paused.lines.filter((l) => l.startsWith(`commit ${id} `)),
        [`commit ${id} lease-lost`],
        'the paused worker was fenced off',
      );
      assert.deepEqual(await env.hub.getHistory(id), before, 'the history did not change');
      await assertCleanInstance(env.hub, id);
      assert.equal((await env.client.getStatus(id))?.output, 42);
    });

    test('a SIGSTOPped activity worker whose lease expired cannot record its result after SIGCONT', { timeout: 60_000 }, async () => {
      env = await createFaultEnv(store);
      const leases = { orchestrationLeaseMs: 1000, activityLeaseMs: 1000, pollIntervalMs: 50 };
      // The activity blocks its process once started, so the freeze never lands inside a store transaction.
      const paused = await env.startWorker({ stallMs: 4000, reportCommits: true, worker: leases });
      const id = await env.client.startNew('stallableOne', { input: 'p1' });
      await waitFor(() => readInvocations(env!.dir).some((r) => r.key === 'p1'), 20_000, 'the activity to start');
      paused.signal('SIGSTOP');

      const other = await env.startWorker({ reportCommits: true, worker: leases });
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      assert.equal(status.output, 'p1');
      await other.waitForLine((l) => l === `complete ${id} true`, 20_000, 'the other worker to record the re-run');
      await assertStaleResultRefused(env, paused, other, id);
    });

    test('an activity longer than its lease keeps renewing and runs only once across two workers', { timeout: 60_000 }, async () => {
      env = await createFaultEnv(store);
      const config = { worker: { activityLeaseMs: 1500, pollIntervalMs: 50 } };
      await Promise.all([env.startWorker(config), env.startWorker(config)]);
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push(await env.client.startNew('slowOne', { input: { key: `s${i}`, ms: 5000 } }));
      const outputs = await waitAllCompleted(env.client, ids, 40_000);
      assert.deepEqual([...outputs.values()], ['s0', 's1', 's2', 's3']);
      const runs = readInvocations(env.dir);
      for (let i = 0; i < 4; i++) {
        assert.equal(runs.filter((r) => r.key === `s${i}`).length, 1, `s${i} ran once (runs: ${JSON.stringify(runs)})`);
      }
      for (const id of ids) await assertCleanInstance(env.hub, id);
    });

    test('SIGTERM drains a running activity, commits its result and exits 0', { timeout: 60_000 }, async () => {
      env = await createFaultEnv(store);
      const worker = await env.startWorker({ worker: { pollIntervalMs: 50 } });
      const id = await env.client.startNew('slowOne', { input: { key: 't1', ms: 1500 } });
      await waitFor(() => readInvocations(env!.dir).some((r) => r.key === 't1'), 20_000, 'the activity to start');
      worker.signal('SIGTERM');
      const exit = await worker.waitForExit(20_000);
      assert.deepEqual(exit, { code: 0, signal: null }, `clean exit (stderr: ${worker.stderr})`);
      assert.ok(worker.lines.includes('stopped'));

      const next = await env.startWorker({ worker: { pollIntervalMs: 50 } });
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      assert.equal(status.output, 't1');
      assert.equal(readInvocations(env.dir).filter((r) => r.key === 't1').length, 1, 'the drained result was kept, not re-run');
      await assertCleanInstance(env.hub, id);
      next.signal('SIGTERM');
      assert.equal((await next.waitForExit(20_000)).code, 0);
      await assertNothingLeft(env.hub);
    });

    test('SIGTERM releases an activity that outlasts the drain timeout, and another worker takes it at once', { timeout: 60_000 }, async () => {
      env = await createFaultEnv(store);
      // A lease far longer than the test: only an explicit release lets the next worker run the activity.
      const config = { worker: { pollIntervalMs: 50, drainTimeoutMs: 200, activityLeaseMs: 600_000 } };
      const worker = await env.startWorker(config);
      const id = await env.client.startNew('blocking', { input: 'b1' });
      await waitFor(() => readInvocations(env!.dir).some((r) => r.key === 'b1'), 20_000, 'the activity to start');
      worker.signal('SIGTERM');
      assert.deepEqual(await worker.waitForExit(20_000), { code: 0, signal: null }, `clean exit (stderr: ${worker.stderr})`);

      env.release('b1');
      const next = await env.startWorker(config);
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      assert.equal(status.runtimeStatus, 'Completed');
      assert.equal(status.output, 'b1-done');
      assert.deepEqual(
        readInvocations(env.dir)
          .filter((r) => r.key === 'b1')
          .map((r) => r.pid),
        [worker.pid, next.pid],
      );
      await assertCleanInstance(env.hub, id);
    });
  });
}
