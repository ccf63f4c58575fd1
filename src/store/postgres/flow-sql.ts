/**
 * Flow control in PostgreSQL claims (see `store/flow.ts`): the SQL that picks the waiting flow-controlled work
 * items a claim may take. It runs under the hub's flow lock (`FLOW_LOCK_CLASS`), in a statement begun after the
 * lock was granted, so the leased counts and rate starts it reads are those the previous holder committed.
 */
import type { ClaimOptions, FlowControl, FlowWaitingActivity, HubStore, NewActivity } from '../store.js';
import { checkWaitLimit, FLOW_LOCK_CLASS } from '../flow.js';
import type { PgDatabase, TxClient } from './connection.js';
import { NOW } from './hub-writes.js';
import type { Tables } from './schema.js';

/** Where the flow candidates come from: rows `i` of `table` matching `where`, in `orderBy` order. */
export interface FlowCandidateSource {
  table: string;
  starts: string;
  kind: 'activity' | 'orchestration';
  where: string;
  /** The rate key that applies to row `i` (null where the rate does not apply). */
  rateKey: string;
  orderBy: string;
  /** The row's identity, returned as `alias`. */
  key: string;
  alias: string;
  limitParam: string;
}

/**
 * The candidates (`alias`, `previous_owner`), oldest first, up to the limit: none of a key that has `cc_limit`
 * leased or used `rate_limit` starts in its period, and no more of one key than it has room for. The leased and
 * started counts are taken once per distinct key of the waiting rows (`kb`, `ku`), not once per waiting row: with
 * a backlog of one key the count was repeated for each of its rows, under the flow lock every claimer queues on.
 */
export function flowCandidatesSql(s: FlowCandidateSource): string {
  return `WITH w AS (
        SELECT ${s.key} AS key, i.lock_owner AS previous_owner, i.hub, i.name, i.cc_key, i.cc_limit, ${s.rateKey} AS rate_key, i.rate_limit,
          row_number() OVER (ORDER BY ${s.orderBy}) AS ord
        FROM ${s.table} i WHERE ${s.where}
      ), kb AS (
        SELECT k.name, k.cc_key, (SELECT count(*) FROM ${s.table} b
          WHERE b.hub = k.hub AND b.name = k.name AND b.cc_key = k.cc_key AND b.lock_until > ${NOW}) AS busy
        FROM (SELECT DISTINCT hub, name, cc_key FROM w WHERE cc_key IS NOT NULL) k
      ), ku AS (
        SELECT k.name, k.rate_key, (SELECT count(*) FROM ${s.starts} r
          WHERE r.hub = k.hub AND r.kind = '${s.kind}' AND r.name = k.name AND r.rate_key = k.rate_key AND r.until > ${NOW}) AS used
        FROM (SELECT DISTINCT hub, name, rate_key FROM w WHERE rate_key IS NOT NULL) k
      )
    SELECT f.key AS ${s.alias}, f.previous_owner FROM (
      SELECT o.*,
        row_number() OVER (PARTITION BY o.name, o.cc_key ORDER BY o.ord) AS cc_rank,
        row_number() OVER (PARTITION BY o.name, o.rate_key ORDER BY o.ord) AS rate_rank
      FROM (
        SELECT w.*, COALESCE(kb.busy, 0) AS busy, COALESCE(ku.used, 0) AS used
        FROM w LEFT JOIN kb ON kb.name = w.name AND kb.cc_key = w.cc_key
          LEFT JOIN ku ON ku.name = w.name AND ku.rate_key = w.rate_key
      ) o
      WHERE (o.cc_key IS NULL OR o.busy < o.cc_limit) AND (o.rate_key IS NULL OR o.used < o.rate_limit)
    ) f
    WHERE (f.cc_key IS NULL OR f.busy + f.cc_rank <= f.cc_limit) AND (f.rate_key IS NULL OR f.used + f.rate_rank <= f.rate_limit)
    ORDER BY f.ord LIMIT ${s.limitParam}`;
}

/** A claimed activity row, as {@link claimActivitiesSql} returns it. */
export interface ClaimedActivityRow {
  id: string;
  instance_id: string;
  execution_id: string;
  task_id: number;
  name: string;
  input: string | null;
  dequeue_count: number;
  lock_epoch: string;
  previous_owner: string | null;
  rate_key: string | null;
  rate_period: string | null;
  trace_context: string | null;
  /** Set on the one extra row of {@link withFlowProbeSql} (no activity): flow-controlled activities wait. */
  flow_probe?: boolean;
}

/**
 * The rows of CTE `claimed` (claimed activities), plus one row with `flow_probe` true when unleased
 * flow-controlled activities of the claim's names (`namesParam`) wait — in the statement's snapshot.
 */
