/**
 * Schedule operations of the HTTP client, over the management API's `schedules` routes: `GET schedules`,
 * `POST schedules` (create, 201), `GET|PATCH|DELETE schedules/{id}`, `POST schedules/{id}/pause?reason=`,
 * `…/resume` and `…/trigger` (202 with the run's management payload).
 */
import { serialize } from '../core/payload.js';
import { ScheduleNotFoundError, ValidationError } from '../sdk/errors.js';
import { checkScheduleId, type CreateScheduleOptions, type ScheduleChanges, type ScheduleDescription } from '../sdk/schedule.js';
import { scheduleFromJson, scheduleOptionsToJson } from './schedule-wire.js';

/** The HTTP client's request function. */
export type ScheduleHttpRequest = (
  method: string,
  path: string,
  init: { query?: Record<string, string | undefined>; body?: string; ok: number[]; context?: { scheduleId?: string } },
) => Promise<Response>;

const path = (scheduleId: string, rest = '') => {
  checkScheduleId(scheduleId);
  return `/schedules/${encodeURIComponent(scheduleId)}${rest}`;
};

async function description(response: Response): Promise<ScheduleDescription> {
  return scheduleFromJson(await response.json());
}

function body(options: CreateScheduleOptions | ScheduleChanges, what: string): string {
  if (typeof options !== 'object' || options === null) throw new ValidationError(`${what} needs an options object.`);
  return serialize(scheduleOptionsToJson(options), what, Number.POSITIVE_INFINITY)!;
}

/** `createSchedule`. */
export async function httpCreateSchedule(request: ScheduleHttpRequest, options: CreateScheduleOptions): Promise<ScheduleDescription> {
  if (typeof options === 'object' && options !== null) checkScheduleId(options.scheduleId);
  const text = body(options, 'createSchedule');
  return description(await request('POST', '/schedules', { body: text, ok: [201], context: { scheduleId: options.scheduleId } }));
}

/** `getSchedule`. */
export async function httpGetSchedule(request: ScheduleHttpRequest, scheduleId: string): Promise<ScheduleDescription | undefined> {
  const response = await request('GET', path(scheduleId), { ok: [200, 404], context: { scheduleId } });
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  return description(response);
}

/** `listSchedules`. */
export async function httpListSchedules(request: ScheduleHttpRequest): Promise<ScheduleDescription[]> {
  const response = await request('GET', '/schedules', { ok: [200] });
  return ((await response.json()) as unknown[]).map(scheduleFromJson);
}

/** `pauseSchedule`. */
export async function httpPauseSchedule(request: ScheduleHttpRequest, scheduleId: string, reason?: string): Promise<ScheduleDescription> {
  if (reason !== undefined && typeof reason !== 'string') throw new ValidationError('A pause reason must be a string.');
  return description(await request('POST', path(scheduleId, '/pause'), { query: { reason }, ok: [200], context: { scheduleId } }));
}

/** `resumeSchedule`. */
export async function httpResumeSchedule(request: ScheduleHttpRequest, scheduleId: string): Promise<ScheduleDescription> {
  return description(await request('POST', path(scheduleId, '/resume'), { ok: [200], context: { scheduleId } }));
}

/** `triggerSchedule`: answers the run's instance id. */
export async function httpTriggerSchedule(request: ScheduleHttpRequest, scheduleId: string): Promise<string> {
  const response = await request('POST', path(scheduleId, '/trigger'), { ok: [202], context: { scheduleId } });
  return ((await response.json()) as { id: string }).id;
}

/** `updateSchedule`. */
export async function httpUpdateSchedule(request: ScheduleHttpRequest, scheduleId: string, changes: ScheduleChanges): Promise<ScheduleDescription> {
  const p = path(scheduleId);
  return description(await request('PATCH', p, { body: body(changes, 'updateSchedule'), ok: [200], context: { scheduleId } }));
}

/** `deleteSchedule`. */
export async function httpDeleteSchedule(request: ScheduleHttpRequest, scheduleId: string): Promise<void> {
  const response = await request('DELETE', path(scheduleId), { ok: [204, 404], context: { scheduleId } });
  if (response.status === 404) {
    await response.body?.cancel();
    throw new ScheduleNotFoundError(scheduleId);
  }
}
