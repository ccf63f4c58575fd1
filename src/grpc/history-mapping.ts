/**
 * duraflow history events ↔ TaskHubSidecarService `HistoryEvent`s, failure details, statuses and timestamps.
 *
 * Entity traffic is stored the way duraflow's own orchestrations store it (an `EventSent` named `op` or `release`
 * carrying a JSON {@link EntityRequest} / {@link EntityRelease}, and responses as an `EventRaised` named by the
 * request id). A gRPC worker expects the protocol's entity events instead, so {@link HistoryTranslator} turns
 * those into `entityOperationCalled` / `entityOperationSignaled` / `entityLockRequested` / `entityUnlockSent`,
 * and the matching responses into `entityOperationCompleted` / `entityOperationFailed` / `entityLockGranted`.
 */
import {
  ENTITY_RELEASE_EVENT,
  ENTITY_REQUEST_EVENT,
  decodeEntityResponse,
  type EntityRelease,
  type EntityRequest,
} from '../core/entity-messages.js';
import type { FailureDetails, HistoryEvent, RuntimeStatus } from '../sdk/history.js';
import { PbStatus, type PbFailureDetails, type PbHistoryEvent, type PbString, type PbTimestamp } from './proto-types.js';
import { pbTrace } from './trace-mapping.js';

/** A JSON text (or absent) as a `StringValue`. */
export function pbString(text: string | undefined): PbString | undefined {
  return text === undefined ? undefined : { value: text };
}

/** A `StringValue` as text; an empty or absent value is `undefined` (the SDKs send "" for "no value"). */
export function fromPbString(value: PbString | undefined | null): string | undefined {
  const text = value?.value;
  return text === undefined || text === '' ? undefined : text;
}

/** A date (or ISO-8601 text) as a `Timestamp`. */
export function pbTimestamp(time: Date | string): PbTimestamp {
  const ms = typeof time === 'string' ? Date.parse(time) : time.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** A `Timestamp` as a date; absent (or the zero time) is `undefined`. */
export function fromPbTimestamp(ts: PbTimestamp | undefined | null): Date | undefined {
  if (!ts) return undefined;
  const ms = Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1_000_000);
  return ms === 0 || !Number.isFinite(ms) ? undefined : new Date(ms);
}

/** Failure details in the protocol's shape. */
export function pbFailure(details: FailureDetails): PbFailureDetails {
  return {
    errorType: details.errorType,
    errorMessage: details.message,
    ...(details.stack !== undefined ? { stackTrace: { value: details.stack } } : {}),
    ...(details.inner ? { innerFailure: pbFailure(details.inner) } : {}),
    ...(details.isNonRetriable ? { isNonRetriable: true } : {}),
  };
}

/** Failure details from the protocol's shape. */
export function fromPbFailure(details: PbFailureDetails | undefined | null, fallbackMessage = 'Unknown error'): FailureDetails {
  const stack = fromPbString(details?.stackTrace);
  return {
    errorType: details?.errorType || 'Error',
    message: details?.errorMessage ?? fallbackMessage,
    ...(stack !== undefined ? { stack } : {}),
    ...(details?.innerFailure ? { inner: fromPbFailure(details.innerFailure) } : {}),
    ...(details?.isNonRetriable ? { isNonRetriable: true } : {}),
  };
}

const STATUS_TO_PB: Record<RuntimeStatus, number> = {
  Running: PbStatus.RUNNING,
  Completed: PbStatus.COMPLETED,
  ContinuedAsNew: PbStatus.CONTINUED_AS_NEW,
  Failed: PbStatus.FAILED,
  Canceled: PbStatus.CANCELED,
  Terminated: PbStatus.TERMINATED,
  Pending: PbStatus.PENDING,
  Suspended: PbStatus.SUSPENDED,
};
const PB_TO_STATUS = new Map(Object.entries(STATUS_TO_PB).map(([status, value]) => [value, status as RuntimeStatus]));

/** A runtime status as the protocol's enum value. */
export function pbStatus(status: RuntimeStatus): number {
  return STATUS_TO_PB[status];
}

/** The protocol's enum value as a runtime status (undefined for values this version does not know). */
export function fromPbStatus(value: number): RuntimeStatus | undefined {
  return PB_TO_STATUS.get(value);
}

/**
 * Translates one orchestration's history into protocol events, remembering the entity calls and lock requests
 * it has seen so that their responses can be recognised. Feed past events, then new events, in order.
 */
