/**
 * Due times and the plan of a due schedule, without I/O: cron in time zones across DST changes, `every` with
 * bounds, the catch-up window after an outage, and the overlap policies.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../../src/sdk/errors.js';
import { checkScheduleDefinition, type ScheduleOptions } from '../../src/sdk/schedule.js';
import { scheduleTimes } from '../../src/sdk/schedule-times.js';
import { newScheduleRecord, planDue, planTrigger } from '../../src/store/schedule-plan.js';

const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
const at = (text: string) => Date.parse(text);

/** The next `n` due times after `from`. */
function nextTimes(options: Omit<ScheduleOptions, 'orchestration'>, from: string, n: number, anchor = at(from)): (string | undefined)[] {
  const times = scheduleTimes(checkScheduleDefinition({ orchestration: 'o', ...options }, 'test'), anchor);
  const out: (string | undefined)[] = [];
  let t: number | undefined = at(from);
  for (let i = 0; i < n && t !== undefined; i++) out.push(iso((t = times.next(t))));
  return out;
}

describe('schedule due times', () => {
  test("Europe/Berlin: 02:30 daily runs at 03:00 on the spring-forward day and once on the fall-back day", () => {
    assert.deepEqual(nextTimes({ cron: '30 2 * * *', timeZone: 'Europe/Berlin' }, '2024-03-30T00:00:00Z', 3), [
      '2024-03-30T01:30:00.000Z', // 02:30 CET
      '2024-03-31T01:00:00.000Z', // 02:30 does not exist: 03:00 CEST, the first valid time after the gap
      '2024-04-01T00:30:00.000Z', // 02:30 CEST
    ]);
    assert.deepEqual(nextTimes({ cron: '30 2 * * *', timeZone: 'Europe/Berlin' }, '2024-10-26T00:00:00Z', 3), [
      '2024-10-26T00:30:00.000Z', // 02:30 CEST
      '2024-10-27T00:30:00.000Z', // 02:30 happens twice: once only
      '2024-10-28T01:30:00.000Z', // 02:30 CET
    ]);
  });

  test('America/New_York: an hourly cron runs at both 01:30s of the fall-back night and skips the missing hour in spring', () => {
    assert.deepEqual(nextTimes({ cron: '30 * * * *', timeZone: 'America/New_York' }, '2024-11-03T04:45:00Z', 3), [
      '2024-11-03T05:30:00.000Z', // 01:30 EDT
      '2024-11-03T06:30:00.000Z', // 01:30 EST
      '2024-11-03T07:30:00.000Z', // 02:30 EST
    ]);
    assert.deepEqual(nextTimes({ cron: '30 * * * *', timeZone: 'America/New_York' }, '2024-03-10T06:45:00Z', 2), [
      '2024-03-10T07:30:00.000Z', // 03:30 EDT: 02:30 does not exist
      '2024-03-10T08:30:00.000Z',
    ]);
    assert.deepEqual(nextTimes({ cron: '0 9 * * 1-5', timeZone: 'America/New_York' }, '2024-03-08T15:00:00Z', 2), [
      '2024-03-11T13:00:00.000Z', // Monday 09:00 EDT (the Friday before was 14:00Z)
      '2024-03-12T13:00:00.000Z',
    ]);
  });

  test('every counts from startAt and stops after endAt; cron without a zone is UTC', () => {
    const startAt = new Date('2024-01-01T00:00:00.500Z');
    assert.deepEqual(nextTimes({ every: 1000, startAt, endAt: new Date('2024-01-01T00:00:02.500Z') }, '2023-12-31T00:00:00Z', 4), [
      '2024-01-01T00:00:00.500Z',
      '2024-01-01T00:00:01.500Z',
      '2024-01-01T00:00:02.500Z',
      undefined,
    ]);
    assert.deepEqual(nextTimes({ cron: '0 2 * * *' }, '2024-06-01T03:00:00Z', 1), ['2024-06-02T02:00:00.000Z']);
    assert.deepEqual(nextTimes({ cron: '0 2 * * *', startAt: new Date('2024-06-05T02:00:00Z') }, '2024-06-01T03:00:00Z', 1), ['2024-06-05T02:00:00.000Z']);
  });

  test('bad schedules are ValidationErrors', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ cron: 'not a cron' }, /Invalid cron expression/],
      [{ cron: '0 0 31 2 *' }, /never matches/],
      [{ cron: '0 2 * * *', timeZone: 'Mars/Olympus' }, /Unknown time zone/],
      [{ every: 999 }, /at least 1000/],
      [{ every: 1500.5 }, /whole number/],
      [{}, /exactly one of cron and every/],
      [{ cron: '* * * * *', every: 1000 }, /exactly one of cron and every/],
      [{ every: 1000, timeZone: 'UTC' }, /cron schedules only/],
      [{ every: 1000, overlap: 'queue' }, /overlap/],
      [{ every: 1000, catchUpWindowMs: 0 }, /catchUpWindowMs/],
      [{ every: 1000, startAt: new Date('x') }, /startAt/],
      [{ every: 1000, startAt: new Date(2000), endAt: new Date(1000) }, /before its startAt/],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => checkScheduleDefinition({ orchestration: 'o', ...options }, 'test'), (e: unknown) => e instanceof ValidationError && message.test(e.message), JSON.stringify(options));
    }
    assert.throws(() => checkScheduleDefinition({ orchestration: '', every: 1000 }, 'test'), ValidationError);
  });
});

