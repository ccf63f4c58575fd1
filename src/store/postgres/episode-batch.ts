/**
 * Group commit of orchestration episodes on PostgreSQL: one transaction for the whole batch, each episode
 * fenced by its own lease epoch. Round trips are what a commit costs on a fast disk, so the common episode
 * takes four: BEGIN, one statement that locks and reads the fences, one that writes everything (and sends
 * the notices), COMMIT. Rarer parts (continue-as-new, sub-orchestration starts, messages) add their own.
 */
import { flowColumn } from '../flow.js';
import { admitFlowHere } from './flow-sql.js';
import type { RuntimeStatus } from '../../sdk/history.js';
import type { ActivityLeaseRequest, ActivityWorkItem, CommitOutcome, EpisodeCommit, InstanceUpdate, NewActivity, NewMessage, StoreNotice } from '../store.js';
import { dedupeNotices, delayedMessageNotices, leasedActivity, traceContextColumn, withFinalStates } from '../shared.js';
import { prepared, type PgDatabase, type TxClient } from './connection.js';
import { distinctRounds, insertMessages, NOW, startInstances } from './hub-writes.js';
import { createFusedStarts, settleFusedStarts, type FusedStartAnswer } from './fused-starts.js';
import type { Tables } from './schema.js';

/** What {@link commitEpisodeBatch} did: an outcome per commit, and the activities it leased to their workers. */
export interface EpisodeBatchResult {
  outcomes: CommitOutcome[];
  /** To hand out only once the transaction has committed. */
  leased: [EpisodeCommit, ActivityWorkItem][];
  /** The fused starts' answers, to write into their commits once the transaction has committed (`settleFusedStarts`). */
  fused: Map<EpisodeCommit, FusedStartAnswer>;
}

/** `HubStore.commitEpisodes` in one transaction of a few statements (the general path); notices go to `emit` once committed. */
export async function commitEpisodesInTransaction(
  db: PgDatabase,
  t: Tables,
  hub: string,
  commits: EpisodeCommit[],
  emit: (notices: StoreNotice[]) => void,
): Promise<CommitOutcome[]> {
  const notices: StoreNotice[] = [];
  const { outcomes, leased, fused } = await db.transaction(async (client) => {
    notices.length = 0; // a retried transaction starts over
    return commitEpisodeBatch(client, t, hub, commits, notices);
  });
  settleFusedStarts(fused);
  for (const [commit, item] of leased) commit.activityLease?.leased.push(item);
  emit(dedupeNotices(notices));
  return outcomes;
}

/**
 * Commits `commits` inside `client`'s transaction; a commit whose lease epoch is no longer current writes
 * nothing (`lease-lost`). Pushes its notices to `notices`, for the caller to send once it committed (notifier.ts).
 */
