/**
 * The writes that several SQLite hub-store operations share: fencing tokens, creating (or overwriting) an
 * instance with its start message, delivering a message, and deleting an instance's data. Each runs inside
 * the caller's write transaction.
 */
import { flowColumn } from '../flow.js';
import { isTerminalStatus, type RuntimeStatus } from '../../sdk/history.js';
import { entityNameOf, startedWorkItem, tagsColumn } from '../shared.js';
import type { NewMessage, OrchestrationWorkItem, StartInstanceRequest, StartLease } from '../store.js';
import type { SqliteStoreContext } from './sqlite-context.js';

/** The next instance fencing token; never reused, even across purges. Call inside a write transaction. */
export function nextEpoch(store: SqliteStoreContext): number {
  const row = store.sql(`UPDATE counters SET value = value + 1 WHERE name = 'lock_epoch' RETURNING value`).get() as {
    value: number;
  };
  return row.value;
}

/** Deletes an instance's row, history, inbox and activities. */
export function deleteInstanceData(store: SqliteStoreContext, hub: string, instanceId: string): void {
  for (const table of ['instances', 'history', 'inbox', 'activities']) {
    store.sql(`DELETE FROM ${table} WHERE hub = ? AND instance_id = ?`).run(hub, instanceId);
  }
}

/**
 * Creates or overwrites an instance, leased to `lease` if given (then with its work item); answers the status
 * of a live instance that blocks it instead. Without `startMessage` the start goes to no inbox (a fused start's
 * episode has consumed it: see `FusedStart`), and the work item's message id is -1.
 */
export function startInstance(
  store: SqliteStoreContext,
  hub: string,
  request: StartInstanceRequest,
  now: number,
  requestedLease?: StartLease,
  startMessage = true,
): { conflict: RuntimeStatus; item?: never } | { conflict?: never; item?: OrchestrationWorkItem } {
  // A flow-controlled instance is never leased at creation: only a claim checks its limits.
  const flow = flowColumn(request.flow);
  const lease = flow === null ? requestedLease : undefined;
  const existing = store.sql('SELECT status FROM instances WHERE hub = ? AND instance_id = ?').get(
    hub,
    request.instanceId,
  ) as { status: RuntimeStatus } | undefined;
  if (existing && !isTerminalStatus(existing.status)) return { conflict: existing.status };
  if (existing) deleteInstanceData(store, hub, request.instanceId);
  // A new epoch fences any worker still holding a lease on the overwritten (or purged) instance.
  const epoch = nextEpoch(store);
  store.sql(
    `INSERT INTO instances (hub, instance_id, name, version, execution_id, status, input, parent_instance_id,
       created_at, updated_at, history_length, lock_owner, lock_until, lock_epoch, tags, flow, priority)
     VALUES (?, ?, ?, ?, ?, 'Pending', ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`,
  ).run(
    hub,
    request.instanceId,
    request.name,
    request.version ?? null,
    request.executionId,
    request.input ?? null,
    request.parentInstance?.instanceId ?? null,
    now,
    now,
    lease?.workerId ?? null,
    lease ? now + lease.leaseMs : 0,
    epoch,
    tagsColumn(request),
    flow,
    request.priority ?? 0,
  );
  const messageId = startMessage ? insertMessage(store, hub, { instanceId: request.instanceId, executionId: request.executionId, event: request.startEvent }, now) : -1;
  return lease ? { item: startedWorkItem(request, now, epoch, messageId) } : {};
}

/** Inserts a message if its instance exists (messages to purged instances vanish); answers its id. */
export function insertMessage(store: SqliteStoreContext, hub: string, message: NewMessage, now: number): number {
  const entityName = entityNameOf(message.instanceId);
  if (entityName !== undefined) ensureEntity(store, hub, message.instanceId, entityName, now);
  const { lastInsertRowid } = store.sql(
    `INSERT INTO inbox (hub, instance_id, execution_id, event_type, event, visible_at)
     SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM instances WHERE hub = ? AND instance_id = ?)`,
  ).run(
    hub,
    message.instanceId,
    message.executionId ?? null,
    message.event.eventType,
    JSON.stringify(message.event),
    message.visibleAt?.getTime() ?? now,
    hub,
    message.instanceId,
  );
  return Number(lastInsertRowid);
}

/** Entities have no start: the first message addressed to one creates its instance row. */
function ensureEntity(store: SqliteStoreContext, hub: string, instanceId: string, name: string, now: number): void {
  if (store.sql('SELECT 1 FROM instances WHERE hub = ? AND instance_id = ?').get(hub, instanceId)) return;
  store.sql(
    `INSERT INTO instances (hub, instance_id, name, execution_id, status, created_at, updated_at, history_length, lock_epoch)
     VALUES (?, ?, ?, '', 'Running', ?, ?, 0, ?)`,
  ).run(hub, instanceId, name, now, now, nextEpoch(store));
}
