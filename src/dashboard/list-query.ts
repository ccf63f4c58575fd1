/**
 * The instance list's data: URL parameters → filters, one scan of the matching instances through the client
 * (which gives the counts per status and the histogram), then sort and a page after a continuation token.
 *
 * The store pages by created time only and knows no name filter, so the list scans (up to `maxScan`
 * instances) and sorts in memory; its continuation token is a keyset cursor `(sort value, instance id)` in the
 * chosen order, so a page stays put while new instances arrive.
 */
import type { RuntimeStatus } from '../sdk/history.js';
import type { DurableClient, DurableOrchestrationStatus } from '../sdk/durable-client.js';
import { buildHistogram, type Histogram } from './histogram.js';
import { compareVersions, MAX_VERSION_LENGTH } from '../sdk/versioning.js';
import { checkTags, parseTagPair, type InstanceTags } from '../sdk/tags.js';

/** Every runtime status, in the order the dashboard shows them. */
export const ALL_STATUSES: readonly RuntimeStatus[] = ['Running', 'Pending', 'Suspended', 'Completed', 'Failed', 'Terminated', 'Canceled', 'ContinuedAsNew'];

/** Columns the list sorts by. */
export const SORT_KEYS = ['created', 'updated', 'name', 'version', 'status', 'id', 'duration'] as const;
/** A sortable column. */
export type SortKey = (typeof SORT_KEYS)[number];

/** Page sizes offered. */
export const PAGE_SIZES = [25, 50, 100, 200] as const;

/** A bad list parameter (rendered as a 400 banner). */
export class ListParamError extends Error {
  override name = 'ListParamError';
}

/** The list's parameters, parsed and checked. */
export interface ListParams {
  statuses: RuntimeStatus[];
  name?: string;
  prefix?: string;
  /** Only instances of this version (as versions compare). */
  version?: string;
  /** Only instances carrying every one of these tags (`tag=key=value`, repeated). */
  tags?: InstanceTags;
  from?: Date;
  to?: Date;
  sort: SortKey;
  dir: 'asc' | 'desc';
  pageSize: number;
  after?: string;
}

/** Parses `?status=…&name=…&prefix=…&version=…&tag=k=v&from=…&to=…&sort=…&dir=…&size=…&after=…`; throws {@link ListParamError}. */
export function parseListParams(search: URLSearchParams): ListParams {
  const statuses: RuntimeStatus[] = [];
  for (const raw of search.getAll('status').flatMap((v) => v.split(','))) {
    if (raw.trim() === '') continue;
    const status = ALL_STATUSES.find((s) => s.toLowerCase() === raw.trim().toLowerCase());
    if (!status) throw new ListParamError(`Unknown status '${raw}'.`);
    if (!statuses.includes(status)) statuses.push(status);
  }
  const sort = (search.get('sort') || 'created') as SortKey;
  if (!SORT_KEYS.includes(sort)) throw new ListParamError(`Unknown sort column '${sort}'.`);
  const dir = search.get('dir') || (sort === 'created' || sort === 'updated' || sort === 'duration' ? 'desc' : 'asc');
  if (dir !== 'asc' && dir !== 'desc') throw new ListParamError(`Sort direction must be 'asc' or 'desc', got '${dir}'.`);
  const size = search.get('size') || '50';
  const pageSize = /^\d+$/.test(size) ? Number(size) : Number.NaN;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new ListParamError(`Page size must be from 1 to 1000, got '${size}'.`);
  const params: ListParams = { statuses, sort, dir, pageSize };
  const name = search.get('name')?.trim();
  if (name) params.name = name;
  const prefix = search.get('prefix') ?? '';
  if (prefix) params.prefix = prefix;
  const version = search.get('version')?.trim();
  if (version) {
    if (version.length > MAX_VERSION_LENGTH || version.includes('\u0000')) throw new ListParamError(`Invalid version filter '${version.slice(0, 40)}'.`);
    params.version = version;
  }
  const tags = parseTagFilter(search.getAll('tag'));
  if (tags) params.tags = tags;
  const from = parseTime(search.get('from'), 'from');
  if (from) params.from = from;
  const to = parseTime(search.get('to'), 'to');
  if (to) params.to = to;
  if (from && to && from > to) throw new ListParamError("'from' is after 'to'.");
  const after = search.get('after');
  if (after) {
    decodeCursor(after);
    params.after = after;
  }
  return params;
}

