/**
 * Actions an orchestrator episode produces, shaped after durabletask-protobuf's `OrchestratorAction`.
 * The runtime turns each into history events and messages; another executor (a gRPC worker) produces
 * the same shapes.
 */
import type { InstanceTags } from '../sdk/tags.js';
import type { FailureDetails, HistoryEvent, TraceContext } from '../sdk/history.js';

export interface ScheduleTaskAction {
  type: 'ScheduleTask';
  id: number;
  name: string;
  input?: string;
  /** The span the activity's spans parent to, when the executor chose one (a gRPC SDK worker); else the runtime's. */
  parentTraceContext?: TraceContext;
  /** `ctx.callActivity(name, input, { priority })`: higher is claimed first among the name's waiting activities. */
  priority?: number;
}
export interface CreateSubOrchestrationAction {
  type: 'CreateSubOrchestration';
  id: number;
  name: string;
  instanceId: string;
  version?: string;
  input?: string;
  /** The child's own tags (checked); it inherits its parent's too. */
  tags?: InstanceTags;
  /** As for {@link ScheduleTaskAction.parentTraceContext}. */
  parentTraceContext?: TraceContext;
}
export interface CreateTimerAction {
  type: 'CreateTimer';
  id: number;
  fireAt: string;
  /** Set when the timer was cancelled in the same episode that created it: no fire message is needed. */
  isCanceled?: boolean;
}
export interface SendEventAction {
  type: 'SendEvent';
  id: number;
  instanceId: string;
  name: string;
  input?: string;
  /** Delivery time (ISO-8601) of a scheduled message, e.g. an entity signal with a scheduled time; absent: at once. */
  deliverAt?: string;
}
export interface CompleteOrchestrationAction {
  type: 'CompleteOrchestration';
  id: number;
  status: 'Completed' | 'Failed' | 'ContinuedAsNew';
  /** Output (Completed) or new input (ContinuedAsNew), as JSON text. */
  result?: string;
  failureDetails?: FailureDetails;
  /** Version of the next execution (ContinuedAsNew). */
  newVersion?: string;
  /** Events raised but not consumed, handed to the next execution (ContinuedAsNew). */
  carryoverEvents?: HistoryEvent[];
}

/** A patch marker to record in history (`ctx.isPatched` / `ctx.deprecatePatch` reached live); it has no sequence id. */
export interface RecordPatchAction {
  type: 'RecordPatch';
  id: -1;
  patchId: string;
  deprecated: boolean;
}

/**
 * Terminates another instance (a gRPC worker's `TerminateOrchestrationAction`; duraflow's own orchestrations have
 * no such call). Like DTFx it is a message only: nothing is recorded in the sender's history.
 */
export interface TerminateInstanceAction {
  type: 'TerminateInstance';
  id: number;
  instanceId: string;
  /** JSON text of the reason. */
  reason?: string;
  /** Terminate its running sub-orchestrations too. */
  recurse?: boolean;
}

/** Any orchestrator action. */
export type OrchestratorAction =
  | ScheduleTaskAction
  | CreateSubOrchestrationAction
  | CreateTimerAction
  | SendEventAction
  | RecordPatchAction
  | TerminateInstanceAction
  | CompleteOrchestrationAction;

/** The history event a scheduling action is recorded as. */
export function describeAction(action: OrchestratorAction): string {
  switch (action.type) {
    case 'ScheduleTask':
      return `callActivity('${action.name}') #${action.id}`;
    case 'CreateSubOrchestration':
      return `callSubOrchestrator('${action.name}') #${action.id}`;
    case 'CreateTimer':
      return `createTimer(${action.fireAt}) #${action.id}`;
    case 'SendEvent':
      return `sendEvent('${action.name}' to '${action.instanceId}') #${action.id}`;
    case 'RecordPatch':
      return `${action.deprecated ? 'deprecatePatch' : 'isPatched'}('${action.patchId}')`;
    case 'TerminateInstance':
      return `terminate('${action.instanceId}')`;
    case 'CompleteOrchestration':
      return `complete(${action.status})`;
  }
}

/** Describes a recorded scheduling event the same way as {@link describeAction}. */
export function describeRecorded(event: HistoryEvent): string {
  switch (event.eventType) {
    case 'TaskScheduled':
      return `callActivity('${event.name}') #${event.eventId}`;
    case 'SubOrchestrationInstanceCreated':
      return `callSubOrchestrator('${event.name}') #${event.eventId}`;
    case 'TimerCreated':
      return `createTimer(${event.fireAt}) #${event.eventId}`;
    case 'EventSent':
      return `sendEvent('${event.name}' to '${event.instanceId}') #${event.eventId}`;
    default:
      return `${event.eventType} #${event.eventId}`;
  }
}
