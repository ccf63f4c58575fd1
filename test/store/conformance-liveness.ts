/**
 * Conformance tests of worker liveness: heartbeats, and the takeover of a dead worker's leases by the heartbeat of
 * another (or by its own successor with the same id).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HubStore, OrchestrationWorkItem, Store, StoreNotice } from '../../src/store/store.js';
import { claimOne, commitOf, freshHub, sleep, startRequest, taskCompleted } from './conformance-fixtures.js';

const NAMES = { orchestrations: ['orch'], activities: ['a'], entities: [] };
const LONG = 600_000;

/** Registers `workerIds` in `hub`. */
async function register(hub: HubStore, ...workerIds: string[]): Promise<void> {
  for (const id of workerIds) await hub.registerWorker(id, NAMES);
}

/** Creates instance `id` and has `workerId` claim it for a long lease. */
async function leasedInstance(hub: HubStore, id: string, workerId: string, leaseMs = LONG): Promise<OrchestrationWorkItem> {
  await hub.createInstance(startRequest(id));
  const items = await hub.claimOrchestrations({ workerId, limit: 10, leaseMs });
  const item = items.find((i) => i.instance.instanceId === id);
  assert.ok(item, `${workerId} claimed ${id}`);
  return item;
}

/** Creates instance `id` with `n` activities (one committed episode) and has `workerId` claim them. */
async function leasedActivities(hub: HubStore, id: string, n: number, workerId: string) {
  await hub.createInstance(startRequest(id));
  const item = await claimOne(hub, id);
  const executionId = item.instance.executionId;
  const activities = Array.from({ length: n }, (_, taskId) => ({ instanceId: id, executionId, taskId, name: 'a' }));
  assert.deepEqual(await hub.commitEpisodes([commitOf(item, { activities })]), ['committed']);
  const claimed = await hub.claimActivities({ workerId, limit: 100, leaseMs: LONG });
  assert.equal(claimed.length, n);
  return claimed;
}

