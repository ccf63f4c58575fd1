/**
 * Orchestration episodes on a SQLite hub: claiming instances with their visible messages, committing what
 * an episode did (fenced by its lease epoch), and releasing leases. Claims and releases are lease-only
 * writes (no fsync of their own); commits are durable.
 */
import { flowColumn } from '../flow.js';
import type { HistoryEvent, RuntimeStatus } from '../../sdk/history.js';
import { INSTANCE_COLUMNS, dedupeNotices, delayedMessageNotices, leasedActivity, rowToInstance, statusNotice, traceContextColumn, versionRulesParam, type InstanceRow } from '../shared.js';
import type {
  ActivityWorkItem,
  ClaimOptions,
  CommitOutcome,
  EpisodeCommit,
  InboxMessage,
  NewActivity,
  Lease,
  OrchestrationWorkItem,
  StoreNotice,
} from '../store.js';
import { namesParam, type SqliteStoreContext } from './sqlite-context.js';
import { insertMessage, nextEpoch, startInstance } from './sqlite-hub-writes.js';
import { admitFlow, recordFlowStarts, type FlowCandidate } from './sqlite-flow.js';

const CONTROL_EVENTS_SQL = `('ExecutionResumed','ExecutionTerminated')`;

/**
 * The claim's version rules (three times the same `versionRulesParam`): an orchestration whose name has a rule
 * is taken only at a version the rule allows; entities and names without a rule, at any version.
 */
const VERSION_RULES_SQL = `(? IS NULL OR substr(i.instance_id, 1, 1) = '@'
  OR NOT EXISTS (SELECT 1 FROM json_each(?) r WHERE json_extract(r.value, '$.name') = i.name)
  OR EXISTS (SELECT 1 FROM json_each(?) r WHERE json_extract(r.value, '$.name') = i.name
    AND (json_type(r.value, '$.oneOf') IS NULL
      OR EXISTS (SELECT 1 FROM json_each(r.value, '$.oneOf') v WHERE duraflow_version_compare(i.version, v.value) = 0))
    AND (json_type(r.value, '$.atMost') IS NULL OR duraflow_version_compare(i.version, json_extract(r.value, '$.atMost')) <= 0)))`;

interface MessageRow {
  id: number;
  instance_id: string;
  execution_id: string | null;
  event: string;
}

/**
 * `HubStore.claimOrchestrations`: leases unleased instances with visible messages (of a suspended one, only
 * control messages wake it), each under a new epoch.
 */
export async function claimOrchestrations(store: SqliteStoreContext, hub: string, options: ClaimOptions): Promise<OrchestrationWorkItem[]> {
  const now = store.now();
  return await store.write(() => {
    // With prioritized starts waiting, each name's instances go highest priority first, the names taking turns.
    const prioritized = store.sql(
      `SELECT 1 FROM instances INDEXED BY instances_by_priority WHERE hub = ? AND priority <> 0 AND status = 'Pending' LIMIT 1`,
    ).get(hub);
    const candidates = store.sql(
      `SELECT id, owner FROM (
         SELECT DISTINCT m.instance_id AS id, i.lock_owner AS owner, i.name, i.priority, i.created_at FROM inbox m
         JOIN instances i ON i.hub = m.hub AND i.instance_id = m.instance_id
         WHERE m.hub = ? AND m.visible_at <= ? AND i.lock_until <= ?
           AND (i.status <> 'Suspended' OR m.event_type IN ${CONTROL_EVENTS_SQL})
           AND (? IS NULL OR i.name IN (SELECT value FROM json_each(?)))
           AND ${VERSION_RULES_SQL} AND i.flow IS NULL
         ${prioritized ? '' : 'LIMIT ?'})
       ${prioritized ? 'ORDER BY row_number() OVER (PARTITION BY name ORDER BY priority DESC, created_at, id), created_at, id LIMIT ?' : ''}`,
    ).all(hub, now, now, namesParam(options), namesParam(options), ...Array(3).fill(versionRulesParam(options)), options.limit) as { id: string; owner: string | null }[];
    if (candidates.length < options.limit && flowInstancesWait(store, hub, now)) {
      // Flow-controlled instances: only those their key's limits allow, oldest first per key; the rate counts
      // first starts (Pending) only.
      const waiting = store.sql(
        `SELECT i.instance_id AS id, i.lock_owner AS owner, i.name, i.cc_key, i.cc_limit,
           CASE WHEN i.status = 'Pending' THEN i.rate_key END AS rate_key, i.rate_limit, i.rate_period
         FROM instances i
         WHERE i.hub = ? AND i.flow IS NOT NULL AND i.lock_until <= ?
           AND EXISTS (SELECT 1 FROM inbox m WHERE m.hub = i.hub AND m.instance_id = i.instance_id AND m.visible_at <= ?
             AND (i.status <> 'Suspended' OR m.event_type IN ${CONTROL_EVENTS_SQL}))
           AND (? IS NULL OR i.name IN (SELECT value FROM json_each(?)))
           AND ${VERSION_RULES_SQL}
         ORDER BY i.priority DESC, i.created_at, i.instance_id`,
      ).iterate(hub, now, now, namesParam(options), namesParam(options), ...Array(3).fill(versionRulesParam(options))) as Iterable<FlowCandidate>;
      const admitted = admitFlow(store, hub, 'orchestration', waiting, now, options.limit - candidates.length);
      recordFlowStarts(store, hub, 'orchestration', admitted, now);
      for (const a of admitted) candidates.push({ id: String(a.id), owner: a.owner });
    }
    const items: OrchestrationWorkItem[] = [];
    for (const { id, owner } of candidates) {
      const row = store.sql(
        `UPDATE instances SET lock_owner = ?, lock_until = ?, lock_epoch = ?
         WHERE hub = ? AND instance_id = ? RETURNING ${INSTANCE_COLUMNS}, lock_epoch`,
      ).get(options.workerId, now + options.leaseMs, nextEpoch(store), hub, id) as (InstanceRow & { lock_epoch: number }) | undefined;
      // A lease still named after its owner has expired (commits and releases clear it): a takeover.
      if (row) items.push({ ...workItem(store, hub, row, now), ...(owner !== null ? { previousOwner: owner } : {}) });
    }
    return items;
  }, false);
}

