/**
 * Conformance tests of flow control in claims (issue 21): concurrency limits per name and key, rate limits per
 * period, FIFO per key, for activities and orchestrations; flow-controlled work is never leased at creation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ActivityWorkItem, FlowControl, HubStore, NewActivity, Store } from '../../src/store/store.js';
import { claimAll, claimOne, commitOf, freshHub, sleep, startRequest, taskCompleted } from './conformance-fixtures.js';

const claim = (hub: HubStore, limit = 100, leaseMs = 60_000): Promise<ActivityWorkItem[]> =>
  hub.claimActivities({ workerId: 'w-flow', limit, leaseMs });

/** Creates instance `id` with one committed episode that scheduled `activities` (task ids in order). */
async function schedule(hub: HubStore, id: string, activities: { name: string; flow?: FlowControl; priority?: number }[], runHere = false): Promise<ActivityWorkItem[]> {
  await hub.createInstance(startRequest(id));
  const item = await claimOne(hub, id);
  const executionId = item.instance.executionId;
  const news: NewActivity[] = activities.map((a, taskId) => ({
    instanceId: id,
    executionId,
    taskId,
    name: a.name,
    input: `${taskId}`,
    ...(a.flow ? { flow: a.flow } : {}),
    ...(a.priority !== undefined ? { priority: a.priority } : {}),
    ...(runHere ? { runHere: true } : {}),
  }));
  const activityLease = { workerId: 'w-here', leaseMs: 60_000, leased: [] as ActivityWorkItem[] };
  assert.deepEqual(await hub.commitEpisodes([commitOf(item, { activities: news, ...(runHere ? { activityLease } : {}) })]), ['committed']);
  return activityLease.leased;
}

const keyed = (key: string, limit: number): FlowControl => ({ concurrency: { key, limit } });
const tasks = (items: ActivityWorkItem[]) => items.map((a) => a.taskId).sort((x, y) => x - y);

