/**
 * Listing instances of a SQLite hub: `queryInstances` pages by (created_at, instance_id) or instance_id either
 * way, `instanceOverview` reads the dashboard's counts, and the filter SQL also selects what `purgeInstances` deletes.
 */
import {
  INSTANCE_COLUMNS,
  checkInstanceFilter,
  checkPageSize,
  decodeContinuationToken,
  encodeContinuationToken,
  rowToInstance,
  type InstanceRow,
} from '../shared.js';
import { TERMINAL_STATUSES } from '../../sdk/history.js';
import type { ChildInstancesOptions, InstanceOverview, InstanceOverviewFilter, InstanceQuery, InstanceRecord } from '../store.js';
import { checkChildQuery } from '../instance-tree.js';
import { FILTER_COLUMNS, checkOverviewWindow, checkScanLimit, hasUnindexedFilter, pageScanBounded, nameNeedle, overviewScanLimit, toOverview } from '../instance-list.js';
import type { SqliteStoreContext } from './sqlite-context.js';

/** One page of the hub's instances matching `query`, with a token for the next page if there is one. */
export async function queryInstances(
  store: SqliteStoreContext,
  hub: string,
  query: InstanceQuery,
): Promise<{ instances: InstanceRecord[]; continuationToken?: string }> {
  const pageSize = checkPageSize(query.pageSize);
  const { where, params } = filterSql(hub, query);
  const byId = query.orderBy === 'instanceId';
  const [beyond, dir] = query.descending ? ['<', 'DESC'] : ['>', 'ASC'];
  const cursor: string[] = [];
  const cursorParams: unknown[] = [];
  if (query.continuationToken !== undefined && byId) {
    cursor.push(`instance_id ${beyond} ?`);
    cursorParams.push(query.continuationToken);
  } else if (query.continuationToken) {
    const after = decodeContinuationToken(query.continuationToken);
    cursor.push(`(created_at ${beyond} ? OR (created_at = ? AND instance_id ${beyond} ?))`);
    cursorParams.push(after.createdAt, after.createdAt, after.instanceId);
  }
  const order = byId ? `instance_id ${dir}` : `created_at ${dir}, instance_id ${dir}`;
  const tokenOf = (row: { instance_id: string; created_at: number | string }) =>
    byId ? row.instance_id : encodeContinuationToken({ createdAt: Number(row.created_at), instanceId: row.instance_id });
  const scanLimit = query.scanLimit !== undefined && pageScanBounded(query) ? checkScanLimit(query.scanLimit) : undefined;
  // Not cached: the text varies with the filter.
  if (scanLimit === undefined) {
    const rows = store.db
      .prepare(`SELECT ${INSTANCE_COLUMNS} FROM instances WHERE ${[...where, ...cursor].join(' AND ')} ORDER BY ${order} LIMIT ?`)
      .all(...params, ...cursorParams, pageSize + 1) as InstanceRow[];
    const instances = rows.slice(0, pageSize).map(rowToInstance);
    return rows.length > pageSize && rows[pageSize - 1] ? { instances, continuationToken: tokenOf(rows[pageSize - 1]!) } : { instances };
  }
  // The filters no index serves look at the next `scanLimit` instances of the range only (the alias keeps the
  // filter SQL on the scanned rows); a short page then continues after the last instance looked at.
  const scope = rangeScope(hub, query);
  scope.where.push(...cursor);
  scope.params.push(...cursorParams);
  const rows = store.db
    .prepare(
      `SELECT ${INSTANCE_COLUMNS} FROM (
         SELECT hub, ${INSTANCE_COLUMNS} FROM instances WHERE ${scope.where.join(' AND ')} ORDER BY ${order} LIMIT ?
       ) AS instances WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`,
    )
    .all(...scope.params, scanLimit, ...params, pageSize + 1) as InstanceRow[];
  const instances = rows.slice(0, pageSize).map(rowToInstance);
  if (rows.length > pageSize) return { instances, continuationToken: tokenOf(rows[pageSize - 1]!) };
  const edge = store.db
    .prepare(`SELECT instance_id, created_at FROM instances WHERE ${scope.where.join(' AND ')} ORDER BY ${order} LIMIT 2 OFFSET ?`)
    .all(...scope.params, scanLimit - 1) as { instance_id: string; created_at: number }[];
  return edge.length === 2 ? { instances, continuationToken: tokenOf(edge[0]!) } : { instances };
}

/** `HubStore.childInstances`: a keyset page of one parent's children through `instances_by_parent`. */
export async function childInstances(store: SqliteStoreContext, hub: string, parentInstanceId: string, options: ChildInstancesOptions): Promise<InstanceRecord[]> {
  const { parent, limit, after } = checkChildQuery(parentInstanceId, options);
  const base = `SELECT ${INSTANCE_COLUMNS} FROM instances INDEXED BY instances_by_parent WHERE hub = ? AND parent_instance_id = ?`;
  const rows = (
    after === undefined
      ? store.sql(`${base} ORDER BY instance_id LIMIT ?`).all(hub, parent, limit)
      : store.sql(`${base} AND instance_id > ? ORDER BY instance_id LIMIT ?`).all(hub, parent, after, limit)
  ) as InstanceRow[];
  return rows.map(rowToInstance);
}