/**
 * Whether any live flow-controlled instance has its lease free (as the PostgreSQL claim's probe asks): the claim
 * reads those only then, so a hub without flow control pays one lookup in an empty index for them.
 */
function flowInstancesWait(store: SqliteStoreContext, hub: string, now: number): boolean {
  return (
    store
      .sql(
        `SELECT 1 FROM instances INDEXED BY instances_by_flow
         WHERE hub = ? AND flow IS NOT NULL AND status NOT IN ('Completed','Failed','Terminated','Canceled') AND lock_until <= ? LIMIT 1`,
      )
      .get(hub, now) !== undefined
  );
}

/** `HubStore.leaseInstances`: leases the given running instances that are not leased, each under a new epoch. */
export async function leaseInstances(
  store: SqliteStoreContext,
  hub: string,
  instanceIds: readonly string[],
  options: { workerId: string; leaseMs: number },
): Promise<OrchestrationWorkItem[]> {
  const now = store.now();
  return await store.write(() => {
    const items: OrchestrationWorkItem[] = [];
    for (const id of instanceIds) {
      const row = store.sql(
        `UPDATE instances SET lock_owner = ?, lock_until = ?, lock_epoch = ?
         WHERE hub = ? AND instance_id = ? AND lock_until <= ? AND status = 'Running' AND flow IS NULL
         RETURNING ${INSTANCE_COLUMNS}, lock_epoch`,
      ).get(options.workerId, now + options.leaseMs, nextEpoch(store), hub, id, now) as (InstanceRow & { lock_epoch: number }) | undefined;
      if (row) items.push(workItem(store, hub, row, now));
    }
    return items;
  }, false);
}

/** A leased instance with its visible messages. */
function workItem(store: SqliteStoreContext, hub: string, row: InstanceRow & { lock_epoch: number }, now: number): OrchestrationWorkItem {
  const messages = (
    store.sql(
      `SELECT id, instance_id, execution_id, event FROM inbox INDEXED BY inbox_by_instance
       WHERE hub = ? AND instance_id = ? AND visible_at <= ? ORDER BY id`,
    ).all(hub, row.instance_id, now) as MessageRow[]
  ).map(toInboxMessage);
  return { instance: rowToInstance(row), messages, lease: { id: row.instance_id, epoch: row.lock_epoch } };
}

function toInboxMessage(row: MessageRow): InboxMessage {
  return {
    id: row.id,
    instanceId: row.instance_id,
    ...(row.execution_id !== null ? { executionId: row.execution_id } : {}),
    event: JSON.parse(row.event) as HistoryEvent,
  };
}

/** `HubStore.commitEpisodes`: commits all `commits` in one write, each fenced by its own lease. */
export async function commitEpisodes(store: SqliteStoreContext, hub: string, commits: EpisodeCommit[]): Promise<CommitOutcome[]> {
  const now = store.now();
  const notices: StoreNotice[] = [];
  const { outcomes, leased, fused } = await store.write(() => {
    notices.length = 0;
    const leased = new Map<EpisodeCommit, ActivityWorkItem[]>();
    const fused = new Map<EpisodeCommit, number>();
    return { outcomes: commits.map((commit) => commitOne(store, hub, commit, now, notices, leased, fused)), leased, fused };
  }, true);
  // Handed out only now that the transaction is durable.
  for (const [commit, items] of leased) commit.activityLease?.leased.push(...items);
  for (const [commit, epoch] of fused) {
    commit.lease.epoch = epoch;
    commit.start!.createdAt = now;
  }
  for (const notice of dedupeNotices(notices)) store.emit(hub, notice);
  return outcomes;
}

