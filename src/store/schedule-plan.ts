/**
 * What a schedule's next write is, decided without I/O: a new schedule, a change, a pause or resume, the run
 * of a due time (with the catch-up window and the overlap policy), a manual trigger. Clients and workers compute
 * the new record here, then write it with `ScheduleStore.put`'s compare-and-set: whoever loses reads again.
 *
 * Catch-up: when a worker looks at a due time D at `now` (late after an outage), the due times up to `now` are
 * D … L (L the latest). L runs if `now - L` is within the catch-up window; the others are recorded as one
 * `missed` entry. The next due time is the first after `now`.
 */
import type { ScheduleDefinition, ScheduleRunOutcome } from '../sdk/schedule.js';
import { countDueTimes, scheduleTimes, type ScheduleTimes } from '../sdk/schedule-times.js';
import { MAX_RECENT_RUNS, type ScheduleRecord, type StoredScheduleRun } from './schedule-record.js';

/** A schedule's due times. */
export function timesOf(record: Pick<ScheduleRecord, 'definition' | 'anchorAt'>): ScheduleTimes {
  return scheduleTimes(record.definition, record.anchorAt);
}

/** A new Active schedule; its first due time is the first after `now`. */
export function newScheduleRecord(
  fields: { scheduleId: string; definition: ScheduleDefinition; input?: string | undefined; declared: boolean },
  now: number,
): ScheduleRecord {
  const record: ScheduleRecord = {
    scheduleId: fields.scheduleId,
    definition: fields.definition,
    ...(fields.input !== undefined ? { input: fields.input } : {}),
    state: 'Active',
    anchorAt: now,
    recent: [],
    declared: fields.declared,
    revision: 0,
    createdAt: now,
    updatedAt: now,
  };
  return withNextRun(record, now);
}

/** True when two definitions (and inputs) are the same. */
export function sameDefinition(a: ScheduleRecord, definition: ScheduleDefinition, input: string | undefined): boolean {
  return JSON.stringify(a.definition) === JSON.stringify(definition) && a.input === input;
}

/** `record` with a new definition and input; when its timing changed, due times count again from `now`. */
export function changedSchedule(record: ScheduleRecord, definition: ScheduleDefinition, input: string | undefined, now: number): ScheduleRecord {
  const timing = (d: ScheduleDefinition) => JSON.stringify([d.cron, d.every, d.timeZone, d.startAt, d.endAt]);
  const { input: _old, ...rest } = record;
  const changed: ScheduleRecord = { ...rest, definition, ...(input !== undefined ? { input } : {}), updatedAt: now };
  if (timing(record.definition) === timing(definition)) return changed;
  return changed.state === 'Active' ? withNextRun({ ...changed, anchorAt: now }, now) : { ...changed, anchorAt: now };
}

/** Paused: no due time, no buffered run. */
export function pausedSchedule(record: ScheduleRecord, reason: string | undefined, now: number): ScheduleRecord {
  const { nextRunAt: _n, bufferedAt: _b, pausedReason: _r, ...rest } = record;
  return { ...rest, state: 'Paused', ...(reason !== undefined ? { pausedReason: reason } : {}), updatedAt: now };
}

/** Active again, due next at the first due time after `now` (times that passed while paused do not run). */
export function resumedSchedule(record: ScheduleRecord, now: number): ScheduleRecord {
  const { pausedReason: _r, ...rest } = record;
  return withNextRun({ ...rest, state: 'Active', updatedAt: now }, now);
}

/** The write that a due schedule needs: the new record, and the due time to start a run for (if any). */
export interface SchedulePlan {
  record: ScheduleRecord;
  runAt?: number;
  /** True when `runAt` must not start before its time (a due time, as opposed to a buffered run or a trigger). */
  onTime: boolean;
}

/**
 * The write for an Active schedule that `ScheduleStore.due` returned, at `now`; `lastRunLive` is whether its last
 * run's instance is still running. Undefined when there is nothing to do (not due yet, buffered run still waiting).
 */
export function planDue(record: ScheduleRecord, now: number, lastRunLive: boolean): SchedulePlan | undefined {
  if (record.state !== 'Active') return undefined;
  if (record.bufferedAt !== undefined && !lastRunLive) {
    const { bufferedAt, ...rest } = record;
    return { record: started(rest, bufferedAt, 'started', now), runAt: bufferedAt, onTime: false };
  }
  const due = record.nextRunAt;
  if (due === undefined || due > now) return undefined;
  const times = timesOf(record);
  const latest = Math.max(due, times.latest(now) ?? due);
  const next = times.next(now);
  let result: ScheduleRecord = { ...record, updatedAt: now };
  delete result.nextRunAt;
  if (next !== undefined) result.nextRunAt = next;
  const inWindow = now - latest <= record.definition.catchUpWindowMs;
  const missedUntil = inWindow ? latest : latest + 1;
  const missed = countDueTimes(times, due, missedUntil);
  if (missed > 0) {
    const lastMissed = inWindow ? (times.latest(latest - 1) ?? due) : latest;
    result = recorded(result, { dueAt: due, outcome: 'missed', count: missed, ...(lastMissed !== due ? { lastDueAt: lastMissed } : {}), recordedAt: now });
  }
  if (!inWindow) return { record: result, onTime: true };
  if (lastRunLive && record.definition.overlap !== 'allow') {
    if (record.definition.overlap === 'bufferOne' && result.bufferedAt === undefined) {
      return { record: recorded({ ...result, bufferedAt: latest }, { dueAt: latest, outcome: 'buffered', recordedAt: now }), onTime: true };
    }
    return { record: recorded(result, { dueAt: latest, outcome: 'skipped', recordedAt: now }), onTime: true };
  }
  return { record: started(result, latest, 'started', now), runAt: latest, onTime: true };
}

/** A run started by hand at `now` (`triggerSchedule`), whatever the state and the overlap policy. */
export function planTrigger(record: ScheduleRecord, now: number): SchedulePlan {
  return { record: started({ ...record, updatedAt: now }, now, 'triggered', now), runAt: now, onTime: false };
}

/** The instance id a run at `dueAt` gets (see `scheduleRunInstanceId`). */
function runId(record: ScheduleRecord, dueAt: number): string {
  return `${record.scheduleId}:${new Date(dueAt).toISOString()}`;
}

function started(record: ScheduleRecord, dueAt: number, outcome: ScheduleRunOutcome, now: number): ScheduleRecord {
  const instanceId = runId(record, dueAt);
  return recorded({ ...record, lastRunAt: dueAt, lastInstanceId: instanceId }, { dueAt, outcome, instanceId, recordedAt: now });
}

function recorded(record: ScheduleRecord, run: StoredScheduleRun): ScheduleRecord {
  return { ...record, recent: [run, ...record.recent].slice(0, MAX_RECENT_RUNS) };
}

function withNextRun(record: ScheduleRecord, now: number): ScheduleRecord {
  const { nextRunAt: _n, ...rest } = record;
  const next = timesOf(record).next(now);
  return next === undefined ? rest : { ...rest, nextRunAt: next };
}
