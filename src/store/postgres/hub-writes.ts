/**
 * The writes that several PostgreSQL hub-store operations share: creating (or overwriting) an instance
 * with its start message, and delivering messages. Both run inside the caller's transaction.
 */
import { isTerminalStatus, type RuntimeStatus } from '../../core/history.js';
import { entityNameOf } from '../shared.js';
import type { NewMessage, StartInstanceRequest } from '../store.js';
import type { StatementRunner, TxClient } from './connection.js';
import type { Tables } from './schema.js';

/** Database time in epoch milliseconds (`now()` is fixed per transaction, so one transaction sees one time). */
export const NOW = `(extract(epoch from now()) * 1000)::bigint`;
/** The terminal statuses, as an SQL list. */
export const TERMINAL_SQL = `('Completed','Failed','Terminated','Canceled')`;

/**
 * Creates or overwrites (when terminal) an instance with its start message, in one statement; returns the
 * status of a live instance that blocks it. Concurrent starts of one id serialize on the row: exactly one
 * wins. `notify` payloads are sent (on `channel`) only when the instance was started. Run on the pool, the
 * statement is its own transaction: one round trip.
 */
export async function startInstance(
  runner: StatementRunner,
  t: Tables,
  hub: string,
  request: StartInstanceRequest,
  notify: { channel: string; payloads: string[] } = { channel: '', payloads: [] },
): Promise<RuntimeStatus | undefined> {
  for (;;) {
    const { rows } = await runner.query<{ started: boolean; existing: RuntimeStatus | null }>(
      `WITH started AS (
         INSERT INTO ${t.instances} AS i (hub, instance_id, name, version, execution_id, status, input, parent_instance_id,
           created_at, updated_at, history_length, lock_epoch)
         VALUES ($1, $2, $3, $4, $5, 'Pending', $6, $7, ${NOW}, ${NOW}, 0, nextval('${t.epochs}'))
         ON CONFLICT (hub, instance_id) DO UPDATE SET
           name = EXCLUDED.name, version = EXCLUDED.version, execution_id = EXCLUDED.execution_id, status = 'Pending',
           input = EXCLUDED.input, output = NULL, custom_status = NULL, failure_details = NULL,
           parent_instance_id = EXCLUDED.parent_instance_id, created_at = EXCLUDED.created_at,
           updated_at = EXCLUDED.updated_at, history_length = 0, lock_owner = NULL, lock_until = 0,
           -- a new epoch fences any worker still holding a lease on the overwritten instance
           lock_epoch = EXCLUDED.lock_epoch
         WHERE i.status IN ${TERMINAL_SQL}
         RETURNING 1
       ),
       -- Whatever an earlier instance of this id left behind goes (the statement's snapshot does not show
       -- these deletes the start message inserted below).
       h AS (DELETE FROM ${t.history} WHERE hub = $1 AND instance_id = $2 AND EXISTS (SELECT 1 FROM started)),
       a AS (DELETE FROM ${t.activities} WHERE hub = $1 AND instance_id = $2 AND EXISTS (SELECT 1 FROM started)),
       m AS (DELETE FROM ${t.inbox} WHERE hub = $1 AND instance_id = $2 AND EXISTS (SELECT 1 FROM started)),
       msg AS (
         INSERT INTO ${t.inbox} (hub, instance_id, execution_id, event_type, event, visible_at)
         SELECT $1, $2, $5, $8, $9, ${NOW} WHERE EXISTS (SELECT 1 FROM started)
       )
       SELECT EXISTS (SELECT 1 FROM started) AS started,
         (SELECT status FROM ${t.instances} WHERE hub = $1 AND instance_id = $2) AS existing,
         (SELECT count(pg_notify($10, n)) FROM unnest($11::text[]) AS n WHERE EXISTS (SELECT 1 FROM started)) AS sent`,
      [
        hub,
        request.instanceId,
        request.name,
        request.version ?? null,
        request.executionId,
        request.input ?? null,
        request.parentInstance?.instanceId ?? null,
        request.startEvent.eventType,
        JSON.stringify(request.startEvent),
        notify.channel,
        notify.payloads,
      ],
    );
    const { started, existing } = rows[0]!;
    if (started) return undefined;
    // Purged, finished, or created by a transaction this statement's snapshot does not show: try again.
    if (existing === null || isTerminalStatus(existing)) continue;
    return existing;
  }
}

/** Inserts messages, in order, to the instances that exist (messages to purged instances vanish). */
export async function insertMessages(runner: TxClient, t: Tables, hub: string, messages: NewMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const localNow = Date.now();
  // Entities have no start: the first message addressed to one creates its instance row (sorted, so two
  // transactions creating the same rows never deadlock).
  const entityIds = [...new Set(messages.map((m) => m.instanceId).filter((id) => entityNameOf(id) !== undefined))].sort();
  if (entityIds.length) {
    await runner.query(
      `INSERT INTO ${t.instances} (hub, instance_id, name, execution_id, status, created_at, updated_at, history_length, lock_epoch)
       SELECT $1, e.id, e.name, '', 'Running', ${NOW}, ${NOW}, 0, nextval('${t.epochs}')
       FROM unnest($2::text[], $3::text[]) AS e(id, name)
       WHERE NOT EXISTS (SELECT 1 FROM ${t.instances} i WHERE i.hub = $1 AND i.instance_id = e.id)
       ON CONFLICT (hub, instance_id) DO NOTHING`,
      [hub, entityIds, entityIds.map((id) => entityNameOf(id)!)],
    );
  }
  await runner.query(
    `INSERT INTO ${t.inbox} (hub, instance_id, execution_id, event_type, event, visible_at)
     SELECT $1, m.instance_id, m.execution_id, m.event_type, m.event, ${NOW} + COALESCE(m.delay, 0)
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
       WITH ORDINALITY AS m(instance_id, execution_id, event_type, event, delay, ord)
     WHERE EXISTS (SELECT 1 FROM ${t.instances} i WHERE i.hub = $1 AND i.instance_id = m.instance_id)
     ORDER BY m.ord`,
    [
      hub,
      messages.map((m) => m.instanceId),
      messages.map((m) => m.executionId ?? null),
      messages.map((m) => m.event.eventType),
      messages.map((m) => JSON.stringify(m.event)),
      // A visibility time is taken on this process's clock: it is sent as a delay and applied to the
      // database's clock, so a worker whose clock is off still fires its timers after the right wait.
      messages.map((m) => (m.visibleAt ? m.visibleAt.getTime() - localNow : null)),
    ],
  );
}
