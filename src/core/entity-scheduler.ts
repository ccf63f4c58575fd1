/**
 * The entity scheduler: what one entity episode does with the messages in its inbox (reference §4, after
 * DTFx's `TaskEntityShim`). Pure: no I/O, ids come from the host.
 *
 * Messages are handled in arrival order (the inbox keeps each sender's send order). Operations go to the
 * {@link EntityExecutor} as one batch. While the entity is locked by an orchestration's critical section it
 * takes messages only from that orchestration; everything else waits in the scheduler state's `queue`, in
 * order, and runs as soon as the lock is released (in the same episode if the release is in the batch).
 *
 * A lock request travels through its sorted lockset: each entity locks itself and forwards the request to
 * the next one; the last one answers the orchestration. A release that overtakes its lock request (the
 * orchestration ended before it was granted) is remembered, so the late request passes through without
 * locking.
 */
import type { EntityId } from '../sdk/entity-id.js';
import {
  ENTITY_REQUEST_EVENT,
  isLockRequest,
  type EntityMessage,
  type EntityRequest,
  type EntityResponse,
} from './entity-messages.js';
import type { EntityExecutor, EntityOperation, EntityStateSnapshot } from './entity-executor.js';

/** How many recent early releases an entity remembers. */
const RELEASED_LOCKS_KEPT = 64;

/** What an entity persists between episodes (the instance's `input` column holds it as JSON). */
export interface EntitySchedulerState extends EntityStateSnapshot {
  /** Requests from others, waiting for the current lock to be released. */
  queue?: EntityRequest[];
  /** Instance id of the orchestration holding the lock. */
  lockedBy?: string;
  /** Id of the lock request that holds the lock. */
  lockId?: string;
  /** Lock requests released before they arrived. */
  releasedLocks?: string[];
}

/** A message the episode sends (an `EventRaised` named `name` in the target's inbox). */
export interface EntityOutgoingMessage {
  instanceId: string;
  /** Set on responses: dropped if the caller has moved on to another execution. */
  executionId?: string;
  name: string;
  input: string;
  /** ISO-8601 (scheduled signals). */
  visibleAt?: string;
}

/** An orchestration an operation started. */
export interface EntityOrchestrationStart {
  name: string;
  instanceId: string;
  /** Its version, when the start named one (else the runtime stamps the default). */
  version?: string;
  input?: string;
}

/** Outcome of one entity episode. */
export interface EntityEpisodeOutcome {
  state: EntitySchedulerState;
  messages: EntityOutgoingMessage[];
  starts: EntityOrchestrationStart[];
  /** Number of operations executed (successful or not). */
  operations: number;
  /** Each operation executed, with its outcome, in order (the runtime's spans). */
  executed: { request: EntityRequest; result: EntityResponse }[];
}

/** Reads the persisted scheduler state; anything unreadable is an empty entity. */
export function parseSchedulerState(text: string | undefined): EntitySchedulerState {
  if (text === undefined) return { exists: false };
  try {
    const state = JSON.parse(text) as EntitySchedulerState;
    if (typeof state === 'object' && state !== null && typeof state.exists === 'boolean') return state;
  } catch {
    // fall through
  }
  return { exists: false };
}

/** True when the entity holds nothing: no state, no lock, nothing waiting. */
export function isEmptyEntity(state: EntitySchedulerState): boolean {
  return !state.exists && state.lockedBy === undefined && !state.queue?.length;
}

