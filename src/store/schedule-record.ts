/**
 * The schedules of a task hub, as stored (the `ScheduleStore` interface is in `store.ts`). Each schedule is one row whose `revision` is its fencing token: every
 * change (a definition update, a pause, a run) is a compare-and-set on it, so of several workers that see the same
 * due time exactly one writes the run. The run's instance (`<scheduleId>:<due ISO>`) is created in the same
 * transaction, only if no instance of that id exists at all — a run that was written once is never written again,
 * whatever the number of workers, crashes or restarts.
 */
import type { ScheduleDefinition, ScheduleRunOutcome, ScheduleState } from '../sdk/schedule.js';

/** One recorded due time (see `ScheduleRun`); times are epoch milliseconds. */
export interface StoredScheduleRun {
  dueAt: number;
  outcome: ScheduleRunOutcome;
  instanceId?: string;
  count?: number;
  lastDueAt?: number;
  recordedAt: number;
}

/** A schedule row. */
export interface ScheduleRecord {
  scheduleId: string;
  definition: ScheduleDefinition;
  /** JSON text of the runs' input. */
  input?: string;
  state: ScheduleState;
  pausedReason?: string;
  /** Where an `every` schedule without `startAt` counts from (set when its timing is made or changed). */
  anchorAt: number;
  /** The next due time (absent: no more, or paused). */
  nextRunAt?: number;
  /** A due time waiting for the running instance to end (`bufferOne`). */
  bufferedAt?: number;
  lastRunAt?: number;
  lastInstanceId?: string;
  /** Newest first, at most {@link MAX_RECENT_RUNS}. */
  recent: StoredScheduleRun[];
  /** Declared in code (`app.schedule`). */
  declared: boolean;
  /** The compare-and-set token: 1 when created, one more with every write. */
  revision: number;
  createdAt: number;
  updatedAt: number;
}

/** How many recent runs a schedule keeps. */
export const MAX_RECENT_RUNS = 20;

/** What a {@link ScheduleStore.put} did. */
export type SchedulePutOutcome = 'written' | 'conflict' | 'early';

