/**
 * The instance list's data at any table size: every number and row comes from the store in bounded work, so
 * no render reads more than {@link OVERVIEW_WINDOW} small rows, a page, or (for the columns no index orders)
 * at most {@link MEMORY_SORT_LIMIT} instances.
 *
 * - Counts: the unfinished statuses (Pending, Running, Suspended) are exact, from the partial index of
 *   unfinished instances. The others are counted among the newest {@link OVERVIEW_WINDOW} matching instances:
 *   exact when fewer match, else shown as lower bounds ("5000+"). A finished status has no index of its own
 *   (every status change would move its rows), and a capped count is honest where an exact one costs a scan.
 * - Paging: created time and instance id are keyset pages of the store (its indexes, either direction); the
 *   token is the last row's `(sort value, instance id)`, so a page stays put while new instances arrive.
 * - The other columns (name, version, status, updated, duration) sort in memory, only while at most
 *   {@link MEMORY_SORT_LIMIT} instances match; beyond that the list shows newest first and says why.
 * - The histogram bins the newest window: over a larger set it covers the window's time span, and says so.
 * - Name, version, tag and id-prefix filters have no index: the counts, unfinished ones too, apply them to the
 *   newest 2 × window instances of the time range only (lower bounds beyond), and a page looks at {@link PAGE_SCAN_LIMIT} instances
 *   at most: with a rare match it may come out short, with a link that searches on.
 */
import type { RuntimeStatus } from '../sdk/history.js';
import type { DurableOrchestrationStatus } from '../sdk/durable-client.js';
import { compareVersions } from '../sdk/versioning.js';
import type { HubStore, InstanceOverview, InstanceOverviewFilter } from '../store/store.js';
import { decodeContinuationToken, encodeContinuationToken } from '../store/shared.js';
import { toStatus } from '../client/store-client.js';
import { buildHistogram, type Histogram } from './histogram.js';
import { ALL_STATUSES, decodeCursor, encodeCursor, instanceDuration, type ListParams, type SortKey, type SortTuple } from './list-query.js';

/** Newest matching instances read for the finished counts and the histogram. */
export const OVERVIEW_WINDOW = 5_000;
/** Most instances one page looks at with a filter no index serves (name, version, tags, id prefix, status). */
export const PAGE_SCAN_LIMIT = 10_000;
/** Most matching instances sorted in memory (columns without an index). */
export const MEMORY_SORT_LIMIT = 5_000;

const UNFINISHED: readonly RuntimeStatus[] = ['Pending', 'Running', 'Suspended'];

/** What the list page shows. */
export interface ListResult {
  /** The current page, sorted. */
  rows: DurableOrchestrationStatus[];
  /** Token of the next page, if there is one. */
  next?: string;
  /** Instances per status among those matching every filter but the status filter. */
  counts: Record<RuntimeStatus, number>;
  /** Statuses whose count is a lower bound (more matched than the window holds). */
  atLeast: RuntimeStatus[];
  /** Instances matching every filter. */
  total: number;
  /** True when `total` is a lower bound. */
  totalAtLeast: boolean;
  /** Set (to the window) when more instances match than the window: the histogram covers the newest window only. */
  countWindow?: number;
  histogram: Histogram;
  /** Why the chosen sort was not applied (too many instances to sort in memory). */
  sortNote?: string;
  /** The sort applied. */
  sort: SortKey;
  dir: 'asc' | 'desc';
  /** Versions of the instances read, newest first, for the version filter. */
  versions: string[];
}

/** Limits of {@link loadList} (tests pass small ones). */
export interface ListLimits {
  /** Default {@link OVERVIEW_WINDOW}. */
  window?: number;
  /** Default {@link MEMORY_SORT_LIMIT}. */
  memorySortLimit?: number;
  /** Default {@link PAGE_SCAN_LIMIT}. */
  pageScanLimit?: number;
}