/** The tag filter of `tag=key=value` parameters (empty ones, the form's spare input, ignored); checked. */
function parseTagFilter(pairs: string[]): InstanceTags | undefined {
  const given = pairs.filter((pair) => pair.trim() !== '');
  if (given.length === 0) return undefined;
  try {
    return checkTags(Object.fromEntries(given.map(parseTagPair)), 'tag filter');
  } catch (error) {
    throw new ListParamError((error as Error).message);
  }
}

/** A UTC time from a `datetime-local` input (`2025-01-02T03:04`) or any ISO-8601 text. */
function parseTime(value: string | null, label: string): Date | undefined {
  if (!value) return undefined;
  const text = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? `${value}Z` : value;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new ListParamError(`'${label}' must be a date and time (UTC), got '${value}'.`);
  return new Date(ms);
}

/** The URL query for `params` with some fields changed (`undefined` removes a field); no leading `?`. */
export function listQueryString(params: ListParams, changes: Partial<Record<keyof ListParams, unknown>> = {}): string {
  const merged = { ...params, ...changes } as Record<string, unknown>;
  const search = new URLSearchParams();
  for (const status of (merged['statuses'] as RuntimeStatus[] | undefined) ?? []) search.append('status', status);
  const put = (key: string, value: unknown) => {
    if (value === undefined || value === '') return;
    search.set(key, value instanceof Date ? value.toISOString() : String(value));
  };
  put('name', merged['name']);
  put('prefix', merged['prefix']);
  put('version', merged['version']);
  for (const [key, value] of Object.entries((merged['tags'] as InstanceTags | undefined) ?? {})) search.append('tag', `${key}=${value}`);
  put('from', merged['from']);
  put('to', merged['to']);
  if (merged['sort'] !== 'created' || merged['dir'] !== 'desc') {
    put('sort', merged['sort']);
    put('dir', merged['dir']);
  }
  if (merged['pageSize'] !== 50) put('size', merged['pageSize']);
  put('after', merged['after']);
  return search.toString();
}

/** What the list page shows. */
export interface ListResult {
  /** The current page, sorted. */
  rows: DurableOrchestrationStatus[];
  /** Token of the next page, if there is one. */
  next?: string;
  /** Instances per status among those matching every filter but the status filter. */
  counts: Record<RuntimeStatus, number>;
  /** Instances matching every filter. */
  total: number;
  /** True when the scan stopped at `maxScan` instances (counts are then lower bounds). */
  truncated: boolean;
  histogram: Histogram;
  /** Orchestration names seen in the scan, for the name filter. */
  names: string[];
  /** Versions seen in the scan, newest first, for the version filter. */
  versions: string[];
}

