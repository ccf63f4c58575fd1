/**
 * Conformance tests of `HubStore.childInstances`: the sub-orchestrations an instance's executions started (also
 * those of an execution a continue-as-new replaced), one level, paged by instance id, in one hub only; bad
 * arguments are a `ValidationError` on both stores.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeEvent } from '../../src/sdk/history.js';
import type { ChildInstancesOptions, HubStore, OrchestrationWorkItem, Store } from '../../src/store/store.js';
import { claimOne, commitOf, eventMessage, freshHub, marker, startRequest } from './conformance-fixtures.js';

/** The start of `childId` as a sub-orchestration of the execution `item` runs, with its SubOrchestrationInstanceCreated. */
function childOf(item: OrchestrationWorkItem, childId: string, taskScheduledId: number) {
  const parent = { name: item.instance.name, instanceId: item.instance.instanceId, executionId: item.instance.executionId, taskScheduledId };
  const request = startRequest(childId, { name: 'child', parent });
  const created = makeEvent({ eventType: 'SubOrchestrationInstanceCreated', eventId: taskScheduledId, name: 'child', instanceId: childId }, new Date());
  const conflict = { instanceId: parent.instanceId, event: makeEvent({ eventType: 'GenericEvent', data: 'conflict' }, new Date()) };
  return { start: { request, onConflict: conflict }, created };
}

/** Runs one episode of `parentId` that starts `childIds`; with `continueAsNew`, the episode then continues as new. */
async function startChildren(hub: HubStore, parentId: string, childIds: string[], continueAsNew = false): Promise<void> {
  const item = await claimOne(hub, parentId);
  const children = childIds.map((id, n) => childOf(item, id, n));
  const history = [marker(), ...item.messages.map((m) => m.event), ...children.map((c) => c.created)];
  const startInstances = children.map((c) => c.start);
  if (!continueAsNew) {
    assert.deepEqual(await hub.commitEpisodes([commitOf(item, { history, startInstances })]), ['committed']);
    return;
  }
  // Continue-as-new in the same episode: the history is replaced by the next execution's, which starts at once.
  const next = startRequest(parentId, { name: item.instance.name });
  const outcome = await hub.commitEpisodes([
    commitOf(item, {
      historyMode: 'replace',
      history: [],
      startInstances,
      messages: [{ instanceId: parentId, executionId: next.executionId, event: next.startEvent }],
      instance: { status: 'ContinuedAsNew', executionId: next.executionId },
    }),
  ]);
  assert.deepEqual(outcome, ['committed']);
}

/** The ids of one page of `parentId`'s children. */
async function childIds(hub: HubStore, parentId: string, options: ChildInstancesOptions = { limit: 1000 }): Promise<string[]> {
  return (await hub.childInstances(parentId, options)).map((r) => r.instanceId);
}

