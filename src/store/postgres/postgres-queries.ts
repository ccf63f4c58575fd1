/**
 * Listing instances of a PostgreSQL hub: `queryInstances` pages by (created_at, instance_id) or instance_id
 * either way, `instanceOverview` reads the dashboard's counts, and the filter SQL also selects what
 * `purgeInstances` deletes.
 */
import pg from 'pg';
import { TERMINAL_STATUSES } from '../../sdk/history.js';
import {
  INSTANCE_COLUMNS,
  checkInstanceFilter,
  checkPageSize,
  decodeContinuationToken,
  encodeContinuationToken,
  rowToInstance,
  type InstanceRow,
} from '../shared.js';
import { ASCII_LOWER, ASCII_UPPER, FILTER_COLUMNS, checkOverviewWindow, checkScanLimit, hasUnindexedFilter, nameNeedle, pageScanBounded, overviewScanLimit, toOverview } from '../instance-list.js';
import type { ChildInstancesOptions, InstanceOverview, InstanceOverviewFilter, InstanceQuery, InstanceRecord } from '../store.js';
import { checkChildQuery } from '../instance-tree.js';
import type { PgDatabase } from './connection.js';
import type { Tables } from './schema.js';

/** `HubStore.childInstances`: a keyset page of one parent's children through `instances_by_parent`. */
export async function childInstances(db: PgDatabase, t: Tables, hub: string, parentInstanceId: string, options: ChildInstancesOptions): Promise<InstanceRecord[]> {
  const { parent, limit, after } = checkChildQuery(parentInstanceId, options);
  // Two texts rather than `$3 IS NULL OR …`: the cursor stays an index condition, so a later page starts where it
  // should instead of reading the parent's children from the first one.
  const base = `SELECT ${INSTANCE_COLUMNS} FROM ${t.instances} WHERE hub = $1 AND parent_instance_id = $2`;
  const rows =
    after === undefined
      ? await db.query<InstanceRow>(`${base} ORDER BY instance_id LIMIT $3`, [hub, parent, limit])
      : await db.query<InstanceRow>(`${base} AND instance_id > $3::text ORDER BY instance_id LIMIT $4`, [hub, parent, after, limit]);
  return rows.map(rowToInstance);
}

/** `HubStore.queryInstances`: a keyset page by (created_at, instance_id) or instance_id, either way. */
export async function queryInstances(db: PgDatabase, t: Tables, hub: string, query: InstanceQuery): Promise<{ instances: InstanceRecord[]; continuationToken?: string }> {
  const pageSize = checkPageSize(query.pageSize);
  const params: unknown[] = [];
  const add = (value: unknown) => `$${params.push(value)}`;
  const where = filterSql(t, hub, query, params);
  const byId = query.orderBy === 'instanceId';
  const [beyond, dir] = query.descending ? ['<', 'DESC'] : ['>', 'ASC'];
  const cursor: string[] = [];
  if (query.continuationToken !== undefined && byId) {
    cursor.push(`instance_id ${beyond} ${add(query.continuationToken)}::text`);
  } else if (query.continuationToken) {
    const after = decodeContinuationToken(query.continuationToken);
    cursor.push(`(created_at, instance_id) ${beyond} (${add(after.createdAt)}::bigint, ${add(after.instanceId)}::text)`);
  }
  const order = byId ? `instance_id ${dir}` : `created_at ${dir}, instance_id ${dir}`;
  const tokenOf = (row: { instance_id: string; created_at: number | string }) =>
    byId ? row.instance_id : encodeContinuationToken({ createdAt: Number(row.created_at), instanceId: row.instance_id });
  const scanLimit = query.scanLimit !== undefined && pageScanBounded(query) ? checkScanLimit(query.scanLimit) : undefined;
  const limit = add(pageSize + 1);
  if (scanLimit === undefined) {
    const rows = await db.query<InstanceRow>(
      `SELECT ${INSTANCE_COLUMNS} FROM ${t.instances} WHERE ${[...where, ...cursor].join(' AND ')} ORDER BY ${order} LIMIT ${limit}`,
      params,
    );
    const instances = rows.slice(0, pageSize).map(rowToInstance);
    return rows.length > pageSize && rows[pageSize - 1] ? { instances, continuationToken: tokenOf(rows[pageSize - 1]!) } : { instances };
  }
  // The filters no index serves look at the next `scanLimit` instances of the range only (the alias keeps the
  // filter SQL on the scanned rows); a short page then continues after the last instance looked at.
  const scope = [`hub = $1`, ...cursor];
  if (query.createdTimeFrom) scope.push(`created_at >= ${add(query.createdTimeFrom.getTime())}::bigint`);
  if (query.createdTimeTo) scope.push(`created_at <= ${add(query.createdTimeTo.getTime())}::bigint`);
  const scan = add(scanLimit);
  const rows = await db.query<InstanceRow & { edge_id: string | null; edge_created: string | null }>(
    `WITH scanned AS (
       SELECT hub, ${INSTANCE_COLUMNS} FROM ${t.instances} WHERE ${scope.join(' AND ')} ORDER BY ${order} LIMIT ${scan}::int + 1
     ), edge AS (
       SELECT instance_id, created_at FROM scanned ORDER BY ${order} OFFSET ${scan}::int - 1 LIMIT 1
     ), page AS (
       SELECT ${INSTANCE_COLUMNS} FROM (SELECT * FROM scanned ORDER BY ${order} LIMIT ${scan}) AS instances WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${limit}
     )
     SELECT page.*, (SELECT instance_id FROM edge) AS edge_id, (SELECT created_at FROM edge) AS edge_created,
            (SELECT count(*) FROM scanned) > ${scan}::int AS more
     FROM page RIGHT JOIN (SELECT 1) AS one ON true`,
    params,
  );
  const found = rows.filter((r) => r.instance_id !== null);
  const instances = found.slice(0, pageSize).map(rowToInstance);
  if (found.length > pageSize) return { instances, continuationToken: tokenOf(found[pageSize - 1]!) };
  const first = rows[0] as (typeof rows)[number] & { more: boolean };
  return first?.more && first.edge_id !== null ? { instances, continuationToken: tokenOf({ instance_id: first.edge_id, created_at: first.edge_created! }) } : { instances };
}

