/**
 * Conformance tests of store notices and of task hub isolation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Store, StoreNotice } from '../../src/store/store.js';
import {
  claimAll,
  claimAllActivities,
  claimOne,
  commitOf,
  eventMessage,
  freshHub,
  startRequest,
  taskCompleted,
} from './conformance-fixtures.js';

/** Declares the notice and isolation tests; `store()` is the store under test. */
export function hubConformance(store: () => Store): void {
  describe('subscribe', () => {
    test('notifies work and status changes of its own hub at once, until unsubscribed', async () => {
      const s = store();
      const hub = freshHub(s);
      const other = freshHub(s);
      const seen: StoreNotice[] = [];
      const otherSeen: StoreNotice[] = [];
      const unsubscribe = s.subscribe(hub.hub, (n) => seen.push(n));
      const unsubscribeOther = s.subscribe(other.hub, (n) => otherSeen.push(n));
      const take = () => seen.splice(0, seen.length);
      try {
        await hub.createInstance(startRequest('n1'));
        assert.deepEqual(sortNotices(take()), [{ kind: 'instance', instanceId: 'n1', status: 'Pending' }, { kind: 'orchestrations' }]);

        const item = await claimOne(hub, 'n1');
        take();
        const executionId = item.instance.executionId;
        await hub.commitEpisodes([
          commitOf(item, {
            activities: [0, 1, 2].map((taskId) => ({ instanceId: 'n1', executionId, taskId, name: 'a' })),
          }),
        ]);
        assert.deepEqual(sortNotices(take()), [{ kind: 'activities' }, { kind: 'instance', instanceId: 'n1', status: 'Running' }]);

        const activities = await claimAllActivities(hub);
        take();
        await hub.completeActivities(
          activities.map((a) => ({ lease: a.lease, message: { instanceId: 'n1', event: taskCompleted(a.taskId) } })),
        );
        assert.deepEqual(take(), [{ kind: 'orchestrations' }]);

        const next = await claimOne(hub, 'n1');
        take();
        await hub.releaseOrchestrations([next.lease]);
        assert.deepEqual(take(), [{ kind: 'orchestrations' }]);
        const again = await claimOne(hub, 'n1');
        take();
        await hub.commitEpisodes([commitOf(again, { instance: { status: 'Completed', output: '1' } })]);
        // A terminal status carries the row as written, so in-process waiters need no read.
        const [completed, ...rest] = take();
        assert.deepEqual(rest, []);
        assert.ok(completed?.kind === 'instance' && completed.final, `no final state: ${JSON.stringify(completed)}`);
        const { final, ...notice } = completed;
        assert.deepEqual(notice, { kind: 'instance', instanceId: 'n1', status: 'Completed' });
        const row = (await hub.getInstance('n1'))!;
        assert.equal(final.status, 'Completed');
        assert.equal(final.output, '1');
        assert.equal(final.executionId, row.executionId);
        assert.equal(final.lastUpdatedAt.getTime(), row.lastUpdatedAt.getTime(), 'the stored last-update time');

        // Messages to one instance name it: a worker holding that instance needs no claim for them.
        await hub.sendMessages([eventMessage('n1', 'late')]);
        assert.deepEqual(take(), [{ kind: 'orchestrations', instanceId: 'n1' }]);

        await hub.createInstance(startRequest('n2'));
        const n2 = await claimOne(hub, 'n2');
        await hub.commitEpisodes([commitOf(n2, { activities: [{ instanceId: 'n2', executionId: n2.instance.executionId, taskId: 0, name: 'a' }] })]);
        const [act] = await claimAllActivities(hub);
        assert.ok(act);
        take();
        await hub.releaseActivities([act.lease]);
        assert.deepEqual(take(), [{ kind: 'activities' }]);

        await hub.createInstance(startRequest('n4'));
        take();
        assert.equal(await hub.sendToLiveInstance(eventMessage('n4', 'raised')), 'Pending');
        assert.deepEqual(take(), [{ kind: 'orchestrations', instanceId: 'n4' }]);
        // Messages to several instances name none.
        await hub.sendMessages([eventMessage('n4', 'x'), eventMessage('n2', 'y')]);
        assert.deepEqual(take(), [{ kind: 'orchestrations' }]);
        // A send refused (terminal instance) announces nothing.
        assert.equal(await hub.sendToLiveInstance(eventMessage('n1', 'too late')), 'Completed');
        assert.deepEqual(take(), []);

        assert.deepEqual(otherSeen, [], 'another hub hears nothing');
        unsubscribe();
        await hub.sendMessages([eventMessage('n1', 'unheard')]);
        await hub.createInstance(startRequest('n3'));
        assert.deepEqual(seen, []);
      } finally {
        unsubscribe();
        unsubscribeOther();
      }
    });
  });

  describe('task hub isolation', () => {
    test('two hubs in one store never see each other’s instances or work', async () => {
      const s = store();
      const a = freshHub(s);
      const b = freshHub(s);
      await a.createInstance(startRequest('same', { input: '"a"' }));
      await b.createInstance(startRequest('same', { input: '"b"' }));
      await a.createInstance(startRequest('only-a'));
      assert.equal((await a.getInstance('same'))?.input, '"a"');
      assert.equal((await b.getInstance('same'))?.input, '"b"');
      assert.equal(await b.getInstance('only-a'), undefined);

      await b.sendMessages([eventMessage('only-a', 'lost')]);
      const aItems = await claimAll(a);
      assert.deepEqual(aItems.map((i) => i.instance.instanceId).sort(), ['only-a', 'same']);
      assert.ok(aItems.every((i) => i.messages.length === 1), 'the message sent through hub b never reached hub a');
      const same = aItems.find((i) => i.instance.instanceId === 'same')!;
      const onlyA = aItems.find((i) => i.instance.instanceId === 'only-a')!;
      const outcomes = await a.commitEpisodes([
        commitOf(same, {
          history: [same.messages[0]!.event],
          activities: [{ instanceId: 'same', executionId: same.instance.executionId, taskId: 0, name: 'act' }],
          messages: [eventMessage('same', 'timer', undefined, new Date(Date.now() + 3_600_000))],
        }),
        commitOf(onlyA, { instance: { status: 'Completed' } }),
      ]);
      assert.deepEqual(outcomes, ['committed', 'committed']);
      await a.registerWorker('wa', { orchestrations: ['orch'], activities: ['act'], entities: [] });

      // Hub b: its own instance is still claimable, none of a's work is.
      assert.deepEqual(await claimAllActivities(b), []);
      assert.equal(await b.nextVisibleAt(), undefined);
      assert.equal(await b.getRegisteredNames(), undefined);
      assert.deepEqual(await b.getHistory('same'), []);
      assert.deepEqual((await b.queryInstances({})).instances.map((r) => r.instanceId), ['same']);
      assert.equal(await b.purgeInstances({}), 0);
      const bItems = await claimAll(b);
      assert.deepEqual(bItems.map((i) => [i.instance.instanceId, i.instance.input]), [['same', '"b"']]);
      // Hub a's state is untouched by everything done in b.
      assert.equal(await a.purgeInstances({}), 1);
      assert.equal(await a.getInstance('only-a'), undefined);
      assert.equal((await a.getInstance('same'))?.status, 'Running');
      assert.equal((await b.getInstance('same'))?.status, 'Pending');
    });
  });
}

/** Orders notices so a test need not depend on emission order within one call. */
function sortNotices(notices: StoreNotice[]): StoreNotice[] {
  return [...notices].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
}