export function withFlowProbeSql(t: Tables, namesParam: string): string {
  return `SELECT c.*, false AS flow_probe FROM claimed c
       UNION ALL
       SELECT NULL::bigint, NULL::text COLLATE "C", NULL::text, NULL::int, NULL::text, NULL::text, NULL::int, NULL::bigint,
         NULL::text, NULL::text, NULL::bigint, NULL::text, true
       WHERE EXISTS (SELECT 1 FROM ${t.activities} f WHERE f.hub = $1 AND f.flow IS NOT NULL AND f.lock_until <= ${NOW}
         AND (${namesParam}::text[] IS NULL OR f.name = ANY(${namesParam}::text[])))`;
}

/**
 * Leases the activities of CTE `candidates` (`id`, `previous_owner`) to worker $2 for $5 ms, bumping each one's epoch
 * and dequeue count ($1 = hub).
 */
export function claimActivitiesSql(t: Tables): string {
  return `UPDATE ${t.activities} a
       SET lock_owner = $2, lock_until = ${NOW} + $5::bigint, lock_epoch = a.lock_epoch + 1, dequeue_count = a.dequeue_count + 1
       FROM candidates c WHERE a.hub = $1 AND a.id = c.id
       RETURNING a.id, a.instance_id, a.execution_id, a.task_id, a.name, a.input, a.dequeue_count, a.lock_epoch, c.previous_owner,
         a.rate_key, a.rate_period, a.trace_context`;
}

/**
 * Claims flow-controlled activities their keys' limits allow, oldest first per key, under the hub's flow lock:
 * claims of flow-controlled work run one at a time, so the leased counts and rate starts they read hold. Called
 * when the plain claim's probe saw such activities waiting.
 */
export async function claimFlowActivities(db: PgDatabase, t: Tables, hub: string, options: ClaimOptions, room: number): Promise<ClaimedActivityRow[]> {
  const names = options.names ? [...options.names] : null;
  return await db.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [FLOW_LOCK_CLASS, `${t.schema}:${hub}`]);
    const { rows } = await client.query<ClaimedActivityRow>(
      `WITH candidates AS (${flowCandidatesSql({
        table: t.activities,
        starts: t.flowStarts,
        kind: 'activity',
        where: `i.hub = $1 AND i.flow IS NOT NULL AND i.lock_until <= ${NOW} AND ($3::text[] IS NULL OR i.name = ANY($3::text[]))`,
        rateKey: 'i.rate_key',
        orderBy: 'i.priority DESC, i.id',
        key: 'i.id',
        alias: 'id',
        limitParam: '$4',
      })}),
       claimed AS (${claimActivitiesSql(t)}),
       pruned AS (DELETE FROM ${t.flowStarts} WHERE hub = $1 AND until <= ${NOW} AND EXISTS (SELECT 1 FROM claimed WHERE rate_key IS NOT NULL)),
       started AS (
         INSERT INTO ${t.flowStarts} (hub, kind, name, rate_key, until)
         SELECT $1, 'activity', name, rate_key, ${NOW} + rate_period FROM claimed WHERE rate_key IS NOT NULL
       )
       SELECT * FROM claimed`,
      [hub, options.workerId, names, room, options.leaseMs],
    );
    return rows;
  });
}

/** Records the first starts of rate-limited instances `ids` (just claimed), forgetting starts that left their period. */
export async function recordInstanceStarts(client: TxClient, t: Tables, hub: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await client.query(
    `WITH pruned AS (DELETE FROM ${t.flowStarts} WHERE hub = $1 AND until <= ${NOW})
     INSERT INTO ${t.flowStarts} (hub, kind, name, rate_key, until)
     SELECT $1, 'orchestration', name, rate_key, ${NOW} + rate_period FROM ${t.instances}
     WHERE hub = $1 AND instance_id = ANY($2::text[]) AND rate_key IS NOT NULL`,
    [hub, ids],
  );
}

/** Where the plain (not flow-controlled) candidates of a claim come from. */
export interface PlainCandidateSource {
  table: string;
  /** Over rows `i`. */
  where: string;
  /** A query that finds a waiting prioritized row (`priority <> 0`, through its partial index). */
  prioritized: string;
  /** The identity column, returned under its own name with `previous_owner`. */
  key: string;
  /** FIFO order within a priority. */
  order: string;
  /** The plain claim's order, if any (instances: none, as before priorities: the cheapest plan). */
  plainOrder?: string;
  limitParam: string;
}

/**
 * CTEs ending in `candidates` (`key`, `previous_owner`), locked with SKIP LOCKED: in `order` while no prioritized row
 * waits (the common case, the plain claim); else each name's backlog highest priority first, the names taking
 * turns by rank in their own backlog, so one busy name of high priority does not starve the others.
 */
