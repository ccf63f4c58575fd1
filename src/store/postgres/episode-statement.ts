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
import type { RuntimeStatus } from '../../core/history.js';
import type { ActivityWorkItem, EpisodeCommit, StoreNotice } from '../store.js';
import { delayedMessageNotices, entityNameOf, leasedActivity } from '../shared.js';
import { prepared, type StatementRunner } from './connection.js';
import { insertActivitiesSql, instanceUpdateColumns } from './episode-batch.js';
import { messageColumns, NOW } from './hub-writes.js';
import type { EncodedNotices } from './notice-listener.js';
import type { Tables } from './schema.js';

/** Whether {@link commitEpisodesInOneStatement} can take `commits`. */
export function fitsOneStatement(commits: readonly EpisodeCommit[]): boolean {
  const ids = new Set<string>();
  for (const c of commits) {
    if (c.historyMode !== 'append' || c.startInstances.length > 0 || ids.has(c.lease.id)) return false;
    if (c.messages.some((m) => entityNameOf(m.instanceId) !== undefined)) return false;
    ids.add(c.lease.id);
  }
  return true;
}

/** What a committed batch produced: the notices it sent, and the activities it leased to their workers. */
export interface OneStatementResult {
  notices: StoreNotice[];
  leased: [EpisodeCommit, ActivityWorkItem][];
}

/**
 * Commits every one of `commits` in one statement (see the file comment), or nothing: `undefined` when a
 * fence failed. Sends the notices with `pg_notify` in the same statement.
 */
