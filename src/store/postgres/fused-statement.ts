/**
 * Fused starts of new ids in one statement on PostgreSQL: each instance is inserted already in the state its first
 * episode leaves it, with that episode's history row and activities — one round trip and one WAL flush between
 * `startNew` and the first activity (a transaction of BEGIN, start, fence read, writes and COMMIT is five round
 * trips, which cost more here than the flush they save). An id that exists already (live, finished or purged
 * meanwhile) is not touched: it goes through the transaction path (`createFusedStarts`), which replaces a finished
 * instance or reports the live one.
 */
import { dedupeNotices, leasedActivity, tagsColumn, withFinalStates } from '../shared.js';
import type { ActivityWorkItem, CommitOutcome, EpisodeCommit, StoreNotice } from '../store.js';
import { prepared, type PgDatabase, type StatementRunner } from './connection.js';
import { activityColumns, insertActivitiesSql, instanceUpdateColumns } from './episode-batch.js';
import { NOW } from './hub-writes.js';
import type { Tables } from './schema.js';

/** Whether {@link commitFusedStartsInOneStatement} can take `commits`: fused starts only, each writing just its instance, history and activities. */
export function fitsFusedStatement(commits: readonly EpisodeCommit[]): boolean {
  const ids = new Set<string>();
  for (const c of commits) {
    if (!c.start || c.historyMode !== 'append' || ids.has(c.lease.id)) return false;
    if (c.messages.length || c.startInstances.length || c.consumedMessageIds.length || c.completedActivities?.length) return false;
    if (c.activities.some((a) => a.flow)) return false;
    ids.add(c.lease.id);
  }
  return true;
}

/** What the statement did: the commits it wrote (epoch and creation time written into them), and those left for the transaction path. */
export interface FusedStatementResult {
  written: EpisodeCommit[];
  left: EpisodeCommit[];
  notices: StoreNotice[];
  /** The database time the written instances were created and last updated at (epoch ms). */
  updatedAt: number;
  leased: [EpisodeCommit, ActivityWorkItem][];
}

/** Inserts the instances of `commits` (see the file comment) whose ids are free, in one statement. */
export async function commitFusedStartsInOneStatement(runner: StatementRunner, t: Tables, hub: string, commits: EpisodeCommit[]): Promise<FusedStatementResult> {
  const updates = commits.map((c) => c.instance);
  const [status, executionId, name, version, , output, customStatus, failureDetails] = instanceUpdateColumns(updates);
  const input = commits.map((c) => (c.instance.keepInput ? (c.start!.request.input ?? null) : (c.instance.input ?? null)));
  const activities = commits.flatMap((commit) =>
    commit.activities.map((activity) => ({ activity, commit, lease: activity.runHere ? commit.activityLease : undefined })),
  );
  const values: unknown[] = [
    hub,
    commits.map((c) => c.lease.id),
    name,
    version,
    executionId,
    input,
    commits.map((c) => tagsColumn(c.start!.request)),
    commits.map((c) => c.start!.request.priority ?? 0),
    status,
    output,
    customStatus,
    failureDetails,
    commits.map((c) => c.history.length),
    commits.map((c) => (c.history.length ? JSON.stringify(c.history) : null)),
    ...activityColumns(activities),
  ];
  const activityParams = ['$15', '$16', '$17', '$18', '$19', '$20', '$21', '$22', '$23', '$24'];
  const { rows } = await runner.query<{ instance_id: string; created_at: string | null; lock_epoch: string | null; leased: string[] }>(
    prepared(
      `WITH req AS MATERIALIZED (
         SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[],
             $11::text[], $12::text[], $13::int[], $14::text[])
           WITH ORDINALITY AS r(instance_id, name, version, execution_id, input, tags, priority, status, output, custom_status,
             failure_details, history_length, events, ord)
       ), started AS (
         INSERT INTO ${t.instances} AS i (hub, instance_id, name, version, execution_id, status, input, output, custom_status,
           failure_details, created_at, updated_at, history_length, lock_owner, lock_until, lock_epoch, tags, priority)
         -- in id order, so two statements starting the same ids cannot deadlock
         SELECT $1, r.instance_id, r.name, r.version, r.execution_id, r.status, r.input, r.output, r.custom_status,
           r.failure_details, ${NOW}, ${NOW}, r.history_length, NULL, 0, nextval('${t.epochs}'), r.tags, r.priority
         FROM req r ORDER BY r.instance_id
         ON CONFLICT (hub, instance_id) DO NOTHING
         RETURNING i.instance_id, i.created_at, i.lock_epoch
       ), hist AS (
         INSERT INTO ${t.history} (hub, instance_id, seq, events)
         SELECT $1, r.instance_id, 0, r.events FROM req r JOIN started s ON s.instance_id = r.instance_id WHERE r.events IS NOT NULL
       ), act AS (
         ${insertActivitiesSql(t, activityParams, 'a.instance_id IN (SELECT instance_id FROM started)')}
       )
       SELECT r.instance_id, s.created_at, s.lock_epoch,
         -- Ids are assigned in insertion order, which is the order of the arrays.
         (SELECT coalesce(json_agg(id::text ORDER BY id), '[]') FROM act WHERE here) AS leased
       FROM req r LEFT JOIN started s ON s.instance_id = r.instance_id ORDER BY r.ord`,
      values,
    ),
  );
  const written: EpisodeCommit[] = [];
  const left: EpisodeCommit[] = [];
  commits.forEach((commit, i) => {
    const row = rows[i]!;
    if (row.lock_epoch === null) return void left.push(commit);
    commit.lease.epoch = Number(row.lock_epoch);
    commit.start!.createdAt = Number(row.created_at);
    delete commit.start!.conflict;
    written.push(commit);
  });
  const wrote = new Set(written);
  const here = activities.filter((a) => a.lease && wrote.has(a.commit));
  const leasedIds = rows[0]?.leased ?? [];
  if (leasedIds.length !== here.length) throw new Error(`expected ${here.length} leased activities, got ${leasedIds.length}`);
  const notices: StoreNotice[] = written.map((c) => ({ kind: 'instance', instanceId: c.lease.id, status: c.instance.status }));
  if (activities.some((a) => !a.lease && wrote.has(a.commit))) notices.push({ kind: 'activities' });
  const updatedAt = Number(rows.find((r) => r.created_at !== null)?.created_at ?? Date.now());
  return { written, left, notices, updatedAt, leased: here.map(({ activity, commit }, i) => [commit, leasedActivity(Number(leasedIds[i]), activity)]) };
}

/**
 * `HubStore.commitEpisodes` of a batch that {@link fitsFusedStatement}: the statement first, then the commits whose
 * ids were taken through `inTransaction`; the statement's notices go to `emit` once it committed.
 */
export async function commitFusedStarts(
  db: PgDatabase,
  t: Tables,
  hub: string,
  commits: EpisodeCommit[],
  emit: (notices: StoreNotice[]) => void,
  inTransaction: (commits: EpisodeCommit[]) => Promise<CommitOutcome[]>,
): Promise<CommitOutcome[]> {
  const done = await db.retrying(() => commitFusedStartsInOneStatement(db.pool, t, hub, commits));
  for (const [commit, item] of done.leased) commit.activityLease?.leased.push(item);
  if (done.written.length) emit(withFinalStates(dedupeNotices(done.notices), done.written, done.updatedAt));
  if (!done.left.length) return commits.map(() => 'committed');
  const rest = await inTransaction(done.left);
  return commits.map((c) => (done.left.includes(c) ? rest[done.left.indexOf(c)]! : 'committed'));
}