export class HistoryTranslator {
  readonly #calls = new Set<string>();
  readonly #locks = new Set<string>();
  /** Lock requests (critical section id → its lockset) not yet released by this orchestration. */
  readonly openSections = new Map<string, string[]>();
  /** Highest sequence id seen on a scheduling event. */
  maxEventId = -1;

  /** A translator that has seen what this one has (and continues from there on its own). */
  clone(): HistoryTranslator {
    const copy = new HistoryTranslator();
    for (const id of this.#calls) copy.#calls.add(id);
    for (const id of this.#locks) copy.#locks.add(id);
    for (const [id, lockset] of this.openSections) copy.openSections.set(id, lockset);
    copy.maxEventId = this.maxEventId;
    return copy;
  }

  /** Records what an outgoing entity message means without translating it (used for new actions). */
  noteSent(targetInstanceId: string, name: string, input: string | undefined): void {
    const message = decodeSent(targetInstanceId, name, input);
    if (message?.kind === 'call') this.#calls.add(message.request.id);
    if (message?.kind === 'lock') {
      this.#locks.add(message.request.id);
      this.openSections.set(message.request.id, message.request.lockset ?? []);
    }
    if (message?.kind === 'release') this.openSections.delete(message.release.id);
  }

  /** The protocol form of `event`. */
  translate(event: HistoryEvent): PbHistoryEvent {
    if (event.eventId > this.maxEventId) this.maxEventId = event.eventId;
    const base = { eventId: event.eventId, timestamp: pbTimestamp(event.timestamp) };
    switch (event.eventType) {
      case 'ExecutionStarted':
        return {
          ...base,
          executionStarted: {
            name: event.name,
            ...opt('version', pbString(event.version)),
            ...opt('input', pbString(event.input)),
            orchestrationInstance: { instanceId: event.instanceId, executionId: { value: event.executionId } },
            ...(event.parentInstance
              ? {
                  parentInstance: {
                    taskScheduledId: event.parentInstance.taskScheduledId,
                    name: { value: event.parentInstance.name },
                    ...opt('version', pbString(event.parentInstance.version)),
                    orchestrationInstance: {
                      instanceId: event.parentInstance.instanceId,
                      executionId: { value: event.parentInstance.executionId },
                    },
                  },
                }
              : {}),
            ...(event.scheduledStartTime ? { scheduledStartTimestamp: pbTimestamp(event.scheduledStartTime) } : {}),
            ...pbTrace(event.parentTraceContext),
            ...(event.tags && Object.keys(event.tags).length ? { tags: { ...event.tags } } : {}),
          },
        };
      case 'ExecutionCompleted':
        return {
          ...base,
          executionCompleted: {
            orchestrationStatus: pbStatus(event.orchestrationStatus),
            ...opt('result', pbString(event.result)),
            ...(event.failureDetails ? { failureDetails: pbFailure(event.failureDetails) } : {}),
          },
        };
      case 'ExecutionTerminated':
        return { ...base, executionTerminated: { ...opt('input', pbString(event.input)), ...(event.recurse ? { recurse: true } : {}) } };
      case 'TaskScheduled':
        return { ...base, taskScheduled: { name: event.name, ...opt('input', pbString(event.input)), ...pbTrace(event.parentTraceContext) } };
      case 'TaskCompleted':
        return { ...base, taskCompleted: { taskScheduledId: event.taskScheduledId, ...opt('result', pbString(event.result)) } };
      case 'TaskFailed':
        return { ...base, taskFailed: { taskScheduledId: event.taskScheduledId, failureDetails: pbFailure(event.failureDetails) } };
      case 'SubOrchestrationInstanceCreated':
        return {
          ...base,
          subOrchestrationInstanceCreated: {
            instanceId: event.instanceId,
            name: event.name,
            ...opt('version', pbString(event.version)),
            ...opt('input', pbString(event.input)),
            ...pbTrace(event.parentTraceContext),
          },
        };
      case 'SubOrchestrationInstanceCompleted':
        return {
          ...base,
          subOrchestrationInstanceCompleted: { taskScheduledId: event.taskScheduledId, ...opt('result', pbString(event.result)) },
        };
      case 'SubOrchestrationInstanceFailed':
        return {
          ...base,
          subOrchestrationInstanceFailed: { taskScheduledId: event.taskScheduledId, failureDetails: pbFailure(event.failureDetails) },
        };
      case 'TimerCreated':
        return { ...base, timerCreated: { fireAt: pbTimestamp(event.fireAt) } };
      case 'TimerFired':
        return { ...base, timerFired: { fireAt: pbTimestamp(event.fireAt), timerId: event.timerId } };
      case 'OrchestratorStarted':
        return { ...base, orchestratorStarted: {} };
      case 'OrchestratorCompleted':
        return { ...base, orchestratorCompleted: {} };
      case 'EventSent':
        return { ...base, ...this.#sent(event.instanceId, event.name, event.input) };
      case 'EventRaised':
        return { ...base, ...this.#raised(event.name, event.input) };
      case 'ContinueAsNew':
        return { ...base, continueAsNew: { ...opt('input', pbString(event.result)) } };
      case 'ExecutionSuspended':
        return { ...base, executionSuspended: { ...opt('input', pbString(event.reason)) } };
      case 'ExecutionResumed':
        return { ...base, executionResumed: { ...opt('input', pbString(event.reason)) } };
      case 'ExecutionRewound':
        return { ...base, executionRewound: { ...opt('reason', pbString(event.reason)) } };
      case 'GenericEvent':
        return { ...base, genericEvent: { ...opt('data', pbString(event.data)) } };
    }
  }

  #sent(instanceId: string, name: string, input: string | undefined): Partial<PbHistoryEvent> {
    const message = decodeSent(instanceId, name, input);
    this.noteSent(instanceId, name, input);
    if (!message) return { eventSent: { instanceId, name, ...opt('input', pbString(input)) } };
    if (message.kind === 'release') {
      return {
        entityUnlockSent: {
          criticalSectionId: message.release.id,
          parentInstanceId: { value: message.release.parent },
          targetInstanceId: { value: instanceId },
        },
      };
    }
    const { request } = message;
    if (message.kind === 'lock') {
      return {
        entityLockRequested: {
          criticalSectionId: request.id,
          lockSet: request.lockset ?? [],
          position: request.position ?? 0,
          ...opt('parentInstanceId', pbString(request.parent)),
        },
      };
    }
    const common = {
      requestId: request.id,
      operation: request.op ?? '',
      ...opt('input', pbString(request.input)),
      targetInstanceId: { value: instanceId },
    };
    if (message.kind === 'signal') {
      return { entityOperationSignaled: { ...common, ...(request.scheduledTime ? { scheduledTime: pbTimestamp(request.scheduledTime) } : {}) } };
    }
    return {
      entityOperationCalled: {
        ...common,
        ...opt('parentInstanceId', pbString(request.parent)),
        ...opt('parentExecutionId', pbString(request.parentExecution)),
      },
    };
  }

  #raised(name: string, input: string | undefined): Partial<PbHistoryEvent> {
    if (this.#calls.has(name)) {
      const response = decodeEntityResponse(input);
      if (response.failureDetails) {
        return { entityOperationFailed: { requestId: name, failureDetails: pbFailure(response.failureDetails) } };
      }
      return { entityOperationCompleted: { requestId: name, ...opt('output', pbString(response.result)) } };
    }
    if (this.#locks.has(name)) {
      const response = decodeEntityResponse(input);
      // A refused lock (an entity no worker serves) fails the section the way a failed call would.
      if (response.failureDetails) return { entityOperationFailed: { requestId: name, failureDetails: pbFailure(response.failureDetails) } };
      return { entityLockGranted: { criticalSectionId: name } };
    }
    return { eventRaised: { name, ...opt('input', pbString(input)) } };
  }
}

/** What an outgoing `EventSent` means, when it is entity traffic. */
type SentEntityMessage =
  | { kind: 'call' | 'signal' | 'lock'; request: EntityRequest }
  | { kind: 'release'; release: EntityRelease };

function decodeSent(instanceId: string, name: string, input: string | undefined): SentEntityMessage | undefined {
  if (!instanceId.startsWith('@') || input === undefined || (name !== ENTITY_REQUEST_EVENT && name !== ENTITY_RELEASE_EVENT)) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(input);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || typeof (body as { id?: unknown }).id !== 'string') return undefined;
  if (name === ENTITY_RELEASE_EVENT) return { kind: 'release', release: body as EntityRelease };
  const request = body as EntityRequest;
  if (Array.isArray(request.lockset)) return { kind: 'lock', request };
  return { kind: request.signal ? 'signal' : 'call', request };
}

/** A carry-over event from a worker (continue-as-new keeps raised events) as a duraflow event. */
export function fromPbCarryover(event: PbHistoryEvent, now: Date): HistoryEvent | undefined {
  const raised = event.eventRaised;
  if (!raised) return undefined;
  const input = fromPbString(raised.input);
  return { eventType: 'EventRaised', eventId: -1, timestamp: now.toISOString(), name: raised.name ?? '', ...(input !== undefined ? { input } : {}) };
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value !== undefined ? { [key]: value } : {}) as { [P in K]?: V };
}
