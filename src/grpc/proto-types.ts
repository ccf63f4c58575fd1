/**
 * TypeScript shapes of the TaskHubSidecarService messages duraflow reads and writes, as `@grpc/proto-loader`
 * decodes them with the options in `service-definition.ts`: field names as in `task-hub-sidecar.proto`, int64 as
 * numbers, enums as numbers, absent fields undefined, repeated fields always arrays, and each `oneof` named by a
 * string property holding the name of the field that is set.
 */

/** `google.protobuf.Timestamp`. */
export interface PbTimestamp {
  seconds?: number | string;
  nanos?: number;
}

/** `google.protobuf.StringValue` (an empty string decodes as `{}`). */
export interface PbString {
  value?: string;
}

/** `google.protobuf.Int32Value`. */
export interface PbInt32 {
  value?: number;
}

/** `google.protobuf.Duration`. */
export interface PbDuration {
  seconds?: number | string;
  nanos?: number;
}

/** Values of the `OrchestrationStatus` enum. */
export const PbStatus = {
  RUNNING: 0,
  COMPLETED: 1,
  CONTINUED_AS_NEW: 2,
  FAILED: 3,
  CANCELED: 4,
  TERMINATED: 5,
  PENDING: 6,
  SUSPENDED: 7,
} as const;

export interface PbOrchestrationInstance {
  instanceId?: string;
  executionId?: PbString;
}

export interface PbFailureDetails {
  errorType?: string;
  errorMessage?: string;
  stackTrace?: PbString;
  innerFailure?: PbFailureDetails;
  isNonRetriable?: boolean;
}

/** `TraceContext`: a W3C `traceparent` (and `tracestate`). */
export interface PbTraceContext {
  traceParent?: string;
  spanID?: string;
  traceState?: PbString;
}

export interface PbParentInstanceInfo {
  taskScheduledId?: number;
  name?: PbString;
  version?: PbString;
  orchestrationInstance?: PbOrchestrationInstance;
}

export interface PbEntityOperationSignaled {
  requestId?: string;
  operation?: string;
  scheduledTime?: PbTimestamp;
  input?: PbString;
  targetInstanceId?: PbString;
}

export interface PbEntityOperationCalled extends PbEntityOperationSignaled {
  parentInstanceId?: PbString;
  parentExecutionId?: PbString;
}

export interface PbEntityLockRequested {
  criticalSectionId?: string;
  lockSet?: string[];
  position?: number;
  parentInstanceId?: PbString;
}

export interface PbEntityUnlockSent {
  criticalSectionId?: string;
  parentInstanceId?: PbString;
  targetInstanceId?: PbString;
}

/** A history event: `eventId`, `timestamp`, and exactly one of the typed bodies (named by `eventType`). */
export interface PbHistoryEvent {
  eventId?: number;
  timestamp?: PbTimestamp;
  eventType?: string;
  executionStarted?: {
    name?: string;
    version?: PbString;
    input?: PbString;
    orchestrationInstance?: PbOrchestrationInstance;
    parentInstance?: PbParentInstanceInfo;
    scheduledStartTimestamp?: PbTimestamp;
    parentTraceContext?: PbTraceContext;
    tags?: Record<string, string>;
  };
  executionCompleted?: { orchestrationStatus?: number; result?: PbString; failureDetails?: PbFailureDetails };
  executionTerminated?: { input?: PbString; recurse?: boolean };
  taskScheduled?: { name?: string; version?: PbString; input?: PbString; parentTraceContext?: PbTraceContext };
  taskCompleted?: { taskScheduledId?: number; result?: PbString };
  taskFailed?: { taskScheduledId?: number; failureDetails?: PbFailureDetails };
  subOrchestrationInstanceCreated?: { instanceId?: string; name?: string; version?: PbString; input?: PbString; parentTraceContext?: PbTraceContext };
  subOrchestrationInstanceCompleted?: { taskScheduledId?: number; result?: PbString };
  subOrchestrationInstanceFailed?: { taskScheduledId?: number; failureDetails?: PbFailureDetails };
  timerCreated?: { fireAt?: PbTimestamp };
  timerFired?: { fireAt?: PbTimestamp; timerId?: number };
  orchestratorStarted?: Record<string, never>;
  orchestratorCompleted?: Record<string, never>;
  eventSent?: { instanceId?: string; name?: string; input?: PbString };
  eventRaised?: { name?: string; input?: PbString };
  genericEvent?: { data?: PbString };
  continueAsNew?: { input?: PbString };
  executionSuspended?: { input?: PbString };
  executionResumed?: { input?: PbString };
  executionRewound?: { reason?: PbString };
  entityOperationSignaled?: PbEntityOperationSignaled;
  entityOperationCalled?: PbEntityOperationCalled;
  entityOperationCompleted?: { requestId?: string; output?: PbString };
  entityOperationFailed?: { requestId?: string; failureDetails?: PbFailureDetails };
  entityLockRequested?: PbEntityLockRequested;
  entityLockGranted?: { criticalSectionId?: string };
  entityUnlockSent?: PbEntityUnlockSent;
}

