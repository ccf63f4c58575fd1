/**
 * Schedule operations of the store-backed client. Each change is read, computed (`store/schedule-plan.ts`) and
 * written by compare-and-set on the schedule's revision, again after losing to a concurrent writer (a worker
 * starting a run, another client), so no change is lost and none is half-written.
 */
import { flowLimitsFor } from '../sdk/flow-control.js';
import { deserialize, serialize } from '../core/payload.js';
import { ScheduleAlreadyExistsError, ScheduleNotFoundError, ValidationError } from '../sdk/errors.js';
import type { RegisteredNames, Registry } from '../sdk/registry.js';
import {
  checkScheduleDefinition,
  checkScheduleId,
  type CreateScheduleOptions,
  type ScheduleChanges,
  type ScheduleDescription,
  type ScheduleOptions,
} from '../sdk/schedule.js';
import { checkScheduledOrchestration } from '../sdk/schedule-check.js';
import { changedSchedule, newScheduleRecord, pausedSchedule, planTrigger, resumedSchedule } from '../store/schedule-plan.js';
import { startInstanceRequest } from '../store/start-request.js';
import type { ScheduleRecord } from '../store/schedule-record.js';
import type { HubStore, ScheduleRunStart } from '../store/store.js';

/** What the schedule operations need from their client. */
export interface ScheduleClientContext {
  hub: HubStore;
  /** The app's own functions (its orchestrations are accepted before any worker registered them). */
  registry?: Registry | undefined;
  maxPayloadBytes: number;
  now(): number;
  /** The version a triggered run of `name` gets (what `startNew` would choose). */
  versionFor(name: string, explicit: string | undefined): Promise<string | undefined>;
}

const MAX_ATTEMPTS = 20;

/** `createSchedule`. */
export async function createSchedule(ctx: ScheduleClientContext, options: CreateScheduleOptions): Promise<ScheduleDescription> {
  if (typeof options !== 'object' || options === null) throw new ValidationError('createSchedule needs an options object.');
  const { scheduleId } = options;
  checkScheduleId(scheduleId);
  const definition = checkScheduleDefinition(options, `schedule '${scheduleId}'`);
  await checkOrchestration(ctx, definition.orchestration);
  const input = serialize(options.input, `input of schedule '${scheduleId}'`, ctx.maxPayloadBytes);
  const record = newScheduleRecord({ scheduleId, definition, input, declared: false }, ctx.now());
  if ((await ctx.hub.schedules.put(record, 'absent')) !== 'written') throw new ScheduleAlreadyExistsError(scheduleId);
  return toDescription({ ...record, revision: 1 });
}

/** `getSchedule`. */
export async function getSchedule(ctx: ScheduleClientContext, scheduleId: string): Promise<ScheduleDescription | undefined> {
  checkScheduleId(scheduleId);
  const record = await ctx.hub.schedules.get(scheduleId);
  return record && toDescription(record);
}

/** `listSchedules`. */
export async function listSchedules(ctx: ScheduleClientContext): Promise<ScheduleDescription[]> {
  return (await ctx.hub.schedules.list()).map(toDescription);
}

/** `pauseSchedule`. */
export function pauseSchedule(ctx: ScheduleClientContext, scheduleId: string, reason?: string): Promise<ScheduleDescription> {
  if (reason !== undefined && typeof reason !== 'string') throw new ValidationError('A pause reason must be a string.');
  return change(ctx, scheduleId, (record, now) => pausedSchedule(record, reason, now));
}

/** `resumeSchedule`. */
export function resumeSchedule(ctx: ScheduleClientContext, scheduleId: string): Promise<ScheduleDescription> {
  return change(ctx, scheduleId, (record, now) => (record.state === 'Active' ? undefined : resumedSchedule(record, now)));
}

/** `updateSchedule`. */
export async function updateSchedule(ctx: ScheduleClientContext, scheduleId: string, changes: ScheduleChanges): Promise<ScheduleDescription> {
  if (typeof changes !== 'object' || changes === null) throw new ValidationError('updateSchedule needs an object of changes.');
  const input = 'input' in changes ? serialize(changes.input, `input of schedule '${scheduleId}'`, ctx.maxPayloadBytes) : undefined;
  let checked: string | undefined;
  return change(ctx, scheduleId, async (record, now) => {
    const definition = checkScheduleDefinition(merged(record, changes), `schedule '${scheduleId}'`);
    if (checked !== definition.orchestration) await checkOrchestration(ctx, (checked = definition.orchestration));
    return changedSchedule(record, definition, 'input' in changes ? input : record.input, now);
  });
}

