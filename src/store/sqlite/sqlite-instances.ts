/**
 * The client side of a SQLite hub, apart from queries: starting, reading, messaging, rewinding and purging
 * instances, and the registry of the names workers serve.
 */
import { isTerminalStatus, type HistoryEvent, type RuntimeStatus } from '../../sdk/history.js';
import { InstanceAlreadyExistsError } from '../../sdk/errors.js';
import { INSTANCE_COLUMNS, delayedMessageNotices, newWorkNotice, historyFromRows, rowToInstance, type InstanceRow } from '../shared.js';
import type {
  InstanceFilter,
  InstanceRecord,
  NewMessage,
  OrchestrationWorkItem,
  StartInstanceRequest,
  StartLease,
} from '../store.js';
import type { RegisteredNames } from '../../sdk/registry.js';
import { unionRegisteredNames } from '../../sdk/registered-names.js';
import type { SqliteStoreContext } from './sqlite-context.js';
import { deleteInstanceData, insertMessage, startInstance } from './sqlite-hub-writes.js';
import { filterSql } from './sqlite-queries.js';

const TERMINAL_SQL = `('Completed','Failed','Terminated','Canceled')`;

/** `HubStore.createInstance`: starts an instance, leased to `lease` if given (then answers its work item). */
export async function createInstance(
  store: SqliteStoreContext,
  hub: string,
  request: StartInstanceRequest,
  lease?: StartLease,
): Promise<OrchestrationWorkItem | undefined> {
  const now = store.now();
  const item = await store.write(() => {
    const started = startInstance(store, hub, request, now, lease);
    if (started.conflict) throw new InstanceAlreadyExistsError(request.instanceId, started.conflict);
    return started.item;
  }, true);
  if (!item) store.emit(hub, { kind: 'orchestrations' });
  store.emit(hub, { kind: 'instance', instanceId: request.instanceId, status: 'Pending' });
  return item;
}

/** `HubStore.getInstance`. */
export async function getInstance(store: SqliteStoreContext, hub: string, instanceId: string): Promise<InstanceRecord | undefined> {
  const row = store.sql(`SELECT ${INSTANCE_COLUMNS} FROM instances WHERE hub = ? AND instance_id = ?`).get(
    hub,
    instanceId,
  ) as InstanceRow | undefined;
  return row && rowToInstance(row);
}

/** `HubStore.getHistory`. */
export async function getHistory(store: SqliteStoreContext, hub: string, instanceId: string): Promise<HistoryEvent[]> {
  const rows = store.sql('SELECT events FROM history WHERE hub = ? AND instance_id = ? ORDER BY seq').all(
    hub,
    instanceId,
  ) as { events: string }[];
  return historyFromRows(rows);
}

/** `HubStore.sendMessages`: delivers messages to existing instances (creating entities on first message). */
export async function sendMessages(store: SqliteStoreContext, hub: string, messages: NewMessage[]): Promise<void> {
  const now = store.now();
  await store.write(() => {
    for (const message of messages) insertMessage(store, hub, message, now);
  }, true);
  if (messages.length) store.emit(hub, newWorkNotice(messages));
  for (const notice of delayedMessageNotices(messages)) store.emit(hub, notice);
}

/** `HubStore.sendToLiveInstance`: `message` to a non-terminal instance, checked and written in one write. */
export async function sendToLiveInstance(store: SqliteStoreContext, hub: string, message: NewMessage): Promise<RuntimeStatus | undefined> {
  const now = store.now();
  const status = await store.write(() => {
    const row = store.sql('SELECT status FROM instances WHERE hub = ? AND instance_id = ?').get(hub, message.instanceId) as
      | { status: RuntimeStatus }
      | undefined;
    if (row && !isTerminalStatus(row.status)) insertMessage(store, hub, message, now);
    return row?.status;
  }, true);
  if (status !== undefined && !isTerminalStatus(status)) {
    store.emit(hub, newWorkNotice([message]));
    for (const notice of delayedMessageNotices([message])) store.emit(hub, notice);
  }
  return status;
}

/** `HubStore.requestRewind`: a failed instance goes back to Pending with `message` to replay it. */
export async function requestRewind(store: SqliteStoreContext, hub: string, instanceId: string, message: NewMessage): Promise<boolean> {
  const now = store.now();
  const requested = await store.write(() => {
    const changed = store.sql(`UPDATE instances SET status = 'Pending', updated_at = ? WHERE hub = ? AND instance_id = ? AND status = 'Failed'`).run(
      now,
      hub,
      instanceId,
    ).changes;
    if (changed) insertMessage(store, hub, message, now);
    return changed > 0;
  }, true);
  if (requested) {
    store.emit(hub, { kind: 'orchestrations' });
    store.emit(hub, { kind: 'instance', instanceId, status: 'Pending' });
  }
  return requested;
}

/** `HubStore.purgeInstances`: deletes terminal instances with all their data; answers how many. */
export async function purgeInstances(
  store: SqliteStoreContext,
  hub: string,
  selector: { instanceId: string } | InstanceFilter,
): Promise<number> {
  return await store.write(() => {
    let ids: string[];
    if ('instanceId' in selector) {
      ids = [selector.instanceId];
    } else {
      const { where, params } = filterSql(hub, selector);
      ids = (
        store.db.prepare(`SELECT instance_id FROM instances WHERE ${where.join(' AND ')}`).all(...params) as {
          instance_id: string;
        }[]
      ).map((r) => r.instance_id);
    }
    let deleted = 0;
    for (const id of ids) {
      // An entity with messages waiting is not purged: they would be lost (it is alive again).
      const result = store.sql(
        `DELETE FROM instances WHERE hub = ? AND instance_id = ? AND status IN ${TERMINAL_SQL}
           AND NOT (instance_id LIKE '@%' AND EXISTS (SELECT 1 FROM inbox INDEXED BY inbox_by_instance WHERE hub = ? AND instance_id = ?))`,
      ).run(hub, id, hub, id);
      if (result.changes === 0) continue;
      deleted++;
      deleteInstanceData(store, hub, id);
    }
    return deleted;
  }, true);
}

/** `HubStore.registerWorker`: records (or replaces) the names one worker serves. */
export async function registerWorker(store: SqliteStoreContext, hub: string, workerId: string, names: RegisteredNames): Promise<void> {
  // A worker is a long-running writer: its commits should overwrite the WAL, not append to it.
  store.reserveWal();
  await store.write(() => {
    store.sql(
      `INSERT INTO workers (hub, worker_id, names, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (hub, worker_id) DO UPDATE SET names = excluded.names, updated_at = excluded.updated_at`,
    ).run(hub, workerId, JSON.stringify(names), store.now());
  }, true);
}

/** `HubStore.getRegisteredNames`: the union of the names all registered workers serve, sorted. */
export async function getRegisteredNames(store: SqliteStoreContext, hub: string): Promise<RegisteredNames | undefined> {
  const rows = store.sql('SELECT names FROM workers WHERE hub = ?').all(hub) as { names: string }[];
  if (rows.length === 0) return undefined;
  return unionRegisteredNames(rows.map((row) => JSON.parse(row.names) as RegisteredNames));
}