/** An orchestrator action: `id` and one typed body (named by `orchestratorActionType`). */
export interface PbOrchestratorAction {
  id?: number;
  orchestratorActionType?: string;
  scheduleTask?: { name?: string; version?: PbString; input?: PbString; parentTraceContext?: PbTraceContext };
  createSubOrchestration?: { instanceId?: string; name?: string; version?: PbString; input?: PbString; tags?: Record<string, string>; parentTraceContext?: PbTraceContext };
  createTimer?: { fireAt?: PbTimestamp };
  sendEvent?: { instance?: PbOrchestrationInstance; name?: string; data?: PbString };
  completeOrchestration?: {
    orchestrationStatus?: number;
    result?: PbString;
    details?: PbString;
    newVersion?: PbString;
    carryoverEvents?: PbHistoryEvent[];
    failureDetails?: PbFailureDetails;
  };
  terminateOrchestration?: { instanceId?: string; reason?: PbString; recurse?: boolean };
  sendEntityMessage?: {
    EntityMessageType?: string;
    entityOperationSignaled?: PbEntityOperationSignaled;
    entityOperationCalled?: PbEntityOperationCalled;
    entityLockRequested?: PbEntityLockRequested;
    entityUnlockSent?: PbEntityUnlockSent;
  };
  rewindOrchestration?: { newHistory?: PbHistoryEvent[] };
}

export interface PbOrchestratorRequest {
  instanceId: string;
  executionId?: PbString;
  pastEvents: PbHistoryEvent[];
  newEvents: PbHistoryEvent[];
}

export interface PbOrchestratorResponse {
  instanceId?: string;
  actions?: PbOrchestratorAction[];
  customStatus?: PbString;
  completionToken?: string;
  isPartial?: boolean;
  chunkIndex?: { value?: number };
}

export interface PbActivityRequest {
  name: string;
  version?: PbString;
  input?: PbString;
  orchestrationInstance: PbOrchestrationInstance;
  taskId: number;
  parentTraceContext?: PbTraceContext;
}

export interface PbActivityResponse {
  instanceId?: string;
  taskId?: number;
  result?: PbString;
  failureDetails?: PbFailureDetails;
  completionToken?: string;
}

export interface PbOperationRequest {
  operation: string;
  requestId: string;
  input?: PbString;
}

export interface PbEntityBatchRequest {
  instanceId: string;
  entityState?: PbString;
  operations: PbOperationRequest[];
}

export interface PbEntityRequestV2 {
  instanceId: string;
  executionId: string;
  entityState?: PbString;
  operationRequests: PbHistoryEvent[];
}

export interface PbOperationResult {
  resultType?: string;
  success?: { result?: PbString };
  failure?: { failureDetails?: PbFailureDetails };
}

export interface PbOperationAction {
  id?: number;
  operationActionType?: string;
  sendSignal?: { instanceId?: string; name?: string; input?: PbString; scheduledTime?: PbTimestamp };
  startNewOrchestration?: { instanceId?: string; name?: string; version?: PbString; input?: PbString; scheduledTime?: PbTimestamp };
}

export interface PbEntityBatchResult {
  results?: PbOperationResult[];
  actions?: PbOperationAction[];
  entityState?: PbString;
  failureDetails?: PbFailureDetails;
  completionToken?: string;
  operationInfos?: { requestId?: string }[];
}

/** A work item sent on the GetWorkItems stream. */
export interface PbWorkItem {
  orchestratorRequest?: PbOrchestratorRequest;
  activityRequest?: PbActivityRequest;
  entityRequest?: PbEntityBatchRequest;
  healthPing?: Record<string, never>;
  entityRequestV2?: PbEntityRequestV2;
  completionToken?: string;
}

export interface PbGetWorkItemsRequest {
  maxConcurrentOrchestrationWorkItems?: number;
  maxConcurrentActivityWorkItems?: number;
  maxConcurrentEntityWorkItems?: number;
  workItemFilters?: {
    orchestrations?: { name?: string; versions?: string[] }[];
    activities?: { name?: string; versions?: string[] }[];
    entities?: { name?: string }[];
  };
}

export interface PbOrchestrationState {
  instanceId: string;
  name: string;
  version?: PbString;
  orchestrationStatus: number;
  scheduledStartTimestamp?: PbTimestamp;
  createdTimestamp?: PbTimestamp;
  lastUpdatedTimestamp?: PbTimestamp;
  input?: PbString;
  output?: PbString;
  customStatus?: PbString;
  failureDetails?: PbFailureDetails;
  executionId?: PbString;
  completedTimestamp?: PbTimestamp;
  parentInstanceId?: PbString;
  /** A `map<string, string>`: a plain object. */
  tags?: Record<string, string>;
}

export interface PbEntityMetadata {
  instanceId: string;
  lastModifiedTime?: PbTimestamp;
  backlogQueueSize?: number;
  lockedBy?: PbString;
  serializedState?: PbString;
}