export async function commitEpisodeBatch(
  client: TxClient,
  t: Tables,
  hub: string,
  commits: EpisodeCommit[],
  notices: StoreNotice[],
): Promise<EpisodeBatchResult> {
  const ids = commits.map((c) => c.lease.id);
  // Taken first, before any row lock (as a flow claim takes it), so the two cannot deadlock.
  const admitted = await admitFlowHere(client, t, hub, commits.flatMap((c) => (c.activityLease ? c.activities.filter((a) => a.runHere && a.flow) : [])));
  // The instances fused starts create (never flow-controlled): their rows exist, leased, before the fences are read.
  const fused = await createFusedStarts(client, t, hub, commits);
  // Activity results an episode took from memory: its commit counts only while every one of their leases holds.
  const activityLeases = commits.flatMap((c) => c.completedActivities ?? []);
  // One statement locks the instances, then the activities, each in a fixed order so that concurrent
  // batches cannot deadlock, and reads their fences.
  const { rows } = await client.query<{ instance_id: string | null; lock_epoch: string; history_length: number | null; status: RuntimeStatus | null; activity_id: string | null }>(prepared(
    `WITH inst AS (
       SELECT instance_id, lock_epoch, history_length, status FROM ${t.instances}
       WHERE hub = $1 AND instance_id = ANY($2::text[]) ORDER BY instance_id FOR UPDATE
     ), act AS (
       SELECT id, lock_epoch FROM ${t.activities} WHERE hub = $1 AND id = ANY($3::bigint[]) ORDER BY id FOR UPDATE
     )
     SELECT instance_id, lock_epoch, history_length, status, NULL::bigint AS activity_id FROM inst
     UNION ALL SELECT NULL, lock_epoch, NULL, NULL, id FROM act`,
    [hub, ids, activityLeases.map((l) => l.id)],
  ));
  const byId = new Map<string, { lock_epoch: string; history_length: number; status: RuntimeStatus }>();
  const heldActivities = new Set<string>();
  for (const row of rows) {
    if (row.activity_id !== null) heldActivities.add(`${row.activity_id}:${row.lock_epoch}`);
    else byId.set(row.instance_id!, { lock_epoch: row.lock_epoch, history_length: row.history_length!, status: row.status! });
  }
  const seen = new Set<string>();
  const outcomes: CommitOutcome[] = [];
  const accepted: { commit: EpisodeCommit; base: number; previous: RuntimeStatus }[] = [];
  for (const original of commits) {
    const row = byId.get(original.lease.id);
    const start = fused.get(original);
    // A fused start's episode is fenced by the epoch its creation just gave out, and consumes its start message.
    const commit = start && 'epoch' in start
      ? { ...original, lease: { id: original.lease.id, epoch: start.epoch }, consumedMessageIds: [...original.consumedMessageIds, start.messageId] }
      : original;
    // A lease id twice in one batch is never legitimate: the first wins.
    const activitiesHeld = (commit.completedActivities ?? []).every((l) => heldActivities.has(`${l.id}:${l.epoch}`));
    if (!row || (start && 'conflict' in start) || Number(row.lock_epoch) !== commit.lease.epoch || seen.has(commit.lease.id) || !activitiesHeld) {
      outcomes.push('lease-lost');
      continue;
    }
    seen.add(commit.lease.id);
    outcomes.push('committed');
    accepted.push({ commit, base: commit.historyMode === 'replace' ? 0 : row.history_length, previous: row.status });
  }
  const leasedItems: [EpisodeCommit, ActivityWorkItem][] = [];
  if (accepted.length === 0) return { outcomes, leased: leasedItems, fused };

  // The writes whose rows no other write of this batch touches go into one statement below; these first.
  const replaced = accepted.filter((a) => a.commit.historyMode === 'replace').map((a) => a.commit.lease.id);
  if (replaced.length) {
    await client.query(`DELETE FROM ${t.history} WHERE hub = $1 AND instance_id = ANY($2::text[])`, [hub, replaced]);
  }
  const messages: NewMessage[] = [];
  const starts = accepted.flatMap((a) => a.commit.startInstances);
  if (starts.length) {
    for (const round of distinctRounds(starts.map((s) => s.request.instanceId))) {
      const answers = await startInstances(client, t, hub, round.map((i) => ({ request: starts[i]!.request })));
      round.forEach((index, k) => {
        const { request, onConflict } = starts[index]!;
        if (answers[k]!.conflict) messages.push(onConflict);
        else notices.push({ kind: 'instance', instanceId: request.instanceId, status: 'Pending' });
      });
    }
  }
  messages.push(...accepted.flatMap((a) => a.commit.messages));
  await insertMessages(client, t, hub, messages);
  notices.push(...delayedMessageNotices(messages));

  // Activities marked to run here are created leased to the committing worker (epoch 1, first dequeue).
  const activities = accepted.flatMap(({ commit }) =>
    commit.activities.map((activity) => ({
      activity,
      commit,
      lease: activity.runHere && (!activity.flow || admitted.has(activity)) ? commit.activityLease : undefined,
    })),
  );
  if (activities.some((a) => !a.lease)) notices.push({ kind: 'activities' });
  for (const a of accepted) {
    if (a.commit.instance.status !== a.previous) {
      notices.push({ kind: 'instance', instanceId: a.commit.lease.id, status: a.commit.instance.status });
    }
  }
  // New messages (or instances started) mean more work at once; otherwise the last statement looks for
  // messages that arrived during the episode, and sends the 'orchestrations' notice only if it finds one.
  const moreWorkKnown = accepted.some((a) => a.commit.messages.length > 0 || a.commit.startInstances.length > 0);
  if (moreWorkKnown) notices.push({ kind: 'orchestrations' });
  // One row per episode (see historyFromRows).
  const history = accepted.filter((a) => a.commit.history.length).map((a) => [a.commit.lease.id, a.base, JSON.stringify(a.commit.history)] as const);
  const u = accepted.map((a) => ({ id: a.commit.lease.id, length: a.base + a.commit.history.length, ...a.commit.instance }));
  const consumed = accepted.flatMap((a) => a.commit.consumedMessageIds.map((id) => [id, a.commit.lease.id] as const));
  const { rows: written } = await client.query<{ more_work: boolean; leased: string[]; now: string }>(prepared(
    `WITH done AS (
       DELETE FROM ${t.activities} WHERE hub = $1 AND id = ANY($2::bigint[])
     ), hist AS (
       INSERT INTO ${t.history} (hub, instance_id, seq, events)
       SELECT $1, h.instance_id, h.seq, h.events FROM unnest($3::text[], $4::int[], $5::text[]) AS h(instance_id, seq, events)
     ), inst AS (
       UPDATE ${t.instances} i SET status = u.status, execution_id = u.execution_id, name = u.name, version = u.version,
         ${INPUT_SQL}, output = u.output, custom_status = u.custom_status, failure_details = u.failure_details,
         updated_at = ${NOW}, history_length = u.history_length, lock_owner = NULL, lock_until = 0
       FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::int[],
           $26::boolean[])
         AS u(instance_id, status, execution_id, name, version, input, output, custom_status, failure_details, history_length, keep_input)
       WHERE i.hub = $1 AND i.instance_id = u.instance_id
     ), consumed AS (
       DELETE FROM ${t.inbox} m USING unnest($16::bigint[], $17::text[]) AS c(id, instance_id)
       WHERE m.id = c.id AND m.hub = $1 AND m.instance_id = c.instance_id
     ), act AS (
       ${insertActivitiesSql(t, ['$18', '$19', '$20', '$21', '$22', '$24', '$25', '$27', '$28', '$29'], 'true')}
     ), probe AS (
       -- The statement's snapshot still shows the consumed messages: they are not new work.
       -- A flow-controlled instance's commit ends its lease: room for a waiting one of its key.
       SELECT $23::boolean OR EXISTS (SELECT 1 FROM ${t.instances} WHERE hub = $1 AND instance_id = ANY($6::text[]) AND cc_key IS NOT NULL) OR EXISTS (
         SELECT 1 FROM ${t.inbox} WHERE hub = $1 AND instance_id = ANY($6::text[]) AND visible_at <= ${NOW}
           AND id <> ALL($16::bigint[])) AS more_work
     )
     SELECT p.more_work,
       ${NOW} AS now,
       -- Ids are assigned in insertion order, which is the order of the arrays.
       (SELECT coalesce(json_agg(id::text ORDER BY id), '[]') FROM act WHERE here) AS leased
     FROM probe p`,
    [
      hub,
      accepted.flatMap((a) => (a.commit.completedActivities ?? []).map((l) => l.id)),
      history.map((h) => h[0]),
      history.map((h) => h[1]),
      history.map((h) => h[2]),
      u.map((x) => x.id),
      ...instanceUpdateColumns(u),
      u.map((x) => x.length),
      consumed.map((c) => c[0]),
      consumed.map((c) => c[1]),
      activities.map((a) => a.activity.instanceId),
      activities.map((a) => a.activity.executionId),
      activities.map((a) => a.activity.taskId),
      activities.map((a) => a.activity.name),
      activities.map((a) => a.activity.input ?? null),
      moreWorkKnown,
      activities.map((a) => a.lease?.workerId ?? null),
      activities.map((a) => a.lease?.leaseMs ?? null),
      keepInputColumn(u),
      activities.map((a) => traceContextColumn(a.activity.traceContext)),
      activities.map((a) => flowColumn(a.activity.flow)),
      activities.map((a) => a.activity.priority ?? 0),
    ],
  ));
  if (written[0]?.more_work && !moreWorkKnown) notices.push({ kind: 'orchestrations' });
  // In-process waiters get the terminal rows as written (notices to other processes never carry them).
  const local = withFinalStates(notices, accepted.map((a) => a.commit), Number(written[0]!.now));
  notices.splice(0, notices.length, ...local);
  const leasedIds = written[0]?.leased ?? [];
  const here = activities.filter((a) => a.lease);
  if (leasedIds.length !== here.length) throw new Error(`expected ${here.length} leased activities, got ${leasedIds.length}`);
  here.forEach(({ activity, commit }, i) => leasedItems.push([commit, leasedActivity(Number(leasedIds[i]), activity)]));
  return { outcomes, leased: leasedItems, fused };
}