/** Loads one page of the list and its counts from `hub`. */
export async function loadList(hub: HubStore, params: ListParams, options: { now: number } & ListLimits): Promise<ListResult> {
  const window = options.window ?? OVERVIEW_WINDOW;
  const memorySortLimit = options.memorySortLimit ?? MEMORY_SORT_LIMIT;
  const filter: InstanceOverviewFilter = {
    ...(params.name ? { nameContains: params.name } : {}),
    ...(params.prefix ? { instanceIdPrefix: params.prefix } : {}),
    ...(params.version ? { version: params.version } : {}),
    ...(params.tags ? { tags: params.tags } : {}),
    ...(params.from ? { createdTimeFrom: params.from } : {}),
    ...(params.to ? { createdTimeTo: params.to } : {}),
  };
  const overview = await hub.instanceOverview(filter, window);
  // Every match was counted unless the window filled up or a filter no index serves stopped at its scan limit.
  const complete = overview.recent.length < window && !overview.scanCapped;
  const { counts, atLeast } = statusCounts(overview, complete);
  const selected = (status: RuntimeStatus) => params.statuses.length === 0 || params.statuses.includes(status);
  const total = ALL_STATUSES.filter(selected).reduce((sum, status) => sum + counts[status], 0);
  const totalAtLeast = atLeast.some(selected);
  const inWindow = overview.recent.filter((r) => selected(r.status)).map((r) => ({ createdTime: new Date(r.createdAt), runtimeStatus: r.status }));
  const oldest = complete ? undefined : overview.recent[overview.recent.length - 1]?.createdAt;
  const from = oldest !== undefined && (!params.from || params.from.getTime() < oldest) ? new Date(oldest) : params.from;
  const histogram = buildHistogram(inWindow, { ...(from ? { from } : {}), ...(params.to ? { to: params.to } : {}), now: options.now });
  const query = { ...filter, ...(params.statuses.length ? { runtimeStatus: params.statuses } : {}) };
  // A synchronous store (SQLite) would run the overview, the binning and the page as one event-loop block.
  await new Promise((resolve) => setImmediate(resolve));

  let sort = params.sort;
  let dir = params.dir;
  let sortNote: string | undefined;
  const indexed = sort === 'created' || sort === 'id';
  let page: { rows: DurableOrchestrationStatus[]; next?: string };
  if (!indexed && !totalAtLeast && total <= memorySortLimit) {
    page = await sortedInMemory(hub, query, params, options.now, memorySortLimit);
  } else {
    if (!indexed) {
      sortNote = `Sorting by ${sort} needs at most ${memorySortLimit.toLocaleString('en-US')} matching instances (${total}${totalAtLeast ? '+' : ''} match): newest first instead. Narrow the filters to sort by ${sort}.`;
      sort = 'created';
      dir = 'desc';
    }
    page = await keysetPage(hub, query, { ...params, sort, dir, ...(indexed ? {} : { after: undefined }) }, options.pageScanLimit ?? PAGE_SCAN_LIMIT);
  }
  const versions = new Set(page.rows.flatMap((r) => (r.version !== undefined ? [r.version] : [])));
  return {
    ...page,
    counts,
    atLeast,
    total,
    totalAtLeast,
    ...(complete ? {} : { countWindow: window }),
    histogram,
    ...(sortNote ? { sortNote } : {}),
    sort,
    dir,
    versions: [...versions].sort((a, b) => compareVersions(b, a)),
  };
}

/** Counts per status: exact when the window held every match; else exact for the unfinished ones if the store counted them. */
function statusCounts(overview: InstanceOverview, complete: boolean): { counts: Record<RuntimeStatus, number>; atLeast: RuntimeStatus[] } {
  const counts = Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])) as Record<RuntimeStatus, number>;
  for (const row of overview.recent) counts[row.status]++;
  if (complete) return { counts, atLeast: [] };
  const unfinished = overview.unfinished;
  if (!unfinished) return { counts, atLeast: ALL_STATUSES.filter((s) => counts[s] > 0) };
  for (const status of UNFINISHED) counts[status] = unfinished[status as keyof typeof unfinished];
  return { counts, atLeast: ALL_STATUSES.filter((s) => !UNFINISHED.includes(s) && counts[s] > 0) };
}

type Query = Parameters<HubStore['queryInstances']>[0];

/** One page in created or id order, straight from the store's index. */
async function keysetPage(hub: HubStore, query: Query, params: ListParams, scanLimit: number): Promise<{ rows: DurableOrchestrationStatus[]; next?: string }> {
  const byId = params.sort === 'id';
  let continuationToken: string | undefined;
  if (params.after) {
    const [value, id] = decodeCursor(params.after);
    continuationToken = byId ? id : encodeContinuationToken({ createdAt: Number(value), instanceId: id });
  }
  const result = await hub.queryInstances({
    ...query,
    orderBy: byId ? 'instanceId' : 'created',
    descending: params.dir === 'desc',
    pageSize: params.pageSize,
    scanLimit,
    ...(continuationToken !== undefined ? { continuationToken } : {}),
  });
  const rows = result.instances.map((r) => toStatus(r, false));
  if (!result.continuationToken) return { rows };
  // The store's token is where it stopped looking (the last row, or past it when a bounded scan found few).
  const position = byId ? { createdAt: 0, instanceId: result.continuationToken } : decodeContinuationToken(result.continuationToken);
  return { rows, next: encodeCursor([byId ? position.instanceId : position.createdAt, position.instanceId]) };
}

/** Every match (at most `limit`) sorted by a column no index orders, then the page after the cursor. */
async function sortedInMemory(hub: HubStore, query: Query, params: ListParams, now: number, limit: number): Promise<{ rows: DurableOrchestrationStatus[]; next?: string }> {
  const matching: DurableOrchestrationStatus[] = [];
  let continuationToken: string | undefined;
  do {
    const result = await hub.queryInstances({ ...query, pageSize: 1000, ...(continuationToken ? { continuationToken } : {}) });
    await new Promise((resolve) => setImmediate(resolve));
    matching.push(...result.instances.map((r) => toStatus(r, false)));
    continuationToken = result.continuationToken;
  } while (continuationToken && matching.length <= limit);
  const key = sortValue(params.sort, now);
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
  const rows = page.map((row) => row[2]);
  return last && start + params.pageSize < sorted.length ? { rows, next: encodeCursor([last[0], last[1]]) } : { rows };
}

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
