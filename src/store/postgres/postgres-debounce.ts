/**
 * `HubStore.debounceStart` on PostgreSQL: one transaction, serialized per name and key by a transaction-scoped
 * advisory lock (so two starts at once find or create the same instance), finds the waiting debounced start or
 * creates it.
 */
import { InstanceAlreadyExistsError } from '../../sdk/errors.js';
import type { StartInstanceRequest, StoreNotice } from '../store.js';
import { DEBOUNCE_LOCK_CLASS } from '../flow.js';
import type { PgDatabase } from './connection.js';
import { NOW, startInstances } from './hub-writes.js';
import type { Tables } from './schema.js';

/** See `HubStore.debounceStart`; the caller announces a new start once it committed (notifier.ts). */
export async function debounceStart(
  db: PgDatabase,
  t: Tables,
  hub: string,
  request: StartInstanceRequest,
  key: string,
  delayMs: number,
): Promise<{ instanceId: string; replaced: boolean }> {
  return await db.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [DEBOUNCE_LOCK_CLASS, JSON.stringify([t.schema, hub, request.name, key])]);
    const { rows } = await client.query<{ instance_id: string; message_id: string }>(
      `SELECT i.instance_id, m.id AS message_id FROM ${t.instances} i
       JOIN ${t.inbox} m ON m.hub = i.hub AND m.instance_id = i.instance_id AND m.event_type = 'ExecutionStarted'
       WHERE i.hub = $1 AND i.name = $2 AND i.debounce_key = $3 AND i.status = 'Pending' AND m.visible_at > ${NOW}
       ORDER BY m.visible_at LIMIT 1
       FOR UPDATE OF i, m`,
      [hub, request.name, key],
    );
    const waiting = rows[0];
    if (waiting) {
      // The waiting start keeps its id, execution id and start time: only its input changes.
      await client.query(
        `WITH e AS (UPDATE ${t.inbox} SET event = CASE WHEN $3::text IS NULL THEN (event::jsonb - 'input')::text
             ELSE jsonb_set(event::jsonb, '{input}', to_jsonb($3::text))::text END
           WHERE id = $2)
         UPDATE ${t.instances} SET input = $3, updated_at = ${NOW} WHERE hub = $1 AND instance_id = $4`,
        [hub, waiting.message_id, request.input ?? null, waiting.instance_id],
      );
      return { instanceId: waiting.instance_id, replaced: true };
    }
    const [answer] = await startInstances(client, t, hub, [{ request }]);
    if (answer?.conflict) throw new InstanceAlreadyExistsError(request.instanceId, answer.conflict);
    await client.query(
      `WITH d AS (UPDATE ${t.instances} SET debounce_key = $3 WHERE hub = $1 AND instance_id = $2)
       UPDATE ${t.inbox} SET visible_at = ${NOW} + $4::bigint WHERE hub = $1 AND instance_id = $2 AND event_type = 'ExecutionStarted'`,
      [hub, request.instanceId, key, delayMs],
    );
    return { instanceId: request.instanceId, replaced: false };
  });
}

/** What a new debounced start tells listeners: a Pending instance, and a message visible later. */
export function debounceNotices(instanceId: string): StoreNotice[] {
  return [{ kind: 'instance', instanceId, status: 'Pending' }, { kind: 'timers' }];
}
