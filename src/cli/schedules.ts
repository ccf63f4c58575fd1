/** `duraflow schedules list|get|create|pause|resume|trigger|delete`: see and steer a task hub's schedules. */
import type { Command } from 'commander';
import { scheduleToJson } from '../client/schedule-wire.js';
import { formatDuration, preview } from '../dashboard/format.js';
import { ValidationError } from '../sdk/errors.js';
import { SCHEDULE_OVERLAP_POLICIES, type CreateScheduleOptions, type ScheduleDescription, type ScheduleOverlapPolicy } from '../sdk/schedule.js';
import { parseJsonArg, withClient, withConnection, type ConnectionOptions } from './connection.js';
import { choiceOption } from './options.js';
import { formatTime, printJson, println, safeText, table } from './output.js';

/** Listing and reading never create a store. */
const READ_ONLY = { readOnly: true } as const;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration argument: milliseconds (`1500`) or with a unit (`30s`, `5m`, `1h`, `1d`). */
export function parseDurationArg(text: string, option: string): number {
  const match = /^\s*(\d+)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) throw new ValidationError(`${option} takes milliseconds or a duration like 30s, 5m, 1h, 1d; got '${text}'.`);
  return Number(match[1]) * UNITS[match[2] ?? 'ms']!;
}

/** An ISO-8601 time argument. */
function parseDateArg(text: string, option: string): Date {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (Number.isNaN(ms)) throw new ValidationError(`${option} takes an ISO-8601 time (2030-01-01T02:00:00Z), got '${text}'.`);
  return new Date(ms);
}

interface CreateOptions extends ConnectionOptions {
  cron?: string;
  every?: string;
  timeZone?: string;
  input?: string;
  startAt?: string;
  endAt?: string;
  overlap?: ScheduleOverlapPolicy;
  catchUpWindow?: string;
  version?: string;
}

/** How a schedule's timing reads: `cron '0 2 * * *' (Europe/Berlin)` or `every 5 m 0 s`. */
function timing(s: ScheduleDescription): string {
  return s.cron !== undefined ? `cron ${s.cron}${s.timeZone ? ` (${s.timeZone})` : ''}` : `every ${formatDuration(s.every ?? 0)}`;
}

