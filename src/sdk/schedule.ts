/**
 * Schedules: an orchestration started again and again, at the times of a cron expression (in a time zone) or
 * every so many milliseconds. The public shapes of `client.createSchedule` and `app.schedule`, and their checks:
 * a bad schedule is a `ValidationError` at the call, before anything is stored.
 */
import { ValidationError } from './errors.js';
import { checkStorableText } from './instance-id.js';
import type { OrchestrationRef } from './orchestration-context.js';
import { checkVersion } from './versioning.js';
import { cronTimes } from './schedule-times.js';

/**
 * What a schedule does when a due time comes while its previous run is still running: `skip` it (the default),
 * `bufferOne` (start it when the running one ends; at most one waits, later ones are skipped), or `allow` it to
 * run alongside.
 */
export type ScheduleOverlapPolicy = 'skip' | 'bufferOne' | 'allow';

/** The overlap policies, in the order they are documented. */
export const SCHEDULE_OVERLAP_POLICIES: readonly ScheduleOverlapPolicy[] = ['skip', 'bufferOne', 'allow'];

/** Default {@link ScheduleOptions.catchUpWindowMs}: one minute. */
export const DEFAULT_CATCH_UP_WINDOW_MS = 60_000;
/** The shortest `every` and `catchUpWindowMs`: one second. */
export const MIN_SCHEDULE_INTERVAL_MS = 1000;

/** What a schedule runs and when (`app.schedule(id, options)`; `createSchedule` adds the id). */
export interface ScheduleOptions {
  /** The orchestration to start, by name or typed reference. */
  orchestration: string | OrchestrationRef;
  /** The input of every run. */
  input?: unknown;
  /** A cron expression (5 fields, or 6 with seconds first): `'0 2 * * *'` is 02:00 every day. */
  cron?: string;
  /** Milliseconds between runs (at least 1000), counted from `startAt` (else from when the schedule was made). */
  every?: number;
  /** IANA time zone of `cron` (default UTC), e.g. `'Europe/Berlin'`: 02:00 stays 02:00 across DST changes. */
  timeZone?: string;
  /** No run before this time. */
  startAt?: Date;
  /** No run after this time. */
  endAt?: Date;
  /** What to do when a run is due while the previous one still runs (default `skip`). */
  overlap?: ScheduleOverlapPolicy;
  /**
   * After an outage (no worker running), missed due times this recent (default 60 s, at least 1 s) run once, as
   * the latest of them; older ones are skipped and recorded as missed.
   */
  catchUpWindowMs?: number;
  /** The version runs start with (default: what `startNew` would choose at each run). */
  version?: string;
}

/** Options of `client.createSchedule`. */
export interface CreateScheduleOptions extends ScheduleOptions {
  /** The schedule's id; its runs are instances `<scheduleId>:<due time ISO>`. */
  scheduleId: string;
}

/** Changes of `client.updateSchedule`: the fields given replace the schedule's (`null` clears an optional one). */
export type ScheduleChanges = {
  [K in keyof ScheduleOptions]?: K extends 'orchestration' ? ScheduleOptions[K] : ScheduleOptions[K] | null;
};

/** Whether a schedule's due times start runs. */
export type ScheduleState = 'Active' | 'Paused';

/**
 * What happened at one due time: a run `started` (or `triggered` by hand), `skipped` because the previous run was
 * still running, `buffered` until it ends, or `missed` (older than the catch-up window after an outage).
 */
export type ScheduleRunOutcome = 'started' | 'triggered' | 'skipped' | 'buffered' | 'missed';

/** One entry of a schedule's recent runs. */
export interface ScheduleRun {
  /** The due time (for `missed`, the first of `count` missed due times). */
  dueAt: Date;
  outcome: ScheduleRunOutcome;
  /** The instance started (`started`, `triggered`). */
  instanceId?: string;
  /** How many due times were missed (`missed`), the last being `lastDueAt`. */
  count?: number;
  lastDueAt?: Date;
  /** When it was recorded. */
  recordedAt: Date;
}

