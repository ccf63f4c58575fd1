/**
 * Conformance tests of `HubStore.schedules`: compare-and-set writes, due and next-due queries, runs created
 * with their schedule only if absent, and the notices of schedule writes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkScheduleDefinition } from '../../src/sdk/schedule.js';
import { newScheduleRecord } from '../../src/store/schedule-plan.js';
import type { ScheduleRecord } from '../../src/store/schedule-record.js';
import type { HubStore, Store, StoreNotice } from '../../src/store/store.js';
import { claimAll, createWithStatus, freshHub, startRequest, types } from './conformance-fixtures.js';

/** A new Active record due at `nextRunAt` (undefined: never). */
function record(scheduleId: string, patch: Partial<ScheduleRecord> = {}): ScheduleRecord {
  const definition = checkScheduleDefinition({ orchestration: 'orch', every: 60_000, startAt: new Date(Date.UTC(2020, 0, 1)) }, 'test');
  return { ...newScheduleRecord({ scheduleId, definition, input: '"in"', declared: false }, Date.now()), ...patch };
}

async function revisionOf(hub: HubStore, scheduleId: string): Promise<number | undefined> {
  return (await hub.schedules.get(scheduleId))?.revision;
}

/** Declares the schedule tests; `store()` is the store under test. */
export function scheduleConformance(store: () => Store): void {
  describe('schedules', () => {
    test('put creates once, then writes only at the stored revision; get and list read it back', async () => {
      const hub = freshHub(store());
      const first = record('b', { nextRunAt: 5_000 });
      assert.equal(await hub.schedules.put(first, 'absent'), 'written');
      assert.equal(await hub.schedules.put(record('b'), 'absent'), 'conflict');
      const read = await hub.schedules.get('b');
      assert.deepEqual(read, { ...first, revision: 1 });
      assert.equal(await hub.schedules.put({ ...first, state: 'Paused' }, 7), 'conflict');
      assert.equal((await hub.schedules.get('b'))?.state, 'Active', 'a conflict writes nothing');
      assert.equal(await hub.schedules.put({ ...first, state: 'Paused', pausedReason: 'why' }, 1), 'written');
      assert.deepEqual(await hub.schedules.get('b'), { ...first, state: 'Paused', pausedReason: 'why', revision: 2 });
      await hub.schedules.put(record('a'), 'absent');
      assert.deepEqual((await hub.schedules.list()).map((s) => s.scheduleId), ['a', 'b']);
      assert.deepEqual(await freshHub(store()).schedules.list(), [], 'another hub sees none');
      assert.equal(await hub.schedules.get('missing'), undefined);
    });

    test('of concurrent writes at one revision exactly one wins', async () => {
      const hub = freshHub(store());
      await hub.schedules.put(record('race'), 'absent');
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          hub.schedules.put(record('race', { lastInstanceId: `race:${i}` }), 1, { request: startRequest(`race:${i}`) }),
        ),
      );
      assert.equal(outcomes.filter((o) => o === 'written').length, 1);
      const winner = outcomes.indexOf('written');
      assert.equal((await hub.schedules.get('race'))?.lastInstanceId, `race:${winner}`);
      const instances = (await hub.queryInstances({ instanceIdPrefix: 'race:' })).instances.map((i) => i.instanceId);
      assert.deepEqual(instances, [`race:${winner}`], 'only the winner created its run');
      const creates = await Promise.all(Array.from({ length: 4 }, () => hub.schedules.put(record('new'), 'absent')));
      assert.equal(creates.filter((o) => o === 'written').length, 1);
    });

    test('a run is created with its start message, only if no instance of its id exists in any status', async () => {
      const hub = freshHub(store());
      await hub.schedules.put(record('s'), 'absent');
      assert.equal(await hub.schedules.put(record('s'), 1, { request: startRequest('s:1', { input: '"x"' }) }), 'written');
      const instance = await hub.getInstance('s:1');
      assert.equal(instance?.status, 'Pending');
      assert.equal(instance?.input, '"x"');
      const [item] = await claimAll(hub);
      assert.deepEqual(types(item!.messages), ['ExecutionStarted']);
      await hub.releaseOrchestrations([item!.lease]);
      // The same run again (a worker that lost track of the first write) neither fails nor starts it twice.
      assert.equal(await hub.schedules.put(record('s'), 2, { request: startRequest('s:1', { input: '"y"' }) }), 'written');
      assert.equal((await hub.getInstance('s:1'))?.input, '"x"');
      assert.equal((await claimAll(hub))[0]?.messages.length, 1);
      // A finished instance of the id is not overwritten (a plain start would overwrite it).
      await createWithStatus(hub, 's:done', 'Completed', { output: '1' });
      assert.equal(await hub.schedules.put(record('s'), 3, { request: startRequest('s:done') }), 'written');
      assert.equal((await hub.getInstance('s:done'))?.status, 'Completed');
      assert.equal(await revisionOf(hub, 's'), 4);
    });

    test('a run before its time in the store clock is early and writes nothing', async () => {
      const hub = freshHub(store());
      await hub.schedules.put(record('e'), 'absent');
      const later = Date.now() + 60_000;
      assert.equal(await hub.schedules.put(record('e'), 1, { request: startRequest('e:1'), notBefore: later }), 'early');
      assert.equal(await hub.getInstance('e:1'), undefined);
      assert.equal(await revisionOf(hub, 'e'), 1);
      assert.equal(await hub.schedules.put(record('e'), 1, { request: startRequest('e:1'), notBefore: Date.now() - 1000 }), 'written');
      assert.equal((await hub.getInstance('e:1'))?.status, 'Pending');
    });

    test('due lists Active schedules whose time has come and those with a buffered run; nextDueAt the earliest', async () => {
      const hub = freshHub(store());
      assert.equal(await hub.schedules.nextDueAt(), undefined);
      const now = Date.now();
      await hub.schedules.put(record('past', { nextRunAt: now - 1000 }), 'absent');
      await hub.schedules.put(record('future', { nextRunAt: now + 60_000 }), 'absent');
      await hub.schedules.put(record('paused', { state: 'Paused', nextRunAt: now - 5000 }), 'absent');
      await hub.schedules.put(record('buffered', { nextRunAt: now + 120_000, bufferedAt: now - 500 }), 'absent');
      const { nextRunAt: _none, ...ended } = record('ended');
      await hub.schedules.put(ended, 'absent');
      const due = await hub.schedules.due();
      assert.deepEqual(due.schedules.map((s) => s.scheduleId), ['buffered', 'past']);
      assert.ok(Math.abs(due.now - Date.now()) < 2000, 'with the store clock');
      assert.deepEqual((await freshHub(store()).schedules.due()).schedules, []);
      const next = await hub.schedules.nextDueAt();
      assert.ok(next && Math.abs(next.getTime() - (now - 1000)) < 2000, `the earliest Active due time (got ${next?.toISOString()})`);
      await hub.schedules.put(record('past', { nextRunAt: now + 30_000 }), 1);
      const later = await hub.schedules.nextDueAt();
      assert.ok(later && Math.abs(later.getTime() - (now + 30_000)) < 2000, 'a paused schedule has no due time');
    });

    test('delete removes the schedule, not its runs', async () => {
      const hub = freshHub(store());
      await hub.schedules.put(record('d'), 'absent');
      await hub.schedules.put(record('d'), 1, { request: startRequest('d:1') });
      assert.equal(await hub.schedules.delete('d'), true);
      assert.equal(await hub.schedules.delete('d'), false);
      assert.equal(await hub.schedules.get('d'), undefined);
      assert.equal((await hub.getInstance('d:1'))?.status, 'Pending');
    });

    test('writes send a schedules notice; a run also an orchestrations and a status notice', async () => {
      const s = store();
      const hub = freshHub(s);
      const seen: StoreNotice[] = [];
      const unsubscribe = s.subscribe(hub.hub, (n) => seen.push(n));
      try {
        await hub.schedules.put(record('n'), 'absent');
        assert.deepEqual(seen.splice(0), [{ kind: 'schedules' }]);
        await hub.schedules.put(record('n'), 1, { request: startRequest('n:1') });
        assert.deepEqual(
          seen.splice(0).map((n) => JSON.stringify(n)).sort(),
          [{ kind: 'instance', instanceId: 'n:1', status: 'Pending' }, { kind: 'orchestrations' }, { kind: 'schedules' }].map((n) => JSON.stringify(n)).sort(),
        );
        await hub.schedules.put(record('n'), 9);
        assert.deepEqual(seen.splice(0), [], 'a conflict tells no one');
        await hub.schedules.delete('n');
        assert.deepEqual(seen.splice(0), [{ kind: 'schedules' }]);
      } finally {
        unsubscribe();
      }
    });
  });
}
