/**
 * History events of one orchestration execution, shaped after DTFx's `HistoryEvent` types.
 *
 * Payload fields (`input`, `result`) hold JSON text exactly as serialized, so a history can be stored,
 * shipped and replayed without re-encoding values. Timestamps are ISO-8601 UTC strings.
 */

/** Structured failure of a task or an orchestration (DTFx `FailureDetails`). */
export interface FailureDetails {
  /** The error's class name, e.g. `TypeError` or `TaskFailedError`. */
  errorType: string;
  message: string;
  stack?: string;
  /** The failure that caused this one, e.g. an activity's error inside a sub-orchestration's failure. */
  inner?: FailureDetails;
  /** When true, retry policies do not retry this failure. */
  isNonRetriable?: boolean;
}

/** Runtime statuses, as DTFx and the Durable Functions HTTP API name them. */
export type RuntimeStatus =
  | 'Running'
  | 'Completed'
  | 'ContinuedAsNew'
  | 'Failed'
  | 'Canceled'
  | 'Terminated'
  | 'Pending'
  | 'Suspended';

/** Statuses after which an execution never changes again (unless rewound or restarted). */
export const TERMINAL_STATUSES: readonly RuntimeStatus[] = ['Completed', 'Failed', 'Terminated', 'Canceled'];