/** Registers the `schedules` command group. */
export function registerScheduleCommands(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('See, create and steer recurring orchestrations (against --store or --url).')
    .addHelpText('after', "\nExamples:\n  duraflow schedules list\n  duraflow schedules create nightly cleanup --cron '0 2 * * *' --time-zone Europe/Berlin");

  withConnection(schedules.command('list'))
    .description('List schedules with their next and last runs.')
    .action(async (options: ConnectionOptions) => {
      const rows = await withClient(options, (client) => client.listSchedules(), READ_ONLY);
      if (options.json) return printJson(rows.map(scheduleToJson));
      if (rows.length === 0) return println('No schedules.');
      println(
        table(
          ['ID', 'ORCHESTRATION', 'WHEN', 'STATE', 'NEXT RUN (UTC)', 'LAST RUN'],
          rows.map((s) => [s.scheduleId, s.orchestration, timing(s), s.state, formatTime(s.nextRunAt), s.lastInstanceId ?? '']),
        ),
      );
    });

  withConnection(schedules.command('get'))
    .description('Show a schedule and what happened at its recent due times.')
    .argument('<schedule-id>')
    .action(async (scheduleId: string, options: ConnectionOptions) => {
      const s = await withClient(options, (client) => client.getSchedule(scheduleId), READ_ONLY);
      if (!s) throw new ValidationError(`No schedule '${scheduleId}'.`);
      if (options.json) return printJson(scheduleToJson(s));
      println(`Schedule:      ${safeText(s.scheduleId)}${s.declared ? ' (declared in code)' : ''}`);
      println(`Orchestration: ${safeText(s.orchestration)}${s.version !== undefined ? ` (version ${safeText(s.version)})` : ''}`);
      println(`When:          ${safeText(timing(s))}; overlap ${s.overlap}; catch-up window ${formatDuration(s.catchUpWindowMs)}`);
      if (s.startAt || s.endAt) println(`Between:       ${formatTime(s.startAt) || '…'} and ${formatTime(s.endAt) || '…'} UTC`);
      println(`State:         ${s.state}${s.pausedReason !== undefined ? ` (${safeText(s.pausedReason)})` : ''}`);
      println(`Next run:      ${s.nextRunAt ? `${formatTime(s.nextRunAt)} UTC` : '(none)'}`);
      if (s.bufferedRunAt) println(`Buffered run:  ${formatTime(s.bufferedRunAt)} UTC (waits for ${safeText(s.lastInstanceId ?? '')})`);
      if (s.input !== undefined) println(`Input:         ${safeText(preview(s.input, 100))}`);
      if (s.recentRuns.length === 0) return println('Recent runs:   (none)');
      println('Recent runs:');
      println(
        table(
          ['DUE (UTC)', 'OUTCOME', 'INSTANCE'],
          s.recentRuns.map((r) => [formatTime(r.dueAt), r.outcome + (r.count !== undefined ? ` ×${r.count}` : ''), r.instanceId ?? '']),
          100,
        ),
      );
    });

  withConnection(schedules.command('create'))
    .description('Create a schedule of an orchestration: --cron or --every.')
    .argument('<schedule-id>')
    .argument('<orchestration>')
    .option('--cron <expression>', "cron expression, 5 fields (or 6 with seconds first), e.g. '0 2 * * *'")
    .option('--every <duration>', 'interval: milliseconds or 30s, 5m, 1h, 1d (at least 1 s)')
    .option('--time-zone <iana-name>', 'time zone of --cron (default UTC), e.g. Europe/Berlin')
    .option('--input <json>', 'input of every run, as JSON')
    .option('--start-at <time>', 'no run before this ISO-8601 time')
    .option('--end-at <time>', 'no run after this ISO-8601 time')
    .option('--overlap <policy>', `when a run is due while the previous one runs: ${SCHEDULE_OVERLAP_POLICIES.join(', ')} (default skip)`, choiceOption('--overlap', SCHEDULE_OVERLAP_POLICIES))
    .option('--catch-up-window <duration>', 'missed due times this recent run once after an outage (default 60s)')
    .option('--version <version>', 'version the runs start with')
    .addHelpText('after', "\nExamples:\n  duraflow schedules create nightly cleanup --cron '0 2 * * *' --time-zone Europe/Berlin\n  duraflow schedules create poll checkFeeds --every 5m --input '{\"feed\":\"news\"}'")
    .action(async (scheduleId: string, orchestration: string, options: CreateOptions) => {
      const create: CreateScheduleOptions = {
        scheduleId,
        orchestration,
        ...(options.cron !== undefined ? { cron: options.cron } : {}),
        ...(options.every !== undefined ? { every: parseDurationArg(options.every, '--every') } : {}),
        ...(options.timeZone !== undefined ? { timeZone: options.timeZone } : {}),
        ...(options.input !== undefined ? { input: parseJsonArg(options.input, '--input') } : {}),
        ...(options.startAt !== undefined ? { startAt: parseDateArg(options.startAt, '--start-at') } : {}),
        ...(options.endAt !== undefined ? { endAt: parseDateArg(options.endAt, '--end-at') } : {}),
        ...(options.overlap !== undefined ? { overlap: options.overlap } : {}),
        ...(options.catchUpWindow !== undefined ? { catchUpWindowMs: parseDurationArg(options.catchUpWindow, '--catch-up-window') } : {}),
        ...(options.version !== undefined ? { version: options.version } : {}),
      };
      const s = await withClient(options, (client) => client.createSchedule(create));
      if (options.json) return printJson(scheduleToJson(s));
      println(`Created schedule '${safeText(s.scheduleId)}': ${safeText(timing(s))}; next run ${s.nextRunAt ? `${formatTime(s.nextRunAt)} UTC` : '(none)'}.`);
    });

  withConnection(schedules.command('pause'))
    .description('Stop starting runs (running instances go on).')
    .argument('<schedule-id>')
    .option('--reason <text>', 'why (shown with the schedule)')
    .action(async (scheduleId: string, options: ConnectionOptions & { reason?: string }) => {
      const s = await withClient(options, (client) => client.pauseSchedule(scheduleId, options.reason));
      if (options.json) return printJson(scheduleToJson(s));
      println(`Paused schedule '${safeText(scheduleId)}'.`);
    });

  withConnection(schedules.command('resume'))
    .description('Start runs again from the next due time.')
    .argument('<schedule-id>')
    .action(async (scheduleId: string, options: ConnectionOptions) => {
      const s = await withClient(options, (client) => client.resumeSchedule(scheduleId));
      if (options.json) return printJson(scheduleToJson(s));
      println(`Resumed schedule '${safeText(scheduleId)}'; next run ${s.nextRunAt ? `${formatTime(s.nextRunAt)} UTC` : '(none)'}.`);
    });

  withConnection(schedules.command('trigger'))
    .description('Start a run now (also while paused).')
    .argument('<schedule-id>')
    .action(async (scheduleId: string, options: ConnectionOptions) => {
      const instanceId = await withClient(options, (client) => client.triggerSchedule(scheduleId));
      if (options.json) return printJson({ scheduleId, instanceId });
      println(`Started ${safeText(instanceId)}.`);
    });

  withConnection(schedules.command('delete'))
    .description('Delete a schedule (its instances stay).')
    .argument('<schedule-id>')
    .action(async (scheduleId: string, options: ConnectionOptions) => {
      await withClient(options, (client) => client.deleteSchedule(scheduleId));
      if (options.json) return printJson({ scheduleId, deleted: true });
      println(`Deleted schedule '${safeText(scheduleId)}'.`);
    });
}
