/** `duraflow instances list|get|history`: read instances, as tables or `--json`. */
import type { Command } from 'commander';
import { isTerminalStatus, type FailureDetails, type HistoryEvent } from '../sdk/history.js';
import type { DurableClient, DurableOrchestrationStatus, OrchestrationFilter } from '../sdk/durable-client.js';
import { formatDuration, preview } from '../dashboard/format.js';
import { describePatchMarker, readPatchMarker } from '../core/patch-markers.js';
import { InstanceNotFoundError, ValidationError } from '../sdk/errors.js';
import { parseCount, parseTimeArg, withClient, withConnection, type ConnectionOptions } from './connection.js';
import { collectStatuses, collectTags, countOption, formatTags, parseStatus, STATUSES, tagsOf, timeOption } from './options.js';
import { block, formatTime, printJson, println, safeText, statusToJson, table } from './output.js';

/** Listing and reading never create a store. */
const READ_ONLY = { readOnly: true } as const;

/** Filter options shared by `list` and `purge`. */
export interface FilterOptions {
  status?: string[];
  name?: string;
  prefix?: string;
  from?: string;
  to?: string;
  version?: string;
  tag?: string[];
}

/** Adds the filter options to a command. */
export function withFilters(command: Command): Command {
  return command
    .option('--status <statuses>', `runtime status, repeatable or comma-separated (${STATUSES.join(', ')})`, collectStatuses)
    .option('--name <text>', 'orchestration name contains this text (case-insensitive)')
    .option('--prefix <text>', 'instance id starts with this text')
    .option('--from <time>', 'created at or after: ISO-8601, or an age like 15m, 2h, 7d', timeOption('--from'))
    .option('--to <time>', 'created at or before: ISO-8601, or an age', timeOption('--to'))
    .option('--version <version>', "orchestration version (as versions compare: V1 is v1; '' for instances without one)")
    .option('--tag <key=value>', 'carries this tag (repeatable: every one must match)', collectTags);
}

/** The store-side filter of the options (the name filter is applied by the caller). */
export function filterOf(options: FilterOptions): OrchestrationFilter {
  const statuses = (options.status ?? []).map(parseStatus);
  const from = parseTimeArg(options.from, '--from');
  const to = parseTimeArg(options.to, '--to');
  const tags = tagsOf(options.tag);
  return {
    ...(tags ? { tags } : {}),
    ...(statuses.length ? { runtimeStatus: statuses } : {}),
    ...(options.prefix ? { instanceIdPrefix: options.prefix } : {}),
    ...(from ? { createdTimeFrom: from } : {}),
    ...(to ? { createdTimeTo: to } : {}),
    ...(options.version !== undefined ? { version: options.version } : {}),
  };
}

/** Instances matching the options, entities left out, newest first. */
export async function matchingInstances(client: DurableClient, options: FilterOptions): Promise<DurableOrchestrationStatus[]> {
  const needle = options.name?.toLowerCase();
  const all = await client.getStatusBy(filterOf(options));
  return all
    .filter((s) => !s.instanceId.startsWith('@') && (needle === undefined || s.name.toLowerCase().includes(needle)))
    .sort((a, b) => b.createdTime.getTime() - a.createdTime.getTime() || (a.instanceId < b.instanceId ? 1 : -1));
}

function duration(status: DurableOrchestrationStatus): string {
  const end = isTerminalStatus(status.runtimeStatus) ? status.lastUpdatedTime.getTime() : Date.now();
  return formatDuration(end - status.createdTime.getTime());
}

interface ListOptions extends ConnectionOptions, FilterOptions {
  limit?: string;
  pageSize?: string;
  continuationToken?: string;
}

async function list(options: ListOptions): Promise<void> {
  await withClient(options, async (client) => {
    // Raw paging (store order, oldest first) for scripts that walk a large hub page by page.
    if (options.pageSize !== undefined || options.continuationToken !== undefined) {
      if (options.name) throw new ValidationError('--name cannot be combined with --page-size/--continuation-token.');
      const page = await client.listInstances({
        ...filterOf(options),
        showInput: false,
        ...(options.pageSize !== undefined ? { pageSize: parseCount(options.pageSize, '--page-size', 1000)! } : {}),
        ...(options.continuationToken ? { continuationToken: options.continuationToken } : {}),
      });
      if (options.json) printJson({ instances: page.instances.map(statusToJson), continuationToken: page.continuationToken ?? null });
      else {
        printTable(page.instances);
        if (page.continuationToken) println(`\nnext page: --continuation-token ${page.continuationToken}`);
      }
      return;
    }
    const limit = parseCount(options.limit ?? '50', '--limit')!;
    const all = await matchingInstances(client, options);
    const shown = limit === 0 ? all : all.slice(0, limit);
    if (options.json) return printJson(shown.map(statusToJson));
    printTable(shown);
    const counts = STATUSES.map((s) => [s, all.filter((i) => i.runtimeStatus === s).length] as const).filter(([, n]) => n > 0);
    println(`\n${shown.length} of ${all.length} shown (newest first)${counts.length ? ` — ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}` : ''}`);
  }, READ_ONLY);
}

function printTable(instances: DurableOrchestrationStatus[]): void {
  if (instances.length === 0) return println('No instances match.');
  println(
    table(
      ['INSTANCE ID', 'NAME', 'VERSION', 'STATUS', 'CREATED (UTC)', 'DURATION', 'TAGS', 'CUSTOM STATUS'],
      instances.map((i) => [
        i.instanceId,
        i.name,
        i.version ?? '',
        i.runtimeStatus,
        formatTime(i.createdTime),
        duration(i),
        formatTags(i.tags),
        preview(i.customStatus, 40),
      ]),
      70,
    ),
  );
}

