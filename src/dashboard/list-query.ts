/**
 * The instance list's parameters: URL parameters → checked filters, sort and cursor, and back to a query
 * string. The data itself is loaded by `list-load.ts`.
 */
import type { RuntimeStatus } from '../sdk/history.js';
import type { DurableOrchestrationStatus } from '../sdk/durable-client.js';
import { MAX_VERSION_LENGTH } from '../sdk/versioning.js';
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
    const [value] = decodeCursor(after);
    // Created-time pages go to the store's keyset as a millisecond time: anything else is a bad token (400).
    if (sort === 'created' && !(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)) throw new ListParamError('Invalid continuation token.');
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

/** How long an instance ran (finished) or has been running (not finished). */
export function instanceDuration(instance: DurableOrchestrationStatus, now: number): number {
  const finished = ['Completed', 'Failed', 'Terminated', 'Canceled', 'ContinuedAsNew'].includes(instance.runtimeStatus);
  return (finished ? instance.lastUpdatedTime.getTime() : now) - instance.createdTime.getTime();
}

/** A cursor's content: a sort value and an instance id. */
export type SortTuple = readonly [string | number, string];

/** A list cursor: the last row's `(sort value, instance id)`. */
export function encodeCursor(tuple: SortTuple): string {
  return Buffer.from(JSON.stringify(tuple), 'utf8').toString('base64url');
}

/** Decodes {@link encodeCursor}'s token; a bad one is a {@link ListParamError}. */
export function decodeCursor(token: string): SortTuple {
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