/** Declares the liveness tests; `store()` is the store under test. */
export function livenessConformance(store: () => Store): void {
  describe('heartbeat', () => {
    test('of a worker that is not registered writes nothing and says so', async () => {
      const hub = freshHub(store());
      assert.deepEqual(await hub.heartbeat('nobody', { timeoutMs: 1000 }), { registered: false, lapsed: false, takenOver: [] });
      assert.equal(await hub.getRegisteredNames(), undefined, 'no worker row was made');
      await register(hub, 'w');
      assert.deepEqual(await hub.heartbeat('w', { timeoutMs: 1000 }), { registered: true, lapsed: false, takenOver: [] });
    });

    test("takes over the leases of a worker whose heartbeat ran out, once, under new epochs, and wakes the claimers", async () => {
      const s = store();
      const hub = freshHub(s);
      const elsewhere = freshHub(s);
      await register(hub, 'dead', 'alive', 'silent');
      await register(elsewhere, 'other');
      await hub.heartbeat('dead', { timeoutMs: LONG });
      await hub.heartbeat('alive', { timeoutMs: LONG });
      await elsewhere.heartbeat('other', { timeoutMs: LONG });
      const episode = await leasedInstance(hub, 'i1', 'dead');
      const activities = await leasedActivities(hub, 'i2', 2, 'dead');
      const silent = await leasedInstance(hub, 'i4', 'silent'); // 'silent' never sent a heartbeat
      const expired = await leasedInstance(hub, 'i3', 'dead', 1); // a lease that runs out by itself is not counted
      assert.deepEqual((await hub.heartbeat('alive', { timeoutMs: LONG })).takenOver, [], "'dead' is still alive");

      await hub.heartbeat('dead', { timeoutMs: 1 }); // its last heartbeat
      await sleep(50);
      assert.deepEqual((await elsewhere.heartbeat('other', { timeoutMs: LONG })).takenOver, [], 'another hub takes over nothing');
      const seen: StoreNotice[] = [];
      const unsubscribe = s.subscribe(hub.hub, (n) => seen.push(n));
      let outcome;
      try {
        outcome = await hub.heartbeat('alive', { timeoutMs: LONG });
      } finally {
        unsubscribe();
      }
      assert.deepEqual(outcome, {
        registered: true,
        lapsed: false,
        takenOver: [{ workerId: 'dead', orchestrations: 1, activities: 2 }],
      });
      assert.deepEqual(seen.map((n) => n.kind).sort(), ['activities', 'orchestrations']);
      assert.deepEqual((await hub.heartbeat('alive', { timeoutMs: LONG })).takenOver, [], 'taken over once');

      // The dead worker's leases are void: its commit, renewals and results are refused.
      assert.deepEqual(await hub.commitEpisodes([commitOf(episode)]), ['lease-lost']);
      assert.deepEqual(await hub.renewLeases('orchestration', [episode.lease], LONG), [false]);
      assert.deepEqual(await hub.renewLeases('activity', activities.map((a) => a.lease), LONG), [false, false]);
      const result = { instanceId: 'i2', executionId: activities[0]!.executionId, event: taskCompleted(0) };
      assert.deepEqual(await hub.completeActivities([{ lease: activities[0]!.lease, message: result }]), [false]);
      // ... and its work is free now; the silent worker's lease holds.
      const claimed = await hub.claimOrchestrations({ workerId: 'alive', limit: 10, leaseMs: LONG });
      assert.deepEqual(claimed.map((i) => i.instance.instanceId).sort(), ['i1', 'i3']);
      const first = claimed.find((i) => i.instance.instanceId === 'i1')!;
      assert.ok(first.lease.epoch > episode.lease.epoch);
      assert.deepEqual(first.messages.map((m) => m.id), episode.messages.map((m) => m.id), 'with its messages');
      assert.ok(claimed.find((i) => i.instance.instanceId === 'i3')!.lease.epoch > expired.lease.epoch);
      const again = await hub.claimActivities({ workerId: 'alive', limit: 10, leaseMs: LONG });
      assert.deepEqual(again.map((a) => [a.id, a.dequeueCount]), activities.map((a) => [a.id, 2]));
      assert.deepEqual(await hub.commitEpisodes([commitOf(first)]), ['committed']);
      assert.deepEqual(await hub.renewLeases('orchestration', [silent.lease], LONG), [true]);

      // The worker taken for dead learns it when it beats again, and counts as alive from then on.
      assert.deepEqual(await hub.heartbeat('dead', { timeoutMs: LONG }), { registered: true, lapsed: true, takenOver: [] });
      assert.deepEqual(await hub.heartbeat('dead', { timeoutMs: LONG }), { registered: true, lapsed: false, takenOver: [] });
    });

    test('whose own previous heartbeat ran out takes over nobody; the next one does', async () => {
      const hub = freshHub(store());
      await register(hub, 'a', 'b');
      await hub.heartbeat('a', { timeoutMs: 200 });
      await hub.heartbeat('b', { timeoutMs: 200 });
      const item = await leasedInstance(hub, 'j1', 'a');
      await sleep(300); // both ran out, as when the store was out of reach for everyone
      assert.deepEqual(await hub.heartbeat('b', { timeoutMs: LONG }), { registered: true, lapsed: true, takenOver: [] });
      assert.deepEqual(await hub.renewLeases('orchestration', [item.lease], LONG), [true], "a's lease holds");
      assert.deepEqual((await hub.heartbeat('b', { timeoutMs: LONG })).takenOver, [{ workerId: 'a', orchestrations: 1, activities: 0 }]);
      assert.deepEqual(await hub.renewLeases('orchestration', [item.lease], LONG), [false]);
    });

    test('when starting, takes over what a predecessor with the same id still holds', async () => {
      const hub = freshHub(store());
      await register(hub, 'stable', 'watcher');
      await hub.heartbeat('stable', { timeoutMs: LONG });
      await hub.heartbeat('watcher', { timeoutMs: LONG });
      const item = await leasedInstance(hub, 'k1', 'stable');
      const activities = await leasedActivities(hub, 'k2', 1, 'stable');
      assert.deepEqual((await hub.heartbeat('stable', { timeoutMs: LONG })).takenOver, [], 'an ordinary beat keeps its own leases');
      // The process restarts with the same id, long before its heartbeat would run out.
      assert.deepEqual(await hub.heartbeat('stable', { timeoutMs: LONG, starting: true }), {
        registered: true,
        lapsed: false,
        takenOver: [{ workerId: 'stable', orchestrations: 1, activities: 1 }],
      });
      assert.deepEqual(await hub.renewLeases('orchestration', [item.lease], LONG), [false]);
      assert.deepEqual(await hub.renewLeases('activity', [activities[0]!.lease], LONG), [false]);
      const claimed = await hub.claimOrchestrations({ workerId: 'stable', limit: 10, leaseMs: LONG });
      assert.deepEqual(claimed.map((i) => i.instance.instanceId), ['k1']);
      assert.deepEqual((await hub.claimActivities({ workerId: 'stable', limit: 10, leaseMs: LONG })).map((a) => a.dequeueCount), [2]);
      assert.deepEqual(
        await hub.heartbeat('stable', { timeoutMs: LONG, starting: true }),
        { registered: true, lapsed: false, takenOver: [{ workerId: 'stable', orchestrations: 1, activities: 1 }] },
        'every start does it',
      );
      assert.deepEqual((await hub.heartbeat('watcher', { timeoutMs: LONG })).takenOver, [], 'the restarted worker is alive');
    });
  });
}