export function prioritizedCandidatesSql(s: PlainCandidateSource): string {
  return `plain AS (
       SELECT i.${s.key}, i.lock_owner AS previous_owner FROM ${s.table} i
       WHERE ${s.where} AND NOT EXISTS (${s.prioritized})
       ${s.plainOrder ? `ORDER BY ${s.plainOrder}` : ''} LIMIT ${s.limitParam}
       FOR UPDATE OF i SKIP LOCKED
     ), ranked AS (
       SELECT i.${s.key}, i.lock_owner AS previous_owner FROM ${s.table} i
       JOIN (
         SELECT i.${s.key} AS key, row_number() OVER (PARTITION BY i.name ORDER BY i.priority DESC, ${s.order}) AS rank, ${s.order.split(',').map((c, n) => `${c.trim()} AS o${n}`).join(', ')}
         FROM ${s.table} i WHERE ${s.where} AND EXISTS (${s.prioritized})
       ) r ON i.hub = $1 AND i.${s.key} = r.key
       ORDER BY r.rank, ${s.order.split(',').map((_, n) => `r.o${n}`).join(', ')} LIMIT ${s.limitParam}
       FOR UPDATE OF i SKIP LOCKED
     ), candidates AS (SELECT * FROM plain UNION ALL SELECT * FROM ranked)`;
}

/**
 * Which of `activities` (flow-controlled, asked to run at their commit) may be created leased: those with a
 * concurrency key (and no rate) that has room and none of its key waiting before it (FIFO per key). Takes the
 * hub's flow lock for the rest of the commit's transaction, so the counts hold until the commit writes them.
 */
export async function admitFlowHere(client: TxClient, t: Tables, hub: string, activities: NewActivity[]): Promise<Set<NewActivity>> {
  const admitted = new Set<NewActivity>();
  const keyed = activities.filter((a) => a.flow?.concurrency && !a.flow.rate);
  if (keyed.length === 0) return admitted;
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [FLOW_LOCK_CLASS, `${t.schema}:${hub}`]);
  const pairs = [...new Map(keyed.map((a) => [JSON.stringify([a.name, a.flow!.concurrency!.key]), [a.name, a.flow!.concurrency!.key]])).values()];
  const { rows } = await client.query<{ name: string; key: string; busy: string; waiting: boolean }>(
    `SELECT k.name, k.key,
       (SELECT count(*) FROM ${t.activities} b WHERE b.hub = $1 AND b.name = k.name AND b.cc_key = k.key AND b.lock_until > ${NOW}) AS busy,
       EXISTS (SELECT 1 FROM ${t.activities} w WHERE w.hub = $1 AND w.name = k.name AND w.cc_key = k.key AND w.lock_until <= ${NOW}) AS waiting
     FROM unnest($2::text[], $3::text[]) AS k(name, key)`,
    [hub, pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  );
  // A key with waiting activities takes none here (they are older); else as many as it has room for.
  const busy = new Map(rows.map((r) => [JSON.stringify([r.name, r.key]), r.waiting ? Infinity : Number(r.busy)]));
  for (const a of keyed) {
    const k = JSON.stringify([a.name, a.flow!.concurrency!.key]);
    const n = busy.get(k) ?? Infinity;
    if (n >= a.flow!.concurrency!.limit) continue;
    busy.set(k, n + 1);
    admitted.add(a);
  }
  return admitted;
}

/** See {@link HubStore.flowWaitingActivities}: the counts are those {@link flowCandidatesSql} checks. */
export async function flowWaitingActivities(db: PgDatabase, t: Tables, hub: string, instanceId: string, limit: number): Promise<FlowWaitingActivity[]> {
  const rows = await db.query<{ task_id: number; name: string; flow: string; leased: string; started: string }>(
    `SELECT a.task_id, a.name, a.flow,
       CASE WHEN a.cc_key IS NULL THEN 0 ELSE (SELECT count(*) FROM ${t.activities} b
         WHERE b.hub = a.hub AND b.name = a.name AND b.cc_key = a.cc_key AND b.lock_until > ${NOW}) END AS leased,
       CASE WHEN a.rate_key IS NULL THEN 0 ELSE (SELECT count(*) FROM ${t.flowStarts} r
         WHERE r.hub = a.hub AND r.kind = 'activity' AND r.name = a.name AND r.rate_key = a.rate_key AND r.until > ${NOW}) END AS started
     FROM ${t.activities} a
     WHERE a.hub = $1 AND a.instance_id = $2 AND a.flow IS NOT NULL AND a.lock_until <= ${NOW}
     ORDER BY a.id LIMIT $3`,
    [hub, instanceId, checkWaitLimit(limit)],
  );
  return rows.map((r) => ({ taskId: r.task_id, name: r.name, flow: JSON.parse(r.flow) as FlowControl, leased: Number(r.leased), started: Number(r.started) }));
}