/** True when `status` is terminal. */
export function isTerminalStatus(status: RuntimeStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * A W3C trace context (https://www.w3.org/TR/trace-context/), stored in history so that one trace spans every
 * episode of an instance, whichever process runs it, and survives crashes and replays. Data only: the replay
 * core carries it, the runtime emits the spans.
 */
export interface TraceContext {
  /** `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
  traceParent: string;
  traceState?: string;
}

interface EventBase {
  /** Sequence id for scheduling events; -1 for all others. */
  eventId: number;
  timestamp: string;
}

/** Identifies the parent of a sub-orchestration and the task in the parent that waits for it. */
export interface ParentInstanceInfo {
  name: string;
  /** The parent's version. */
  version?: string;
  instanceId: string;
  executionId: string;
  taskScheduledId: number;
}

export interface ExecutionStartedEvent extends EventBase {
  eventType: 'ExecutionStarted';
  name: string;
  instanceId: string;
  executionId: string;
  version?: string;
  input?: string;
  parentInstance?: ParentInstanceInfo;
  /** 0 for the first execution, +1 for every continue-as-new. */
  generation?: number;
  scheduledStartTime?: string;
  /** The instance's tags (DTFx's `Tags`), carried to every execution. */
  tags?: Record<string, string>;
  /** The span that started this execution (a client's start, a parent orchestration); the orchestration's span is its child. */
  parentTraceContext?: TraceContext;
}
export interface ExecutionCompletedEvent extends EventBase {
  eventType: 'ExecutionCompleted';
  orchestrationStatus: 'Completed' | 'Failed' | 'Terminated';
  result?: string;
  failureDetails?: FailureDetails;
}
export interface ExecutionTerminatedEvent extends EventBase {
  eventType: 'ExecutionTerminated';
  /** JSON text of the reason. */
  input?: string;
  /** Terminate the sub-orchestrations still running too (and theirs, recursively). */
  recurse?: boolean;
}
export interface TaskScheduledEvent extends EventBase {
  eventType: 'TaskScheduled';
  name: string;
  input?: string;
  /** The orchestration span that scheduled the activity; every attempt's span is its child. */
  parentTraceContext?: TraceContext;
}
export interface TaskCompletedEvent extends EventBase {
  eventType: 'TaskCompleted';
  taskScheduledId: number;
  result?: string;
}
export interface TaskFailedEvent extends EventBase {
  eventType: 'TaskFailed';
  taskScheduledId: number;
  failureDetails: FailureDetails;
}
export interface SubOrchestrationInstanceCreatedEvent extends EventBase {
  eventType: 'SubOrchestrationInstanceCreated';
  name: string;
  instanceId: string;
  version?: string;
  input?: string;
  /** The tags the call gave the child (it also inherits its parent's). */
  tags?: Record<string, string>;
  /** The orchestration span that created the sub-orchestration. */
  parentTraceContext?: TraceContext;
}
export interface SubOrchestrationInstanceCompletedEvent extends EventBase {
  eventType: 'SubOrchestrationInstanceCompleted';
  taskScheduledId: number;
  result?: string;
}
export interface SubOrchestrationInstanceFailedEvent extends EventBase {
  eventType: 'SubOrchestrationInstanceFailed';
  taskScheduledId: number;
  failureDetails: FailureDetails;
}
export interface TimerCreatedEvent extends EventBase {
  eventType: 'TimerCreated';
  fireAt: string;
}
export interface TimerFiredEvent extends EventBase {
  eventType: 'TimerFired';
  timerId: number;
  fireAt: string;
}
export interface OrchestratorStartedEvent extends EventBase {
  eventType: 'OrchestratorStarted';
  /** Set when this episode began a new span of the execution (its first episode, or the first after the span was lost with its process): later episodes and other workers parent their work to it. */
  orchestrationTraceContext?: TraceContext;
}
export interface OrchestratorCompletedEvent extends EventBase {
  eventType: 'OrchestratorCompleted';
}
export interface EventSentEvent extends EventBase {
  eventType: 'EventSent';
  instanceId: string;
  name: string;
  input?: string;
  /** The orchestration span that sent the event (an entity request's operation span is its child). */
  parentTraceContext?: TraceContext;
}
export interface EventRaisedEvent extends EventBase {
  eventType: 'EventRaised';
  name: string;
  input?: string;
  /** The span that raised the event (a client, an orchestration); entity operations are its children. */
  parentTraceContext?: TraceContext;
}
export interface ContinueAsNewEvent extends EventBase {
  eventType: 'ContinueAsNew';
  /** JSON text of the new input. */
  result?: string;
}
export interface ExecutionSuspendedEvent extends EventBase {
  eventType: 'ExecutionSuspended';
  reason?: string;
}
export interface ExecutionResumedEvent extends EventBase {
  eventType: 'ExecutionResumed';
  reason?: string;
}
export interface ExecutionRewoundEvent extends EventBase {
  eventType: 'ExecutionRewound';
  reason?: string;
}
export interface GenericEvent extends EventBase {
  eventType: 'GenericEvent';
  data?: string;
}

/** Any history event. */
export type HistoryEvent =
  | ExecutionStartedEvent
  | ExecutionCompletedEvent
  | ExecutionTerminatedEvent
  | TaskScheduledEvent
  | TaskCompletedEvent
  | TaskFailedEvent
  | SubOrchestrationInstanceCreatedEvent
  | SubOrchestrationInstanceCompletedEvent
  | SubOrchestrationInstanceFailedEvent
  | TimerCreatedEvent
  | TimerFiredEvent
  | OrchestratorStartedEvent
  | OrchestratorCompletedEvent
  | EventSentEvent
  | EventRaisedEvent
  | ContinueAsNewEvent
  | ExecutionSuspendedEvent
  | ExecutionResumedEvent
  | ExecutionRewoundEvent
  | GenericEvent;

/** The `eventType` names. */
export type HistoryEventType = HistoryEvent['eventType'];

/** Distributes `Omit` over the union so each member keeps its own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event before it is stamped with an id and a time. */
export type NewHistoryEvent = DistributiveOmit<HistoryEvent, 'eventId' | 'timestamp'> & {
  eventId?: number;
  timestamp?: string;
};

/** Builds a history event; scheduling events pass their sequence id, all others get -1. */
export function makeEvent<E extends NewHistoryEvent>(event: E, timestamp: Date | string): E & EventBase {
  return {
    ...event,
    eventId: event.eventId ?? -1,
    timestamp: typeof timestamp === 'string' ? timestamp : timestamp.toISOString(),
  };
}

/** Event types that schedule work and so carry a sequence id that replay must match. */
export const SCHEDULING_EVENT_TYPES = new Set<HistoryEventType>([
  'TaskScheduled',
  'SubOrchestrationInstanceCreated',
  'TimerCreated',
  'EventSent',
]);
