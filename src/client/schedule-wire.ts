/**
 * Schedules on the wire (the management API's `schedules` routes): descriptions with times as ISO strings (to
 * the millisecond: due times name instances), and the bodies of create and update, read back into options.
 * Reading a body refuses unknown fields and wrong types with a `ValidationError`, before anything is written.
 */
import { ValidationError } from '../sdk/errors.js';
import type { CreateScheduleOptions, ScheduleChanges, ScheduleDescription, ScheduleRun } from '../sdk/schedule.js';

/** The JSON of a description. */
export function scheduleToJson(s: ScheduleDescription): Record<string, unknown> {
  const iso = (d: Date | undefined) => d?.toISOString();
  return JSON.parse(
    JSON.stringify({
      ...s,
      startAt: iso(s.startAt),
      endAt: iso(s.endAt),
      nextRunAt: iso(s.nextRunAt),
      bufferedRunAt: iso(s.bufferedRunAt),
      lastRunAt: iso(s.lastRunAt),
      createdAt: iso(s.createdAt),
      updatedAt: iso(s.updatedAt),
      recentRuns: s.recentRuns.map((r) => ({ ...r, dueAt: iso(r.dueAt), lastDueAt: iso(r.lastDueAt), recordedAt: iso(r.recordedAt) })),
    }),
  ) as Record<string, unknown>;
}

/** A description from its JSON. */
export function scheduleFromJson(json: unknown): ScheduleDescription {
  const j = json as Record<string, unknown>;
  const date = (key: string, from: Record<string, unknown> = j) => (typeof from[key] === 'string' ? { [key]: new Date(from[key]) } : {});
  const runs = Array.isArray(j['recentRuns']) ? (j['recentRuns'] as Record<string, unknown>[]) : [];
  return {
    ...(j as unknown as ScheduleDescription),
    ...date('startAt'),
    ...date('endAt'),
    ...date('nextRunAt'),
    ...date('bufferedRunAt'),
    ...date('lastRunAt'),
    createdAt: new Date(String(j['createdAt'])),
    updatedAt: new Date(String(j['updatedAt'])),
    recentRuns: runs.map((r) => ({ ...(r as unknown as ScheduleRun), dueAt: new Date(String(r['dueAt'])), ...date('lastDueAt', r), recordedAt: new Date(String(r['recordedAt'])) })),
  };
}

const OPTION_FIELDS = ['orchestration', 'input', 'cron', 'every', 'timeZone', 'startAt', 'endAt', 'overlap', 'catchUpWindowMs', 'version'];

/** The JSON body of `createSchedule` / `updateSchedule` (a typed reference travels as its name and version). */
export function scheduleOptionsToJson(options: CreateScheduleOptions | ScheduleChanges): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (key === 'orchestration' && typeof value === 'object' && value !== null) {
      const ref = value as { name: string; version?: string };
      body['orchestration'] = ref.name;
      if (ref.version !== undefined && !('version' in options)) body['version'] = ref.version;
    } else if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) throw new ValidationError(`${key} must be a valid Date.`);
      body[key] = value.toISOString();
    } else body[key] = value;
  }
  return body;
}

/** The options of a create body (`withId`) or the changes of an update body. */
export function scheduleOptionsFromJson(body: unknown, withId: true): CreateScheduleOptions;
export function scheduleOptionsFromJson(body: unknown, withId: false): ScheduleChanges;
export function scheduleOptionsFromJson(body: unknown, withId: boolean): CreateScheduleOptions | ScheduleChanges {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('The request body must be a JSON object of schedule options.');
  const allowed = withId ? ['scheduleId', ...OPTION_FIELDS] : OPTION_FIELDS;
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!allowed.includes(key)) throw new ValidationError(`Unknown schedule field '${key}' (fields: ${allowed.join(', ')}).`);
    if ((key === 'startAt' || key === 'endAt') && value !== null) {
      const date = typeof value === 'string' ? new Date(value) : undefined;
      if (!date || Number.isNaN(date.getTime())) throw new ValidationError(`${key} must be an ISO 8601 date string (got ${JSON.stringify(value)}).`);
      options[key] = date;
    } else options[key] = value;
  }
  return options as unknown as CreateScheduleOptions | ScheduleChanges;
}