/** Declares the childInstances tests; `store()` is the store under test. */
export function childInstancesConformance(store: () => Store): void {
  describe('childInstances', () => {
    test("lists the children of every execution of a parent (not the grandchildren), in id order, with their records", async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('p', { name: 'parent' }));
      // The first execution starts two children, then continues as new; the second starts one more.
      await startChildren(hub, 'p', ['p-first-b', 'p-first-a'], true);
      await startChildren(hub, 'p', ['p-second']);
      await startChildren(hub, 'p-first-a', ['p-first-a-grand']);
      assert.deepEqual(
        (await hub.getHistory('p')).filter((e) => e.eventType === 'SubOrchestrationInstanceCreated').map((e) => 'instanceId' in e && e.instanceId),
        ['p-second'],
        "the current execution's history names only its own child",
      );
      assert.deepEqual(await childIds(hub, 'p'), ['p-first-a', 'p-first-b', 'p-second']);
      assert.deepEqual(await childIds(hub, 'p-first-a'), ['p-first-a-grand']);
      assert.deepEqual(await childIds(hub, 'p-second'), []);
      assert.deepEqual(await childIds(hub, 'none'), []);
      const [first] = await hub.childInstances('p', { limit: 1 });
      assert.equal(first?.parentInstanceId, 'p');
      assert.equal(first?.name, 'child');
      // Its start episode ran (it started the grandchild); the others are still Pending.
      assert.equal(first?.status, 'Running');
      assert.deepEqual(await hub.getInstance('p-first-a'), first);
      // A child that finished stays listed until it is purged.
      const done = await claimOne(hub, 'p-second');
      await hub.commitEpisodes([commitOf(done, { history: [marker(), done.messages[0]!.event], instance: { status: 'Completed' } })]);
      assert.deepEqual(await childIds(hub, 'p'), ['p-first-a', 'p-first-b', 'p-second']);
      assert.equal(await hub.purgeInstances({ instanceId: 'p-second' }), 1);
      assert.deepEqual(await childIds(hub, 'p'), ['p-first-a', 'p-first-b']);
    });

    test('pages by instance id (byte-wise, as both stores order ids)', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('q'));
      const ids = ['q-a', 'q-Z', 'q-é', 'q-b', 'q-1'];
      await startChildren(hub, 'q', ids);
      const sorted = ['q-1', 'q-Z', 'q-a', 'q-b', 'q-é'];
      assert.deepEqual(await childIds(hub, 'q'), sorted);
      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = await childIds(hub, 'q', { limit: 2, ...(after !== undefined ? { after } : {}) });
        if (page.length === 0) break;
        pages.push(page);
        after = page[page.length - 1];
      }
      assert.deepEqual(pages, [['q-1', 'q-Z'], ['q-a', 'q-b'], ['q-é']]);
      assert.deepEqual(await childIds(hub, 'q', { limit: 1000, after: 'q-a' }), ['q-b', 'q-é']);
      assert.deepEqual(await childIds(hub, 'q', { limit: 1000, after: '' }), sorted);
    });

    test('other hubs are not seen, and neither are instances that only share an id prefix or were started by a client', async () => {
      const store_ = store();
      const hub = freshHub(store_);
      const other = freshHub(store_);
      for (const h of [hub, other]) await h.createInstance(startRequest('r'));
      await startChildren(hub, 'r', ['r-mine']);
      await startChildren(other, 'r', ['r-theirs']);
      await hub.createInstance(startRequest('r-client'));
      await hub.createInstance(startRequest('rr'));
      await startChildren(hub, 'rr', ['rr-child']);
      assert.deepEqual(await childIds(hub, 'r'), ['r-mine']);
      assert.deepEqual(await childIds(other, 'r'), ['r-theirs']);
      assert.deepEqual(await childIds(hub, 'r-client'), []);
      // A message sent on to the parent changes nothing about its children.
      await hub.sendMessages([eventMessage('r', 'e')]);
      assert.deepEqual(await childIds(hub, 'r'), ['r-mine']);
    });

    test('bad arguments are a ValidationError and answer nothing', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('s'));
      await startChildren(hub, 's', ['s-child']);
      for (const limit of [0, -1, 1001, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number, undefined as unknown as number]) {
        await assert.rejects(hub.childInstances('s', { limit }), { name: 'ValidationError' }, `limit ${String(limit)}`);
      }
      await assert.rejects(hub.childInstances('s\u0000', { limit: 10 }), { name: 'ValidationError' });
      await assert.rejects(hub.childInstances(42 as unknown as string, { limit: 10 }), { name: 'ValidationError' });
      await assert.rejects(hub.childInstances('s', { limit: 10, after: 'a\u0000' }), { name: 'ValidationError' });
      await assert.rejects(hub.childInstances('s', { limit: 10, after: 7 as unknown as string }), { name: 'ValidationError' });
      assert.deepEqual(await childIds(hub, 's', { limit: 1 }), ['s-child']);
      assert.deepEqual(await childIds(hub, 's', { limit: 1000 }), ['s-child']);
    });
  });
}
