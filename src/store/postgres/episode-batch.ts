/**
 * Group commit of orchestration episodes on PostgreSQL: one transaction, a handful of set-based
 * statements for the whole batch, and each episode fenced by its own lease epoch.
 */
import type { RuntimeStatus } from '../../core/history.js';
import type { CommitOutcome, EpisodeCommit, NewMessage, StoreNotice } from '../store.js';
import type { TxClient } from './connection.js';
import { insertMessages, NOW, startInstance } from './hub-writes.js';
import type { Tables } from './schema.js';

/**
 * Commits `commits` inside `client`'s transaction and returns their outcomes in order; a commit whose
 * lease epoch is no longer current writes nothing (`lease-lost`). Pushes the notices to send on commit.
 */
export async function commitEpisodeBatch(
  client: TxClient,
  t: Tables,
  hub: string,
  commits: EpisodeCommit[],
  notices: StoreNotice[],
): Promise<CommitOutcome[]> {
  const ids = commits.map((c) => c.lease.id);
  // Lock in a fixed order so concurrent batches cannot deadlock on each other's instances.
  const { rows: current } = await client.query<{ instance_id: string; lock_epoch: string; history_length: number; status: RuntimeStatus }>(
    `SELECT instance_id, lock_epoch, history_length, status FROM ${t.instances}
     WHERE hub = $1 AND instance_id = ANY($2::text[]) ORDER BY instance_id FOR UPDATE`,
    [hub, ids],
  );
  const byId = new Map(current.map((r) => [r.instance_id, r]));
  // Activity results an episode took from memory: its commit counts only while every one of their leases holds.
  const activityLeases = commits.flatMap((c) => c.completedActivities ?? []);
  const heldActivities = new Set<string>();
  if (activityLeases.length) {
    const { rows } = await client.query<{ id: string; lock_epoch: string }>(
      `SELECT id, lock_epoch FROM ${t.activities} WHERE hub = $1 AND id = ANY($2::bigint[]) ORDER BY id FOR UPDATE`,
      [hub, activityLeases.map((l) => l.id)],
    );
    for (const row of rows) heldActivities.add(`${row.id}:${row.lock_epoch}`);
  }
  const seen = new Set<string>();
  const outcomes: CommitOutcome[] = [];
  const accepted: { commit: EpisodeCommit; base: number; previous: RuntimeStatus }[] = [];
  for (const commit of commits) {
    const row = byId.get(commit.lease.id);
    // A lease id twice in one batch is never legitimate: the first wins.
    const activitiesHeld = (commit.completedActivities ?? []).every((l) => heldActivities.has(`${l.id}:${l.epoch}`));
    if (!row || Number(row.lock_epoch) !== commit.lease.epoch || seen.has(commit.lease.id) || !activitiesHeld) {
      outcomes.push('lease-lost');
      continue;
    }
    seen.add(commit.lease.id);
    outcomes.push('committed');
    accepted.push({ commit, base: commit.historyMode === 'replace' ? 0 : row.history_length, previous: row.status });
  }
  if (accepted.length === 0) return outcomes;

  const completed = accepted.flatMap((a) => (a.commit.completedActivities ?? []).map((l) => l.id));
  if (completed.length) {
    await client.query(`DELETE FROM ${t.activities} WHERE hub = $1 AND id = ANY($2::bigint[])`, [hub, completed]);
  }
  const replaced = accepted.filter((a) => a.commit.historyMode === 'replace').map((a) => a.commit.lease.id);
  if (replaced.length) {
    await client.query(`DELETE FROM ${t.history} WHERE hub = $1 AND instance_id = ANY($2::text[])`, [hub, replaced]);
  }
  const history = accepted.flatMap((a) => a.commit.history.map((event, i) => [a.commit.lease.id, a.base + i, JSON.stringify(event)] as const));
  if (history.length) {
    await client.query(
      `INSERT INTO ${t.history} (hub, instance_id, seq, event)
       SELECT $1, h.instance_id, h.seq, h.event FROM unnest($2::text[], $3::int[], $4::text[]) AS h(instance_id, seq, event)`,
      [hub, history.map((h) => h[0]), history.map((h) => h[1]), history.map((h) => h[2])],
    );
  }
  const u = accepted.map((a) => ({ id: a.commit.lease.id, length: a.base + a.commit.history.length, ...a.commit.instance }));
  await client.query(
    `UPDATE ${t.instances} i SET status = u.status, execution_id = u.execution_id, name = u.name, version = u.version,
       input = u.input, output = u.output, custom_status = u.custom_status, failure_details = u.failure_details,
       updated_at = ${NOW}, history_length = u.history_length, lock_owner = NULL, lock_until = 0
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                 $11::int[])
       AS u(instance_id, status, execution_id, name, version, input, output, custom_status, failure_details, history_length)
     WHERE i.hub = $1 AND i.instance_id = u.instance_id`,
    [
      hub,
      u.map((x) => x.id),
      u.map((x) => x.status),
      u.map((x) => x.executionId),
      u.map((x) => x.name),
      u.map((x) => x.version ?? null),
      u.map((x) => x.input ?? null),
      u.map((x) => x.output ?? null),
      u.map((x) => x.customStatus ?? null),
      u.map((x) => (x.failureDetails ? JSON.stringify(x.failureDetails) : null)),
      u.map((x) => x.length),
    ],
  );
  const consumed = accepted.flatMap((a) => a.commit.consumedMessageIds.map((id) => [id, a.commit.lease.id] as const));
  if (consumed.length) {
    await client.query(
      `DELETE FROM ${t.inbox} m USING unnest($2::bigint[], $3::text[]) AS c(id, instance_id)
       WHERE m.id = c.id AND m.hub = $1 AND m.instance_id = c.instance_id`,
      [hub, consumed.map((c) => c[0]), consumed.map((c) => c[1])],
    );
  }
  const activities = accepted.flatMap((a) => a.commit.activities);
  if (activities.length) {
    await client.query(
      `INSERT INTO ${t.activities} (hub, instance_id, execution_id, task_id, name, input)
       SELECT $1, a.instance_id, a.execution_id, a.task_id, a.name, a.input
       FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::text[]) WITH ORDINALITY
         AS a(instance_id, execution_id, task_id, name, input, ord)
       ORDER BY a.ord`,
      [
        hub,
        activities.map((a) => a.instanceId),
        activities.map((a) => a.executionId),
        activities.map((a) => a.taskId),
        activities.map((a) => a.name),
        activities.map((a) => a.input ?? null),
      ],
    );
    notices.push({ kind: 'activities' });
  }
  const messages: NewMessage[] = [];
  for (const { commit } of accepted) {
    for (const { request, onConflict } of commit.startInstances) {
      if (await startInstance(client, t, hub, request)) messages.push(onConflict);
      else notices.push({ kind: 'instance', instanceId: request.instanceId, status: 'Pending' });
    }
  }
  messages.push(...accepted.flatMap((a) => a.commit.messages));
  await insertMessages(client, t, hub, messages);
  let moreWork = accepted.some((a) => a.commit.messages.length > 0 || a.commit.startInstances.length > 0);
  if (!moreWork) {
    const { rows } = await client.query(
      `SELECT 1 FROM ${t.inbox} WHERE hub = $1 AND instance_id = ANY($2::text[]) AND visible_at <= ${NOW} LIMIT 1`,
      [hub, accepted.map((a) => a.commit.lease.id)],
    );
    moreWork = rows.length > 0;
  }
  if (moreWork) notices.push({ kind: 'orchestrations' });
  for (const a of accepted) {
    if (a.commit.instance.status !== a.previous) {
      notices.push({ kind: 'instance', instanceId: a.commit.lease.id, status: a.commit.instance.status });
    }
  }
  return outcomes;
}
