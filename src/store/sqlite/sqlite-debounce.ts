/** `HubStore.debounceStart` on a SQLite hub: one write finds the waiting debounced start or creates it. */
import { InstanceAlreadyExistsError } from '../../sdk/errors.js';
import type { StartInstanceRequest } from '../store.js';
import type { SqliteStoreContext } from './sqlite-context.js';
import { startInstance } from './sqlite-hub-writes.js';

/** See `HubStore.debounceStart`. */
export async function debounceStart(
  store: SqliteStoreContext,
  hub: string,
  request: StartInstanceRequest,
  key: string,
  delayMs: number,
): Promise<{ instanceId: string; replaced: boolean }> {
  const now = store.now();
  const answer = await store.write(() => {
    const waiting = store.sql(
      `SELECT i.instance_id, m.id AS message_id, m.event FROM instances i INDEXED BY instances_by_debounce
       JOIN inbox m ON m.hub = i.hub AND m.instance_id = i.instance_id AND m.event_type = 'ExecutionStarted'
       WHERE i.hub = ? AND i.name = ? AND i.debounce_key = ? AND i.status = 'Pending' AND m.visible_at > ?
       ORDER BY m.visible_at LIMIT 1`,
    ).get(hub, request.name, key, now) as { instance_id: string; message_id: number; event: string } | undefined;
    if (waiting) {
      // The waiting start keeps its id, execution id and start time: only its input changes.
      const event = JSON.parse(waiting.event) as { input?: string };
      if (request.input === undefined) delete event.input;
      else event.input = request.input;
      store.sql('UPDATE inbox SET event = ? WHERE id = ?').run(JSON.stringify(event), waiting.message_id);
      store.sql('UPDATE instances SET input = ?, updated_at = ? WHERE hub = ? AND instance_id = ?').run(request.input ?? null, now, hub, waiting.instance_id);
      return { instanceId: waiting.instance_id, replaced: true };
    }
    const started = startInstance(store, hub, request, now);
    if (started.conflict) throw new InstanceAlreadyExistsError(request.instanceId, started.conflict);
    store.sql('UPDATE instances SET debounce_key = ? WHERE hub = ? AND instance_id = ?').run(key, hub, request.instanceId);
    store.sql(`UPDATE inbox SET visible_at = ? WHERE hub = ? AND instance_id = ? AND event_type = 'ExecutionStarted'`).run(now + delayMs, hub, request.instanceId);
    return { instanceId: request.instanceId, replaced: false };
  }, true);
  if (!answer.replaced) {
    store.emit(hub, { kind: 'instance', instanceId: answer.instanceId, status: 'Pending' });
    store.emit(hub, { kind: 'timers' });
  }
  return answer;
}
