/**
 * Activity work items on a SQLite hub: claiming, completing (the result becomes a message to the
 * orchestration) and releasing them; plus lease renewal (of either kind) and the next time any work
 * becomes visible, which workers poll with.
 */
import type { ActivityCompletion, ActivityWorkItem, ClaimOptions, Lease } from '../store.js';
import { namesParam, type SqliteStoreContext } from './sqlite-context.js';
import { insertMessage } from './sqlite-hub-writes.js';
import { traceContextField } from '../shared.js';
import { admitFlow, recordFlowStarts, type FlowCandidate } from './sqlite-flow.js';

/** `HubStore.claimActivities`: leases unleased activities in order, bumping each one's epoch and dequeue count. */
export async function claimActivities(store: SqliteStoreContext, hub: string, options: ClaimOptions): Promise<ActivityWorkItem[]> {
  const now = store.now();
  return await store.write(() => {
    // The owners first: a lease still named after its owner has expired (completions and releases clear it).
    // With prioritized activities waiting, each name's backlog goes highest priority first, and the names take
    // turns (by rank in their own backlog), so a busy name of high priority does not starve the others.
    const prioritized = store.sql('SELECT 1 FROM activities INDEXED BY activities_by_priority WHERE hub = ? AND priority <> 0 AND lock_until <= ? LIMIT 1').get(hub, now);
    const candidates = store.sql(
      prioritized
        ? `SELECT id, owner FROM (
             SELECT id, lock_owner AS owner, row_number() OVER (PARTITION BY name ORDER BY priority DESC, id) AS rank
             FROM activities WHERE hub = ? AND lock_until <= ? AND flow IS NULL
               AND (? IS NULL OR name IN (SELECT value FROM json_each(?))))
           ORDER BY rank, id LIMIT ?`
        : `SELECT id, lock_owner AS owner FROM activities WHERE hub = ? AND lock_until <= ? AND flow IS NULL
             AND (? IS NULL OR name IN (SELECT value FROM json_each(?)))
           ORDER BY id LIMIT ?`,
    ).all(hub, now, namesParam(options), namesParam(options), options.limit) as { id: number; owner: string | null }[];
    if (candidates.length < options.limit) {
      // Flow-controlled activities: only those their key's limits allow, oldest first per key.
      const waiting = store.sql(
        `SELECT id, lock_owner AS owner, name, cc_key, cc_limit, rate_key, rate_limit, rate_period
         FROM activities INDEXED BY activities_by_flow WHERE hub = ? AND lock_until <= ? AND flow IS NOT NULL
           AND (? IS NULL OR name IN (SELECT value FROM json_each(?)))
         ORDER BY ${prioritized ? 'priority DESC, ' : ''}id`,
      ).iterate(hub, now, namesParam(options), namesParam(options)) as Iterable<FlowCandidate>;
      const admitted = admitFlow(store, hub, 'activity', waiting, now, options.limit - candidates.length);
      recordFlowStarts(store, hub, 'activity', admitted, now);
      for (const a of admitted) candidates.push({ id: Number(a.id), owner: a.owner });
    }
    if (candidates.length === 0) return [];
    const owners = new Map(candidates.map((c) => [c.id, c.owner]));
    const rows = store.sql(
      `UPDATE activities SET lock_owner = ?, lock_until = ?, lock_epoch = lock_epoch + 1, dequeue_count = dequeue_count + 1
       WHERE hub = ? AND id IN (SELECT value FROM json_each(?))
       RETURNING id, instance_id, execution_id, task_id, name, input, dequeue_count, lock_epoch, trace_context`,
    ).all(options.workerId, now + options.leaseMs, hub, JSON.stringify(candidates.map((c) => c.id))) as {
      id: number;
      instance_id: string;
      execution_id: string;
      task_id: number;
      name: string;
      input: string | null;
      dequeue_count: number;
      lock_epoch: number;
      trace_context: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      instanceId: r.instance_id,
      executionId: r.execution_id,
      taskId: r.task_id,
      name: r.name,
      ...(r.input !== null ? { input: r.input } : {}),
      dequeueCount: r.dequeue_count,
      lease: { id: String(r.id), epoch: r.lock_epoch },
      ...(owners.get(r.id) ? { previousOwner: owners.get(r.id)! } : {}),
      ...traceContextField(r.trace_context),
    })).sort((a, b) => a.id - b.id);
  }, false);
}

