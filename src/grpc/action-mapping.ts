/**
 * A gRPC worker's `OrchestratorResponse` actions → duraflow's orchestrator actions, so that they are committed
 * exactly like the in-process executor's (`runtime/episode-commit.ts`). Entity messages become the same
 * `EventSent` traffic duraflow's own orchestrations send (see `history-mapping.ts`).
 */
import type { CompleteOrchestrationAction, OrchestratorAction } from '../core/actions.js';
import { ENTITY_RELEASE_EVENT, ENTITY_REQUEST_EVENT, type EntityRelease, type EntityRequest } from '../core/entity-messages.js';
import type { HistoryEvent, TraceContext } from '../sdk/history.js';
import { checkPayloadSize } from '../core/payload.js';
import { EntityId } from '../sdk/entity-id.js';
import { ValidationError } from '../sdk/errors.js';
import { fromPbCarryover, fromPbFailure, fromPbString, fromPbTimestamp, type HistoryTranslator } from './history-mapping.js';
import { PbStatus, type PbOrchestratorAction, type PbTraceContext } from './proto-types.js';
import { fromPbTrace } from './trace-mapping.js';
import { validateInstanceId } from '../sdk/instance-id.js';
import { checkTags } from '../sdk/tags.js';
import { checkEntityIdLength } from './request-checks.js';

/** Where the actions come from. */
export interface ActionContext {
  instanceId: string;
  executionId: string;
  now: Date;
  maxPayloadBytes: number;
  /** The translator that sent this episode's history: it knows the open critical sections. */
  translator: HistoryTranslator;
}

/**
 * Converts the actions, in sequence order with the completion last. Throws a {@link ValidationError} for an
 * action duraflow cannot carry out (the caller fails the orchestration with it).
 */
export function fromPbActions(actions: readonly PbOrchestratorAction[], context: ActionContext): OrchestratorAction[] {
  const converted: OrchestratorAction[] = [];
  let completion: CompleteOrchestrationAction | undefined;
  let maxId = context.translator.maxEventId;
  for (const action of actions) {
    const id = action.id ?? 0;
    if (id > maxId) maxId = id;
    const one = fromPbAction(action, id, context);
    if (one.type === 'CompleteOrchestration') completion ??= one;
    else converted.push(one);
  }
  converted.sort((a, b) => a.id - b.id);
  if (completion) {
    // Like duraflow's own orchestrations, an execution that ends inside a critical section releases its locks.
    for (const [sectionId, lockset] of context.translator.openSections) {
      const release: EntityRelease = { id: sectionId, parent: context.instanceId };
      for (const entity of lockset) {
        converted.push({ type: 'SendEvent', id: ++maxId, instanceId: entity, name: ENTITY_RELEASE_EVENT, input: JSON.stringify(release) });
      }
    }
    converted.push(completion);
  }
  for (const action of converted) checkSizes(action, context.maxPayloadBytes);
  return converted;
}

function fromPbAction(action: PbOrchestratorAction, id: number, context: ActionContext): OrchestratorAction {
  switch (action.orchestratorActionType) {
    case 'scheduleTask': {
      const body = action.scheduleTask!;
      return { type: 'ScheduleTask', id, name: required(body.name, 'scheduleTask.name'), ...input(fromPbString(body.input)), ...traced(body.parentTraceContext) };
    }
    case 'createSubOrchestration': {
      const body = action.createSubOrchestration!;
      const instanceId = required(body.instanceId, 'createSubOrchestration.instanceId');
      validateInstanceId(instanceId);
      const version = fromPbString(body.version);
      const tags = checkTags(body.tags, 'createSubOrchestration.tags');
      return {
        type: 'CreateSubOrchestration',
        id,
        name: required(body.name, 'createSubOrchestration.name'),
        instanceId,
        ...(version !== undefined ? { version } : {}),
        ...input(fromPbString(body.input)),
        ...(tags ? { tags } : {}),
        ...traced(body.parentTraceContext),
      };
    }
    case 'createTimer': {
      const fireAt = fromPbTimestamp(action.createTimer!.fireAt) ?? context.now;
      return { type: 'CreateTimer', id, fireAt: fireAt.toISOString() };
    }
    case 'sendEvent': {
      const body = action.sendEvent!;
      return {
        type: 'SendEvent',
        id,
        instanceId: required(body.instance?.instanceId, 'sendEvent.instance.instanceId'),
        name: required(body.name, 'sendEvent.name'),
        ...input(fromPbString(body.data)),
      };
    }
    case 'completeOrchestration':
      return completeAction(action, id, context);
    case 'sendEntityMessage':
      return entityAction(action, id, context);
    case 'terminateOrchestration': {
      const body = action.terminateOrchestration!;
      const instanceId = required(body.instanceId, 'terminateOrchestration.instanceId');
      if (instanceId.startsWith('@')) throw new ValidationError(`An entity cannot be terminated: '${instanceId}'.`);
      const reason = jsonReason(fromPbString(body.reason));
      return { type: 'TerminateInstance', id, instanceId, ...(reason !== undefined ? { reason } : {}), ...(body.recurse ? { recurse: true } : {}) };
    }
    case 'rewindOrchestration':
      throw new ValidationError('duraflow rewinds instances itself; a RewindOrchestrationAction from a worker is not supported.');
    default:
      throw new ValidationError(`Unknown orchestrator action '${action.orchestratorActionType ?? '(none)'}'.`);
  }
}

