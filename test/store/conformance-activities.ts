/**
 * Conformance tests of activity work items (claim, complete, release, renew) and of `nextVisibleAt`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ActivityCompletion, ActivityWorkItem, HubStore, Store } from '../../src/store/store.js';
import {
  claimAll,
  claimAllActivities,
  claimOne,
  commitOf,
  createWithStatus,
  eventMessage,
  eventually,
  freshHub,
  sleep,
  startRequest,
  taskCompleted,
  types,
} from './conformance-fixtures.js';

const HOUR = 3_600_000;

/** Creates instance `id` with one committed episode that scheduled activities `names` (task ids 0..n-1). */
async function withActivities(hub: HubStore, id: string, names: string[]): Promise<void> {
  await hub.createInstance(startRequest(id));
  const item = await claimOne(hub, id);
  const executionId = item.instance.executionId;
  const outcome = await hub.commitEpisodes([
    commitOf(item, { activities: names.map((name, taskId) => ({ instanceId: id, executionId, taskId, name, input: `"${name}"` })) }),
  ]);
  assert.deepEqual(outcome, ['committed']);
}

/** The completion of `item` with its TaskCompleted message. */
function completion(item: ActivityWorkItem, result = '"ok"'): ActivityCompletion {
  return {
    lease: item.lease,
    message: { instanceId: item.instanceId, executionId: item.executionId, event: taskCompleted(item.taskId, result) },
  };
}