/** A schedule as the client reports it. */
export interface ScheduleDescription {
  scheduleId: string;
  orchestration: string;
  version?: string;
  input?: unknown;
  cron?: string;
  every?: number;
  timeZone?: string;
  startAt?: Date;
  endAt?: Date;
  overlap: ScheduleOverlapPolicy;
  catchUpWindowMs: number;
  state: ScheduleState;
  /** Why it was paused (`pauseSchedule(id, reason)`). */
  pausedReason?: string;
  /** The next due time; absent once `endAt` has passed (or while paused, when it is computed at resume). */
  nextRunAt?: Date;
  /** A due time waiting for the running instance to end (`bufferOne`). */
  bufferedRunAt?: Date;
  /** The latest run started, and its instance. */
  lastRunAt?: Date;
  lastInstanceId?: string;
  /** What happened at recent due times, newest first (at most 20). */
  recentRuns: ScheduleRun[];
  /** True for a schedule declared in code with `app.schedule` (a worker start updates it to the code's). */
  declared: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A schedule's checked timing and target, as stored (the input is stored apart, as JSON text). */
export interface ScheduleDefinition {
  orchestration: string;
  version?: string;
  cron?: string;
  every?: number;
  timeZone?: string;
  startAt?: Date;
  endAt?: Date;
  overlap: ScheduleOverlapPolicy;
  catchUpWindowMs: number;
}

/** Schedule ids: non-empty, at most 200 characters (runs append a 25-character time), no `/ \ # ? :` or controls. */
export function checkScheduleId(scheduleId: unknown): asserts scheduleId is string {
  if (typeof scheduleId !== 'string' || scheduleId.length === 0) throw new ValidationError('A schedule id must be a non-empty string.');
  if (scheduleId.length > 200) throw new ValidationError(`A schedule id may be at most 200 characters (got ${scheduleId.length}).`);
  if (scheduleId.startsWith('@')) throw new ValidationError(`A schedule id may not start with '@': '${scheduleId}'.`);
  if (scheduleId === '.' || scheduleId === '..') throw new ValidationError(`'${scheduleId}' cannot be used as a schedule id.`);
  // eslint-disable-next-line no-control-regex
  if (/[/\\#?:\u0000-\u001f\u007f-\u009f]/.test(scheduleId)) {
    throw new ValidationError(`A schedule id may not contain '/', '\\', '#', '?', ':' or control characters: ${JSON.stringify(scheduleId)}.`);
  }
}

/** The instance id of a schedule's run at `dueAt`: `<scheduleId>:<due time ISO>`. */
export function scheduleRunInstanceId(scheduleId: string, dueAt: Date): string {
  return `${scheduleId}:${dueAt.toISOString()}`;
}

/** Checks a schedule's options (of `createSchedule`, `app.schedule`, or a schedule after `updateSchedule`). */
export function checkScheduleDefinition(options: unknown, what: string): ScheduleDefinition {
  if (typeof options !== 'object' || options === null) throw new ValidationError(`The options of ${what} must be an object.`);
  const o = options as Record<string, unknown>;
  const ref = o['orchestration'];
  const orchestration = typeof ref === 'string' ? ref : typeof ref === 'object' && ref !== null ? (ref as OrchestrationRef).name : undefined;
  if (typeof orchestration !== 'string' || orchestration.length === 0) throw new ValidationError(`${what} needs an orchestration name or reference.`);
  if (orchestration.startsWith('@')) throw new ValidationError(`Orchestration names may not start with '@': '${orchestration}'.`);
  checkStorableText(orchestration, 'An orchestration name');
  const refVersion = typeof ref === 'object' && ref !== null ? (ref as OrchestrationRef).version : undefined;
  const version = o['version'] ?? refVersion;
  const def: ScheduleDefinition = {
    orchestration,
    overlap: 'skip',
    catchUpWindowMs: DEFAULT_CATCH_UP_WINDOW_MS,
    ...(version !== undefined && version !== null ? { version: checkVersion(version, `The version of ${what}`) } : {}),
  };
  const cron = o['cron'] ?? undefined;
  const every = o['every'] ?? undefined;
  if ((cron === undefined) === (every === undefined)) throw new ValidationError(`${what} needs exactly one of cron and every.`);
  const timeZone = o['timeZone'] ?? undefined;
  if (timeZone !== undefined) {
    if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) throw new ValidationError(`Unknown time zone ${JSON.stringify(timeZone)} in ${what} (use an IANA name such as 'Europe/Berlin').`);
    if (cron === undefined) throw new ValidationError(`timeZone applies to cron schedules only (${what} has every).`);
    def.timeZone = timeZone;
  }
  if (cron !== undefined) {
    if (typeof cron !== 'string') throw new ValidationError(`The cron of ${what} must be a string.`);
    def.cron = cron;
    // Parses it, and refuses an expression that matches no date at all ('0 0 31 2 *').
    if (cronTimes(cron, def.timeZone).next(Date.now()) === undefined) throw new ValidationError(`The cron expression '${cron}' of ${what} never matches a date.`);
  } else {
    if (typeof every !== 'number' || !Number.isInteger(every) || every < MIN_SCHEDULE_INTERVAL_MS) {
      throw new ValidationError(`every of ${what} must be a whole number of milliseconds, at least ${MIN_SCHEDULE_INTERVAL_MS} (got ${String(every)}).`);
    }
    def.every = every;
  }
  for (const key of ['startAt', 'endAt'] as const) {
    const value = o[key] ?? undefined;
    if (value === undefined) continue;
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new ValidationError(`${key} of ${what} must be a valid Date.`);
    def[key] = new Date(value.getTime());
  }
  if (def.startAt && def.endAt && def.endAt.getTime() < def.startAt.getTime()) throw new ValidationError(`endAt of ${what} is before its startAt.`);
  const overlap = o['overlap'] ?? undefined;
  if (overlap !== undefined) {
    if (!SCHEDULE_OVERLAP_POLICIES.includes(overlap as ScheduleOverlapPolicy)) {
      throw new ValidationError(`overlap of ${what} must be one of ${SCHEDULE_OVERLAP_POLICIES.map((p) => `'${p}'`).join(', ')} (got ${JSON.stringify(overlap)}).`);
    }
    def.overlap = overlap as ScheduleOverlapPolicy;
  }
  const window = o['catchUpWindowMs'] ?? undefined;
  if (window !== undefined) {
    if (typeof window !== 'number' || !Number.isInteger(window) || window < MIN_SCHEDULE_INTERVAL_MS) {
      throw new ValidationError(`catchUpWindowMs of ${what} must be a whole number of milliseconds, at least ${MIN_SCHEDULE_INTERVAL_MS} (got ${String(window)}).`);
    }
    def.catchUpWindowMs = window;
  }
  return def;
}

/** True for a time zone name this runtime knows (IANA names, `UTC`). */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