describe('planDue', () => {
  const start = at('2024-01-01T00:00:00Z');
  const make = (options: Omit<ScheduleOptions, 'orchestration'>) =>
    newScheduleRecord({ scheduleId: 's', definition: checkScheduleDefinition({ orchestration: 'o', startAt: new Date(start), ...options }, 'test'), declared: false }, start - 1);

  test('on time: runs the due time, names the instance after it, and moves on to the next', () => {
    const record = make({ every: 60_000 });
    assert.equal(record.nextRunAt, start);
    assert.equal(planDue(record, start - 1, false), undefined, 'not due yet');
    const plan = planDue(record, start + 15, false)!;
    assert.equal(plan.runAt, start);
    assert.equal(plan.record.lastInstanceId, 's:2024-01-01T00:00:00.000Z');
    assert.equal(plan.record.nextRunAt, start + 60_000);
    assert.equal(plan.record.recent[0]?.outcome, 'started');
  });

  test('after an outage: the latest missed time within the window runs once, the older ones are recorded as missed', () => {
    const record = make({ every: 60_000, catchUpWindowMs: 30_000 });
    const plan = planDue(record, start + 5 * 60_000 + 10_000, false)!;
    assert.equal(iso(plan.runAt), '2024-01-01T00:05:00.000Z');
    assert.equal(iso(plan.record.nextRunAt), '2024-01-01T00:06:00.000Z');
    const missed = plan.record.recent[1]!;
    assert.deepEqual([missed.outcome, missed.count, iso(missed.dueAt), iso(missed.lastDueAt)], ['missed', 5, '2024-01-01T00:00:00.000Z', '2024-01-01T00:04:00.000Z']);
    // Past the window, nothing runs: all six are missed.
    const late = planDue(record, start + 5 * 60_000 + 40_000, false)!;
    assert.equal(late.runAt, undefined);
    assert.deepEqual([late.record.recent[0]?.outcome, late.record.recent[0]?.count], ['missed', 6]);
    assert.equal(iso(late.record.nextRunAt), '2024-01-01T00:06:00.000Z');
  });

  test('overlap: skip records a skip, bufferOne keeps one due time until the running one ends, allow runs alongside', () => {
    const now = start + 10;
    const skip = planDue(make({ every: 60_000 }), now, true)!;
    assert.deepEqual([skip.runAt, skip.record.recent[0]?.outcome], [undefined, 'skipped']);
    const buffered = planDue(make({ every: 60_000, overlap: 'bufferOne' }), now, true)!;
    assert.deepEqual([buffered.runAt, buffered.record.bufferedAt, buffered.record.recent[0]?.outcome], [undefined, start, 'buffered']);
    const second = planDue({ ...buffered.record, nextRunAt: start + 60_000 }, start + 60_010, true)!;
    assert.deepEqual([second.record.bufferedAt, second.record.recent[0]?.outcome], [start, 'skipped'], 'at most one waits');
    assert.equal(planDue({ ...buffered.record }, now + 5, true), undefined, 'the buffered run waits while the last one runs');
    const released = planDue(buffered.record, now + 20, false)!;
    assert.deepEqual([released.runAt, released.record.bufferedAt, released.onTime], [start, undefined, false]);
    const allow = planDue(make({ every: 60_000, overlap: 'allow' }), now, true)!;
    assert.equal(allow.runAt, start);
  });

  test('a trigger runs now, paused or not', () => {
    const plan = planTrigger({ ...make({ every: 60_000 }), state: 'Paused' }, start + 123);
    assert.equal(plan.runAt, start + 123);
    assert.equal(plan.record.lastInstanceId, 's:2024-01-01T00:00:00.123Z');
    assert.equal(plan.record.recent[0]?.outcome, 'triggered');
  });
});
