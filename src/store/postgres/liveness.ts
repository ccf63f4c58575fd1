/**
 * Worker liveness on a PostgreSQL hub: heartbeats, and the takeover of the leases of workers whose heartbeat ran
 * out. A heartbeat is one statement (one round trip, one row written) whatever the number of leases the worker
 * holds; the takeover is a second transaction, run only when a worker has died. Every time is database time.
 */
import type { HeartbeatOptions, HeartbeatOutcome, StoreNotice, WorkerTakeover } from '../store.js';
import type { PgDatabase } from './connection.js';
import { NOW } from './hub-writes.js';
import type { Tables } from './schema.js';

/** `alive_until` of a worker that was taken for dead (0: it never sent a heartbeat). */
export const TAKEN_OVER = -1;

/** What a takeover tells listeners: the freed work can be claimed now. */
const TAKEOVER_NOTICES: StoreNotice[] = [{ kind: 'orchestrations' }, { kind: 'activities' }];

/** What the liveness operations need from their hub store. */
export interface LivenessContext {
  db: PgDatabase;
  tables: Tables;
  hub: string;
  /** Sends `notices` to other processes from inside `client`'s transaction. */
  /** Delivers `notices` in this process. */
  emitLocal(notices: StoreNotice[]): void;
}

/** `HubStore.heartbeat`: marks `workerId` alive, then takes over from the workers whose heartbeat ran out. */
export async function heartbeat(ctx: LivenessContext, workerId: string, options: HeartbeatOptions): Promise<HeartbeatOutcome> {
  const t = ctx.tables;
  // The self-join reads the row as it was before this update: whether the previous heartbeat had run out.
  const [beat] = await ctx.db.query<{ before: string | null; now: string; stale: string[] }>(
    `WITH me AS (
       UPDATE ${t.workers} w SET alive_until = ${NOW} + $3::bigint
       FROM ${t.workers} o
       WHERE w.hub = $1 AND w.worker_id = $2 AND o.hub = w.hub AND o.worker_id = w.worker_id
       RETURNING o.alive_until AS before
     )
     SELECT (SELECT before FROM me) AS before, ${NOW} AS now,
       ARRAY(SELECT worker_id FROM ${t.workers}
             WHERE hub = $1 AND worker_id <> $2 AND alive_until > 0 AND alive_until <= ${NOW}) AS stale`,
    [ctx.hub, workerId, Math.max(1, Math.round(options.timeoutMs))],
  );
  if (!beat || beat.before === null) return { registered: false, lapsed: false, takenOver: [] };
  const before = Number(beat.before);
  // A starting process's previous heartbeat, if any, was its predecessor's.
  const lapsed = !options.starting && before !== 0 && before <= Number(beat.now);
  const dead = lapsed ? [] : beat.stale;
  if (dead.length === 0 && !options.starting) return { registered: true, lapsed, takenOver: [] };
  const takenOver = await takeOver(ctx, dead, options.starting ? workerId : undefined);
  return { registered: true, lapsed, takenOver };
}

/**
 * Takes over from the `candidates` whose heartbeat has still run out (checked again under the row lock, so two
 * workers never take over from one worker twice), and from `predecessor` (a starting worker's own id): their
 * leases still running become free under new epochs.
 */
async function takeOver(ctx: LivenessContext, candidates: string[], predecessor: string | undefined): Promise<WorkerTakeover[]> {
  const t = ctx.tables;
  const takenOver = await ctx.db.transaction(async (client) => {
    const { rows } = await client.query<{ worker_id: string; orchestrations: number; activities: number }>(
      `WITH dead AS (
         UPDATE ${t.workers} SET alive_until = ${TAKEN_OVER}
         WHERE hub = $1 AND worker_id = ANY($2::text[]) AND alive_until > 0 AND alive_until <= ${NOW}
         RETURNING worker_id
       ),
       owners AS (SELECT worker_id FROM dead UNION ALL SELECT $3::text AS worker_id WHERE $3::text IS NOT NULL),
       activities AS (
         UPDATE ${t.activities} a SET lock_owner = NULL, lock_until = 0, lock_epoch = a.lock_epoch + 1
         FROM owners o WHERE a.hub = $1 AND a.lock_until > ${NOW} AND a.lock_owner = o.worker_id
         RETURNING o.worker_id
       ),
       instances AS (
         UPDATE ${t.instances} i SET lock_owner = NULL, lock_until = 0, lock_epoch = nextval('${t.epochs}')
         FROM owners o WHERE i.hub = $1 AND i.lock_until > 0 AND i.lock_until > ${NOW} AND i.lock_owner = o.worker_id
         RETURNING o.worker_id
       )
       SELECT o.worker_id,
         (SELECT count(*) FROM instances x WHERE x.worker_id = o.worker_id)::int AS orchestrations,
         (SELECT count(*) FROM activities x WHERE x.worker_id = o.worker_id)::int AS activities
       FROM owners o`,
      [ctx.hub, candidates, predecessor ?? null],
    );
    const found = rows
      .map((r) => ({ workerId: r.worker_id, orchestrations: r.orchestrations, activities: r.activities }))
      .filter((r) => r.workerId !== predecessor || r.orchestrations + r.activities > 0);
    return found;
  });
  if (takenOver.length) ctx.emitLocal(TAKEOVER_NOTICES);
  return takenOver;
}