/** `HubStore.completeActivities`: each completion whose lease still holds deletes its activity and sends its result. */
export async function completeActivities(store: SqliteStoreContext, hub: string, completions: ActivityCompletion[]): Promise<boolean[]> {
  const now = store.now();
  let freed = false;
  const results = await store.write(
    () =>
      completions.map((c) => {
        const deleted = store.sql('DELETE FROM activities WHERE id = ? AND hub = ? AND lock_epoch = ? RETURNING name, cc_key').get(
          Number(c.lease.id),
          hub,
          c.lease.epoch,
        ) as { name: string; cc_key: string | null } | undefined;
        if (!deleted) return false;
        // A finished activity with a concurrency key makes room for a waiting one of its key, if there is one.
        if (deleted.cc_key !== null && !freed) {
          freed = store
            .sql('SELECT 1 FROM activities INDEXED BY activities_by_flow_key WHERE hub = ? AND name = ? AND cc_key = ? AND lock_until <= ? LIMIT 1')
            .get(hub, deleted.name, deleted.cc_key, now) !== undefined;
        }
        insertMessage(store, hub, c.message, now);
        return true;
      }),
    true,
  );
  if (results.some(Boolean)) store.emit(hub, { kind: 'orchestrations' });
  if (freed) store.emit(hub, { kind: 'activities' });
  return results;
}

/** `HubStore.releaseActivities`: gives up leases (those still current) so any worker may claim again. */
export async function releaseActivities(store: SqliteStoreContext, hub: string, leases: Lease[]): Promise<void> {
  await store.write(() => {
    const release = store.sql('UPDATE activities SET lock_owner = NULL, lock_until = 0 WHERE id = ? AND hub = ? AND lock_epoch = ?');
    for (const lease of leases) release.run(Number(lease.id), hub, lease.epoch);
  }, false);
  if (leases.length) store.emit(hub, { kind: 'activities' });
}

/** `HubStore.renewLeases`: extends the leases that are still current; answers which were. */
export async function renewLeases(
  store: SqliteStoreContext,
  hub: string,
  kind: 'orchestration' | 'activity',
  leases: Lease[],
  leaseMs: number,
): Promise<boolean[]> {
  const until = store.now() + leaseMs;
  return await store.write(() => {
    const renew =
      kind === 'orchestration'
        ? store.sql('UPDATE instances SET lock_until = ? WHERE hub = ? AND instance_id = ? AND lock_epoch = ?')
        : store.sql('UPDATE activities SET lock_until = ? WHERE hub = ? AND id = ? AND lock_epoch = ?');
    return leases.map(
      (lease) => renew.run(until, hub, kind === 'orchestration' ? lease.id : Number(lease.id), lease.epoch).changes > 0,
    );
  }, false);
}

/** `HubStore.nextVisibleAt`: the earliest future message visibility, lease expiry or end of a rate period, if any. */
export async function nextVisibleAt(store: SqliteStoreContext, hub: string, lookBackMs = 0): Promise<Date | undefined> {
  const now = store.now() - Math.max(0, lookBackMs);
  const row = store.sql(
    `SELECT MIN(t) AS t FROM (
       SELECT MIN(visible_at) AS t FROM inbox WHERE hub = ? AND visible_at > ?
       UNION ALL SELECT MIN(lock_until) FROM activities WHERE hub = ? AND lock_until > ?
       UNION ALL SELECT MIN(lock_until) FROM instances WHERE hub = ? AND lock_until > 0 AND lock_until > ?
       UNION ALL SELECT MIN(until) FROM flow_starts WHERE hub = ? AND until > ?)`,
  ).get(hub, now, hub, now, hub, now, hub, now) as { t: number | null };
  return row.t === null ? undefined : new Date(row.t);
}
