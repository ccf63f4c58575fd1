/**
 * duraflow: Durable Functions for TypeScript, self-hosted.
 * @packageDocumentation
 */
export { DFApp } from './app/df-app.js';
export type { DFAppOptions, Host, StartOptions, Worker } from './app/df-app.js';
export type { GrpcSidecarTuning } from './grpc/sidecar-server.js';
export type { CorsOptions } from './http/cross-origin.js';
export { Blueprint } from './sdk/blueprint.js';
export type { AuthLevel, BlueprintOptions, OrchestrationOptions, RouteHandler, RouteOptions } from './sdk/blueprint.js';
export { compareVersions } from './sdk/versioning.js';
export type { VersioningOptions, VersionMatchStrategy, VersionFailureStrategy } from './sdk/versioning.js';
export { RetryOptions } from './sdk/retry-options.js';
export { EntityId } from './sdk/entity-id.js';
export type {
  EntityClass,
  EntityContext,
  EntityFunction,
  EntityRef,
  SignalEntityOptions,
} from './sdk/entity-context.js';
export { Task, CompletableTask, TimerTask, WhenAllTask, WhenAnyTask } from './sdk/task.js';
export type { TaskState, Unthenable } from './sdk/task.js';
export type { ActivityContext, ActivityFunction, ActivityOptions, ActivityRef } from './sdk/activity.js';
export type { ConcurrencyOptions, FlowKey, FlowOptions, RateLimitOptions } from './sdk/flow-control.js';
export type {
  DurableHttpRequest,
  DurableHttpResponse,
  EntityLock,
  OrchestrationContext,
  OrchestrationRef,
  OrchestratorFunction,
  AsyncOrchestratorFunction,
  SubOrchestrationOptions,
  ActivityCallOptions,
} from './sdk/orchestration-context.js';
export { MAX_TAGS, MAX_TAG_KEY_LENGTH, MAX_TAG_VALUE_LENGTH } from './sdk/tags.js';
export type { InstanceTags } from './sdk/tags.js';
export type { Logger, LogFields } from './sdk/logger.js';
export { silentLogger } from './sdk/logger.js';
export {
  DuraflowError,
  TaskFailedError,
  NonDeterministicOrchestrationError,
  InstanceNotFoundError,
  InvalidInstanceStateError,
  InstanceAlreadyExistsError,
  UnknownFunctionError,
  PayloadTooLargeError,
  SerializationError,
  ValidationError,
  VersionMismatchError,
  LeaseLostError,
  LockingRulesViolationError,
  ActivityTimeoutError,
  EntityOperationTimeoutError,
  StoreError,
  ScheduleNotFoundError,
  ScheduleAlreadyExistsError,
} from './sdk/errors.js';
export type { StoreErrorReason } from './sdk/errors.js';
export { createClient } from './client/create-client.js';
export { HttpClientError } from './client/http-client.js';
export type { CreateClientOptions } from './client/create-client.js';
export { OrchestrationRuntimeStatus } from './sdk/durable-client.js';
export type {
  DurableClient,
  DurableOrchestrationStatus,
  GetStatusOptions,
  HttpManagementPayload,
  InstancePage,
  ListInstancesQuery,
  OrchestrationFilter,
  PurgeHistoryResult,
  PurgeInstanceOptions,
  TerminateInstanceOptions,
  StartNewOptions,
  CleanEntityStorageOptions,
  CleanEntityStorageResult,
  DurableEntityStatus,
  EntityPage,
  EntityStateResponse,
  ListEntitiesQuery,
} from './sdk/durable-client.js';
export type {
  CreateScheduleOptions,
  ScheduleChanges,
  ScheduleDescription,
  ScheduleOptions,
  ScheduleOverlapPolicy,
  ScheduleRun,
  ScheduleRunOutcome,
  ScheduleState,
} from './sdk/schedule.js';
export type { FailureDetails, HistoryEvent, HistoryEventType, RuntimeStatus, TraceContext } from './sdk/history.js';
export { exportInstance, exportInstances } from './client/instance-export.js';
export type { ExportOptions } from './client/instance-export.js';
export { parseExport, EXPORT_FORMAT } from './sdk/instance-export.js';
export type { ExportedInstance } from './sdk/instance-export.js';
export type { WorkerOptions } from './runtime/worker.js';
export type { TokenProvider } from './runtime/http-activity.js';
