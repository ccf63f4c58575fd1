/**
 * `HubStore.metricsSnapshot` on SQLite: every number from an index range (instances_unfinished,
 * inbox_by_visible, activities_by_lock, workers_by_liveness), never a scan of a table.
 */
import type { HubSnapshot } from '../store.js';
import type { SqliteStoreContext } from './sqlite-context.js';

/** The hub's numbers for metrics, in the store's time. */
export async function metricsSnapshot(store: SqliteStoreContext, hub: string): Promise<HubSnapshot> {
  const now = store.now();
  const statuses = store
    .sql(
      `SELECT status, COUNT(*) AS n FROM instances INDEXED BY instances_unfinished
       WHERE hub = ? AND status IN ('Pending', 'Running', 'Suspended') AND instance_id NOT LIKE '@%' GROUP BY status`,
    )
    .all(hub) as { status: 'Pending' | 'Running' | 'Suspended'; n: number }[];
  const inbox = store.sql('SELECT COUNT(*) AS n, MIN(visible_at) AS oldest FROM inbox INDEXED BY inbox_by_visible WHERE hub = ? AND visible_at <= ?').get(hub, now) as {
    n: number;
    oldest: number | null;
  };
  const activities = store.sql('SELECT COUNT(*) AS n FROM activities INDEXED BY activities_by_lock WHERE hub = ? AND lock_until <= ?').get(hub, now) as { n: number };
  const workers = store.sql('SELECT COUNT(*) AS n FROM workers INDEXED BY workers_by_liveness WHERE hub = ? AND alive_until > 0 AND alive_until > ?').get(hub, now) as { n: number };
  return {
    instances: Object.fromEntries(statuses.map((r) => [r.status, r.n])),
    visibleMessages: inbox.n,
    oldestVisibleMs: inbox.oldest === null ? 0 : Math.max(0, now - inbox.oldest),
    runnableActivities: activities.n,
    workersAlive: workers.n,
  };
}
