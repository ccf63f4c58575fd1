/**
 * The common episode batch committed in ONE statement, run on its own: one round trip per commit, where the
 * general path ({@link commitEpisodeBatch}) takes four or more. It applies to batches that only append
 * history and send messages to existing orchestrations (no continue-as-new, no sub-orchestration starts, no
 * messages that must create entity rows), and it is all or nothing: when any fence fails, it writes nothing
 * and answers `undefined`, and the caller commits through the general path, which sorts out which commits
 * lost their lease.
 *
 * Why one statement is safe: the `locked` and `held` CTEs lock the instances and then the activities in a
 * fixed order (as the general path does, so batches cannot deadlock), and every write is gated by
 * `(SELECT ok FROM gate)` — an uncorrelated subquery PostgreSQL evaluates once, before that write's first
 * row, and `gate` counts every locked row, so all locks are taken and all fences checked before anything is
 * written. Under READ COMMITTED, `FOR UPDATE` returns the latest version of a row it had to wait for, so a
 * fence is judged on the committed epoch, not on the statement's snapshot.
 */
import type { RuntimeStatus } from '../../sdk/history.js';
import type { ActivityWorkItem, EpisodeCommit, StoreNotice } from '../store.js';
import { delayedMessageNotices, entityNameOf, INSTANCE_COLUMNS, leasedActivity, type InstanceRow } from '../shared.js';
import { prepared, type StatementRunner } from './connection.js';
import { activityColumns, INPUT_SQL, insertActivitiesSql, instanceUpdateColumns, keepInputColumn } from './episode-batch.js';
import { messageColumns, NOW, PER_ROW } from './hub-writes.js';
import type { Tables } from './schema.js';

/** Whether {@link commitEpisodesInOneStatement} can take `commits`. */
export function fitsOneStatement(commits: readonly EpisodeCommit[]): boolean {
  const ids = new Set<string>();
  for (const c of commits) {
    if (c.historyMode !== 'append' || c.startInstances.length > 0 || c.start || ids.has(c.lease.id)) return false;
    if (c.messages.some((m) => entityNameOf(m.instanceId) !== undefined)) return false;
    // A flow-controlled activity leased here needs the flow lock first (see admitFlowHere).
    if (c.activityLease && c.activities.some((a) => a.runHere && a.flow)) return false;
    ids.add(c.lease.id);
  }
  return true;
}

/** What a committed batch produced: the notices it sent, and the activities it leased to their workers. */
export interface OneStatementResult {
  notices: StoreNotice[];
  /** The database time the commit stored as the instances' last update (epoch ms). */
  updatedAt: number;
  leased: [EpisodeCommit, ActivityWorkItem][];
  /** The commits whose lease was kept (see `EpisodeCommit.continueLease`), with the instance row and its next messages. */
  continued: [EpisodeCommit, ContinuedRow][];
}

/** A committed instance whose lease the commit kept, with its visible messages as `[id, execution id, event]`. */
export interface ContinuedRow extends InstanceRow {
  messages: [number | string, string | null, string][];
}

/**
 * Commits every one of `commits` in one statement (see the file comment), or nothing: `undefined` when a
 * fence failed. Its notices are for the caller to send once it committed (see notifier.ts).
 */
