/**
 * The due times of a schedule. Cron expressions and time zones are croner's (DST included: a time that a spring
 * change skips runs at the first valid time after the gap; a time that an autumn change repeats runs once, for
 * fixed-time expressions such as `30 2 * * *`; interval expressions such as `30 * * * *` run at both).
 * Every time is epoch milliseconds.
 */
import { Cron } from 'croner';
import { ValidationError } from './errors.js';

/** Due times of one schedule, bounded by its `startAt` and `endAt` (both inclusive). */
export interface ScheduleTimes {
  /** The first due time strictly after `after`, if any. */
  next(after: number): number | undefined;
  /** The latest due time at or before `atOrBefore`, if any. */
  latest(atOrBefore: number): number | undefined;
}

/** The bounds and timing of a schedule. */
export interface ScheduleTiming {
  cron?: string;
  every?: number;
  timeZone?: string;
  startAt?: Date;
  endAt?: Date;
}

/** Due times of `timing`; `anchor` is where an `every` schedule without `startAt` counts from. */
export function scheduleTimes(timing: ScheduleTiming, anchor: number): ScheduleTimes {
  const start = timing.startAt?.getTime();
  const end = timing.endAt?.getTime();
  const inner = timing.cron !== undefined ? cronTimes(timing.cron, timing.timeZone) : everyTimes(timing.every!, start ?? anchor);
  const bounded = (t: number | undefined) => (t === undefined || (end !== undefined && t > end) ? undefined : t);
  return {
    next: (after) => bounded(inner.next(start !== undefined ? Math.max(after, start - 1) : after)),
    latest: (atOrBefore) => {
      const t = inner.latest(end !== undefined ? Math.min(atOrBefore, end) : atOrBefore);
      return t === undefined || (start !== undefined && t < start) ? undefined : t;
    },
  };
}

/** Due times of a cron expression in `timeZone` (default UTC); a malformed expression is a `ValidationError`. */
export function cronTimes(expression: string, timeZone: string | undefined): ScheduleTimes {
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone: timeZone ?? 'UTC', paused: true, mode: '5-or-6-parts' });
  } catch (error) {
    throw new ValidationError(`Invalid cron expression '${expression}': ${(error as Error).message}`);
  }
  return {
    next: (after) => cron.nextRun(new Date(after))?.getTime(),
    // croner counts a run earlier in the reference's second as before it, so +1 ms includes `atOrBefore` itself.
    latest: (atOrBefore) => cron.previousRuns(1, new Date(atOrBefore + 1))[0]?.getTime(),
  };
}

function everyTimes(every: number, anchor: number): ScheduleTimes {
  return {
    next: (after) => (after < anchor ? anchor : anchor + (Math.floor((after - anchor) / every) + 1) * every),
    latest: (atOrBefore) => (atOrBefore < anchor ? undefined : anchor + Math.floor((atOrBefore - anchor) / every) * every),
  };
}

/** How many due times lie in `[from, to)`, counting at most `cap` (a long outage of a per-second cron). */
export function countDueTimes(times: ScheduleTimes, from: number, to: number, cap = 10_000): number {
  let count = 0;
  for (let t: number | undefined = from; t !== undefined && t < to && count < cap; t = times.next(t)) count++;
  return count;
}