export async function commitEpisodesInOneStatement(
  runner: StatementRunner,
  t: Tables,
  hub: string,
  commits: EpisodeCommit[],
  encode: (notices: StoreNotice[]) => EncodedNotices,
): Promise<OneStatementResult | undefined> {
  const messages = commits.flatMap((c) => c.messages);
  const activities = commits.flatMap((commit) =>
    commit.activities.map((activity) => ({ activity, commit, lease: activity.runHere ? commit.activityLease : undefined })),
  );
  const completed = commits.flatMap((c) => c.completedActivities ?? []);
  // Notices sent whenever the batch commits; status notices only where the status changed.
  const always: StoreNotice[] = [...delayedMessageNotices(messages)];
  if (activities.some((a) => !a.lease)) always.push({ kind: 'activities' });
  const moreWorkKnown = messages.length > 0;
  if (moreWorkKnown) always.push({ kind: 'orchestrations' });
  const statusNotices = commits.map((c): StoreNotice => ({ kind: 'instance', instanceId: c.lease.id, status: c.instance.status }));
  const { channel, payloads } = encode(always);
  const [moreWorkPayload] = encode([{ kind: 'orchestrations' }]).payloads;
  // One row per episode (see historyFromRows), at the end of the instance's history.
  const history = commits.filter((c) => c.history.length).map((c) => [c.lease.id, JSON.stringify(c.history)] as const);
  const consumed = commits.flatMap((c) => c.consumedMessageIds.map((id) => [id, c.lease.id] as const));
  const m = messageColumns(messages);
  const u = commits.map((c) => c.instance);
  const { rows } = await runner.query<{ ok: boolean; more_work: boolean; previous: Record<string, RuntimeStatus> | null; leased: string[] }>(
    prepared(
    `WITH locked AS MATERIALIZED (
       SELECT instance_id, lock_epoch, history_length, status FROM ${t.instances}
       WHERE hub = $1 AND instance_id = ANY($2::text[]) ORDER BY instance_id FOR UPDATE
     ), held AS MATERIALIZED (
       SELECT id, lock_epoch FROM ${t.activities} WHERE hub = $1 AND id = ANY($4::bigint[]) ORDER BY id FOR UPDATE
     ), gate AS MATERIALIZED (
       SELECT (SELECT count(*) FROM locked l JOIN unnest($2::text[], $3::bigint[]) AS c(id, epoch)
                 ON c.id = l.instance_id AND c.epoch = l.lock_epoch) = cardinality($2::text[])
          AND (SELECT count(*) FROM held x JOIN unnest($4::bigint[], $5::bigint[]) AS a(id, epoch)
                 ON a.id = x.id AND a.epoch = x.lock_epoch) = cardinality($4::bigint[]) AS ok
     ), done AS (
       DELETE FROM ${t.activities} WHERE hub = $1 AND id = ANY($4::bigint[]) AND (SELECT ok FROM gate)
     ), hist AS (
       INSERT INTO ${t.history} (hub, instance_id, seq, events)
       SELECT $1, h.instance_id, l.history_length, h.events
       FROM unnest($6::text[], $7::text[]) AS h(instance_id, events) JOIN locked l ON l.instance_id = h.instance_id
       WHERE (SELECT ok FROM gate)
     ), inst AS (
       UPDATE ${t.instances} i SET status = u.status, execution_id = u.execution_id, name = u.name, version = u.version,
         input = u.input, output = u.output, custom_status = u.custom_status, failure_details = u.failure_details,
         updated_at = ${NOW}, history_length = l.history_length + u.added, lock_owner = NULL, lock_until = 0
       FROM unnest($2::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::int[])
         AS u(instance_id, status, execution_id, name, version, input, output, custom_status, failure_details, added)
         JOIN locked l ON l.instance_id = u.instance_id
       WHERE i.hub = $1 AND i.instance_id = u.instance_id AND (SELECT ok FROM gate)
     ), consumed AS (
       DELETE FROM ${t.inbox} m USING unnest($17::bigint[], $18::text[]) AS c(id, instance_id)
       WHERE m.id = c.id AND m.hub = $1 AND m.instance_id = c.instance_id AND (SELECT ok FROM gate)
     ), sent AS (
       INSERT INTO ${t.inbox} (hub, instance_id, execution_id, event_type, event, visible_at)
       SELECT $1, m.instance_id, m.execution_id, m.event_type, m.event, ${NOW} + COALESCE(m.delay, 0)
       FROM unnest($19::text[], $20::text[], $21::text[], $22::text[], $23::bigint[])
         WITH ORDINALITY AS m(instance_id, execution_id, event_type, event, delay, ord)
       WHERE (SELECT ok FROM gate)
         AND EXISTS (SELECT 1 FROM ${t.instances} i WHERE i.hub = $1 AND i.instance_id = m.instance_id)
       ORDER BY m.ord
     ), act AS (
       ${insertActivitiesSql(t, ['$24', '$25', '$26', '$27', '$28', '$29', '$30'], '(SELECT ok FROM gate)')}
     ), probe AS (
       -- The statement's snapshot still shows the consumed messages: they are not new work.
       SELECT $32::boolean OR EXISTS (
         SELECT 1 FROM ${t.inbox} WHERE hub = $1 AND instance_id = ANY($2::text[]) AND visible_at <= ${NOW}
           AND id <> ALL($17::bigint[])) AS more_work
     )
     SELECT g.ok, p.more_work,
       (SELECT count(pg_notify($31, n)) FROM unnest($33::text[]) AS n WHERE g.ok) AS sent_always,
       (SELECT count(pg_notify($31, s.payload)) FROM unnest($2::text[], $8::text[], $34::text[]) AS s(id, status, payload)
          JOIN locked l ON l.instance_id = s.id WHERE g.ok AND s.payload IS NOT NULL AND l.status <> s.status) AS sent_status,
       (SELECT count(pg_notify($31, $35)) WHERE g.ok AND p.more_work AND NOT $32::boolean) AS sent_more_work,
       (SELECT json_object_agg(instance_id, status) FROM locked) AS previous,
       -- Ids are assigned in insertion order, which is the order of the arrays.
       (SELECT coalesce(json_agg(id::text ORDER BY id), '[]') FROM act WHERE here) AS leased
     FROM gate g, probe p`,
    [
      hub,
      commits.map((c) => c.lease.id),
      commits.map((c) => c.lease.epoch),
      completed.map((l) => l.id),
      completed.map((l) => l.epoch),
      history.map((h) => h[0]),
      history.map((h) => h[1]),
      ...instanceUpdateColumns(u),
      commits.map((c) => c.history.length),
      consumed.map((c) => c[0]),
      consumed.map((c) => c[1]),
      ...m,
      activities.map((a) => a.activity.instanceId),
      activities.map((a) => a.activity.executionId),
      activities.map((a) => a.activity.taskId),
      activities.map((a) => a.activity.name),
      activities.map((a) => a.activity.input ?? null),
      activities.map((a) => a.lease?.workerId ?? null),
      activities.map((a) => a.lease?.leaseMs ?? null),
      channel,
      moreWorkKnown,
      payloads,
      statusNotices.map((n) => encode([n]).payloads[0] ?? null),
      moreWorkPayload ?? '',
    ],
    ),
  );
  const row = rows[0]!;
  if (!row.ok) return undefined;
  const notices = [...always];
  if (row.more_work && !moreWorkKnown) notices.push({ kind: 'orchestrations' });
  for (const n of statusNotices) if (n.kind === 'instance' && row.previous?.[n.instanceId] !== n.status) notices.push(n);
  const here = activities.filter((a) => a.lease);
  if (row.leased.length !== here.length) throw new Error(`expected ${here.length} leased activities, got ${row.leased.length}`);
  return { notices, leased: here.map(({ activity, commit }, i) => [commit, leasedActivity(Number(row.leased[i]), activity)]) };
}