/** Loads one page of the list and its statistics. */
export async function loadList(
  client: DurableClient,
  params: ListParams,
  options: { maxScan: number; now: number },
): Promise<ListResult> {
  const counts = Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])) as Record<RuntimeStatus, number>;
  const matching: DurableOrchestrationStatus[] = [];
  const names = new Set<string>();
  const versions = new Set<string>();
  const needle = params.name?.toLowerCase();
  let scanned = 0;
  let truncated = false;
  let continuationToken: string | undefined;
  do {
    const page = await client.listInstances({
      showInput: false,
      pageSize: 1000,
      ...(params.prefix ? { instanceIdPrefix: params.prefix } : {}),
      ...(params.version ? { version: params.version } : {}),
      ...(params.tags ? { tags: params.tags } : {}),
      ...(params.from ? { createdTimeFrom: params.from } : {}),
      ...(params.to ? { createdTimeTo: params.to } : {}),
      ...(continuationToken ? { continuationToken } : {}),
    });
    for (const instance of page.instances) {
      if (instance.instanceId.startsWith('@')) continue; // entities have their own page
      names.add(instance.name);
      if (instance.version !== undefined) versions.add(instance.version);
      if (needle !== undefined && !instance.name.toLowerCase().includes(needle)) continue;
      counts[instance.runtimeStatus] = (counts[instance.runtimeStatus] ?? 0) + 1;
      if (params.statuses.length === 0 || params.statuses.includes(instance.runtimeStatus)) matching.push(instance);
    }
    scanned += page.instances.length;
    continuationToken = page.continuationToken;
    if (continuationToken && scanned >= options.maxScan) truncated = true;
  } while (continuationToken && !truncated);

  const key = sortValue(params.sort, options.now);
  const sign = params.dir === 'asc' ? 1 : -1;
  // Versions sort as they compare (2 before 10), not as text.
  const first = params.sort === 'version' ? (a: string | number, b: string | number) => compareVersions(String(a), String(b)) : cmp;
  const compare = (a: SortTuple, b: SortTuple) => sign * (first(a[0], b[0]) || cmp(a[1], b[1]));
  const sorted = matching.map((i) => [key(i), i.instanceId, i] as const).sort((a, b) => compare([a[0], a[1]], [b[0], b[1]]));
  let start = 0;
  if (params.after) {
    const cursor = decodeCursor(params.after);
    start = sorted.findIndex((row) => compare([row[0], row[1]], cursor) > 0);
    if (start < 0) start = sorted.length;
  }
  const page = sorted.slice(start, start + params.pageSize);
  const last = page[page.length - 1];
  const result: ListResult = {
    rows: page.map((row) => row[2]),
    counts,
    total: matching.length,
    truncated,
    histogram: buildHistogram(matching, { ...(params.from ? { from: params.from } : {}), ...(params.to ? { to: params.to } : {}), now: options.now }),
    names: [...names].sort(),
    versions: [...versions].sort((a, b) => compareVersions(b, a)),
  };
  if (last && start + params.pageSize < sorted.length) result.next = encodeCursor([last[0], last[1]]);
  return result;
}

type SortTuple = readonly [string | number, string];

function cmp(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** The value an instance sorts by. */
function sortValue(sort: SortKey, now: number): (i: DurableOrchestrationStatus) => string | number {
  switch (sort) {
    case 'created':
      return (i) => i.createdTime.getTime();
    case 'updated':
      return (i) => i.lastUpdatedTime.getTime();
    case 'name':
      return (i) => i.name;
    case 'version':
      return (i) => i.version ?? '';
    case 'status':
      return (i) => i.runtimeStatus;
    case 'id':
      return (i) => i.instanceId;
    case 'duration':
      return (i) => instanceDuration(i, now);
  }
}

/** How long an instance ran (finished) or has been running (not finished). */
export function instanceDuration(instance: DurableOrchestrationStatus, now: number): number {
  const finished = ['Completed', 'Failed', 'Terminated', 'Canceled', 'ContinuedAsNew'].includes(instance.runtimeStatus);
  return (finished ? instance.lastUpdatedTime.getTime() : now) - instance.createdTime.getTime();
}

function encodeCursor(tuple: SortTuple): string {
  return Buffer.from(JSON.stringify(tuple), 'utf8').toString('base64url');
}

function decodeCursor(token: string): SortTuple {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && (typeof value[0] === 'string' || typeof value[0] === 'number') && typeof value[1] === 'string') {
      return [value[0], value[1]];
    }
  } catch {
    // fall through
  }
  throw new ListParamError('Invalid continuation token.');
}