/** The conditions an index serves (hub, created-time range): what a bounded scan walks. */
function rangeScope(hub: string, filter: InstanceOverviewFilter): { where: string[]; params: unknown[] } {
  const where = ['hub = ?'];
  const params: unknown[] = [hub];
  if (filter.createdTimeFrom) {
    where.push('created_at >= ?');
    params.push(filter.createdTimeFrom.getTime());
  }
  if (filter.createdTimeTo) {
    where.push('created_at <= ?');
    params.push(filter.createdTimeTo.getTime());
  }
  return { where, params };
}

/**
 * The dashboard's overview (see `HubStore.instanceOverview`): unfinished counts through the partial index
 * `instances_unfinished`, and the newest `window` matching rows through `instances_by_created` backwards
 * (with a filter no index serves, among the newest 2 × `window` rows of the time range only).
 */
export async function instanceOverview(store: SqliteStoreContext, hub: string, filter: InstanceOverviewFilter, window: number): Promise<InstanceOverview> {
  checkOverviewWindow(window);
  const { where, params } = filterSql(hub, filter);
  const conditions = where.join(' AND ');
  if (!hasUnindexedFilter(filter)) {
    const unfinished = store.db
      .prepare(
        `SELECT status, COUNT(*) AS n FROM instances INDEXED BY instances_unfinished
         WHERE ${conditions} AND status IN ('Pending', 'Running', 'Suspended') GROUP BY status`,
      )
      .all(...params) as { status: string; n: number }[];
    // better-sqlite3 is synchronous: let the event loop run between the two reads, so each is its own block.
    await new Promise((resolve) => setImmediate(resolve));
    const recent = store.db
      .prepare(`SELECT created_at, status FROM instances WHERE ${conditions} ORDER BY created_at DESC, instance_id DESC LIMIT ?`)
      .all(...params, window) as { created_at: number; status: string }[];
    return toOverview(unfinished, recent, false);
  }
  // The filters no index serves apply to the newest rows of the time range only: the scan stays bounded (the
  // alias keeps the filter SQL's references to `instances` pointing at the scanned rows).
  const { where: range, params: rangeParams } = rangeScope(hub, filter);
  const rangeSql = range.join(' AND ');
  const scan = overviewScanLimit(window);
  const recent = store.db
    .prepare(
      `SELECT created_at, status FROM (
         SELECT ${FILTER_COLUMNS} FROM instances WHERE ${rangeSql} ORDER BY created_at DESC, instance_id DESC LIMIT ?
       ) AS instances WHERE ${conditions} ORDER BY created_at DESC, instance_id DESC LIMIT ?`,
    )
    .all(...rangeParams, scan, ...params, window) as { created_at: number; status: string }[];
  const capped = recent.length < window && store.db.prepare(`SELECT 1 FROM instances WHERE ${rangeSql} ORDER BY created_at DESC, instance_id DESC LIMIT 1 OFFSET ?`).get(...rangeParams, scan) !== undefined;
  return toOverview(undefined, recent, capped);
}

/** The WHERE conditions (to join with AND) and their parameters that select `filter`'s instances of `hub`. */
export function filterSql(hub: string, filter: InstanceOverviewFilter): { where: string[]; params: unknown[] } {
  const tags = checkInstanceFilter(filter);
  const needle = nameNeedle(filter.nameContains);
  const { where, params } = rangeScope(hub, filter);
  if (filter.completedTimeFrom || filter.completedTimeTo) {
    // A finished instance is not updated again, so its last update is when it finished.
    where.push(`status IN (${TERMINAL_STATUSES.map(() => '?').join(', ')})`);
    params.push(...TERMINAL_STATUSES);
  }
  if (filter.completedTimeFrom) {
    where.push('updated_at >= ?');
    params.push(filter.completedTimeFrom.getTime());
  }
  if (filter.completedTimeTo) {
    where.push('updated_at <= ?');
    params.push(filter.completedTimeTo.getTime());
  }
  if (filter.runtimeStatus?.length) {
    where.push(`status IN (${filter.runtimeStatus.map(() => '?').join(', ')})`);
    params.push(...filter.runtimeStatus);
  }
  if (filter.version !== undefined) {
    where.push('duraflow_version_compare(version, ?) = 0');
    params.push(filter.version);
  }
  for (const [key, value] of Object.entries(tags ?? {})) {
    // json_each gives a string value as its text; '=' on text is byte-wise, as PostgreSQL's jsonb containment.
    where.push('EXISTS (SELECT 1 FROM json_each(instances.tags) t WHERE t.key = ? AND t.value = ?)');
    params.push(key, value);
  }
  if (needle !== undefined) {
    // lower() folds ASCII letters only, as nameNeedle does.
    where.push('instr(lower(name), ?) > 0');
    params.push(needle);
  }
  const prefix = filter.instanceIdPrefix ?? '';
  if (prefix) {
    // length() counts characters as substr() does (JavaScript's length counts UTF-16 units).
    where.push('substr(instance_id, 1, length(?)) = ?');
    params.push(prefix, prefix);
  }
  // Entities live in the same table under '@name@key'; instance queries do not list them.
  if (!prefix.startsWith('@')) where.push(`instance_id NOT LIKE '@%'`);
  return { where, params };
}