/**
 * The columns of instance updates as arrays for `unnest`: status, execution id, name, version, input (null where
 * it is kept, see {@link INPUT_SQL}), output, custom status, failure details.
 */
export function instanceUpdateColumns(updates: readonly InstanceUpdate[]): (string | null)[][] {
  return [
    updates.map((x) => x.status),
    updates.map((x) => x.executionId),
    updates.map((x) => x.name),
    updates.map((x) => x.version ?? null),
    updates.map((x) => (x.keepInput ? null : (x.input ?? null))),
    updates.map((x) => x.output ?? null),
    updates.map((x) => x.customStatus ?? null),
    updates.map((x) => (x.failureDetails ? JSON.stringify(x.failureDetails) : null)),
  ];
}

/** Whether each update keeps the stored input, as an array for `unnest` (see `InstanceUpdate.keepInput`). */
export function keepInputColumn(updates: readonly InstanceUpdate[]): boolean[] {
  return updates.map((x) => x.keepInput === true);
}

/** The SET of `input` in an update from `unnest` rows `u` with a `keep_input` column, over instance rows `i`. */
export const INPUT_SQL = 'input = CASE WHEN u.keep_input THEN i.input ELSE u.input END';

/**
 * The INSERT of new activities from `unnest` arrays at `params` (instance id, execution id, task id, name,
 * input, owner, lease ms, trace context, flow JSON, priority), in array order, written only where `where` holds. An
 * activity with an owner is created leased to it (epoch 1, first dequeue). Returns `id` and `here` (leased) per row.
 */
