/**
 * Conformance tests of the client-side half of `HubStore`: creating, reading, querying, messaging and
 * purging instances, and the registry of worker names.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InstanceAlreadyExistsError, ValidationError } from '../../src/sdk/errors.js';
import type { Store } from '../../src/store/store.js';
import { makeEvent } from '../../src/sdk/history.js';
import {
  claimAll,
  claimAllActivities,
  claimOne,
  commitOf,
  createWithStatus,
  eventMessage,
  freshHub,
  marker,
  raised,
  sleep,
  startRequest,
  types,
} from './conformance-fixtures.js';

/** Declares the client-side tests; `store()` is the store under test. */
export function clientConformance(store: () => Store): void {
  describe('createInstance', () => {
    test('creates a Pending instance whose ExecutionStarted message is claimable', async () => {
      const hub = freshHub(store());
      const parent = { name: 'parent', instanceId: 'p1', executionId: 'e-p1', taskScheduledId: 3 };
      const request = startRequest('i1', { name: 'hello', input: '"in"', version: '2.0', parent });
      await hub.createInstance(request);

      const record = await hub.getInstance('i1');
      assert.ok(record);
      assert.equal(record.instanceId, 'i1');
      assert.equal(record.name, 'hello');
      assert.equal(record.version, '2.0');
      assert.equal(record.executionId, request.executionId);
      assert.equal(record.status, 'Pending');
      assert.equal(record.input, '"in"');
      assert.equal(record.parentInstanceId, 'p1');
      assert.equal(record.output, undefined);
      assert.equal(record.customStatus, undefined);
      assert.equal(record.failureDetails, undefined);
      assert.equal(record.historyLength, 0);
      assert.ok(record.createdAt instanceof Date && !Number.isNaN(record.createdAt.getTime()));
      assert.equal(record.lastUpdatedAt.getTime(), record.createdAt.getTime());
      assert.deepEqual(await hub.getHistory('i1'), []);

      const [item, ...rest] = await claimAll(hub);
      assert.equal(rest.length, 0);
      assert.ok(item);
      assert.equal(item.instance.instanceId, 'i1');
      assert.deepEqual(
        item.messages.map((m) => m.event),
        [request.startEvent],
      );
      assert.equal(item.messages[0]!.instanceId, 'i1');
      assert.equal(item.messages[0]!.executionId, request.executionId);
    });

    test('leaves optional fields out of the record when they are not given', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('plain'));
      const record = await hub.getInstance('plain');
      assert.ok(record);
      for (const key of ['version', 'input', 'output', 'customStatus', 'failureDetails', 'parentInstanceId'] as const) {
        assert.equal(key in record, false, `${key} should be absent`);
      }
    });

    test('refuses the id of a live instance and changes nothing', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('live', { input: '1' }));
      await assert.rejects(hub.createInstance(startRequest('live', { input: '2' })), InstanceAlreadyExistsError);
      assert.equal((await hub.getInstance('live'))?.input, '1');
      const item = await claimOne(hub, 'live');
      assert.deepEqual(types(item.messages), ['ExecutionStarted']);
      // Running is live too.
      await hub.commitEpisodes([commitOf(item, { history: [item.messages[0]!.event] })]);
      await assert.rejects(hub.createInstance(startRequest('live', { input: '3' })), (error: unknown) => {
        assert.ok(error instanceof InstanceAlreadyExistsError);
        assert.match(error.message, /Running/);
        return true;
      });
      assert.equal((await hub.getInstance('live'))?.status, 'Running');
    });

    test('concurrent creates of one id make exactly one instance', async () => {
      const hub = freshHub(store());
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, n) => hub.createInstance(startRequest('race', { input: String(n) }))),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof InstanceAlreadyExistsError);
      const item = await claimOne(hub, 'race');
      assert.deepEqual(types(item.messages), ['ExecutionStarted']);
      assert.equal(item.instance.input, String(results.findIndex((r) => r.status === 'fulfilled')), 'the winner wrote the instance');
    });

    test('a burst of creates starts every distinct id with its own input; repeated ids conflict', async () => {
      const hub = freshHub(store());
      const ids = [...Array.from({ length: 30 }, (_, n) => `burst-${n}`), 'burst-3', 'burst-17'];
      const results = await Promise.allSettled(ids.map((id, n) => hub.createInstance(startRequest(id, { input: String(n) }))));
      assert.deepEqual(
        results.map((r) => r.status),
        ids.map((_, n) => (n < 30 ? 'fulfilled' : 'rejected')),
      );
      for (const r of results.slice(30)) assert.ok(r.status === 'rejected' && r.reason instanceof InstanceAlreadyExistsError);
      const items = await claimAll(hub);
      assert.equal(items.length, 30);
      for (const item of items) {
        assert.equal(item.instance.input, item.instance.instanceId.slice('burst-'.length));
        assert.deepEqual(types(item.messages), ['ExecutionStarted']);
      }
    });

    test('overwrites a terminal instance: new execution, no old history, messages or activities', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('again', { input: '"old"' }));
      const item = await claimOne(hub, 'again');
      await hub.commitEpisodes([
        commitOf(item, {
          history: [item.messages[0]!.event, marker()],
          activities: [{ instanceId: 'again', executionId: item.instance.executionId, taskId: 0, name: 'leftover' }],
          messages: [eventMessage('again', 'late', undefined, new Date(Date.now() + 3_600_000))],
          instance: { status: 'Completed', output: '"done"', customStatus: '"cs"' },
        }),
      ]);
      await hub.sendMessages([eventMessage('again', 'stray')]);

      const second = startRequest('again', { input: '"new"', name: 'other' });
      await hub.createInstance(second);
      const record = await hub.getInstance('again');
      assert.ok(record);
      assert.equal(record.status, 'Pending');
      assert.equal(record.name, 'other');
      assert.equal(record.input, '"new"');
      assert.equal(record.executionId, second.executionId);
      assert.equal(record.historyLength, 0);
      assert.equal(record.output, undefined);
      assert.equal(record.customStatus, undefined);
      assert.deepEqual(await hub.getHistory('again'), []);
      assert.deepEqual(await claimAllActivities(hub), []);
      assert.equal(await hub.nextVisibleAt(), undefined, 'the old timer is gone');
      const claimed = await claimOne(hub, 'again');
      assert.deepEqual(
        claimed.messages.map((m) => m.event),
        [second.startEvent],
      );
    });

    test('an overwrite fences a lease still held on the old instance', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'fence', 'Completed');
      await hub.sendMessages([eventMessage('fence', 'after-completion')]);
      const stale = await claimOne(hub, 'fence');
      assert.equal(stale.instance.status, 'Completed');

      const fresh = startRequest('fence');
      await hub.createInstance(fresh);
      const outcome = await hub.commitEpisodes([
        commitOf(stale, { history: [marker()], instance: { status: 'Failed' }, messages: [eventMessage('fence', 'x')] }),
      ]);
      assert.deepEqual(outcome, ['lease-lost']);
      assert.deepEqual(await hub.renewLeases('orchestration', [stale.lease], 60_000), [false]);
      await hub.releaseOrchestrations([stale.lease]);
      const record = await hub.getInstance('fence');
      assert.equal(record?.status, 'Pending');
      assert.equal(record?.executionId, fresh.executionId);
      assert.deepEqual(await hub.getHistory('fence'), []);
      const item = await claimOne(hub, 'fence');
      assert.deepEqual(
        item.messages.map((m) => m.event),
        [fresh.startEvent],
      );
    });

    test('a lease from before a purge never commits into a re-created instance', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'reborn', 'Completed');
      await hub.sendMessages([eventMessage('reborn', 'poke')]);
      const stale = await claimOne(hub, 'reborn');
      assert.equal(await hub.purgeInstances({ instanceId: 'reborn' }), 1);
      await hub.createInstance(startRequest('reborn'));
      // However many times the new instance is leased, the old token must never match again.
      for (let round = 0; round < 6; round++) {
        const current = await claimOne(hub, 'reborn');
        assert.deepEqual(await hub.commitEpisodes([commitOf(stale, { history: [marker()], consumedMessageIds: [] })]), [
          'lease-lost',
        ]);
        await hub.releaseOrchestrations([current.lease]);
      }
      assert.deepEqual(await hub.getHistory('reborn'), []);
      assert.equal((await hub.getInstance('reborn'))?.status, 'Pending');
    });
  });

  describe('getInstance and getHistory', () => {
    test('an unknown id has no record and an empty history', async () => {
      const hub = freshHub(store());
      assert.equal(await hub.getInstance('nope'), undefined);
      assert.deepEqual(await hub.getHistory('nope'), []);
    });

    test('history comes back in order with payloads unchanged', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('h'));
      const item = await claimOne(hub, 'h');
      const payloads = ['0', '""', 'false', 'null', '"ünïcødé ✓ \\u0000"', JSON.stringify({ a: [1, 2, { b: 'c' }] })];
      const history = [item.messages[0]!.event, ...payloads.map((p, n) => raised(`e${n}`, p))];
      await hub.commitEpisodes([commitOf(item, { history })]);
      assert.deepEqual(await hub.getHistory('h'), history);
      assert.equal((await hub.getInstance('h'))?.historyLength, history.length);
    });
  });

  describe('queryInstances', () => {
    test('filters by created-time range (inclusive)', async () => {
      const hub = freshHub(store());
      for (const id of ['t1', 't2', 't3']) {
        await hub.createInstance(startRequest(id));
        await sleep(15); // distinct creation times
      }
      const [a, b, c] = (await hub.queryInstances({})).instances;
      assert.ok(a && b && c);
      assert.deepEqual(
        [a, b, c].map((r) => r.instanceId),
        ['t1', 't2', 't3'],
      );
      assert.ok(a.createdAt < b.createdAt && b.createdAt < c.createdAt);
      const ids = async (q: Parameters<typeof hub.queryInstances>[0]) =>
        (await hub.queryInstances(q)).instances.map((r) => r.instanceId);
      assert.deepEqual(await ids({ createdTimeFrom: b.createdAt }), ['t2', 't3']);
      assert.deepEqual(await ids({ createdTimeTo: b.createdAt }), ['t1', 't2']);
      assert.deepEqual(await ids({ createdTimeFrom: b.createdAt, createdTimeTo: b.createdAt }), ['t2']);
      assert.deepEqual(await ids({ createdTimeFrom: new Date(c.createdAt.getTime() + 1) }), []);
    });

    test('filters by runtime statuses', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 's-pending', 'Pending');
      await createWithStatus(hub, 's-running', 'Running');
      await createWithStatus(hub, 's-done', 'Completed');
      await createWithStatus(hub, 's-failed', 'Failed');
      const ids = async (runtimeStatus: Parameters<typeof hub.queryInstances>[0]['runtimeStatus']) =>
        (await hub.queryInstances({ runtimeStatus })).instances.map((r) => r.instanceId).sort();
      assert.deepEqual(await ids(['Running', 'Completed']), ['s-done', 's-running']);
      assert.deepEqual(await ids(['Failed']), ['s-failed']);
      assert.deepEqual(await ids(['Terminated']), []);
      assert.deepEqual(await ids([]), ['s-done', 's-failed', 's-pending', 's-running']);
    });

    test('filters by id prefix, taking % and _ literally', async () => {
      const hub = freshHub(store());
      for (const id of ['abc1', 'abc2', 'ab', 'xabc', 'a%b', 'a_b', 'axb', 'ABC3', "o'b1", 'o\\b2', 'ob3']) await hub.createInstance(startRequest(id));
      const ids = async (instanceIdPrefix: string) =>
        (await hub.queryInstances({ instanceIdPrefix })).instances.map((r) => r.instanceId).sort();
      assert.deepEqual(await ids('abc'), ['abc1', 'abc2']);
      assert.deepEqual(await ids('a%'), ['a%b']);
      assert.deepEqual(await ids('a_'), ['a_b']);
      assert.deepEqual(await ids('abc1'), ['abc1']);
      assert.deepEqual(await ids('zzz'), []);
      // Quotes and backslashes are the prefix's own characters (PostgreSQL sends it as an escaped literal).
      assert.deepEqual(await ids("o'"), ["o'b1"]);
      assert.deepEqual(await ids('o\\'), ['o\\b2']);
      assert.deepEqual(await ids("o'; SELECT 1; --"), []);
    });

    test('filters by id prefix in whole characters (accents, emoji outside the BMP, CJK)', async () => {
      const hub = freshHub(store());
      for (const id of ['ü-😀-日本', 'ü-😀', 'ü-x', '😀😀']) await hub.createInstance(startRequest(id));
      const ids = async (instanceIdPrefix: string) =>
        (await hub.queryInstances({ instanceIdPrefix })).instances.map((r) => r.instanceId).sort();
      assert.deepEqual(await ids('ü-😀'), ['ü-😀', 'ü-😀-日本']);
      assert.deepEqual(await ids('ü-😀-日'), ['ü-😀-日本']);
      assert.deepEqual(await ids('😀'), ['😀😀']);
    });

    test('leaves entities (ids starting with @) out unless the prefix asks for them', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('@counter@k1', { name: 'counter' }));
      await hub.createInstance(startRequest('plain'));
      const all = (await hub.queryInstances({})).instances.map((r) => r.instanceId);
      assert.deepEqual(all, ['plain']);
      const entities = (await hub.queryInstances({ instanceIdPrefix: '@counter@' })).instances.map((r) => r.instanceId);
      assert.deepEqual(entities, ['@counter@k1']);
    });

    test('pages through all instances with continuation tokens, in (created time, id) order', async () => {
      const hub = freshHub(store());
      // Concurrent creates share creation times, so the id must break ties.
      const created = Array.from({ length: 11 }, (_, n) => `p${String(n).padStart(2, '0')}`);
      await Promise.all(created.map((id) => hub.createInstance(startRequest(id))));
      const seen: string[] = [];
      const times: number[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await hub.queryInstances({ pageSize: 4, ...(token ? { continuationToken: token } : {}) });
        pages++;
        assert.ok(page.instances.length <= 4);
        seen.push(...page.instances.map((r) => r.instanceId));
        times.push(...page.instances.map((r) => r.createdAt.getTime()));
        token = page.continuationToken;
      } while (token);
      assert.equal(pages, 3);
      assert.deepEqual([...seen].sort(), created);
      for (let n = 1; n < seen.length; n++) {
        const ordered = times[n - 1]! < times[n]! || (times[n - 1] === times[n] && seen[n - 1]! < seen[n]!);
        assert.ok(ordered, `page order broken at ${seen[n - 1]} -> ${seen[n]}`);
      }
      // A page that ends exactly at the last instance gives no token.
      const exact = await hub.queryInstances({ pageSize: 11 });
      assert.equal(exact.instances.length, 11);
      assert.equal(exact.continuationToken, undefined);
      // Filters hold across pages.
      const filtered = await hub.queryInstances({ pageSize: 2, instanceIdPrefix: 'p0' });
      assert.ok(filtered.continuationToken);
      const rest = await hub.queryInstances({ pageSize: 100, instanceIdPrefix: 'p0', continuationToken: filtered.continuationToken });
      assert.deepEqual(
        [...filtered.instances, ...rest.instances].map((r) => r.instanceId).sort(),
        created.filter((id) => id.startsWith('p0')),
      );
    });

    test('filters finished instances by completed-time range (inclusive), before the page is cut', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'c-running', 'Running');
      await createWithStatus(hub, 'c-early', 'Completed');
      await sleep(15);
      await createWithStatus(hub, 'c-mid-a', 'Failed');
      await createWithStatus(hub, 'c-mid-b', 'Terminated');
      const mid = (await hub.getInstance('c-mid-a'))!.lastUpdatedAt;
      const midEnd = (await hub.getInstance('c-mid-b'))!.lastUpdatedAt;
      await sleep(15);
      await createWithStatus(hub, 'c-late', 'Completed');
      const ids = async (q: Parameters<typeof hub.queryInstances>[0]) => (await hub.queryInstances(q)).instances.map((r) => r.instanceId).sort();
      assert.deepEqual(await ids({ completedTimeFrom: new Date(0) }), ['c-early', 'c-late', 'c-mid-a', 'c-mid-b']);
      assert.deepEqual(await ids({ completedTimeFrom: mid }), ['c-late', 'c-mid-a', 'c-mid-b']);
      assert.deepEqual(await ids({ completedTimeFrom: mid, completedTimeTo: midEnd }), ['c-mid-a', 'c-mid-b']);
      assert.deepEqual(await ids({ completedTimeTo: new Date(mid.getTime() - 1) }), ['c-early']);
      assert.deepEqual(await ids({ completedTimeFrom: mid, runtimeStatus: ['Completed'] }), ['c-late']);
      // One matching instance per page, whatever does not match in between.
      const first = await hub.queryInstances({ completedTimeFrom: mid, pageSize: 1 });
      assert.equal(first.instances.length, 1);
      assert.ok(first.continuationToken);
      await assert.rejects(hub.queryInstances({ completedTimeTo: new Date(Number.NaN) }), ValidationError);
    });

    test('in instance-id order the token is the last id, and a page starts after any id given', async () => {
      const hub = freshHub(store());
      for (const id of ['k-c', 'k-a', 'k-e', 'k-b', 'k-d']) await hub.createInstance(startRequest(id));
      const page = (token?: string) => hub.queryInstances({ orderBy: 'instanceId', pageSize: 2, ...(token !== undefined ? { continuationToken: token } : {}) });
      const first = await page();
      assert.deepEqual(first.instances.map((r) => r.instanceId), ['k-a', 'k-b']);
      assert.equal(first.continuationToken, 'k-b');
      const second = await page(first.continuationToken);
      assert.deepEqual(second.instances.map((r) => r.instanceId), ['k-c', 'k-d']);
      assert.equal(second.continuationToken, 'k-d');
      const last = await page(second.continuationToken);
      assert.deepEqual(last.instances.map((r) => r.instanceId), ['k-e']);
      assert.equal(last.continuationToken, undefined);
      // An id that is not (or no longer) there: the page starts after where it would be.
      assert.deepEqual((await page('k-bb')).instances.map((r) => r.instanceId), ['k-c', 'k-d']);
    });

    test('rejects a malformed continuation token and a bad page size with ValidationError', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('q'));
      await assert.rejects(hub.queryInstances({ continuationToken: 'not-a-token' }), ValidationError);
      await assert.rejects(hub.queryInstances({ continuationToken: Buffer.from('[1]').toString('base64url') }), ValidationError);
      await assert.rejects(hub.queryInstances({ pageSize: 0 }), ValidationError);
      await assert.rejects(hub.queryInstances({ pageSize: 1.5 }), ValidationError);
    });
  });

  describe('sendMessages', () => {
    test('delivers messages in the order sent', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('m'));
      await hub.sendMessages([eventMessage('m', 'a', '1'), eventMessage('m', 'b', '2'), eventMessage('m', 'c', '3')]);
      const item = await claimOne(hub, 'm');
      assert.deepEqual(
        item.messages.map((m) => (m.event.eventType === 'EventRaised' ? m.event.name : m.event.eventType)),
        ['ExecutionStarted', 'a', 'b', 'c'],
      );
      const ids = item.messages.map((m) => m.id);
      assert.deepEqual([...ids].sort((x, y) => x - y), ids);
      assert.equal(new Set(ids).size, ids.length);
    });

    test('drops messages to instances that do not exist', async () => {
      const hub = freshHub(store());
      await hub.sendMessages([eventMessage('ghost', 'boo')]);
      assert.equal(await hub.getInstance('ghost'), undefined);
      assert.deepEqual(await claimAll(hub), []);
      // A later instance with that id does not inherit the message.
      await hub.createInstance(startRequest('ghost'));
      const item = await claimOne(hub, 'ghost');
      assert.deepEqual(types(item.messages), ['ExecutionStarted']);
    });

    test('a message to an entity id creates the entity row once; other unknown ids stay dropped', async () => {
      const hub = freshHub(store());
      await hub.sendMessages([eventMessage('@counter@k1', 'op1'), eventMessage('@counter@k1', 'op2'), eventMessage('@bad', 'x')]);
      const entity = await hub.getInstance('@counter@k1');
      assert.ok(entity);
      assert.equal(entity.name, 'counter');
      assert.equal(entity.status, 'Running');
      assert.equal(entity.executionId, '');
      assert.equal(entity.historyLength, 0);
      assert.equal(await hub.getInstance('@bad'), undefined);
      const item = await claimOne(hub, '@counter@k1');
      assert.deepEqual(
        item.messages.map((m) => (m.event.eventType === 'EventRaised' ? m.event.name : '?')),
        ['op1', 'op2'],
      );
      // Committing state and receiving more messages keeps the same row.
      await hub.commitEpisodes([commitOf(item, { instance: { status: 'Running', input: '{"state":2}' } })]);
      await hub.sendMessages([eventMessage('@counter@k1', 'op3')]);
      const again = await hub.getInstance('@counter@k1');
      assert.equal(again?.input, '{"state":2}');
      assert.equal(again?.createdAt.getTime(), entity.createdAt.getTime());
      // Concurrent first messages to one new entity make one row and keep every message.
      await Promise.all(Array.from({ length: 6 }, (_, n) => hub.sendMessages([eventMessage('@counter@k2', `c${n}`)])));
      const k2 = await claimOne(hub, '@counter@k2');
      assert.equal(k2.messages.length, 6);
    });

    test('keeps the execution id of a message', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('x'));
      await hub.sendMessages([{ instanceId: 'x', executionId: 'exec-42', event: raised('e') }]);
      const item = await claimOne(hub, 'x');
      assert.equal(item.messages[1]?.executionId, 'exec-42');
    });
  });

  describe('sendToLiveInstance', () => {
    test('delivers to a live instance, answers its status, and wakes workers', async () => {
      const s = store();
      const hub = freshHub(s);
      await hub.createInstance(startRequest('live'));
      const seen: string[] = [];
      const unsubscribe = s.subscribe(hub.hub, (n) => seen.push(n.kind));
      try {
        assert.equal(await hub.sendToLiveInstance({ ...eventMessage('live', 'a', '1'), executionId: 'exec-1' }), 'Pending');
        assert.ok(seen.includes('orchestrations'), `notices: ${seen.join(', ')}`);
      } finally {
        unsubscribe();
      }
      const item = await claimOne(hub, 'live');
      assert.deepEqual(types(item.messages), ['ExecutionStarted', 'EventRaised']);
      assert.equal(item.messages[1]?.executionId, 'exec-1');
      await hub.commitEpisodes([commitOf(item, { history: [item.messages[0]!.event], instance: { status: 'Running' } })]);
      const inAnHour = new Date(Date.now() + 3_600_000);
      assert.equal(await hub.sendToLiveInstance(eventMessage('live', 'later', undefined, inAnHour)), 'Running');
      const next = await hub.nextVisibleAt();
      assert.ok(next && Math.abs(next.getTime() - inAnHour.getTime()) < 60_000, `next visible at ${next?.toISOString()}`);
    });

    test('writes nothing to a terminal instance and answers its status', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'ended', 'Completed');
      assert.equal(await hub.sendToLiveInstance(eventMessage('ended', 'late', undefined, new Date(Date.now() + 3_600_000))), 'Completed');
      assert.equal(await hub.sendToLiveInstance(eventMessage('ended', 'now')), 'Completed');
      assert.deepEqual(await claimAll(hub), [], 'a message was queued');
      assert.equal(await hub.nextVisibleAt(), undefined, 'a delayed message was queued');
      // A new start of that id does not inherit anything.
      await hub.createInstance(startRequest('ended'));
      assert.deepEqual(types((await claimOne(hub, 'ended')).messages), ['ExecutionStarted']);
    });

    test('answers undefined for a missing instance and creates nothing, not even an entity', async () => {
      const hub = freshHub(store());
      assert.equal(await hub.sendToLiveInstance(eventMessage('ghost', 'boo')), undefined);
      assert.equal(await hub.sendToLiveInstance(eventMessage('@counter@k', 'op')), undefined);
      assert.equal(await hub.getInstance('ghost'), undefined);
      assert.equal(await hub.getInstance('@counter@k'), undefined);
      assert.deepEqual(await claimAll(hub), []);
    });
  });

  describe('requestRewind', () => {
    const rewound = (instanceId: string) => ({
      instanceId,
      event: makeEvent({ eventType: 'ExecutionRewound', reason: 'retry' }, new Date()),
    });

    test('moves a Failed instance to Pending and queues the rewind message, atomically', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'failed', 'Failed');
      const before = await hub.getInstance('failed');
      assert.equal(await hub.requestRewind('failed', rewound('failed')), true);
      const after = await hub.getInstance('failed');
      assert.equal(after?.status, 'Pending');
      assert.equal(after?.historyLength, before?.historyLength);
      const item = await claimOne(hub, 'failed');
      assert.deepEqual(types(item.messages.map((m) => m.event)), ['ExecutionRewound']);
    });

    test('refuses any instance that is not Failed, and a missing one, writing nothing', async () => {
      const hub = freshHub(store());
      for (const status of ['Completed', 'Running', 'Terminated'] as const) {
        await createWithStatus(hub, `s-${status}`, status);
        assert.equal(await hub.requestRewind(`s-${status}`, rewound(`s-${status}`)), false, status);
        assert.equal((await hub.getInstance(`s-${status}`))?.status, status);
      }
      assert.equal(await hub.requestRewind('missing', rewound('missing')), false);
      assert.equal(await hub.getInstance('missing'), undefined);
      assert.equal((await claimAll(hub)).length, 0);
    });
  });

  describe('purgeInstances', () => {
    test('by id deletes a terminal instance with its history, and refuses a live one', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'done', 'Completed');
      await createWithStatus(hub, 'busy', 'Running');
      await hub.sendMessages([eventMessage('done', 'late')]);
      assert.equal(await hub.purgeInstances({ instanceId: 'busy' }), 0);
      assert.equal((await hub.getInstance('busy'))?.status, 'Running');
      assert.equal(await hub.purgeInstances({ instanceId: 'done' }), 1);
      assert.equal(await hub.getInstance('done'), undefined);
      assert.deepEqual(await hub.getHistory('done'), []);
      assert.equal(await hub.purgeInstances({ instanceId: 'done' }), 0);
      assert.equal(await hub.purgeInstances({ instanceId: 'never-was' }), 0);
      // Its inbox went with it.
      assert.deepEqual(
        (await claimAll(hub)).map((i) => i.instance.instanceId),
        [],
      );
    });

    test('by filter deletes only the terminal instances that match', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'a-done', 'Completed');
      await createWithStatus(hub, 'a-failed', 'Failed');
      await createWithStatus(hub, 'a-term', 'Terminated');
      await createWithStatus(hub, 'a-run', 'Running');
      await createWithStatus(hub, 'a-pend', 'Pending');
      await createWithStatus(hub, 'b-done', 'Completed');
      assert.equal(await hub.purgeInstances({ instanceIdPrefix: 'a-', runtimeStatus: ['Completed', 'Running'] }), 1);
      assert.equal(await hub.getInstance('a-done'), undefined);
      assert.equal(await hub.purgeInstances({ instanceIdPrefix: 'a-' }), 2);
      const left = (await hub.queryInstances({})).instances.map((r) => r.instanceId).sort();
      assert.deepEqual(left, ['a-pend', 'a-run', 'b-done']);
      const b = await hub.getInstance('b-done');
      assert.ok(b);
      assert.equal(await hub.purgeInstances({ createdTimeTo: new Date(b.createdAt.getTime() - 1) }), 0);
      assert.equal(await hub.purgeInstances({ createdTimeFrom: b.createdAt }), 1);
    });

    test('does not purge a terminal entity that has messages waiting', async () => {
      const hub = freshHub(store());
      await hub.sendMessages([eventMessage('@e@1', 'op')]);
      const item = await claimOne(hub, '@e@1');
      await hub.commitEpisodes([commitOf(item, { instance: { status: 'Completed' } })]);
      await hub.sendMessages([eventMessage('@e@1', 'late-op')]);
      assert.equal(await hub.purgeInstances({ instanceId: '@e@1' }), 0);
      assert.equal(await hub.purgeInstances({ instanceIdPrefix: '@e@' }), 0);
      const next = await claimOne(hub, '@e@1');
      await hub.commitEpisodes([commitOf(next, { instance: { status: 'Completed' } })]);
      assert.equal(await hub.purgeInstances({ instanceIdPrefix: '@e@' }), 1);
      assert.equal(await hub.getInstance('@e@1'), undefined);
    });

    test('removes pending activities of a purged instance', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('act'));
      const item = await claimOne(hub, 'act');
      await hub.commitEpisodes([
        commitOf(item, {
          instance: { status: 'Terminated' },
          activities: [{ instanceId: 'act', executionId: item.instance.executionId, taskId: 0, name: 'orphan' }],
        }),
      ]);
      assert.equal(await hub.purgeInstances({ instanceId: 'act' }), 1);
      assert.deepEqual(await claimAllActivities(hub), []);
    });
  });

  describe('registerWorker and getRegisteredNames', () => {
    test('undefined before any registration, then the sorted union of all workers', async () => {
      const hub = freshHub(store());
      assert.equal(await hub.getRegisteredNames(), undefined);
      await hub.registerWorker('w1', { orchestrations: ['zeta', 'alpha'], activities: ['act1'], entities: [] });
      await hub.registerWorker('w2', { orchestrations: ['alpha', 'beta'], activities: [], entities: ['counter'] });
      assert.deepEqual(await hub.getRegisteredNames(), {
        orchestrations: ['alpha', 'beta', 'zeta'],
        activities: ['act1'],
        entities: ['counter'],
      });
      // Re-registering a worker replaces its names.
      await hub.registerWorker('w1', { orchestrations: ['gamma'], activities: [], entities: [] });
      assert.deepEqual(await hub.getRegisteredNames(), {
        orchestrations: ['alpha', 'beta', 'gamma'],
        activities: [],
        entities: ['counter'],
      });
    });
  });
}