export async function commitEpisodesInOneStatement(
  runner: StatementRunner,
  t: Tables,
  hub: string,
  commits: EpisodeCommit[],
): Promise<OneStatementResult | undefined> {
  const messages = commits.flatMap((c) => c.messages);
  const activities = commits.flatMap((commit) =>
    commit.activities.map((activity) => ({ activity, commit, lease: activity.runHere && !activity.flow ? commit.activityLease : undefined })),
  );
  const completed = commits.flatMap((c) => c.completedActivities ?? []);
  // Notices of the batch when it commits; status notices only where the status changed.
  const always: StoreNotice[] = [...delayedMessageNotices(messages)];
  if (activities.some((a) => !a.lease)) always.push({ kind: 'activities' });
  const moreWorkKnown = messages.length > 0;
  if (moreWorkKnown) always.push({ kind: 'orchestrations' });
  const statusNotices = commits.map((c): StoreNotice => ({ kind: 'instance', instanceId: c.lease.id, status: c.instance.status }));
  // One row per episode (see historyFromRows), at the end of the instance's history.
  const history = commits.filter((c) => c.history.length).map((c) => [c.lease.id, JSON.stringify(c.history)] as const);
  const consumed = commits.flatMap((c) => c.consumedMessageIds.map((id) => [id, c.lease.id] as const));
  // Only an instance that stays Running may keep its lease for its next messages (a claim would take it too).
  const continuing = commits.filter((c) => c.continueLease && c.instance.status === 'Running');

  // Parameters are numbered as they are first used, and a part with nothing to write is left out of the
  // statement altogether (each variant is its own prepared statement): less for the executor to start.
  const values: unknown[] = [];
  const param = (value: unknown, type?: string): string => {
    values.push(value);
    return type ? `$${values.length}::${type}` : `$${values.length}`;
  };
  const hubParam = param(hub, 'text');
  const ids = param(commits.map((c) => c.lease.id), 'text[]');
  const epochs = param(commits.map((c) => c.lease.epoch), 'bigint[]');
  const gated = '(SELECT ok FROM gate)';
  // Each locked row carries the epoch its commit expects; its own epoch is the row's latest version (see above).
  // The rows are found by primary key only (`= ANY`), so no plan can scan a whole hub through another index.
  const parts: string[] = [
    `locked AS MATERIALIZED (
       SELECT instance_id, lock_epoch, history_length, status, cc_key, flow, (${epochs})[array_position(${ids}, instance_id)] AS expected
       FROM ${t.instances} WHERE hub = ${hubParam} AND instance_id = ANY(${ids})
       ORDER BY instance_id FOR UPDATE
     )`,
  ];
  let fences = `(SELECT count(*) FILTER (WHERE lock_epoch = expected) FROM locked) = cardinality(${ids})`;
  const activityIds = completed.length ? param(completed.map((l) => l.id), 'bigint[]') : undefined;
  if (activityIds) {
    const activityEpochs = param(completed.map((l) => l.epoch), 'bigint[]');
    parts.push(
      `held AS MATERIALIZED (
         SELECT id, hub, lock_epoch, (${activityEpochs})[array_position(${activityIds}, id)] AS expected
         FROM ${t.activities} WHERE id = ANY(${activityIds})
         ORDER BY id FOR UPDATE
       )`,
    );
    fences += ` AND (SELECT count(*) FILTER (WHERE lock_epoch = expected AND hub = ${hubParam}) FROM held) = cardinality(${activityIds})`;
  }
  parts.push(`gate AS MATERIALIZED (SELECT ${fences} AS ok)`);
  if (activityIds) parts.push(`done AS (DELETE FROM ${t.activities} x USING held h WHERE x.id = h.id AND ${gated})`);
  if (history.length) {
    parts.push(
      `hist AS (
         INSERT INTO ${t.history} (hub, instance_id, seq, events)
         SELECT ${hubParam}, h.instance_id, l.history_length, h.events
         FROM unnest(${param(history.map((h) => h[0]), 'text[]')}, ${param(history.map((h) => h[1]), 'text[]')}) AS h(instance_id, events)
           JOIN locked l ON l.instance_id = h.instance_id
         WHERE ${gated}
       )`,
    );
  }
  const [status, executionId, name, version, input, output, customStatus, failureDetails] = instanceUpdateColumns(commits.map((c) => c.instance));
  const statuses = param(status, 'text[]');
  const consumedIds = consumed.length ? param(consumed.map((c) => c[0]), 'bigint[]') : undefined;
  let lockSql = 'lock_owner = NULL, lock_until = 0';
  let continuedJoin = '';
  let continuedReturning = '';
  if (continuing.length) {
    // The messages a claim would take now (the statement's snapshot still shows the consumed ones: left out). The
    // lease is kept, with its epoch, only where there are some; the others are released as usual.
    const continueIds = param(continuing.map((c) => c.lease.id), 'text[]');
    const workers = param(continuing.map((c) => c.continueLease!.workerId), 'text[]');
    const leaseMs = param(continuing.map((c) => c.continueLease!.leaseMs), 'bigint[]');
    parts.push(
      `nxt AS MATERIALIZED (
         SELECT m.instance_id, min(w.worker) AS worker, min(w.lease_ms) AS lease_ms,
           json_agg(json_build_array(m.id, m.execution_id, m.event) ORDER BY m.id) AS messages
         FROM ${t.inbox} m JOIN locked l ON l.instance_id = m.instance_id
           JOIN unnest(${continueIds}, ${workers}, ${leaseMs}) AS w(instance_id, worker, lease_ms) ON w.instance_id = m.instance_id
         WHERE m.hub = ${hubParam} AND m.instance_id = ANY(${continueIds}) AND m.visible_at <= ${NOW}
           AND l.cc_key IS NULL AND l.flow IS NULL ${consumedIds ? `AND m.id <> ALL(${consumedIds})` : ''} AND ${gated}
         GROUP BY m.instance_id
       )`,
    );
    lockSql = `lock_owner = n.worker, lock_until = CASE WHEN n.instance_id IS NULL THEN 0 ELSE ${NOW} + n.lease_ms END`;
    continuedJoin = 'LEFT JOIN nxt n ON n.instance_id = u.instance_id';
    continuedReturning = `RETURNING ${INSTANCE_COLUMNS.split(', ').map((c) => `i.${c}`).join(', ')}, n.messages`;
  }
  parts.push(
    `inst AS (
       UPDATE ${t.instances} i SET status = u.status, execution_id = u.execution_id, name = u.name, version = u.version,
         ${INPUT_SQL}, output = u.output, custom_status = u.custom_status, failure_details = u.failure_details,
         updated_at = ${NOW}, history_length = l.history_length + u.added, ${lockSql}
       FROM unnest(${ids}, ${statuses}, ${param(executionId, 'text[]')}, ${param(name, 'text[]')}, ${param(version, 'text[]')},
           ${param(input, 'text[]')}, ${param(output, 'text[]')}, ${param(customStatus, 'text[]')}, ${param(failureDetails, 'text[]')},
           ${param(commits.map((c) => c.history.length), 'int[]')}, ${param(keepInputColumn(commits.map((c) => c.instance)), 'boolean[]')})
         AS u(instance_id, status, execution_id, name, version, input, output, custom_status, failure_details, added, keep_input)
         JOIN locked l ON l.instance_id = u.instance_id ${continuedJoin}
       WHERE i.hub = ${hubParam} AND i.instance_id = ANY(${ids}) AND i.instance_id = u.instance_id AND ${gated}
       ${continuedReturning}
     )`,
  );
  if (consumedIds) {
    parts.push(
      `consumed AS (
         DELETE FROM ${t.inbox} m USING unnest(${consumedIds}, ${param(consumed.map((c) => c[1]), 'text[]')}) AS c(id, instance_id)
         WHERE m.id = c.id AND m.hub = ${hubParam} AND m.instance_id = c.instance_id AND ${gated}
       )`,
    );
  }
  if (messages.length) {
    const [to, execution, type, event, delay] = messageColumns(messages);
    parts.push(
      `sent AS (
         INSERT INTO ${t.inbox} (hub, instance_id, execution_id, event_type, event, visible_at)
         SELECT ${hubParam}, m.instance_id, m.execution_id, m.event_type, m.event, ${NOW} + COALESCE(m.delay, 0)
         FROM unnest(${param(to, 'text[]')}, ${param(execution, 'text[]')}, ${param(type, 'text[]')}, ${param(event, 'text[]')},
             ${param(delay, 'bigint[]')})
           WITH ORDINALITY AS m(instance_id, execution_id, event_type, event, delay, ord)
         WHERE ${gated}
           AND EXISTS (SELECT 1 FROM ${t.instances} i WHERE i.hub = ${hubParam} AND i.instance_id = m.instance_id ${PER_ROW})
         ORDER BY m.ord
       )`,
    );
  }
  if (activities.length) {
    // insertActivitiesSql casts these itself.
    const activityParams = activityColumns(activities).map((values) => param(values));
    parts.push(`act AS (${insertActivitiesSql(t, activityParams, gated)})`);
  }
  const known = param(moreWorkKnown, 'boolean');
  parts.push(
    `probe AS (
       -- The statement's snapshot still shows the consumed messages: they are not new work.
       -- A flow-controlled instance's commit ends its lease: room for a waiting one of its key.
       SELECT ${known} OR EXISTS (SELECT 1 FROM locked WHERE cc_key IS NOT NULL) OR EXISTS (
         SELECT 1 FROM ${t.inbox} WHERE hub = ${hubParam} AND instance_id = ANY(${ids}) AND visible_at <= ${NOW}
           ${consumedIds ? `AND id <> ALL(${consumedIds})` : ''}
           -- messages handed back with a kept lease are this worker's next episode: no work for a claim
           ${continuing.length ? 'AND instance_id NOT IN (SELECT instance_id FROM nxt)' : ''}) AS more_work
     )`,
  );
  const { rows } = await runner.query<{ ok: boolean; more_work: boolean; previous: Record<string, RuntimeStatus> | null; leased: string[]; now: string; continued: ContinuedRow[] | null }>(
    prepared(
      `WITH ${parts.join(', ')}
       SELECT g.ok, p.more_work,
         (SELECT json_object_agg(instance_id, status) FROM locked) AS previous,
         ${NOW} AS now,
         -- Ids are assigned in insertion order, which is the order of the arrays.
         ${activities.length ? `(SELECT coalesce(json_agg(id::text ORDER BY id), '[]') FROM act WHERE here)` : `'[]'::json`} AS leased,
         ${continuing.length ? `(SELECT json_agg(inst) FROM inst WHERE messages IS NOT NULL)` : 'NULL::json'} AS continued
       FROM gate g, probe p`,
      values,
    ),
  );
  const row = rows[0]!;
  if (!row.ok) return undefined;
  const notices = [...always];
  if (row.more_work && !moreWorkKnown) notices.push({ kind: 'orchestrations' });
  for (const n of statusNotices) if (n.kind === 'instance' && row.previous?.[n.instanceId] !== n.status) notices.push(n);
  const here = activities.filter((a) => a.lease);
  if (row.leased.length !== here.length) throw new Error(`expected ${here.length} leased activities, got ${row.leased.length}`);
  const byId = new Map(commits.map((c) => [c.lease.id, c]));
  return {
    notices,
    updatedAt: Number(row.now),
    leased: here.map(({ activity, commit }, i) => [commit, leasedActivity(Number(row.leased[i]), activity)]),
    continued: (row.continued ?? []).map((r) => [byId.get(r.instance_id)!, r]),
  };
}