/** `triggerSchedule`: writes a run at now with the schedule, answers its instance id. */
export async function triggerSchedule(ctx: ScheduleClientContext, scheduleId: string): Promise<string> {
  let instanceId = '';
  await change(ctx, scheduleId, async (record, now) => {
    const plan = planTrigger(record, now);
    instanceId = plan.record.lastInstanceId!;
    const name = record.definition.orchestration;
    const version = await ctx.versionFor(name, record.definition.version);
    const run: ScheduleRunStart = { request: startInstanceRequest({ name, instanceId, input: record.input, version }, new Date(now)) };
    // A triggered run gets its keys here, as a startNew would (a failing key function refuses the trigger).
    const flow = flowLimitsFor(ctx.registry?.orchestrationFlow.get(name), record.input, `orchestration '${name}'`);
    if (flow) run.request.flow = flow;
    return { record: plan.record, run };
  });
  return instanceId;
}

/** `deleteSchedule`. */
export async function deleteSchedule(ctx: ScheduleClientContext, scheduleId: string): Promise<void> {
  checkScheduleId(scheduleId);
  if (!(await ctx.hub.schedules.delete(scheduleId))) throw new ScheduleNotFoundError(scheduleId);
}

type Change = ScheduleRecord | { record: ScheduleRecord; run: ScheduleRunStart } | undefined;

/** Reads, changes (`undefined`: nothing to change) and writes a schedule by compare-and-set, retrying on conflict. */
async function change(
  ctx: ScheduleClientContext,
  scheduleId: string,
  fn: (record: ScheduleRecord, now: number) => Change | Promise<Change>,
): Promise<ScheduleDescription> {
  checkScheduleId(scheduleId);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const record = await ctx.hub.schedules.get(scheduleId);
    if (!record) throw new ScheduleNotFoundError(scheduleId);
    const changed = await fn(record, ctx.now());
    if (changed === undefined) return toDescription(record);
    const [next, run] = 'run' in changed ? [changed.record, changed.run] : [changed, undefined];
    if ((await ctx.hub.schedules.put(next, record.revision, run)) === 'written') return toDescription({ ...next, revision: record.revision + 1 });
  }
  throw new Error(`The schedule '${scheduleId}' kept changing under ${MAX_ATTEMPTS} attempts to write it; try again.`);
}

async function checkOrchestration(ctx: ScheduleClientContext, name: string): Promise<void> {
  let served: RegisteredNames | undefined;
  if (!ctx.registry?.hasOrchestration(name)) served = await ctx.hub.getRegisteredNames();
  checkScheduledOrchestration(name, ctx.registry, served);
}

/** The schedule's options with `changes` over them (`null` clears; a new cron replaces every, and the reverse). */
function merged(record: ScheduleRecord, changes: ScheduleChanges): ScheduleOptions {
  const options: Record<string, unknown> = { ...record.definition };
  if ('cron' in changes && changes.cron != null) delete options['every'];
  if ('every' in changes && changes.every != null) {
    delete options['cron'];
    delete options['timeZone'];
  }
  for (const [key, value] of Object.entries(changes)) {
    if (key === 'input' || value === undefined) continue;
    if (value === null) delete options[key];
    else options[key] = value;
  }
  // A reference's version is the reference's; a plain name keeps the schedule's version unless given one.
  if (typeof changes.orchestration === 'object' && changes.orchestration !== null && !('version' in changes)) delete options['version'];
  return options as unknown as ScheduleOptions;
}

/** The public view of a stored schedule. */
export function toDescription(record: ScheduleRecord): ScheduleDescription {
  const d = record.definition;
  return {
    scheduleId: record.scheduleId,
    orchestration: d.orchestration,
    ...(d.version !== undefined ? { version: d.version } : {}),
    ...(record.input !== undefined ? { input: deserialize(record.input) } : {}),
    ...(d.cron !== undefined ? { cron: d.cron } : {}),
    ...(d.every !== undefined ? { every: d.every } : {}),
    ...(d.timeZone !== undefined ? { timeZone: d.timeZone } : {}),
    ...(d.startAt ? { startAt: d.startAt } : {}),
    ...(d.endAt ? { endAt: d.endAt } : {}),
    overlap: d.overlap,
    catchUpWindowMs: d.catchUpWindowMs,
    state: record.state,
    ...(record.pausedReason !== undefined ? { pausedReason: record.pausedReason } : {}),
    ...(record.nextRunAt !== undefined ? { nextRunAt: new Date(record.nextRunAt) } : {}),
    ...(record.bufferedAt !== undefined ? { bufferedRunAt: new Date(record.bufferedAt) } : {}),
    ...(record.lastRunAt !== undefined ? { lastRunAt: new Date(record.lastRunAt) } : {}),
    ...(record.lastInstanceId !== undefined ? { lastInstanceId: record.lastInstanceId } : {}),
    recentRuns: record.recent.map((run) => ({
      dueAt: new Date(run.dueAt),
      outcome: run.outcome,
      ...(run.instanceId !== undefined ? { instanceId: run.instanceId } : {}),
      ...(run.count !== undefined ? { count: run.count } : {}),
      ...(run.lastDueAt !== undefined ? { lastDueAt: new Date(run.lastDueAt) } : {}),
      recordedAt: new Date(run.recordedAt),
    })),
    declared: record.declared,
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
  };
}