/** Declares the flow control tests; `store()` is the store under test. */
export function flowConformance(store: () => Store): void {
  describe('flow control', () => {
    test('an activity key with `limit` leased is not claimed; other keys and plain activities are', async () => {
      const hub = freshHub(store());
      await schedule(hub, 'o', [
        { name: 'a', flow: keyed('k1', 2) },
        { name: 'a', flow: keyed('k1', 2) },
        { name: 'a', flow: keyed('k1', 2) },
        { name: 'a', flow: keyed('k2', 2) },
        { name: 'b' },
        { name: 'a', flow: keyed('k1', 2) },
        { name: 'b', flow: keyed('k1', 1) },
      ]);
      const first = await claim(hub);
      // k1 of 'a': the oldest two; k2: its one; 'b' (plain, and its own name's k1).
      assert.deepEqual(tasks(first), [0, 1, 3, 4, 6]);
      assert.deepEqual(await claim(hub), []);
      // A completion makes room for the next of its key, in order.
      const done = first.find((a) => a.taskId === 0)!;
      assert.deepEqual(
        await hub.completeActivities([{ lease: done.lease, message: { instanceId: 'o', executionId: done.executionId, event: taskCompleted(0, '1') } }]),
        [true],
      );
      assert.deepEqual(tasks(await claim(hub)), [2]);
      assert.deepEqual(await claim(hub), []);
      // So does a release.
      await hub.releaseActivities([first.find((a) => a.taskId === 1)!.lease]);
      assert.deepEqual(tasks(await claim(hub)), [1]);
    });

    test('one claim takes no more of a key than it has room for, and an expired lease frees its slot', async () => {
      const hub = freshHub(store());
      await schedule(hub, 'o', Array.from({ length: 5 }, () => ({ name: 'a', flow: keyed('k', 3) })));
      const first = await claim(hub, 100, 300);
      assert.deepEqual(tasks(first), [0, 1, 2]);
      assert.deepEqual(await claim(hub), []);
      await sleep(400);
      // The three leases expired: they are claimable again (before the two that never ran: FIFO by id).
      assert.deepEqual(tasks(await claim(hub, 2)), [0, 1]);
      assert.deepEqual(tasks(await claim(hub)), [2]);
      assert.deepEqual(await claim(hub), []);
    });

    test('a rate limit lets `limit` claims per period per key; nextVisibleAt names the end of the period', async () => {
      const hub = freshHub(store());
      const rate = (key: string): FlowControl => ({ rate: { key, limit: 2, periodMs: 600 } });
      await schedule(hub, 'o', [{ name: 'a', flow: rate('r') }, { name: 'a', flow: rate('r') }, { name: 'a', flow: rate('r') }, { name: 'a', flow: rate('s') }]);
      const first = await claim(hub);
      assert.deepEqual(tasks(first), [0, 1, 3]);
      // Claims count against the rate until the period ends, whatever became of them: 's' has one left.
      await hub.releaseActivities(first.map((a) => a.lease));
      assert.deepEqual(tasks(await claim(hub)), [3]);
      assert.deepEqual(await claim(hub), []);
      const next = await hub.nextVisibleAt();
      assert.ok(next && next.getTime() - Date.now() <= 700, `the rate's period ends within 600 ms, got ${next?.toISOString()}`);
      await sleep(700);
      assert.deepEqual(tasks(await claim(hub)), [0, 1]);
    });

    test("flowWaitingActivities: an instance's own unleased flow-controlled activities, with their keys' counts", async () => {
      const hub = freshHub(store());
      const rated: FlowControl = { rate: { key: 'r', limit: 1, periodMs: 60_000 } };
      await schedule(hub, 'o', [{ name: 'a', flow: keyed('k1', 1) }, { name: 'a', flow: keyed('k1', 1) }, { name: 'b' }, { name: 'a', flow: rated }, { name: 'a', flow: rated }]);
      await schedule(hub, 'p', [{ name: 'a', flow: keyed('k1', 1) }]);
      const first = await claim(hub);
      assert.deepEqual(first.map((a) => `${a.instanceId}#${a.taskId}`).sort(), ['o#0', 'o#2', 'o#3']);
      assert.deepEqual(await hub.flowWaitingActivities('o', 100), [
        { taskId: 1, name: 'a', flow: keyed('k1', 1), leased: 1, started: 0 },
        { taskId: 4, name: 'a', flow: rated, leased: 0, started: 1 },
      ]);
      assert.deepEqual(await hub.flowWaitingActivities('p', 100), [{ taskId: 0, name: 'a', flow: keyed('k1', 1), leased: 1, started: 0 }]);
      assert.deepEqual((await hub.flowWaitingActivities('o', 1)).map((a) => a.taskId), [1]);
      assert.deepEqual(await hub.flowWaitingActivities('none', 100), []);
      await assert.rejects(hub.flowWaitingActivities('o', 0), { name: 'ValidationError' });
      // The key's holder completes: the waiting one is still unleased, with nothing leased on its key.
      const done = first.find((a) => a.instanceId === 'o' && a.taskId === 0)!;
      assert.deepEqual(
        await hub.completeActivities([{ lease: done.lease, message: { instanceId: 'o', executionId: done.executionId, event: taskCompleted(0, '1') } }]),
        [true],
      );
      assert.deepEqual((await hub.flowWaitingActivities('o', 100))[0], { taskId: 1, name: 'a', flow: keyed('k1', 1), leased: 0, started: 0 });
    });

    test('a flow-controlled activity is created leased (runHere) only within its limits, oldest first', async () => {
      const hub = freshHub(store());
      const rated: FlowControl = { rate: { key: 'r', limit: 5, periodMs: 60_000 } };
      const leased = await schedule(hub, 'o', [{ name: 'a', flow: keyed('k', 1) }, { name: 'a', flow: keyed('k', 1) }, { name: 'b' }, { name: 'c', flow: rated }], true);
      const here = leased.filter((a) => a.name === 'a');
      // A store may lease the first of key k at the commit (the key had room), never the second.
      assert.ok(here.length <= 1 && (here.length === 0 || here[0]!.taskId === 0), `leased here: ${tasks(here)}`);
      assert.ok(leased.some((a) => a.name === 'b'), 'a plain activity is leased here');
      assert.ok(!leased.some((a) => a.name === 'c'), 'a rate-limited one is left to a claim, which counts it');
      const claimed = await claim(hub);
      assert.deepEqual(tasks([...here, ...claimed.filter((a) => a.name === 'a')]), [0], 'one of key k runs, the oldest');
      assert.deepEqual(tasks(claimed.filter((a) => a.name === 'c')), [3]);
    });

    test('an orchestration key with `limit` leased instances is not claimed; FIFO per key; a commit makes room', async () => {
      const hub = freshHub(store());
      const flow = keyed('tenant-1', 1);
      for (const id of ['i1', 'i2', 'i3']) {
        await hub.createInstance({ ...startRequest(id), flow }, { workerId: 'w-local', leaseMs: 60_000 }).then((item) => {
          assert.equal(item, undefined, 'a flow-controlled start is not leased at creation');
        });
        await sleep(5);
      }
      await hub.createInstance({ ...startRequest('j1'), flow: keyed('tenant-2', 1) });
      await hub.createInstance(startRequest('plain'));
      const first = await claimAll(hub);
      assert.deepEqual(first.map((i) => i.instance.instanceId).sort(), ['i1', 'j1', 'plain']);
      assert.deepEqual(await claimAll(hub), []);
      const i1 = first.find((i) => i.instance.instanceId === 'i1')!;
      assert.deepEqual(await hub.commitEpisodes([commitOf(i1)]), ['committed']);
      assert.deepEqual((await claimAll(hub)).map((i) => i.instance.instanceId), ['i2']);
      // leaseInstances never leases a flow-controlled instance past its limit.
      assert.deepEqual(await hub.leaseInstances(['i3'], { workerId: 'w', leaseMs: 60_000 }), []);
    });

    test('priorities: higher first within a name, FIFO within a priority, names take turns', async () => {
      const hub = freshHub(store());
      await schedule(hub, 'o', [
        { name: 'a', priority: 0 },
        { name: 'a', priority: 5 },
        { name: 'a', priority: 0 },
        { name: 'a', priority: 9 },
        { name: 'a', priority: 5 },
        { name: 'b' },
        { name: 'a', priority: 9 },
        { name: 'a', priority: 9 },
      ]);
      // Rank 1 of each name: a's first 9 (task 3) and b's only one (5); then a's second 9 (6).
      const order: number[] = [];
      for (;;) {
        const [next, ...more] = await claim(hub, 1);
        assert.equal(more.length, 0);
        if (!next) break;
        order.push(next.taskId);
      }
      assert.deepEqual(order, [3, 5, 6, 7, 1, 4, 0, 2]);
      // A claim of several takes the names' turns in one go.
      const hub2 = freshHub(store());
      await schedule(hub2, 'o', [...Array.from({ length: 5 }, () => ({ name: 'busy', priority: 9 })), { name: 'other' }]);
      assert.deepEqual(tasks(await claim(hub2, 2)), [0, 5], 'the busy high-priority name does not starve the other');
    });

    test('startNew priorities reorder the Pending backlog of a name', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('q', { name: 'other' }));
      for (const [id, priority] of [['p0', 0], ['p5', 5], ['p9', 9], ['p5b', 5]] as const) {
        await sleep(5);
        await hub.createInstance({ ...startRequest(id), priority });
      }
      // One claim of two takes each name's first: the other name's q, and p9 of the prioritized backlog.
      const two = await hub.claimOrchestrations({ workerId: 'w', limit: 2, leaseMs: 60_000 });
      assert.deepEqual(two.map((i) => i.instance.instanceId).sort(), ['p9', 'q']);
      await hub.releaseOrchestrations(two.map((i) => i.lease));
      const order: string[] = [];
      for (;;) {
        const items = await hub.claimOrchestrations({ workerId: 'w', limit: 1, leaseMs: 60_000 });
        if (!items[0]) break;
        order.push(items[0].instance.instanceId);
      }
      // Rank 1 of each name by age (q is older than p9), then the 5s in start order, then p0.
      assert.deepEqual(order, ['q', 'p9', 'p5', 'p5b', 'p0']);
    });

    test('debounceStart: a waiting start of the same name and key takes the later input and keeps its id and time', async () => {
      const hub = freshHub(store());
      const first = await hub.debounceStart(startRequest('d1', { input: '1' }), 'user-7', 400);
      assert.deepEqual(first, { instanceId: 'd1', replaced: false });
      const second = await hub.debounceStart(startRequest('d2', { input: '2' }), 'user-7', 400);
      assert.deepEqual(second, { instanceId: 'd1', replaced: true });
      // Another key, and another name with the same key, start their own.
      assert.deepEqual(await hub.debounceStart(startRequest('e1', { input: '9' }), 'user-8', 400), { instanceId: 'e1', replaced: false });
      assert.deepEqual(await hub.debounceStart(startRequest('f1', { name: 'other', input: '9' }), 'user-7', 400), { instanceId: 'f1', replaced: false });
      assert.equal(await hub.getInstance('d2'), undefined, 'the replacing start stored nothing of its own');
      assert.equal((await hub.getInstance('d1'))?.input, '2');
      assert.equal((await hub.getInstance('d1'))?.status, 'Pending');
      assert.deepEqual(await claimAll(hub), [], 'not started before the delay');
      const next = await hub.nextVisibleAt();
      assert.ok(next && next.getTime() - Date.now() <= 450);
      await sleep(450);
      const items = await claimAll(hub);
      const d1 = items.find((i) => i.instance.instanceId === 'd1');
      assert.ok(d1);
      const started = d1.messages.find((m) => m.event.eventType === 'ExecutionStarted')?.event as { input?: string } | undefined;
      assert.equal(started?.input, '2', 'the start message carries the latest input');
      // Once it started, a later call starts a new instance.
      assert.deepEqual(await hub.debounceStart(startRequest('d3', { input: '3' }), 'user-7', 400), { instanceId: 'd3', replaced: false });
    });

    test("an orchestration's rate limit counts first starts", async () => {
      const hub = freshHub(store());
      const flow: FlowControl = { rate: { key: '', limit: 2, periodMs: 60_000 } };
      for (const id of ['r1', 'r2', 'r3']) {
        await hub.createInstance({ ...startRequest(id), flow });
        await sleep(5);
      }
      const first = await claimAll(hub);
      assert.deepEqual(first.map((i) => i.instance.instanceId).sort(), ['r1', 'r2']);
      // Their later episodes are not rate-limited: commit them Running with a message each, claim again.
      assert.deepEqual(
        await hub.commitEpisodes(first.map((i) => commitOf(i, { messages: [{ instanceId: i.instance.instanceId, event: taskCompleted(0) }] }))),
        ['committed', 'committed'],
      );
      assert.deepEqual((await claimAll(hub)).map((i) => i.instance.instanceId).sort(), ['r1', 'r2']);
      const stored = await hub.getInstance('r3');
      assert.equal(stored?.status, 'Pending');
    });
  });
}
