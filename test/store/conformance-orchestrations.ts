/**
 * Conformance tests of orchestration work: claims, leases, fenced episode commits and releases.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeEvent } from '../../src/sdk/history.js';
import type { ActivityLeaseRequest, OrchestrationWorkItem, Store } from '../../src/store/store.js';
import {
  claimAll,
  claimAllActivities,
  claimOne,
  commitOf,
  createWithStatus,
  eventMessage,
  eventually,
  freshHub,
  marker,
  scheduled,
  sleep,
  startRequest,
  taskCompleted,
  types,
} from './conformance-fixtures.js';

const HOUR = 3_600_000;

/** Declares the orchestration-work tests; `store()` is the store under test. */
export function orchestrationConformance(store: () => Store): void {
  describe('claimOrchestrations', () => {
    test('claims only instances with visible messages, and only the visible messages', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'idle', 'Running');
      await createWithStatus(hub, 'later', 'Running');
      await createWithStatus(hub, 'now', 'Running');
      await hub.sendMessages([
        eventMessage('later', 'timer', undefined, new Date(Date.now() + HOUR)),
        eventMessage('now', 'due', undefined, new Date(Date.now() - 1000)),
        eventMessage('now', 'future', undefined, new Date(Date.now() + HOUR)),
      ]);
      const items = await claimAll(hub);
      assert.deepEqual(
        items.map((i) => i.instance.instanceId),
        ['now'],
      );
      assert.deepEqual(
        items[0]!.messages.map((m) => (m.event.eventType === 'EventRaised' ? m.event.name : '?')),
        ['due'],
      );
      assert.equal(items[0]!.instance.status, 'Running');
      assert.equal(items[0]!.lease.id, 'now');
    });

    test('filters by orchestration name and respects the limit', async () => {
      const hub = freshHub(store());
      for (const n of [1, 2, 3]) await hub.createInstance(startRequest(`a${n}`, { name: 'alpha' }));
      await hub.createInstance(startRequest('b1', { name: 'beta' }));
      const none = await hub.claimOrchestrations({ workerId: 'w', names: [], limit: 10, leaseMs: 60_000 });
      assert.deepEqual(none, []);
      const betas = await hub.claimOrchestrations({ workerId: 'w', names: ['beta', 'gamma'], limit: 10, leaseMs: 60_000 });
      assert.deepEqual(
        betas.map((i) => i.instance.instanceId),
        ['b1'],
      );
      const two = await hub.claimOrchestrations({ workerId: 'w', names: ['alpha'], limit: 2, leaseMs: 60_000 });
      assert.equal(two.length, 2);
      const last = await hub.claimOrchestrations({ workerId: 'w', names: ['alpha'], limit: 2, leaseMs: 60_000 });
      assert.equal(last.length, 1);
      assert.deepEqual(
        [...two, ...last].map((i) => i.instance.instanceId).sort(),
        ['a1', 'a2', 'a3'],
      );
    });

    test('a suspended instance is claimable only for a resume or terminate message', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'sus', 'Suspended');
      await hub.sendMessages([eventMessage('sus', 'ignored-for-now')]);
      assert.deepEqual(await claimAll(hub), []);
      await hub.sendMessages([{ instanceId: 'sus', event: makeEvent({ eventType: 'ExecutionResumed', reason: 'go' }, new Date()) }]);
      const item = await claimOne(hub, 'sus');
      assert.ok(types(item.messages).includes('ExecutionResumed'));
      await hub.commitEpisodes([commitOf(item, { consumedMessageIds: [], instance: { status: 'Suspended' } })]);

      await createWithStatus(hub, 'sus2', 'Suspended');
      await hub.sendMessages([eventMessage('sus2', 'x')]);
      assert.deepEqual(
        (await claimAll(hub)).map((i) => i.instance.instanceId),
        ['sus'],
        'sus still has its resume message; sus2 has none',
      );
      await hub.sendMessages([{ instanceId: 'sus2', event: makeEvent({ eventType: 'ExecutionTerminated', input: '"stop"' }, new Date()) }]);
      const terminated = await claimOne(hub, 'sus2');
      assert.ok(types(terminated.messages).includes('ExecutionTerminated'));
    });

    test('a lease is exclusive until it expires, then the instance is claimable again', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('lease'));
      const first = await hub.claimOrchestrations({ workerId: 'w1', limit: 10, leaseMs: 200 });
      assert.equal(first.length, 1);
      assert.deepEqual(await hub.claimOrchestrations({ workerId: 'w2', limit: 10, leaseMs: 60_000 }), []);
      const second = await eventually(async () => {
        const items = await hub.claimOrchestrations({ workerId: 'w2', limit: 10, leaseMs: 60_000 });
        return items.length ? items : undefined;
      }, 'the expired lease');
      assert.equal(second[0]!.instance.instanceId, 'lease');
      assert.notEqual(second[0]!.lease.epoch, first[0]!.lease.epoch);
      assert.deepEqual(types(second[0]!.messages), ['ExecutionStarted']);
      // The first holder is fenced out; the second commits.
      assert.deepEqual(await hub.commitEpisodes([commitOf(first[0]!, { history: [marker()] })]), ['lease-lost']);
      assert.deepEqual(await hub.commitEpisodes([commitOf(second[0]!, { history: [second[0]!.messages[0]!.event] })]), [
        'committed',
      ]);
      assert.deepEqual(types(await hub.getHistory('lease')), ['ExecutionStarted']);
    });

    test('concurrent claims never return the same instance twice', async () => {
      const hub = freshHub(store());
      const ids = Array.from({ length: 30 }, (_, n) => `c${n}`);
      await Promise.all(ids.map((id) => hub.createInstance(startRequest(id))));
      const claimed: OrchestrationWorkItem[] = [];
      for (let round = 0; round < 20 && claimed.length < ids.length; round++) {
        const batches = await Promise.all(
          Array.from({ length: 5 }, (_, w) => hub.claimOrchestrations({ workerId: `w${w}`, limit: 4, leaseMs: 60_000 })),
        );
        claimed.push(...batches.flat());
      }
      const claimedIds = claimed.map((i) => i.instance.instanceId);
      assert.equal(new Set(claimedIds).size, claimedIds.length, 'an instance was claimed twice');
      assert.deepEqual([...claimedIds].sort(), [...ids].sort());
    });
  });

  describe('createInstance leased at creation', () => {
    test('returns the work item a claim would give, and no other worker can claim the instance meanwhile', async () => {
      const hub = freshHub(store());
      const request = startRequest('leased', { name: 'alpha', input: '"in"', version: '2' });
      assert.equal(await hub.createInstance(startRequest('plain')), undefined, 'a start without a lease has no work item');
      const item = await hub.createInstance(request, { workerId: 'w1', leaseMs: 60_000 });
      assert.ok(item, 'a leased start answers its work item');
      assert.equal(item.lease.id, 'leased');
      assert.deepEqual(
        { ...item.instance, createdAt: undefined, lastUpdatedAt: undefined },
        { instanceId: 'leased', name: 'alpha', version: '2', executionId: request.executionId, status: 'Pending', input: '"in"', historyLength: 0, createdAt: undefined, lastUpdatedAt: undefined },
      );
      const stored = (await hub.getInstance('leased'))!;
      assert.equal(item.instance.createdAt.getTime(), stored.createdAt.getTime());
      assert.deepEqual(types(item.messages), ['ExecutionStarted']);
      assert.deepEqual(item.messages[0]!.event, request.startEvent);
      assert.equal(item.messages[0]!.executionId, request.executionId);
      // Leased: claims take only the plain start.
      const claimed = await claimAll(hub);
      assert.deepEqual(claimed.map((i) => i.instance.instanceId), ['plain']);
      // The message id is the stored one: the commit that consumes it leaves an empty inbox.
      assert.deepEqual(await hub.commitEpisodes([commitOf(item, { history: [item.messages[0]!.event] })]), ['committed']);
      assert.deepEqual(types(await hub.getHistory('leased')), ['ExecutionStarted']);
      assert.equal((await hub.getInstance('leased'))!.status, 'Running');
      assert.deepEqual(await hub.claimOrchestrations({ workerId: 'w2', limit: 10, leaseMs: 60_000 }), []);
    });

    test('a released or expired start lease lets any worker claim it; the old holder is fenced', async () => {
      const hub = freshHub(store());
      const released = (await hub.createInstance(startRequest('released'), { workerId: 'w1', leaseMs: 60_000 }))!;
      await hub.releaseOrchestrations([released.lease]);
      const [claimed] = await claimAll(hub);
      assert.equal(claimed?.instance.instanceId, 'released');
      assert.deepEqual(types(claimed!.messages), ['ExecutionStarted']);

      const expired = (await hub.createInstance(startRequest('expired'), { workerId: 'w1', leaseMs: 200 }))!;
      const taken = await eventually(async () => (await claimAll(hub)).find((i) => i.instance.instanceId === 'expired'), 'the expired start lease');
      assert.notEqual(taken.lease.epoch, expired.lease.epoch);
      assert.deepEqual(await hub.commitEpisodes([commitOf(expired, { history: [marker()] })]), ['lease-lost']);
      assert.deepEqual(await hub.getHistory('expired'), []);
    });

    test('a leased start that conflicts throws and leases nothing; one over a terminal instance gets a new epoch', async () => {
      const hub = freshHub(store());
      const first = (await hub.createInstance(startRequest('x'), { workerId: 'w1', leaseMs: 60_000 }))!;
      await assert.rejects(hub.createInstance(startRequest('x'), { workerId: 'w2', leaseMs: 60_000 }), { name: 'InstanceAlreadyExistsError' });
      assert.deepEqual(await hub.commitEpisodes([commitOf(first, { history: [first.messages[0]!.event], instance: { status: 'Completed' } })]), ['committed']);
      const again = startRequest('x');
      const second = (await hub.createInstance(again, { workerId: 'w2', leaseMs: 60_000 }))!;
      assert.notEqual(second.lease.epoch, first.lease.epoch);
      assert.equal(second.instance.executionId, again.executionId);
      assert.deepEqual(types(second.messages), ['ExecutionStarted']);
      assert.deepEqual(await hub.getHistory('x'), [], 'the overwritten execution left no history');
      assert.deepEqual(await hub.commitEpisodes([commitOf(first, { history: [marker()] })]), ['lease-lost']);
    });

    test('a leased start announces its status but no orchestration work', async () => {
      const s = store();
      const hub = freshHub(s);
      const seen: string[] = [];
      const unsubscribe = s.subscribe(hub.hub, (n) => seen.push(n.kind));
      try {
        await hub.createInstance(startRequest('quiet'), { workerId: 'w1', leaseMs: 60_000 });
        await eventually(async () => (seen.includes('instance') ? true : undefined), 'the status notice');
        await sleep(50);
        assert.ok(!seen.includes('orchestrations'), `notices: ${seen.join(', ')}`);
        await hub.createInstance(startRequest('loud'));
        await eventually(async () => (seen.includes('orchestrations') ? true : undefined), 'the work notice of a plain start');
      } finally {
        unsubscribe();
      }
    });
  });

  describe('commitEpisodes', () => {
    test('keepInput leaves the stored input as it is; without it the input is written (or cleared)', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('keep', { input: '{"big":"input"}' }));
      let item = await claimOne(hub, 'keep');
      // Even an input sent along is ignored when kept.
      assert.deepEqual(await hub.commitEpisodes([commitOf(item, { history: [marker()], instance: { input: '"ignored"', keepInput: true } })]), ['committed']);
      assert.equal((await hub.getInstance('keep'))!.input, '{"big":"input"}');
      // The same through the general commit path (a sub-orchestration start in the same commit).
      await hub.sendMessages([eventMessage('keep', 'e')]);
      item = await claimOne(hub, 'keep');
      const child = { request: startRequest('keep-child'), onConflict: eventMessage('keep', 'conflict') };
      const kept = commitOf(item, { history: [marker()], startInstances: [child], instance: { keepInput: true } });
      delete kept.instance.input;
      assert.deepEqual(await hub.commitEpisodes([kept]), ['committed']);
      assert.equal((await hub.getInstance('keep'))!.input, '{"big":"input"}');
      // Without keepInput the update writes what it has: a new input, or none.
      await hub.sendMessages([eventMessage('keep', 'e2')]);
      assert.deepEqual(await hub.commitEpisodes([commitOf(await claimOne(hub, 'keep'), { instance: { input: '"new"' } })]), ['committed']);
      assert.equal((await hub.getInstance('keep'))!.input, '"new"');
      await hub.sendMessages([eventMessage('keep', 'e3')]);
      const cleared = commitOf(await claimOne(hub, 'keep'));
      delete cleared.instance.input;
      assert.deepEqual(await hub.commitEpisodes([cleared]), ['committed']);
      assert.equal((await hub.getInstance('keep'))!.input, undefined);
    });

    test('appends history and updates the instance', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('app', { input: '"x"' }));
      const item = await claimOne(hub, 'app');
      const first = [marker(), item.messages[0]!.event, scheduled(0, 'act')];
      assert.deepEqual(
        await hub.commitEpisodes([commitOf(item, { history: first, instance: { status: 'Running', customStatus: '"step1"' } })]),
        ['committed'],
      );
      let record = await hub.getInstance('app');
      assert.equal(record?.status, 'Running');
      assert.equal(record?.customStatus, '"step1"');
      assert.equal(record?.historyLength, 3);
      assert.ok(record && record.lastUpdatedAt >= record.createdAt);

      await hub.sendMessages([{ instanceId: 'app', event: taskCompleted(0, '"r"') }]);
      const next = await claimOne(hub, 'app');
      assert.equal(next.instance.historyLength, 3);
      assert.equal(next.instance.customStatus, '"step1"');
      const failure = { errorType: 'Error', message: 'boom', stack: 'at x' };
      const second = [marker(), next.messages[0]!.event];
      await hub.commitEpisodes([
        commitOf(next, { history: second, instance: { status: 'Failed', failureDetails: failure, version: '3' } }),
      ]);
      assert.deepEqual(await hub.getHistory('app'), [...first, ...second]);
      record = await hub.getInstance('app');
      assert.equal(record?.status, 'Failed');
      assert.deepEqual(record?.failureDetails, failure);
      assert.equal(record?.version, '3');
      assert.equal(record?.input, '"x"');
      assert.equal(record?.customStatus, undefined, 'fields left out of the update are cleared');
      assert.equal(record?.historyLength, 5);
    });

    test('replace starts a new history (continue-as-new)', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('can', { input: '1' }));
      const item = await claimOne(hub, 'can');
      await hub.commitEpisodes([commitOf(item, { history: [marker(), item.messages[0]!.event, marker()] })]);
      await hub.sendMessages([eventMessage('can', 'go')]);
      const next = await claimOne(hub, 'can');
      const restarted = startRequest('can', { input: '2' });
      await hub.commitEpisodes([
        commitOf(next, {
          historyMode: 'replace',
          history: [restarted.startEvent],
          instance: { status: 'Running', executionId: restarted.executionId, input: '2', output: '"out"' },
        }),
      ]);
      assert.deepEqual(await hub.getHistory('can'), [restarted.startEvent]);
      const record = await hub.getInstance('can');
      assert.equal(record?.historyLength, 1);
      assert.equal(record?.executionId, restarted.executionId);
      assert.equal(record?.input, '2');
      assert.equal(record?.output, '"out"');
    });

    test('deletes consumed messages and keeps the others', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('consume'));
      await hub.sendMessages([eventMessage('consume', 'a'), eventMessage('consume', 'b')]);
      const item = await claimOne(hub, 'consume');
      assert.equal(item.messages.length, 3);
      // Consume the start and 'a'; 'b' and a message that arrives during the episode stay.
      await hub.sendMessages([eventMessage('consume', 'during')]);
      await hub.commitEpisodes([commitOf(item, { consumedMessageIds: [item.messages[0]!.id, item.messages[1]!.id] })]);
      const next = await claimOne(hub, 'consume');
      assert.deepEqual(
        next.messages.map((m) => (m.event.eventType === 'EventRaised' ? m.event.name : m.event.eventType)),
        ['b', 'during'],
      );
    });

    test('creates activities', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('acts'));
      const item = await claimOne(hub, 'acts');
      const executionId = item.instance.executionId;
      await hub.commitEpisodes([
        commitOf(item, {
          activities: [
            { instanceId: 'acts', executionId, taskId: 0, name: 'first', input: '"a"' },
            { instanceId: 'acts', executionId, taskId: 1, name: 'second' },
          ],
        }),
      ]);
      const activities = await claimAllActivities(hub);
      assert.deepEqual(
        activities.map((a) => [a.instanceId, a.executionId, a.taskId, a.name, a.input, a.dequeueCount]),
        [
          ['acts', executionId, 0, 'first', '"a"', 1],
          ['acts', executionId, 1, 'second', undefined, 1],
        ],
      );
      assert.equal('input' in activities[1]!, false);
      assert.ok(activities.every((a) => typeof a.id === 'number' && a.lease.id === String(a.id)));
    });

    test('timer messages stay invisible until due', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('timer'));
      const item = await claimOne(hub, 'timer');
      const timer = (timerId: number, fireAt: Date) => ({
        instanceId: 'timer',
        event: makeEvent({ eventType: 'TimerFired', timerId, fireAt: fireAt.toISOString() }, fireAt),
        visibleAt: fireAt,
      });
      const near = new Date(Date.now() + 1500);
      await hub.commitEpisodes([commitOf(item, { messages: [timer(0, new Date(Date.now() + HOUR)), timer(1, near)] })]);
      assert.deepEqual(await claimAll(hub), [], 'no timer is due yet');
      const fired = await eventually(async () => {
        const items = await claimAll(hub);
        return items.length ? items : undefined;
      }, 'the near timer');
      // Clocks of the database and this process may differ by rounding only (same machine).
      assert.ok(Date.now() >= near.getTime() - 20, 'claimed before its time');
      assert.deepEqual(
        fired[0]!.messages.map((m) => (m.event.eventType === 'TimerFired' ? m.event.timerId : -1)),
        [1],
      );
    });

    test('starts sub-instances, and sends onConflict instead when the id is live', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('parent'));
      await hub.createInstance(startRequest('busy-child'));
      const item = await claimOne(hub, 'parent');
      const parent = { name: 'orch', instanceId: 'parent', executionId: item.instance.executionId, taskScheduledId: 0 };
      const child = startRequest('child', { name: 'kid', input: '7', parent });
      const conflict = startRequest('busy-child', { parent });
      const onConflict = (name: string) => eventMessage('parent', name);
      await hub.commitEpisodes([
        commitOf(item, {
          startInstances: [
            { request: child, onConflict: onConflict('child-conflict') },
            { request: conflict, onConflict: onConflict('busy-conflict') },
          ],
        }),
      ]);
      const record = await hub.getInstance('child');
      assert.equal(record?.status, 'Pending');
      assert.equal(record?.name, 'kid');
      assert.equal(record?.parentInstanceId, 'parent');
      assert.equal(record?.input, '7');
      const items = await claimAll(hub);
      const byId = new Map(items.map((i) => [i.instance.instanceId, i]));
      assert.deepEqual(
        byId.get('child')?.messages.map((m) => m.event),
        [child.startEvent],
      );
      assert.deepEqual(
        byId.get('parent')?.messages.map((m) => (m.event.eventType === 'EventRaised' ? m.event.name : '?')),
        ['busy-conflict'],
      );
      assert.deepEqual(types(byId.get('busy-child')?.messages ?? []), ['ExecutionStarted'], 'the live child is untouched');
    });

    test('a stale lease commits nothing and reports lease-lost', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('stale'));
      await createWithStatus(hub, 'target', 'Running');
      const old = await claimOne(hub, 'stale', 100);
      const current = await eventually(async () => {
        const items = await claimAll(hub);
        return items.find((i) => i.instance.instanceId === 'stale');
      }, 're-claim after the lease expired');
      const outcome = await hub.commitEpisodes([
        commitOf(old, {
          history: [old.messages[0]!.event, marker()],
          instance: { status: 'Completed', output: '"wrong"' },
          activities: [{ instanceId: 'stale', executionId: old.instance.executionId, taskId: 0, name: 'nope' }],
          messages: [eventMessage('target', 'nope')],
          startInstances: [{ request: startRequest('nope-child'), onConflict: eventMessage('stale', 'nope') }],
        }),
      ]);
      assert.deepEqual(outcome, ['lease-lost']);
      const record = await hub.getInstance('stale');
      assert.equal(record?.status, 'Pending');
      assert.equal(record?.historyLength, 0);
      assert.deepEqual(await hub.getHistory('stale'), []);
      assert.deepEqual(await claimAllActivities(hub), []);
      assert.equal(await hub.getInstance('nope-child'), undefined);
      assert.deepEqual(await claimAll(hub), [], 'no message reached target');
      // The start message was not consumed: the current holder still commits it.
      assert.deepEqual(types(current.messages), ['ExecutionStarted']);
      assert.deepEqual(await hub.commitEpisodes([commitOf(current, { history: [current.messages[0]!.event] })]), ['committed']);
    });

    test('a stale lease on an ordinary step (history, activities, a message, a timer) writes nothing', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('plain'));
      await createWithStatus(hub, 'peer', 'Running');
      const old = await claimOne(hub, 'plain', 100);
      const current = await eventually(async () => (await claimAll(hub)).find((i) => i.instance.instanceId === 'plain'), 're-claim');
      const activities = [
        { instanceId: 'plain', executionId: old.instance.executionId, taskId: 0, name: 'here', runHere: true },
        { instanceId: 'plain', executionId: old.instance.executionId, taskId: 1, name: 'anywhere' },
      ];
      const activityLease: ActivityLeaseRequest = { workerId: 'w-stale', leaseMs: 60_000, leased: [] };
      const outcome = await hub.commitEpisodes([
        commitOf(old, {
          history: [old.messages[0]!.event, marker(), scheduled(0, 'here'), scheduled(1, 'anywhere')],
          instance: { status: 'Running' },
          activities,
          activityLease,
          messages: [eventMessage('peer', 'nope'), eventMessage('plain', 'timer', undefined, new Date(Date.now() + 50))],
        }),
      ]);
      assert.deepEqual(outcome, ['lease-lost']);
      assert.deepEqual(activityLease.leased, [], 'nothing was leased to the stale worker');
      assert.equal((await hub.getInstance('plain'))?.status, 'Pending');
      assert.deepEqual(await hub.getHistory('plain'), []);
      assert.deepEqual(await claimAllActivities(hub), []);
      await sleep(100);
      assert.deepEqual(await claimAll(hub), [], 'neither the message nor the timer was sent');
      assert.deepEqual(types(current.messages), ['ExecutionStarted'], 'the start message is still there for the holder');
      // The holder's same commit goes through, and appends after what is there.
      const fresh: ActivityLeaseRequest = { workerId: 'w-now', leaseMs: 60_000, leased: [] };
      assert.deepEqual(
        await hub.commitEpisodes([
          commitOf(current, {
            history: [current.messages[0]!.event, scheduled(0, 'here'), scheduled(1, 'anywhere')],
            activities,
            activityLease: fresh,
            messages: [eventMessage('peer', 'yes')],
          }),
        ]),
        ['committed'],
      );
      assert.deepEqual(types(await hub.getHistory('plain')), ['ExecutionStarted', 'TaskScheduled', 'TaskScheduled']);
      assert.deepEqual(fresh.leased.map((a) => a.name), ['here']);
      assert.deepEqual((await claimAllActivities(hub)).map((a) => a.name), ['anywhere']);
      const peer = await claimAll(hub);
      assert.deepEqual(peer.map((i) => i.instance.instanceId), ['peer']);
      assert.deepEqual(peer[0]!.messages.map((m) => (m.event.eventType === 'EventRaised' ? m.event.name : '?')), ['yes']);
    });

    test('commits several episodes in one call, each fenced by its own lease', async () => {
      const hub = freshHub(store());
      for (const id of ['g1', 'g2', 'g3']) await hub.createInstance(startRequest(id));
      const g1 = await claimOne(hub, 'g1');
      const g2old = await claimOne(hub, 'g2', 100);
      const g3 = await claimOne(hub, 'g3');
      const g2 = await eventually(async () => {
        const items = await claimAll(hub);
        return items.find((i) => i.instance.instanceId === 'g2');
      }, 're-claim of g2');
      const outcomes = await hub.commitEpisodes([
        commitOf(g1, { history: [g1.messages[0]!.event], instance: { status: 'Completed', output: '1' } }),
        commitOf(g2old, { history: [g2old.messages[0]!.event], instance: { status: 'Completed', output: '2' } }),
        commitOf(g3, {
          history: [g3.messages[0]!.event],
          instance: { status: 'Completed', output: '3' },
          messages: [eventMessage('g1', 'from-g3')],
        }),
      ]);
      assert.deepEqual(outcomes, ['committed', 'lease-lost', 'committed']);
      assert.equal((await hub.getInstance('g1'))?.output, '1');
      assert.equal((await hub.getInstance('g2'))?.status, 'Pending');
      assert.equal((await hub.getInstance('g3'))?.output, '3');
      assert.deepEqual(types(await hub.getHistory('g1')), ['ExecutionStarted']);
      assert.deepEqual(await hub.getHistory('g2'), []);
      const next = await claimAll(hub);
      assert.deepEqual(
        next.map((i) => i.instance.instanceId),
        ['g1'],
      );
      await hub.releaseOrchestrations(next.map((i) => i.lease));
      assert.deepEqual(await hub.commitEpisodes([commitOf(g2, { instance: { status: 'Running' } })]), ['committed']);
    });

    test('a commit drops messages to instances that do not exist', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('sender'));
      const item = await claimOne(hub, 'sender');
      assert.deepEqual(await hub.commitEpisodes([commitOf(item, { messages: [eventMessage('nobody', 'hi')] })]), ['committed']);
      assert.equal(await hub.getInstance('nobody'), undefined);
      assert.deepEqual(await claimAll(hub), []);
    });

    test('a commit of an empty list is a no-op', async () => {
      const hub = freshHub(store());
      assert.deepEqual(await hub.commitEpisodes([]), []);
    });
  });

  describe('releaseOrchestrations', () => {
    test('makes the instance claimable again at once with its messages; a stale release does nothing', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('rel'));
      const first = await claimOne(hub, 'rel');
      await hub.releaseOrchestrations([first.lease]);
      const second = await claimOne(hub, 'rel');
      assert.deepEqual(types(second.messages), ['ExecutionStarted']);
      assert.notEqual(second.lease.epoch, first.lease.epoch);
      // Releasing with the old lease must not free the new holder's lease.
      await hub.releaseOrchestrations([first.lease]);
      assert.deepEqual(await claimAll(hub), []);
      await hub.releaseOrchestrations([]);
    });
  });

  describe('renewLeases (orchestrations)', () => {
    test('extends a held lease and reports a lost one', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('renew'));
      const item = await claimOne(hub, 'renew', 300);
      assert.deepEqual(await hub.renewLeases('orchestration', [item.lease], 60_000), [true]);
      await sleep(500);
      assert.deepEqual(await claimAll(hub), [], 'the renewed lease still holds');
      const stale = { id: 'renew', epoch: item.lease.epoch - 1 };
      assert.deepEqual(await hub.renewLeases('orchestration', [item.lease, stale, { id: 'missing', epoch: 1 }], 60_000), [
        true,
        false,
        false,
      ]);
    });
  });
}