/** Runs one episode of `entityId` over its incoming messages. */
export async function runEntityEpisode(
  entityId: EntityId,
  start: EntitySchedulerState,
  incoming: readonly EntityMessage[],
  executor: Pick<EntityExecutor, 'executeBatch'>,
  now: Date,
  newId: () => string,
): Promise<EntityEpisodeOutcome> {
  const self = entityId.toString();
  const timestamp = now.toISOString();
  let lockedBy = start.lockedBy;
  let lockId = start.lockId;
  const released = [...(start.releasedLocks ?? [])];
  const waiting: EntityRequest[] = [];
  const pending: EntityMessage[] = [
    ...(start.queue ?? []).map((request) => ({ kind: 'request' as const, request })),
    ...incoming,
  ];
  /** Messages and operations in the order they happen; operations are filled in after the batch ran. */
  const plan: (
    { kind: 'send'; message: EntityOutgoingMessage } | { kind: 'op'; request: EntityRequest; index: number }
  )[] = [];
  const operations: EntityOperation[] = [];

  for (let next = pending.shift(); next; next = pending.shift()) {
    if (next.kind === 'other') continue;
    if (next.kind === 'release') {
      const { id, parent } = next.release;
      if (lockId === id && lockedBy === parent) {
        lockedBy = lockId = undefined;
        pending.unshift(...waiting.splice(0).map((request) => ({ kind: 'request' as const, request })));
      } else if (!released.includes(id)) {
        released.push(id);
        if (released.length > RELEASED_LOCKS_KEPT) released.shift();
      }
      continue;
    }
    const request = next.request;
    if (lockedBy !== undefined && request.parent !== lockedBy) {
      waiting.push(request);
      continue;
    }
    if (isLockRequest(request)) {
      if (request.parent === undefined) continue; // only orchestrations lock
      const early = released.indexOf(request.id);
      if (early >= 0) released.splice(early, 1);
      else {
        lockedBy = request.parent;
        lockId = request.id;
      }
      plan.push({ kind: 'send', message: forwardLock(request, timestamp) });
      continue;
    }
    plan.push({ kind: 'op', request, index: operations.length });
    operations.push({ name: request.op ?? '', ...(request.input !== undefined ? { input: request.input } : {}) });
  }

  const batch = await executor.executeBatch(
    entityId,
    { exists: start.exists, ...(start.state !== undefined ? { state: start.state } : {}) },
    operations,
  );
  const messages: EntityOutgoingMessage[] = [];
  const starts: EntityOrchestrationStart[] = [];
  let action = 0;
  const executed: EntityEpisodeOutcome['executed'] = [];
  for (const step of plan) {
    if (step.kind === 'send') {
      messages.push(step.message);
      continue;
    }
    const { request, index } = step;
    const result = batch.results[index] ?? {};
    executed.push({ request, result });
    if (!request.signal && request.parent !== undefined) messages.push(respond(request, result));
    for (; action < batch.actions.length && batch.actions[action]!.operation === index; action++) {
      const a = batch.actions[action]!;
      if (a.type === 'StartOrchestration') {
        starts.push({ name: a.name, instanceId: a.instanceId, ...(a.version !== undefined ? { version: a.version } : {}), ...(a.input !== undefined ? { input: a.input } : {}) });
        continue;
      }
      const signal: EntityRequest = {
        id: newId(),
        op: a.name,
        signal: true,
        ...(a.input !== undefined ? { input: a.input } : {}),
        parent: self,
        timestamp,
      };
      messages.push({
        instanceId: a.target,
        name: ENTITY_REQUEST_EVENT,
        input: JSON.stringify(signal),
        ...(a.scheduledTime !== undefined ? { visibleAt: a.scheduledTime } : {}),
      });
    }
  }

  const state: EntitySchedulerState = {
    exists: batch.exists,
    ...(batch.state !== undefined ? { state: batch.state } : {}),
  };
  if (waiting.length) state.queue = waiting;
  if (lockedBy !== undefined) {
    state.lockedBy = lockedBy;
    if (lockId !== undefined) state.lockId = lockId;
  }
  if (released.length) state.releasedLocks = released;
  return { state, messages, starts, operations: operations.length, executed };
}

/** Passes a lock request on to the next entity of its lockset, or grants it when this was the last. */
function forwardLock(request: EntityRequest, timestamp: string): EntityOutgoingMessage {
  const lockset = request.lockset ?? [];
  const position = (request.position ?? 0) + 1;
  const nextEntity = lockset[position];
  if (nextEntity !== undefined) {
    return {
      instanceId: nextEntity,
      name: ENTITY_REQUEST_EVENT,
      input: JSON.stringify({ ...request, position, timestamp }),
    };
  }
  return respond(request, {});
}

/** The response to a call or lock request, raised on the caller under the request id. */
function respond(request: EntityRequest, response: EntityResponse): EntityOutgoingMessage {
  return {
    instanceId: request.parent!,
    ...(request.parentExecution !== undefined ? { executionId: request.parentExecution } : {}),
    name: request.id,
    input: JSON.stringify(response),
  };
}
