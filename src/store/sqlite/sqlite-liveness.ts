/**
 * Worker liveness on a SQLite hub: heartbeats, and the takeover of the leases of workers whose heartbeat ran
 * out. A heartbeat is a lease-only write (no fsync of its own), one small transaction per beat whatever the
 * number of leases the worker holds; a takeover runs only when a worker has died.
 */
import type { HeartbeatOptions, HeartbeatOutcome, WorkerTakeover } from '../store.js';
import type { SqliteStoreContext } from './sqlite-context.js';
import { nextEpoch } from './sqlite-hub-writes.js';

/** `alive_until` of a worker that was taken for dead (0: it never sent a heartbeat). */
export const TAKEN_OVER = -1;

/** `HubStore.heartbeat`: marks `workerId` alive, then takes over from the workers whose heartbeat ran out. */
export async function heartbeat(
  store: SqliteStoreContext,
  hub: string,
  workerId: string,
  options: HeartbeatOptions,
): Promise<HeartbeatOutcome> {
  const now = store.now();
  const outcome = await store.write((): HeartbeatOutcome => {
    const row = store.sql('SELECT alive_until FROM workers WHERE hub = ? AND worker_id = ?').get(hub, workerId) as
      | { alive_until: number }
      | undefined;
    if (!row) return { registered: false, lapsed: false, takenOver: [] };
    store.sql('UPDATE workers SET alive_until = ? WHERE hub = ? AND worker_id = ?').run(now + options.timeoutMs, hub, workerId);
    const takenOver: WorkerTakeover[] = [];
    if (options.starting) {
      const predecessor = takeOver(store, hub, workerId, now);
      if (predecessor.orchestrations + predecessor.activities > 0) takenOver.push(predecessor);
    }
    // A starting process's previous heartbeat, if any, was its predecessor's.
    const lapsed = !options.starting && row.alive_until !== 0 && row.alive_until <= now;
    if (lapsed) return { registered: true, lapsed, takenOver };
    const dead = store
      .sql('SELECT worker_id FROM workers INDEXED BY workers_by_liveness WHERE hub = ? AND alive_until > 0 AND alive_until <= ?')
      .pluck()
      .all(hub, now) as string[];
    for (const id of dead) {
      takenOver.push(takeOver(store, hub, id, now));
      store.sql('UPDATE workers SET alive_until = ? WHERE hub = ? AND worker_id = ?').run(TAKEN_OVER, hub, id);
    }
    return { registered: true, lapsed, takenOver };
  }, false);
  if (outcome.takenOver.length) {
    store.emit(hub, { kind: 'orchestrations' });
    store.emit(hub, { kind: 'activities' });
  }
  return outcome;
}

/** Frees the leases `workerId` still holds, each under a new epoch (its holder is fenced off). Inside a write. */
function takeOver(store: SqliteStoreContext, hub: string, workerId: string, now: number): WorkerTakeover {
  const activities = store
    .sql(
      `UPDATE activities SET lock_owner = NULL, lock_until = 0, lock_epoch = lock_epoch + 1
       WHERE hub = ? AND lock_until > ? AND lock_owner = ?`,
    )
    .run(hub, now, workerId).changes;
  const instances = store
    .sql('SELECT instance_id FROM instances INDEXED BY instances_by_lock WHERE hub = ? AND lock_until > 0 AND lock_until > ? AND lock_owner = ?')
    .pluck()
    .all(hub, now, workerId) as string[];
  const free = store.sql('UPDATE instances SET lock_owner = NULL, lock_until = 0, lock_epoch = ? WHERE hub = ? AND instance_id = ?');
  for (const id of instances) free.run(nextEpoch(store), hub, id);
  return { workerId, orchestrations: instances.length, activities };
}