/** The ten columns {@link insertActivitiesSql} takes, in its order, of activities to insert (leased where `lease` is given). */
export function activityColumns(activities: readonly { activity: NewActivity; lease?: ActivityLeaseRequest | undefined }[]): unknown[][] {
  const column = (of: (a: (typeof activities)[number]) => unknown) => activities.map(of);
  return [
    column((a) => a.activity.instanceId),
    column((a) => a.activity.executionId),
    column((a) => a.activity.taskId),
    column((a) => a.activity.name),
    column((a) => a.activity.input ?? null),
    column((a) => a.lease?.workerId ?? null),
    column((a) => a.lease?.leaseMs ?? null),
    column((a) => traceContextColumn(a.activity.traceContext)),
    column((a) => flowColumn(a.activity.flow)),
    column((a) => a.activity.priority ?? 0),
  ];
}

export function insertActivitiesSql(t: Tables, params: string[], where: string): string {
  const [instance, execution, task, name, input, owner, leaseMs, trace, flow, priority] = params;
  return `INSERT INTO ${t.activities} (hub, instance_id, execution_id, task_id, name, input, lock_owner, lock_until, lock_epoch, dequeue_count, trace_context, flow, priority)
       SELECT $1, a.instance_id, a.execution_id, a.task_id, a.name, a.input, a.owner,
         CASE WHEN a.owner IS NULL THEN 0 ELSE ${NOW} + a.lease_ms END,
         CASE WHEN a.owner IS NULL THEN 0 ELSE 1 END, CASE WHEN a.owner IS NULL THEN 0 ELSE 1 END, a.trace_context, a.flow, a.priority
       FROM unnest(${instance}::text[], ${execution}::text[], ${task}::int[], ${name}::text[], ${input}::text[], ${owner}::text[], ${leaseMs}::bigint[],
           ${trace}::text[], ${flow}::text[], ${priority}::int[])
         WITH ORDINALITY AS a(instance_id, execution_id, task_id, name, input, owner, lease_ms, trace_context, flow, priority, ord)
       WHERE ${where}
       ORDER BY a.ord
       RETURNING id, lock_owner IS NOT NULL AS here`;
}