/**
 * `HubStore.instanceOverview`: unfinished counts from the partial index `instances_unfinished`, the newest
 * `window` matching rows from `instances_by_created` backwards; one round trip.
 */
export async function instanceOverview(db: PgDatabase, t: Tables, hub: string, filter: InstanceOverviewFilter, window: number): Promise<InstanceOverview> {
  checkOverviewWindow(window);
  const params: unknown[] = [];
  const conditions = filterSql(t, hub, filter, params).join(' AND ');
  const add = (value: unknown) => `$${params.push(value)}`;
  const windowParam = add(window);
  // A filter no index serves applies to the newest 2 × window rows of the time range only (bounded work; the
  // alias keeps the filter SQL's column references on the scanned rows).
  const unindexed = hasUnindexedFilter(filter);
  const range = [`hub = $1`];
  if (unindexed && filter.createdTimeFrom) range.push(`created_at >= ${add(filter.createdTimeFrom.getTime())}::bigint`);
  if (unindexed && filter.createdTimeTo) range.push(`created_at <= ${add(filter.createdTimeTo.getTime())}::bigint`);
  const scanParam = unindexed ? add(overviewScanLimit(window)) : '';
  const source = unindexed
    ? `(SELECT ${FILTER_COLUMNS} FROM ${t.instances} WHERE ${range.join(' AND ')} ORDER BY created_at DESC, instance_id DESC LIMIT ${scanParam}) AS instances`
    : t.instances;
  const rows = await db.query<{ unfinished: { status: string; n: number }[] | null; recent: { created_at: number; status: string }[] | null; capped: boolean }>(
    `SELECT
       ${unindexed ? 'NULL' : `(SELECT json_agg(u) FROM (
          SELECT status, count(*)::int AS n FROM ${t.instances}
          WHERE ${conditions} AND status IN ('Pending', 'Running', 'Suspended') GROUP BY status) u)`} AS unfinished,
       (SELECT json_agg(r) FROM (
          SELECT created_at, status FROM ${source} WHERE ${conditions}
          ORDER BY created_at DESC, instance_id DESC LIMIT ${windowParam}) r) AS recent,
       ${unindexed ? `EXISTS (SELECT 1 FROM ${t.instances} WHERE ${range.join(' AND ')} ORDER BY created_at DESC, instance_id DESC OFFSET ${scanParam} LIMIT 1)` : 'false'} AS capped`,
    params,
  );
  const recent = rows[0]?.recent ?? [];
  return toOverview(unindexed ? undefined : (rows[0]?.unfinished ?? []), recent, recent.length < window && rows[0]?.capped === true);
}

/** WHERE terms of an instance filter; pushes its parameters onto `params`. */
export function filterSql(t: Tables, hub: string, filter: InstanceOverviewFilter, params: unknown[]): string[] {
  const tags = checkInstanceFilter(filter);
  const needle = nameNeedle(filter.nameContains);
  const add = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = [`hub = ${add(hub)}`];
  if (filter.createdTimeFrom) where.push(`created_at >= ${add(filter.createdTimeFrom.getTime())}::bigint`);
  if (filter.createdTimeTo) where.push(`created_at <= ${add(filter.createdTimeTo.getTime())}::bigint`);
  // A finished instance is not updated again, so its last update is when it finished.
  if (filter.completedTimeFrom || filter.completedTimeTo) where.push(`status = ANY(${add(TERMINAL_STATUSES)}::text[])`);
  if (filter.completedTimeFrom) where.push(`updated_at >= ${add(filter.completedTimeFrom.getTime())}::bigint`);
  if (filter.completedTimeTo) where.push(`updated_at <= ${add(filter.completedTimeTo.getTime())}::bigint`);
  if (filter.runtimeStatus?.length) where.push(`status = ANY(${add(filter.runtimeStatus)}::text[])`);
  if (filter.version !== undefined) where.push(`${t.versionCompare}(version, ${add(filter.version)}::text) = 0`);
  // Containment compares string values exactly (byte-wise), as SQLite's json_each does.
  if (tags) where.push(`tags IS NOT NULL AND tags::jsonb @> ${add(JSON.stringify(tags))}::jsonb`);
  // ASCII letters folded only, as SQLite's lower() does (lower() here would fold every script).
  if (needle !== undefined) where.push(`strpos(translate(name, '${ASCII_UPPER}', '${ASCII_LOWER}'), ${add(needle)}::text) > 0`);
  const prefix = filter.instanceIdPrefix ?? '';
  // A literal, not a parameter: with the generic plans every connection uses (connection.ts SESSION_OPTIONS),
  // only a constant prefix can become an index range (where the index's collation allows one).
  if (prefix) where.push(`instance_id LIKE ${pg.escapeLiteral(prefix.replace(/[\\%_]/g, '\\$&') + '%')}`);
  // Entities live in the same table under '@name@key'; instance queries do not list them.
  if (!prefix.startsWith('@')) where.push(`instance_id NOT LIKE '@%'`);
  return where;
}
