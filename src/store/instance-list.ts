/**
 * Pieces both stores share for the dashboard's list at scale: the name filter (ASCII case-insensitive, so
 * both stores answer alike: SQLite's lower() folds ASCII only), the overview window, and rows → overview.
 */
import { ValidationError } from '../sdk/errors.js';
import type { RuntimeStatus } from '../sdk/history.js';
import { checkStorableText } from '../sdk/instance-id.js';
import type { InstanceOverview, InstanceOverviewFilter, InstanceQuery } from './store.js';

/** Largest `window` of `instanceOverview`. */
export const MAX_OVERVIEW_WINDOW = 100_000;

/** Upper-case ASCII letters, for PostgreSQL's translate() (lower() there folds every script). */
export const ASCII_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Their lower-case letters, in the same order. */
export const ASCII_LOWER = 'abcdefghijklmnopqrstuvwxyz';

/** The name filter's needle with ASCII letters lowered, or undefined for none; a bad one is a `ValidationError`. */
export function nameNeedle(nameContains: unknown): string | undefined {
  if (nameContains === undefined || nameContains === '') return undefined;
  if (typeof nameContains !== 'string') throw new ValidationError('nameContains must be a string.');
  checkStorableText(nameContains, 'nameContains');
  return nameContains.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Checks an overview window: an integer from 1 to {@link MAX_OVERVIEW_WINDOW}. */
export function checkOverviewWindow(window: number): number {
  if (!Number.isInteger(window) || window < 1 || window > MAX_OVERVIEW_WINDOW) {
    throw new ValidationError(`window must be an integer from 1 to ${MAX_OVERVIEW_WINDOW} (got ${window}).`);
  }
  return window;
}

/** Checks a query's `scanLimit`: an integer from 1 to 1,000,000. */
export function checkScanLimit(scanLimit: number): number {
  if (!Number.isInteger(scanLimit) || scanLimit < 1 || scanLimit > 1_000_000) {
    throw new ValidationError(`scanLimit must be an integer from 1 to 1000000 (got ${scanLimit}).`);
  }
  return scanLimit;
}

/** What the filter SQL reads and the overview returns: the bounded scan copies only these (a third of the time of `*`). */
export const FILTER_COLUMNS = 'hub, instance_id, name, version, tags, status, created_at, updated_at';

/** How many of the newest instances a filter no index serves is applied to, for a window. */
export function overviewScanLimit(window: number): number {
  return 2 * window;
}

/** True when `filter` has a part no index serves (the overview then scans a bounded number of rows). */
export function hasUnindexedFilter(filter: InstanceOverviewFilter): boolean {
  return Boolean(filter.nameContains || filter.version !== undefined || Object.keys(filter.tags ?? {}).length || filter.instanceIdPrefix);
}

/**
 * True when a page of `query` honours its `scanLimit`: a filter no index serves, or a status or completion-time
 * filter (the pages walk the creation-time index, so a status that few or no instances have is a long walk).
 */
export function pageScanBounded(query: InstanceQuery): boolean {
  return hasUnindexedFilter(query) || Boolean(query.runtimeStatus?.length) || query.completedTimeFrom !== undefined || query.completedTimeTo !== undefined;
}

/** The overview from the unfinished counts and the window's rows (numbers may come as text from PostgreSQL). */
export function toOverview(
  unfinished: { status: string; n: number | string }[] | undefined,
  recent: { created_at: number | string; status: string }[],
  scanCapped: boolean,
): InstanceOverview {
  const overview: InstanceOverview = { recent: recent.map((r) => ({ createdAt: Number(r.created_at), status: r.status as RuntimeStatus })), scanCapped };
  if (!unfinished) return overview;
  const counts = { Pending: 0, Running: 0, Suspended: 0 };
  for (const row of unfinished) counts[row.status as keyof typeof counts] = Number(row.n);
  return { ...overview, unfinished: counts };
}