function failureLines(details: FailureDetails, indent = ''): string[] {
  const lines = [`${indent}${details.errorType}: ${details.message}`];
  if (details.stack) lines.push(...details.stack.split('\n').slice(1, 12).map((l) => `${indent}  ${l.trim()}`));
  if (details.inner) lines.push(`${indent}caused by:`, ...failureLines(details.inner, `${indent}  `));
  return lines;
}

/** Prints one instance for people. */
export function printStatus(status: DurableOrchestrationStatus): void {
  const rows: [string, string][] = [
    ['Instance ID', status.instanceId],
    ['Name', status.name],
    ...(status.version !== undefined ? ([['Version', status.version]] as [string, string][]) : []),
    ['Status', status.runtimeStatus],
    ...(status.tags ? ([['Tags', formatTags(status.tags)]] as [string, string][]) : []),
    ['Created', `${formatTime(status.createdTime)} UTC`],
    ['Last updated', `${formatTime(status.lastUpdatedTime)} UTC`],
    [isTerminalStatus(status.runtimeStatus) ? 'Ran for' : 'Running for', duration(status)],
  ];
  for (const [key, value] of rows) println(`${`${key}:`.padEnd(14)}${safeText(value)}`);
  println(block('Input', status.input));
  println(block('Output', status.output));
  println(block('Custom status', status.customStatus));
  if (status.failureDetails) println(`Failure:\n${failureLines(status.failureDetails, '  ').map(safeText).join('\n')}`);
}

async function get(instanceId: string, options: ConnectionOptions & { history?: boolean }): Promise<void> {
  await withClient(options, async (client) => {
    const status = await client.getStatus(instanceId, { showHistory: options.history ?? false, showHistoryOutput: true });
    if (!status) throw new InstanceNotFoundError(instanceId);
    if (options.json) return printJson(statusToJson(status));
    printStatus(status);
    if (status.history) {
      println('History:');
      println(historyTable(status.history).replace(/^/gm, '  '));
    }
  }, READ_ONLY);
}

function eventDetails(event: HistoryEvent): string {
  const marker = readPatchMarker(event);
  if (marker) return describePatchMarker(marker);
  const e = event as unknown as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof e['name'] === 'string') parts.push(e['name']);
  if (typeof e['version'] === 'string') parts.push(`version ${e['version']}`);
  if (typeof e['taskScheduledId'] === 'number') parts.push(`→ #${e['taskScheduledId']}`);
  if (typeof e['timerId'] === 'number') parts.push(`→ #${e['timerId']}`);
  if (typeof e['fireAt'] === 'string') parts.push(`fires ${formatTime(e['fireAt'])}`);
  if (typeof e['instanceId'] === 'string' && event.eventType !== 'ExecutionStarted') parts.push(`instance ${e['instanceId']}`);
  // Payloads are JSON text already: shown as such (strings keep their quotes), on one line.
  for (const key of ['input', 'result', 'data'] as const) if (typeof e[key] === 'string') parts.push(`${key} ${preview(e[key], 50)}`);
  if (typeof e['reason'] === 'string') parts.push(`reason ${e['reason']}`);
  if (typeof e['orchestrationStatus'] === 'string') parts.push(e['orchestrationStatus']);
  const failure = e['failureDetails'] as FailureDetails | undefined;
  if (failure) parts.push(`${failure.errorType}: ${failure.message}`);
  return parts.join('  ');
}

function historyTable(history: readonly HistoryEvent[]): string {
  return table(
    ['#', 'TIME (UTC)', 'EVENT', 'ID', 'DETAILS'],
    history.map((event, i) => [String(i), event.timestamp.replace('T', ' ').replace('Z', ''), event.eventType, event.eventId >= 0 ? `#${event.eventId}` : '', eventDetails(event)]),
    90,
  );
}

async function history(instanceId: string, options: ConnectionOptions): Promise<void> {
  await withClient(options, async (client) => {
    const status = await client.getStatus(instanceId, { showHistory: true, showHistoryOutput: true });
    if (!status) throw new InstanceNotFoundError(instanceId);
    const events = status.history ?? [];
    if (options.json) return printJson(events);
    println(events.length ? historyTable(events) : 'No history yet.');
  }, READ_ONLY);
}

/** Registers `list`, `get` and `history` on the `instances` command. */
export function registerQueryCommands(instances: Command): void {
  withFilters(withConnection(instances.command('list')))
    .description('List instances, newest first, with filters.')
    .option('--limit <n>', 'show at most n instances (0: all)', countOption('--limit'), '50')
    .option('--page-size <n>', 'raw paging in store order (oldest first), for scripts', countOption('--page-size', 1000))
    .option('--continuation-token <token>', 'the page after this token (from a previous --page-size listing)')
    .addHelpText('after', '\nExamples:\n  duraflow instances list --status Running,Pending --from 2h\n  duraflow instances list --url http://127.0.0.1:7071 --name order --json')
    .action(list);

  withConnection(instances.command('get'))
    .description("Show an instance: status, input, output, custom status, failure details.")
    .argument('<instance-id>')
    .option('--history', 'include the history')
    .addHelpText('after', '\nExample:\n  duraflow instances get 3f2a… --store sqlite:app.db')
    .action(get);

  withConnection(instances.command('history'))
    .description("Show an instance's history events (current execution).")
    .argument('<instance-id>')
    .addHelpText('after', '\nExample:\n  duraflow instances history 3f2a… --json')
    .action(history);
}
