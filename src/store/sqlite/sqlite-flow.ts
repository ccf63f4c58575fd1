/**
 * Flow control in SQLite claims (see `store/flow.ts`): which waiting flow-controlled work items a claim may take
 * — none of a key that already has its `limit` leased, or that used its rate in the current period — oldest first
 * per key, and the record of the claims that count against a rate. A claim runs in one write transaction, so the
 * counts it reads cannot change under it.
 */
import type { SqliteStoreContext } from './sqlite-context.js';
import type { FlowControl, FlowWaitingActivity } from '../store.js';
import { checkWaitLimit } from '../flow.js';

/** A waiting flow-controlled work item, as a claim reads it (`flow IS NOT NULL`). */
export interface FlowCandidate {
  id: string | number;
  owner: string | null;
  name: string;
  cc_key: string | null;
  cc_limit: number | null;
  /** Null where the rate does not apply (an instance's rate counts its first start only). */
  rate_key: string | null;
  rate_limit: number | null;
  rate_period: number | null;
}

/** `activity` or `orchestration`: the table whose leases a concurrency limit counts, and the kind of a rate's starts. */
export type FlowKind = 'activity' | 'orchestration';

/**
 * Takes, in order, the candidates whose limits allow them, up to `room`: each admitted one counts against its
 * key's concurrency and rate for those after it, so a claim never takes more than a key has room for.
 */
export function admitFlow(store: SqliteStoreContext, hub: string, kind: FlowKind, candidates: Iterable<FlowCandidate>, now: number, room: number): FlowCandidate[] {
  const busy = new Map<string, number>();
  const used = new Map<string, number>();
  const admitted: FlowCandidate[] = [];
  if (room <= 0) return admitted;
  const busySql = store.sql(
    kind === 'activity'
      ? 'SELECT COUNT(*) AS n FROM activities INDEXED BY activities_by_flow_key WHERE hub = ? AND name = ? AND cc_key = ? AND lock_until > ?'
      : 'SELECT COUNT(*) AS n FROM instances INDEXED BY instances_by_flow_key WHERE hub = ? AND name = ? AND cc_key = ? AND lock_until > ?',
  );
  const usedSql = store.sql('SELECT COUNT(*) AS n FROM flow_starts WHERE hub = ? AND kind = ? AND name = ? AND rate_key = ? AND until > ?');
  for (const c of candidates) {
    const ck = c.cc_key !== null ? `${c.name}\u0000${c.cc_key}` : undefined;
    const rk = c.rate_key !== null ? `${c.name}\u0000${c.rate_key}` : undefined;
    let b = 0;
    let u = 0;
    if (ck !== undefined) {
      b = busy.get(ck) ?? (busySql.get(hub, c.name, c.cc_key, now) as { n: number }).n;
      busy.set(ck, b);
      if (b >= (c.cc_limit ?? Infinity)) continue;
    }
    if (rk !== undefined) {
      u = used.get(rk) ?? (usedSql.get(hub, kind, c.name, c.rate_key, now) as { n: number }).n;
      used.set(rk, u);
      if (u >= (c.rate_limit ?? Infinity)) continue;
    }
    if (ck !== undefined) busy.set(ck, b + 1);
    if (rk !== undefined) used.set(rk, u + 1);
    admitted.push(c);
    if (admitted.length >= room) break;
  }
  return admitted;
}

/** Records the admitted candidates' claims that count against a rate, and forgets those that left their period. */
export function recordFlowStarts(store: SqliteStoreContext, hub: string, kind: FlowKind, admitted: readonly FlowCandidate[], now: number): void {
  const rated = admitted.filter((c) => c.rate_key !== null);
  if (rated.length === 0) return;
  store.sql('DELETE FROM flow_starts WHERE hub = ? AND until <= ?').run(hub, now);
  const insert = store.sql('INSERT INTO flow_starts (hub, kind, name, rate_key, until) VALUES (?, ?, ?, ?, ?)');
  for (const c of rated) insert.run(hub, kind, c.name, c.rate_key, now + (c.rate_period ?? 0));
}

/** See {@link HubStore.flowWaitingActivities}: the counts are those {@link admitFlow} checks. */
export function flowWaitingActivities(store: SqliteStoreContext, hub: string, instanceId: string, limit: number): FlowWaitingActivity[] {
  const now = store.now();
  const rows = store
    .sql(
      `SELECT a.task_id, a.name, a.flow,
         CASE WHEN a.cc_key IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM activities b INDEXED BY activities_by_flow_key
           WHERE b.hub = a.hub AND b.name = a.name AND b.cc_key = a.cc_key AND b.lock_until > ?) END AS leased,
         CASE WHEN a.rate_key IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM flow_starts r
           WHERE r.hub = a.hub AND r.kind = 'activity' AND r.name = a.name AND r.rate_key = a.rate_key AND r.until > ?) END AS started
       FROM activities a INDEXED BY activities_by_instance
       WHERE a.hub = ? AND a.instance_id = ? AND a.flow IS NOT NULL AND a.lock_until <= ?
       ORDER BY a.id LIMIT ?`,
    )
    .all(now, now, hub, instanceId, now, checkWaitLimit(limit)) as { task_id: number; name: string; flow: string; leased: number; started: number }[];
  return rows.map((r) => ({ taskId: r.task_id, name: r.name, flow: JSON.parse(r.flow) as FlowControl, leased: r.leased, started: r.started }));
}