/** Declares the activity and visibility tests; `store()` is the store under test. */
export function activityConformance(store: () => Store): void {
  describe('claimActivities', () => {
    test("keeps an activity's trace context, claimed or leased by its commit, and none for one without", async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('t'));
      const item = await claimOne(hub, 't');
      const executionId = item.instance.executionId;
      const traceContext = { traceParent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', traceState: 'v=1' };
      const commit = commitOf(item, {
        activities: [
          { instanceId: 't', executionId, taskId: 0, name: 'a', traceContext },
          { instanceId: 't', executionId, taskId: 1, name: 'a', traceContext, runHere: true },
          { instanceId: 't', executionId, taskId: 2, name: 'a' },
        ],
        activityLease: { workerId: 'w-here', leaseMs: 60_000, leased: [] },
      });
      assert.deepEqual(await hub.commitEpisodes([commit]), ['committed']);
      assert.deepEqual(commit.activityLease?.leased.map((a) => [a.taskId, a.traceContext]), [[1, traceContext]]);
      const claimed = (await claimAllActivities(hub)).sort((a, b) => a.taskId - b.taskId);
      assert.deepEqual(claimed.map((a) => [a.taskId, a.traceContext]), [[0, traceContext], [2, undefined]]);
    });

    test('claims each activity once, filtered by name and limited', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'o', ['a', 'b', 'a', 'c']);
      assert.deepEqual(await hub.claimActivities({ workerId: 'w', names: ['zzz'], limit: 10, leaseMs: 60_000 }), []);
      const one = await hub.claimActivities({ workerId: 'w', names: ['a', 'c'], limit: 1, leaseMs: 60_000 });
      assert.equal(one.length, 1);
      const more = await hub.claimActivities({ workerId: 'w', names: ['a', 'c'], limit: 10, leaseMs: 60_000 });
      assert.deepEqual(
        [...one, ...more].map((a) => a.taskId).sort(),
        [0, 2, 3],
      );
      const rest = await claimAllActivities(hub);
      assert.deepEqual(
        rest.map((a) => [a.name, a.taskId, a.input]),
        [['b', 1, '"b"']],
      );
      assert.deepEqual(await claimAllActivities(hub), [], 'everything is leased');
    });

    test('concurrent claims never return the same activity twice', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'fan', Array.from({ length: 25 }, (_, n) => `act${n}`));
      const claimed: ActivityWorkItem[] = [];
      for (let round = 0; round < 20 && claimed.length < 25; round++) {
        const batches = await Promise.all(
          Array.from({ length: 5 }, (_, w) => hub.claimActivities({ workerId: `w${w}`, limit: 3, leaseMs: 60_000 })),
        );
        claimed.push(...batches.flat());
      }
      const ids = claimed.map((a) => a.id);
      assert.equal(new Set(ids).size, ids.length, 'an activity was claimed twice');
      assert.equal(ids.length, 25);
    });

    test('an expired activity lease is claimable again with a higher dequeue count', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'o', ['slow']);
      const [first] = await hub.claimActivities({ workerId: 'w1', limit: 10, leaseMs: 100 });
      assert.ok(first);
      assert.equal(first.dequeueCount, 1);
      const again = await eventually(async () => {
        const items = await hub.claimActivities({ workerId: 'w2', limit: 10, leaseMs: 60_000 });
        return items[0];
      }, 'the expired activity lease');
      assert.equal(again.id, first.id);
      assert.equal(again.dequeueCount, 2);
      assert.notEqual(again.lease.epoch, first.lease.epoch);
    });
  });

  describe('completeActivities', () => {
    test('deletes the work item and delivers its result to the orchestration', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'o', ['a', 'b']);
      const items = await claimAllActivities(hub);
      const completions = items.map((i) => completion(i, `"${i.name}-done"`));
      assert.deepEqual(await hub.completeActivities(completions), [true, true]);
      const orchestration = await claimOne(hub, 'o');
      assert.deepEqual(
        orchestration.messages.map((x) => x.event),
        completions.map((c) => c.message.event),
      );
      assert.ok(orchestration.messages.every((x) => x.executionId === items[0]!.executionId));
      await hub.releaseOrchestrations([orchestration.lease]);
      // Gone for good, even once its lease would have expired.
      assert.deepEqual(await hub.renewLeases('activity', items.map((i) => i.lease), 60_000), [false, false]);
      assert.deepEqual(await claimAllActivities(hub), []);
    });

    test('a stale lease completes nothing and delivers no message', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'o', ['a']);
      const [old] = await hub.claimActivities({ workerId: 'w1', limit: 1, leaseMs: 100 });
      assert.ok(old);
      const current = await eventually(async () => (await claimAllActivities(hub))[0], 're-claim of the activity');
      assert.deepEqual(await hub.completeActivities([completion(old, '"stale"')]), [false]);
      assert.deepEqual(await claimAll(hub), [], 'no result was delivered');
      assert.deepEqual(await hub.completeActivities([completion(current, '"fresh"')]), [true]);
      const orchestration = await claimOne(hub, 'o');
      assert.deepEqual(
        orchestration.messages.map((x) => (x.event.eventType === 'TaskCompleted' ? x.event.result : '?')),
        ['"fresh"'],
      );
    });

    test('a duplicate completion is a no-op, in separate calls and within one call', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'o', ['a', 'b']);
      const [a, b] = await claimAllActivities(hub);
      assert.ok(a && b);
      assert.deepEqual(await hub.completeActivities([completion(a)]), [true]);
      assert.deepEqual(await hub.completeActivities([completion(a)]), [false]);
      assert.deepEqual(await hub.completeActivities([completion(b), completion(b)]), [true, false]);
      const orchestration = await claimOne(hub, 'o');
      assert.deepEqual(types(orchestration.messages), ['TaskCompleted', 'TaskCompleted']);
    });

    test('a result for a purged instance is refused: the work item went with it', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'o', ['a']);
      const [a] = await claimAllActivities(hub);
      assert.ok(a);
      // Terminate and purge while the activity runs.
      await hub.sendMessages([eventMessage('o', 'stop')]);
      const item = await claimOne(hub, 'o');
      await hub.commitEpisodes([commitOf(item, { instance: { status: 'Terminated' } })]);
      await hub.purgeInstances({ instanceId: 'o' });
      assert.deepEqual(await hub.completeActivities([completion(a)]), [false], 'the purge removed the work item');
      assert.equal(await hub.getInstance('o'), undefined);
      assert.deepEqual(await claimAll(hub), []);
    });
  });

  describe('activity results taken from memory (leaseInstances + completedActivities)', () => {
    const lease = { workerId: 'w-mem', leaseMs: HOUR };

    test('leaseInstances leases a Running instance even with an empty inbox, and only once', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'm1', ['a']);
      const items = await hub.leaseInstances(['m1', 'missing'], lease);
      assert.deepEqual(items.map((i) => i.instance.instanceId), ['m1']);
      assert.deepEqual(items[0]!.messages, []);
      assert.deepEqual(await hub.leaseInstances(['m1'], { workerId: 'other', leaseMs: HOUR }), []);
    });

    test('leaseInstances returns visible messages and leaves instances that are not Running alone', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'm2', ['a']);
      await hub.sendMessages([eventMessage('m2', 'go', '1')]);
      await hub.createInstance(startRequest('pending'));
      await createWithStatus(hub, 'done', 'Completed');
      const items = await hub.leaseInstances(['m2', 'pending', 'done'], lease);
      assert.deepEqual(items.map((i) => i.instance.instanceId), ['m2']);
      assert.deepEqual(types(items[0]!.messages), ['EventRaised']);
    });

    test('an episode that consumed a result from memory deletes its work item in the same commit', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'm3', ['a']);
      const [activity] = await claimAllActivities(hub);
      const [item] = await hub.leaseInstances(['m3'], lease);
      const outcome = await hub.commitEpisodes([
        commitOf(item!, { history: [taskCompleted(activity!.taskId, '"r"')], completedActivities: [activity!.lease] }),
      ]);
      assert.deepEqual(outcome, ['committed']);
      assert.ok(types(await hub.getHistory('m3')).includes('TaskCompleted'));
      assert.deepEqual(await claimAllActivities(hub), []);
      assert.deepEqual(await hub.completeActivities([completion(activity!)]), [false], 'the work item is gone');
    });

    test('a stale activity lease makes the whole episode lease-lost and nothing is written', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'm4', ['a']);
      const [stale] = await claimAllActivities(hub);
      await hub.releaseActivities([stale!.lease]);
      const [current] = await claimAllActivities(hub);
      const [item] = await hub.leaseInstances(['m4'], lease);
      const before = await hub.getHistory('m4');
      const outcome = await hub.commitEpisodes([
        commitOf(item!, { history: [taskCompleted(stale!.taskId, '"late"')], completedActivities: [stale!.lease] }),
      ]);
      assert.deepEqual(outcome, ['lease-lost']);
      assert.deepEqual(await hub.getHistory('m4'), before);
      assert.deepEqual(await hub.completeActivities([completion(current!)]), [true], 'the current attempt still owns the work item');
    });
  });

  describe('releaseActivities', () => {
    test('makes an activity claimable again at once; a stale release does nothing', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'o', ['a']);
      const [first] = await claimAllActivities(hub);
      assert.ok(first);
      await hub.releaseActivities([first.lease]);
      const [second] = await claimAllActivities(hub);
      assert.ok(second);
      assert.equal(second.id, first.id);
      assert.equal(second.dequeueCount, 2);
      await hub.releaseActivities([first.lease]);
      assert.deepEqual(await claimAllActivities(hub), []);
      await hub.releaseActivities([]);
    });
  });

  describe('renewLeases (activities)', () => {
    test('extends a held lease and reports a lost one', async () => {
      const hub = freshHub(store());
      await withActivities(hub, 'o', ['long']);
      const [item] = await hub.claimActivities({ workerId: 'w', limit: 1, leaseMs: 300 });
      assert.ok(item);
      assert.deepEqual(await hub.renewLeases('activity', [item.lease], 60_000), [true]);
      await sleep(500);
      assert.deepEqual(await claimAllActivities(hub), [], 'the renewed lease still holds');
      assert.deepEqual(
        await hub.renewLeases('activity', [item.lease, { id: item.lease.id, epoch: item.lease.epoch + 1 }, { id: '999999999', epoch: 1 }], 1000),
        [true, false, false],
      );
    });
  });

  describe('nextVisibleAt', () => {
    test('is the earliest future message or lease expiry, and undefined when there is none', async () => {
      const hub = freshHub(store());
      assert.equal(await hub.nextVisibleAt(), undefined);
      await hub.createInstance(startRequest('n'));
      assert.equal(await hub.nextVisibleAt(), undefined, 'visible messages are not future work');
      const item = await claimOne(hub, 'n');
      await hub.commitEpisodes([commitOf(item)]);
      const inTwoHours = new Date(Date.now() + 2 * HOUR);
      const inOneHour = new Date(Date.now() + HOUR);
      await hub.sendMessages([eventMessage('n', 'late', undefined, inTwoHours), eventMessage('n', 'early', undefined, inOneHour)]);
      const next = await hub.nextVisibleAt();
      assert.ok(next);
      // Same machine: the store may translate database time, but not by more than clock rounding.
      assert.ok(Math.abs(next.getTime() - inOneHour.getTime()) < 5000, `${next.toISOString()} vs ${inOneHour.toISOString()}`);

      await withActivities(hub, 'acts', ['a']);
      await hub.claimActivities({ workerId: 'w', limit: 1, leaseMs: 10 * 60_000 });
      const leaseEnd = await hub.nextVisibleAt();
      assert.ok(leaseEnd);
      const expected = Date.now() + 10 * 60_000;
      assert.ok(Math.abs(leaseEnd.getTime() - expected) < 5000, 'a leased activity becomes visible when its lease ends');
    });

    test('with a look-back it also reports what became visible within it (due now)', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('n'));
      const item = await claimOne(hub, 'n');
      await hub.commitEpisodes([commitOf(item)]);
      const soon = new Date(Date.now() + 50);
      await hub.sendMessages([eventMessage('n', 'timer', undefined, soon)]);
      await sleep(150); // now visible
      assert.equal(await hub.nextVisibleAt(), undefined, 'without a look-back only the future counts');
      const due = await hub.nextVisibleAt(60_000);
      assert.ok(due, 'the message that became visible within the look-back is reported');
      assert.ok(Math.abs(due.getTime() - soon.getTime()) < 5000 && due.getTime() <= Date.now() + 1000, `${due.toISOString()} vs ${soon.toISOString()}`);
    });
  });

  describe('activities leased in the scheduling commit (activityLease)', () => {
    test('activities marked runHere are created leased to the committing worker; the others are claimable', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('o'));
      const item = await claimOne(hub, 'o');
      const executionId = item.instance.executionId;
      const lease = { workerId: 'w-here', leaseMs: 60_000, leased: [] as ActivityWorkItem[] };
      const outcome = await hub.commitEpisodes([
        commitOf(item, {
          activities: [
            { instanceId: 'o', executionId, taskId: 0, name: 'a', input: '"x"', runHere: true },
            { instanceId: 'o', executionId, taskId: 1, name: 'b' },
            { instanceId: 'o', executionId, taskId: 2, name: 'c', runHere: true },
          ],
          activityLease: lease,
        }),
      ]);
      assert.deepEqual(outcome, ['committed']);
      assert.deepEqual(
        lease.leased.map((a) => [a.name, a.taskId, a.input, a.instanceId, a.executionId, a.dequeueCount, a.lease.epoch]),
        [
          ['a', 0, '"x"', 'o', executionId, 1, 1],
          ['c', 2, undefined, 'o', executionId, 1, 1],
        ],
      );
      assert.deepEqual(lease.leased.map((a) => a.lease.id), lease.leased.map((a) => String(a.id)));
      // Leased: a claim sees only the other one.
      assert.deepEqual((await claimAllActivities(hub)).map((a) => a.name), ['b']);
      // The lease is a real one: it completes (once), and its result reaches the instance.
      const [first] = lease.leased;
      assert.deepEqual(await hub.completeActivities([completion(first!)]), [true]);
      assert.deepEqual(await hub.completeActivities([completion(first!)]), [false]);
      const next = await claimOne(hub, 'o');
      assert.deepEqual(types(next.messages), ['TaskCompleted']);
    });

    test('a commit that loses its lease leases nothing and creates no activity', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('o'));
      const item = await claimOne(hub, 'o', 1);
      await sleep(30);
      await claimOne(hub, 'o'); // another worker's lease
      const lease = { workerId: 'w-here', leaseMs: 60_000, leased: [] as ActivityWorkItem[] };
      const executionId = item.instance.executionId;
      const outcome = await hub.commitEpisodes([
        commitOf(item, { activities: [{ instanceId: 'o', executionId, taskId: 0, name: 'a', runHere: true }], activityLease: lease }),
      ]);
      assert.deepEqual(outcome, ['lease-lost']);
      assert.deepEqual(lease.leased, []);
      assert.deepEqual(await claimAllActivities(hub), []);
    });
  });

  describe('timers notice', () => {
    test('writing a message with a visibility time tells subscribers that timers changed; plain messages do not', async () => {
      const s = store();
      const hub = freshHub(s);
      await hub.createInstance(startRequest('o'));
      const item = await claimOne(hub, 'o');
      const seen: string[] = [];
      const unsubscribe = s.subscribe(hub.hub, (n) => seen.push(n.kind));
      try {
        await hub.sendMessages([eventMessage('o', 'now')]);
        assert.ok(!seen.includes('timers'), `no timers notice for a message visible now (saw ${seen.join(', ')})`);
        await hub.sendMessages([eventMessage('o', 'later', undefined, new Date(Date.now() + HOUR))]);
        await eventually(async () => (seen.includes('timers') ? true : undefined), 'a timers notice from sendMessages');
        seen.length = 0;
        const timer = { ...eventMessage('o', 'timer', undefined, new Date(Date.now() + HOUR)) };
        assert.deepEqual(await hub.commitEpisodes([commitOf(item, { messages: [timer] })]), ['committed']);
        await eventually(async () => (seen.includes('timers') ? true : undefined), 'a timers notice from commitEpisodes');
      } finally {
        unsubscribe();
      }
    });
  });
}