/** Writes one episode unless its lease (or a lease of an activity result it took) was lost. */
function commitOne(
  store: SqliteStoreContext,
  hub: string,
  commit: EpisodeCommit,
  now: number,
  notices: StoreNotice[],
  leased: Map<EpisodeCommit, ActivityWorkItem[]>,
  fused: Map<EpisodeCommit, number>,
): CommitOutcome {
  const id = commit.lease.id;
  if (commit.start) {
    // Created here, leased to the committing worker; the episode is fenced by the new epoch like any other.
    const started = startInstance(store, hub, commit.start.request, now, commit.start.lease, false);
    if (started.conflict) {
      commit.start.conflict = started.conflict;
      return 'lease-lost';
    }
    delete commit.start.conflict;
    fused.set(commit, started.item!.lease.epoch);
  }
  // cc_key is a virtual column (json_extract of flow): computed only for a flow-controlled instance.
  const current = store.sql(
    `SELECT history_length, lock_epoch, status, execution_id, name, version, CASE WHEN flow IS NULL THEN NULL ELSE cc_key END AS cc_key
     FROM instances WHERE hub = ? AND instance_id = ?`,
  ).get(hub, id) as CurrentRow | undefined;
  const epoch = fused.get(commit) ?? commit.lease.epoch;
  if (!current || current.lock_epoch !== epoch) return 'lease-lost';
  // The commit ends this instance's lease: room for a waiting instance of its concurrency key.
  if (current.cc_key !== null) notices.push({ kind: 'orchestrations' });
  const completed = commit.completedActivities ?? [];
  if (completed.length === 1) {
    // One result (an orchestration's step): the fenced delete is the check, and nothing is written before it.
    const only = completed[0]!;
    if (store.sql('DELETE FROM activities WHERE id = ? AND hub = ? AND lock_epoch = ?').run(Number(only.id), hub, only.epoch).changes === 0) return 'lease-lost';
  } else if (completed.length > 1) {
    // Every lease is checked before any is deleted: a lost one must leave the others' work items in place.
    const activityLease = store.sql('SELECT 1 FROM activities WHERE id = ? AND hub = ? AND lock_epoch = ?');
    for (const lease of completed) if (!activityLease.get(Number(lease.id), hub, lease.epoch)) return 'lease-lost';
    const deleteActivity = store.sql('DELETE FROM activities WHERE id = ? AND hub = ?');
    for (const lease of completed) deleteActivity.run(Number(lease.id), hub);
  }
  const base = commit.historyMode === 'replace' ? 0 : current.history_length;
  if (commit.historyMode === 'replace') store.sql('DELETE FROM history WHERE hub = ? AND instance_id = ?').run(hub, id);
  if (commit.history.length) {
    store.sql('INSERT INTO history (hub, instance_id, seq, events) VALUES (?, ?, ?, ?)').run(hub, id, base, JSON.stringify(commit.history));
  }
  const u = commit.instance;
  updateInstance(store, hub, id, current, u, now, base + commit.history.length);
  const deleteMessage = store.sql('DELETE FROM inbox WHERE id = ? AND hub = ? AND instance_id = ?');
  for (const messageId of commit.consumedMessageIds) deleteMessage.run(messageId, hub, id);
  const insertActivity = store.sql(
    `INSERT INTO activities (hub, instance_id, execution_id, task_id, name, input, lock_owner, lock_until, lock_epoch, dequeue_count, trace_context, flow, priority)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const lease = commit.activityLease;
  const here: ActivityWorkItem[] = [];
  for (const a of commit.activities) {
    const input = a.input ?? null;
    const trace = traceContextColumn(a.traceContext);
    const flow = flowColumn(a.flow);
    const runHere = lease !== undefined && a.runHere === true && (flow === null || roomHere(store, hub, a, now));
    const row = runHere
      ? insertActivity.run(hub, a.instanceId, a.executionId, a.taskId, a.name, input, lease.workerId, now + lease.leaseMs, 1, 1, trace, flow, a.priority ?? 0)
      : insertActivity.run(hub, a.instanceId, a.executionId, a.taskId, a.name, input, null, 0, 0, 0, trace, flow, a.priority ?? 0);
    if (runHere) here.push(leasedActivity(Number(row.lastInsertRowid), a));
  }
  if (here.length) leased.set(commit, here);
  for (const { request, onConflict } of commit.startInstances) {
    if (startInstance(store, hub, request, now).conflict) insertMessage(store, hub, onConflict, now);
    else notices.push({ kind: 'instance', instanceId: request.instanceId, status: 'Pending' });
  }
  for (const message of commit.messages) insertMessage(store, hub, message, now);
  notices.push(...delayedMessageNotices(commit.messages));
  if (commit.activities.length > here.length) notices.push({ kind: 'activities' });
  const moreWork =
    commit.messages.length > 0 ||
    commit.startInstances.length > 0 ||
    store.sql('SELECT 1 FROM inbox INDEXED BY inbox_by_instance WHERE hub = ? AND instance_id = ? AND visible_at <= ? LIMIT 1').get(hub, id, now);
  if (moreWork) notices.push({ kind: 'orchestrations' });
  if (u.status !== current.status) notices.push(statusNotice(id, u, now));
  return 'committed';
}

/** The instance row as a commit finds it. */
interface CurrentRow {
  history_length: number;
  lock_epoch: number;
  status: RuntimeStatus;
  execution_id: string;
  name: string;
  version: string | null;
  cc_key: string | null;
}

/**
 * Writes an episode's instance update and ends its lease. Most commits (an orchestration's steps) change neither
 * status, execution, name, version nor input: those are left out of the SET list, because SQLite rewrites every
 * index whose columns (or partial-index condition) a SET names, even to the same value — with status in the SET,
 * each step rewrote the instance's entries in instances_unfinished and re-checked the priority, debounce and
 * flow-key indexes, which cost more than the rest of the update.
 */
function updateInstance(store: SqliteStoreContext, hub: string, id: string, current: CurrentRow, u: EpisodeCommit['instance'], now: number, historyLength: number): void {
  const failure = u.failureDetails ? JSON.stringify(u.failureDetails) : null;
  const same = u.keepInput && u.status === current.status && u.executionId === current.execution_id && u.name === current.name && (u.version ?? null) === current.version;
  if (same) {
    store.sql(
      `UPDATE instances SET output = ?, custom_status = ?, failure_details = ?, updated_at = ?, history_length = ?, lock_owner = NULL, lock_until = 0
       WHERE hub = ? AND instance_id = ?`,
    ).run(u.output ?? null, u.customStatus ?? null, failure, now, historyLength, hub, id);
    return;
  }
  store.sql(
    `UPDATE instances SET status = ?, execution_id = ?, name = ?, version = ?, input = CASE WHEN ? THEN input ELSE ? END,
       output = ?, custom_status = ?,
       failure_details = ?, updated_at = ?, history_length = ?, lock_owner = NULL, lock_until = 0
     WHERE hub = ? AND instance_id = ?`,
  ).run(
    u.status,
    u.executionId,
    u.name,
    u.version ?? null,
    u.keepInput ? 1 : 0,
    u.keepInput ? null : (u.input ?? null),
    u.output ?? null,
    u.customStatus ?? null,
    failure,
    now,
    historyLength,
    hub,
    id,
  );
}

/**
 * Whether a new activity with a concurrency key (and no rate) may be leased at its commit: its key has room and
 * none of its key waits before it (FIFO per key). The commit's write sees the rows it has inserted so far.
 */
function roomHere(store: SqliteStoreContext, hub: string, a: NewActivity, now: number): boolean {
  const c = a.flow?.concurrency;
  if (!c || a.flow?.rate) return false;
  const waiting = store.sql('SELECT 1 FROM activities INDEXED BY activities_by_flow_key WHERE hub = ? AND name = ? AND cc_key = ? AND lock_until <= ? LIMIT 1');
  if (waiting.get(hub, a.name, c.key, now)) return false;
  const candidate = { id: 0, owner: null, name: a.name, cc_key: c.key, cc_limit: c.limit, rate_key: null, rate_limit: null, rate_period: null };
  return admitFlow(store, hub, 'activity', [candidate], now, 1).length === 1;
}

/** `HubStore.releaseOrchestrations`: gives up leases (those still current) so any worker may claim again. */
export async function releaseOrchestrations(store: SqliteStoreContext, hub: string, leases: Lease[]): Promise<void> {
  await store.write(() => {
    const release = store.sql(
      'UPDATE instances SET lock_owner = NULL, lock_until = 0 WHERE hub = ? AND instance_id = ? AND lock_epoch = ?',
    );
    for (const lease of leases) release.run(hub, lease.id, lease.epoch);
  }, false);
  if (leases.length) store.emit(hub, { kind: 'orchestrations' });
}
