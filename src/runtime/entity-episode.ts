/**
 * Runs one episode of an entity instance (`@name@key`) and builds its commit.
 *
 * Storage of an entity (the same instances table as orchestrations): the row's `name` is the entity name,
 * `input` holds the scheduler state as JSON (`{ exists, state, queue?, lockedBy?, lockId?, releasedLocks? }`,
 * the user state being JSON text inside it), and `updated_at` is the last operation time. Entities write no
 * history: an episode consumes its inbox messages, updates the row and sends responses and signals, all in the
 * same fenced commit (and group commit batch) as orchestration episodes. The row's status is `Running` while
 * the entity has state, a lock or waiting requests, and `Completed` when it is empty, so that
 * `cleanEntityStorage` can purge it.
 */
import { makeEvent, type HistoryEvent } from '../sdk/history.js';
import { decodeEntityMessage } from '../core/entity-messages.js';
import { EntityExecutor, type EntityOperation } from '../core/entity-executor.js';
import { EntityOperationTimeoutError } from '../sdk/errors.js';
import { withTimeLimit } from './time-limit.js';
import { emitEntitySpans } from './entity-spans.js';
import {
  isEmptyEntity,
  parseSchedulerState,
  runEntityEpisode,
  type EntityOrchestrationStart,
  type EntityOutgoingMessage,
} from '../core/entity-scheduler.js';
import { EntityId } from '../sdk/entity-id.js';
import type { EpisodeCommit, NewMessage, OrchestrationWorkItem, StartInstanceRequest } from '../store/store.js';
import type { EpisodeEnvironment, PreparedEpisode } from './episode-environment.js';

/** Most messages one entity episode takes from its inbox; the rest wait for the next episode. */
export const MAX_ENTITY_MESSAGES_PER_EPISODE = 5000;

/**
 * How long the operations of one entity batch may await, together (10 s). The batch runs inside an episode
 * batch that must commit while its lease holds, so a hanging operation fails (rolled back, its caller gets an
 * `EntityOperationTimeoutError`) instead of wedging the entity and every episode committed with it.
 */
export const DEFAULT_ENTITY_OPERATION_TIMEOUT_MS = 10_000;

/** Prepares the commit of one entity work item. */
export async function prepareEntityEpisode(
  item: OrchestrationWorkItem,
  env: EpisodeEnvironment,
): Promise<PreparedEpisode> {
  const { instance } = item;
  const entityId = EntityId.fromInstanceId(instance.instanceId)!;
  const now = env.now();
  const startedAt = new Date();
  const messages = item.messages.slice(0, MAX_ENTITY_MESSAGES_PER_EPISODE);
  for (const message of messages) {
    if (message.event.eventType === 'GenericEvent' && message.event.data)
      env.logger.warn(`entity '${entityId}': ${message.event.data}`, { instanceId: instance.instanceId, name: instance.name });
  }
  const executor =
    env.remoteEntityExecutor?.(instance) ??
    new EntityExecutor({
      resolve: (name) => env.registry.entities.get(name) as never,
      registeredNames: () => [...env.registry.entities.keys()].sort(),
      newId: env.newExecutionId,
      isKnownOrchestration: (name) => env.known.has('orchestration', name),
      knownOrchestrations: () => env.known.list('orchestration'),
      maxPayloadBytes: env.maxPayloadBytes,
      logger: env.logger,
      awaitOperation: operationTimeLimit(entityId, env.entityOperationTimeoutMs ?? DEFAULT_ENTITY_OPERATION_TIMEOUT_MS),
    });
  const outcome = await runEntityEpisode(
    entityId,
    parseSchedulerState(instance.input),
    messages.map((m) => decodeEntityMessage(m.event)),
    executor,
    now,
    env.newExecutionId,
  );
  const commit: EpisodeCommit = {
    lease: item.lease,
    historyMode: 'append',
    history: [],
    consumedMessageIds: messages.map((m) => m.id),
    instance: {
      status: isEmptyEntity(outcome.state) ? 'Completed' : 'Running',
      executionId: instance.executionId,
      name: instance.name,
      input: JSON.stringify(outcome.state),
    },
    activities: [],
    messages: outcome.messages.map((m) => toNewMessage(m, now)),
    startInstances: outcome.starts.map((s) =>
      // A new instance like any other: without a version of its own it gets the worker's default.
      startRequest({ ...s, ...versionOf(s.version ?? env.versions?.childVersion(s.name, env.known)) }, entityId, env.newExecutionId(), now),
    ),
  };
  const ranAt = new Date();
  // Spans of what was committed only: an episode that loses its lease runs again elsewhere.
  return { commit, settle: (committed) => committed && emitEntitySpans(entityId, outcome.executed, startedAt, ranAt) };
}

/** Awaits operations of one batch until the batch's shared time budget (real time: a limit, not an event time) runs out. */
function operationTimeLimit(entityId: EntityId, budgetMs: number): (pending: PromiseLike<unknown>, operation: EntityOperation) => Promise<unknown> {
  const deadline = Date.now() + budgetMs;
  return (pending, operation) =>
    withTimeLimit(pending, Math.max(0, deadline - Date.now()), () => new EntityOperationTimeoutError(entityId.toString(), operation.name, budgetMs));
}

function versionOf(version: string | undefined): { version?: string } {
  return version !== undefined ? { version } : {};
}

function toNewMessage(message: EntityOutgoingMessage, now: Date): NewMessage {
  return {
    instanceId: message.instanceId,
    ...(message.executionId !== undefined ? { executionId: message.executionId } : {}),
    event: makeEvent({ eventType: 'EventRaised', name: message.name, input: message.input }, now),
    ...(message.visibleAt !== undefined ? { visibleAt: new Date(message.visibleAt) } : {}),
  };
}

function startRequest(
  start: EntityOrchestrationStart,
  entityId: EntityId,
  executionId: string,
  now: Date,
): { request: StartInstanceRequest; onConflict: NewMessage } {
  const input = { ...(start.version !== undefined ? { version: start.version } : {}), ...(start.input !== undefined ? { input: start.input } : {}) };
  const startEvent: HistoryEvent = makeEvent(
    { eventType: 'ExecutionStarted', name: start.name, instanceId: start.instanceId, executionId, ...input },
    now,
  );
  const conflict = `startNewOrchestration('${start.name}') was ignored: instance '${start.instanceId}' is already running.`;
  return {
    request: { instanceId: start.instanceId, name: start.name, executionId, ...input, startEvent },
    // The store needs a message for the conflict case; the entity logs it in its next episode.
    onConflict: {
      instanceId: entityId.toString(),
      event: makeEvent({ eventType: 'GenericEvent', data: conflict }, now),
    },
  };
}