function completeAction(action: PbOrchestratorAction, id: number, context: ActionContext): CompleteOrchestrationAction {
  const body = action.completeOrchestration!;
  const result = fromPbString(body.result);
  switch (body.orchestrationStatus ?? PbStatus.RUNNING) {
    case PbStatus.COMPLETED:
      return { type: 'CompleteOrchestration', id, status: 'Completed', ...(result !== undefined ? { result } : {}) };
    case PbStatus.CONTINUED_AS_NEW: {
      const newVersion = fromPbString(body.newVersion);
      const carryoverEvents = (body.carryoverEvents ?? [])
        .map((e) => fromPbCarryover(e, context.now))
        .filter((e): e is HistoryEvent => e !== undefined);
      return {
        type: 'CompleteOrchestration',
        id,
        status: 'ContinuedAsNew',
        ...(result !== undefined ? { result } : {}),
        ...(newVersion !== undefined ? { newVersion } : {}),
        ...(carryoverEvents.length ? { carryoverEvents } : {}),
      };
    }
    case PbStatus.FAILED: {
      const details = fromPbString(body.details);
      const failureDetails = body.failureDetails
        ? fromPbFailure(body.failureDetails)
        : { errorType: 'OrchestrationFailed', message: details ?? 'The orchestration failed.' };
      return { type: 'CompleteOrchestration', id, status: 'Failed', failureDetails };
    }
    default: {
      // TERMINATED (the worker saw a termination event, which duraflow never sends) or an unknown status.
      const message = `The worker completed the orchestration with unsupported status ${body.orchestrationStatus}.`;
      return { type: 'CompleteOrchestration', id, status: 'Failed', failureDetails: { errorType: 'ProtocolError', message } };
    }
  }
}

function entityAction(action: PbOrchestratorAction, id: number, context: ActionContext): OrchestratorAction {
  const body = action.sendEntityMessage!;
  const timestamp = context.now.toISOString();
  const send = (target: string, name: string, message: EntityRequest | EntityRelease): OrchestratorAction => {
    checkEntityId(target);
    const text = JSON.stringify(message);
    context.translator.noteSent(target, name, text);
    const deliverAt = 'scheduledTime' in message ? message.scheduledTime : undefined;
    return { type: 'SendEvent', id, instanceId: target, name, input: text, ...(deliverAt !== undefined ? { deliverAt } : {}) };
  };
  if (body.entityOperationSignaled || body.entityOperationCalled) {
    const signal = body.entityOperationSignaled;
    const event = signal ?? body.entityOperationCalled!;
    const target = required(fromPbString(event.targetInstanceId), 'entity message targetInstanceId');
    const operationInput = fromPbString(event.input);
    // A signal with a scheduled time reaches the entity then (a time already past: at once).
    const scheduledTime = signal ? fromPbTimestamp(signal.scheduledTime) : undefined;
    const request: EntityRequest = {
      id: required(event.requestId, 'entity message requestId'),
      op: event.operation ?? '',
      ...(signal ? { signal: true } : {}),
      ...(operationInput !== undefined ? { input: operationInput } : {}),
      parent: context.instanceId,
      ...(signal ? {} : { parentExecution: context.executionId }),
      timestamp,
      ...(scheduledTime ? { scheduledTime: scheduledTime.toISOString() } : {}),
    };
    return send(target, ENTITY_REQUEST_EVENT, request);
  }
  if (body.entityLockRequested) {
    const lock = body.entityLockRequested;
    const lockset = [...(lock.lockSet ?? [])];
    if (lockset.length === 0) throw new ValidationError('A lock request needs at least one entity.');
    lockset.forEach(checkEntityId);
    const request: EntityRequest = {
      id: required(lock.criticalSectionId, 'entityLockRequested.criticalSectionId'),
      parent: context.instanceId,
      parentExecution: context.executionId,
      timestamp,
      lockset,
      position: 0,
    };
    return send(lockset[0]!, ENTITY_REQUEST_EVENT, request);
  }
  if (body.entityUnlockSent) {
    const unlock = body.entityUnlockSent;
    const target = required(fromPbString(unlock.targetInstanceId), 'entityUnlockSent.targetInstanceId');
    return send(target, ENTITY_RELEASE_EVENT, { id: required(unlock.criticalSectionId, 'entityUnlockSent.criticalSectionId'), parent: context.instanceId });
  }
  throw new ValidationError('An entity message action carries no message.');
}

function checkEntityId(instanceId: string): void {
  if (!EntityId.fromInstanceId(instanceId)) throw new ValidationError(`'${instanceId}' is not an entity instance id (@name@key).`);
  checkEntityIdLength(instanceId);
}

function checkSizes(action: OrchestratorAction, limit: number): void {
  const where = (what: string) => `${what} of ${action.type} #${action.id}`;
  if ('input' in action) checkPayloadSize(action.input, where('input'), limit);
  if (action.type === 'TerminateInstance') checkPayloadSize(action.reason, where('reason'), limit);
  if (action.type === 'CompleteOrchestration') checkPayloadSize(action.result, where('result'), limit);
}

/** A termination reason as JSON text (the SDKs send JSON; plain text is kept as a JSON string). */
function jsonReason(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}

function required(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new ValidationError(`The worker's action has no ${what}.`);
  return value;
}

function input(text: string | undefined): { input?: string } {
  return text !== undefined ? { input: text } : {};
}

/** The action's parent span, when the SDK worker sent a valid one (its own span of the episode). */
function traced(field: PbTraceContext | undefined): { parentTraceContext?: TraceContext } {
  const traceContext = fromPbTrace(field);
  return traceContext ? { parentTraceContext: traceContext } : {};
}
