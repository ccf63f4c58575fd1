/** Public types of the durable client (the same whether it talks to a store or to the HTTP API). */
import type { FailureDetails, HistoryEvent, RuntimeStatus, TraceContext } from './history.js';
import type { EntityId } from './entity-id.js';
import type { SignalEntityOptions } from './entity-context.js';
import type { OrchestrationRef } from './orchestration-context.js';
import type { InstanceTags } from './tags.js';
import type { CreateScheduleOptions, ScheduleChanges, ScheduleDescription } from './schedule.js';

/** Runtime statuses as string constants (`OrchestrationRuntimeStatus.Completed === 'Completed'`). */
export const OrchestrationRuntimeStatus = {
  Running: 'Running',
  Completed: 'Completed',
  ContinuedAsNew: 'ContinuedAsNew',
  Failed: 'Failed',
  Canceled: 'Canceled',
  Terminated: 'Terminated',
  Pending: 'Pending',
  Suspended: 'Suspended',
} as const satisfies Record<RuntimeStatus, RuntimeStatus>;
/** One of the runtime status strings. */
export type OrchestrationRuntimeStatus = RuntimeStatus;

/** What a client reports about an instance. */
export interface DurableOrchestrationStatus {
  name: string;
  instanceId: string;
  runtimeStatus: OrchestrationRuntimeStatus;
  /** The instance's version (`ctx.version`), when it has one. */
  version?: string;
  input?: unknown;
  /** The return value (Completed), the failure message (Failed) or the reason (Terminated). */
  output?: unknown;
  customStatus?: unknown;
  createdTime: Date;
  lastUpdatedTime: Date;
  /** History of the current execution (with `showHistory`). */
  history?: HistoryEvent[];
  failureDetails?: FailureDetails;
  /** The instance's tags, when it has any (see {@link StartNewOptions.tags}). */
  tags?: InstanceTags;
  /**
   * The flow control it was started with (its registration's `concurrency`/`rateLimit` with the computed keys),
   * when any: a `Pending` instance with one may be waiting for its key's slot or rate. Store clients only.
   */
  flowControl?: { concurrency?: { key: string; limit: number }; rate?: { key: string; limit: number; periodMs: number } };
  /** Its start's priority, when not 0 (store clients only). */
  priority?: number;
}

/** Options of `startNew`. */
export interface StartNewOptions {
  /** Defaults to a random 32-character hex id. */
  instanceId?: string;
  input?: unknown;
  /**
   * The instance's version (`ctx.version`). Without one: a versioned reference's, else the app's
   * `versioning.defaultVersion`, else the newest version registered for the name; `''` starts it without a version.
   */
  version?: string;
  /**
   * String key/value pairs stored with the instance, returned on `status.tags` and usable as a listing filter
   * (`listInstances({ tags })`); kept through continue-as-new, inherited by sub-orchestrations. At most 32 tags,
   * keys 1-128 characters, values up to 1024 (see `sdk/tags.ts`); anything else is a `ValidationError`.
   */
  tags?: InstanceTags;
  /**
   * The W3C trace context the instance's trace continues (an incoming `traceparent`); default: the active
   * OpenTelemetry span, if any. The HTTP API takes it from the request's `traceparent` header.
   */
  traceContext?: TraceContext;
  /**
   * An integer: among this name's waiting starts, higher ones are claimed first; FIFO within a priority; other names
   * take turns with it (default 0).
   */
  priority?: number;
  /**
   * Debounce: while an instance of this name started with the same `key` still waits for its start (it starts
   * `delayMs` after the first such call), this start replaces that instance's input instead of starting another, and
   * answers its id. Not with `instanceId` (the debounce picks the instance). `key`: a non-empty string;
   * `delayMs`: an integer ≥ 1.
   */
  debounce?: { key: string; delayMs: number };
}

/** Options of `getStatus`. */
export interface GetStatusOptions {
  showHistory?: boolean;
  /** Include results in history events (default false). */
  showHistoryOutput?: boolean;
  /** Include the input (default true). */
  showInput?: boolean;
}

/** Filters of instance listings and purges. */
export interface OrchestrationFilter {
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  runtimeStatus?: OrchestrationRuntimeStatus[];
  instanceIdPrefix?: string;
  /** Only instances of this version (compared as `compareVersions`: `V1` is `v1`); `''` for those without one. */
  version?: string;
  /** Only instances that carry every one of these tags (same key, exactly the same value). */
  tags?: InstanceTags;
}

/** A page request of `listInstances`. */
export interface ListInstancesQuery extends OrchestrationFilter {
  pageSize?: number;
  continuationToken?: string;
  showInput?: boolean;
}

/** A page of `listInstances`. */
export interface InstancePage {
  instances: DurableOrchestrationStatus[];
  continuationToken?: string;
}

/** Result of a purge. */
export interface PurgeHistoryResult {
  instancesDeleted: number;
}

/** Options of `terminate` (Durable Task's `TerminateInstanceOptions`). */
export interface TerminateInstanceOptions {
  /**
   * Terminate the instance's sub-orchestrations that are still running too, and theirs — those started by any of
   * its executions, also before a continue-as-new, and those below a child that has finished already (default false).
   */
  recursive?: boolean;
}

/** Options of `purgeInstanceHistory` (Durable Task's `PurgeInstanceOptions`). */
export interface PurgeInstanceOptions {
  /**
   * Purge the instance's finished sub-orchestrations too, and theirs (those of every execution); one still running
   * is kept, while its own finished descendants are purged (default false).
   */
  recursive?: boolean;
}

/** The management URLs of an instance (Durable Functions' `HttpManagementPayload`). */
export interface HttpManagementPayload {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  rewindPostUri: string;
  purgeHistoryDeleteUri: string;
  restartPostUri: string;
  suspendPostUri: string;
  resumePostUri: string;
}

/** What `readEntityState` reports. */
export interface EntityStateResponse<T = any> {
  /** False for an entity that never had state or whose state was deleted. */
  entityExists: boolean;
  /** The state (decoded JSON); `undefined` when the entity does not exist. */
  entityState: T | undefined;
}

/** A page request of `listEntities`. */
export interface ListEntitiesQuery {
  /** Only entities of this name (case-insensitive). */
  entityName?: string;
  /** Only entities whose name starts with this text (case-insensitive). */
  entityNamePrefix?: string;
  /** Only entities whose last operation was at or after this time. */
  lastOperationTimeFrom?: Date;
  /** Only entities whose last operation was at or before this time. */
  lastOperationTimeTo?: Date;
  /** Include each entity's state (default false). */
  fetchState?: boolean;
  /** Include entities that have no state (default false: deleted entities are not listed). */
  includeDeleted?: boolean;
  /** Entities per page (default 100, at most 1000). */
  pageSize?: number;
  continuationToken?: string;
}

/** One entity in a listing. */
export interface DurableEntityStatus {
  entityId: EntityId;
  /** Time of the entity's last processed operation. */
  lastOperationTime: Date;
  /** The state, with `fetchState`. */
  state?: unknown;
}

/** A page of `listEntities`. */
export interface EntityPage {
  entities: DurableEntityStatus[];
  continuationToken?: string;
}

/** Options of `cleanEntityStorage`. */
export interface CleanEntityStorageOptions {
  /** Delete entities that have no state, no lock and nothing waiting (default true). */
  removeEmptyEntities?: boolean;
  /** Release locks held by orchestrations that are no longer running (default true). */
  releaseOrphanedLocks?: boolean;
}

/** What `cleanEntityStorage` did. */
export interface CleanEntityStorageResult {
  numberOfEmptyEntitiesRemoved: number;
  numberOfOrphanedLocksRemoved: number;
}

/** A name or a typed orchestration reference. */
export type OrchestrationName = string | OrchestrationRef;

/** Starts, queries and steers orchestration instances. */
export interface DurableClient {
  readonly taskHub: string;
  startNew(name: OrchestrationName, options?: StartNewOptions): Promise<string>;
  getStatus(instanceId: string, options?: GetStatusOptions): Promise<DurableOrchestrationStatus | undefined>;
  /** Every instance (all pages). */
  getStatusAll(): Promise<DurableOrchestrationStatus[]>;
  /** Every instance matching the filter (all pages). */
  getStatusBy(filter: OrchestrationFilter): Promise<DurableOrchestrationStatus[]>;
  listInstances(query?: ListInstancesQuery): Promise<InstancePage>;
  /** Resolves when the instance is Completed, Failed, Terminated or Canceled, or with its status at the timeout. */
  waitForCompletion(instanceId: string, options?: { timeoutInMilliseconds?: number }): Promise<DurableOrchestrationStatus>;
  raiseEvent(instanceId: string, eventName: string, eventData?: unknown): Promise<void>;
  /**
   * Ends a running instance as Terminated with `reason` as its output; with `{ recursive: true }` its running
   * sub-orchestrations (and theirs) are terminated with the same reason. An unknown instance is an
   * `InstanceNotFoundError`, a finished one an `InvalidInstanceStateError`; a `recursive` that is not a boolean a
   * `ValidationError` (nothing is sent then).
   */
  terminate(instanceId: string, reason?: string, options?: TerminateInstanceOptions): Promise<void>;
  suspend(instanceId: string, reason?: string): Promise<void>;
  resume(instanceId: string, reason?: string): Promise<void>;
  rewind(instanceId: string, reason?: string): Promise<void>;
  restart(instanceId: string, options?: { restartWithNewInstanceId?: boolean }): Promise<string>;
  /**
   * Deletes a finished instance with its history → `{ instancesDeleted }` (0 for an unknown one); a running one is an
   * `InvalidInstanceStateError`, also with `{ recursive: true }`, which deletes the finished instances of its
   * tree (sub-orchestrations of every execution, and theirs) with it and counts them all. A `recursive` that is not
   * a boolean is a `ValidationError` (nothing is deleted then).
   */
  purgeInstanceHistory(instanceId: string, options?: PurgeInstanceOptions): Promise<PurgeHistoryResult>;
  purgeInstanceHistoryBy(filter: OrchestrationFilter): Promise<PurgeHistoryResult>;
  createHttpManagementPayload(instanceId: string): HttpManagementPayload;
  createCheckStatusResponse(request: Request | undefined, instanceId: string): Response;
  waitForCompletionOrCreateCheckStatusResponse(
    request: Request | undefined,
    instanceId: string,
    options?: { timeoutInMilliseconds?: number; retryIntervalInMilliseconds?: number },
  ): Promise<Response>;
  /** Sends a one-way operation to an entity (optionally delivered later, at `scheduledTime`). */
  signalEntity(entityId: EntityId, operationName: string, input?: unknown, options?: SignalEntityOptions): Promise<void>;
  /** Reads an entity's state. */
  readEntityState<T = any>(entityId: EntityId): Promise<EntityStateResponse<T>>;
  /** Lists entities, a page at a time. */
  listEntities(query?: ListEntitiesQuery): Promise<EntityPage>;
  /** Deletes empty entities and releases locks of orchestrations that ended without releasing them. */
  cleanEntityStorage(options?: CleanEntityStorageOptions): Promise<CleanEntityStorageResult>;
  /**
   * Creates a schedule (an orchestration started at the times of a cron expression, or every so many ms). A bad
   * cron, time zone, `every` or an orchestration no worker serves is a `ValidationError`, a taken id a
   * `ScheduleAlreadyExistsError`; nothing is stored then.
   */
  createSchedule(options: CreateScheduleOptions): Promise<ScheduleDescription>;
  /** The schedule, or undefined. */
  getSchedule(scheduleId: string): Promise<ScheduleDescription | undefined>;
  /** Every schedule of the task hub, by id. */
  listSchedules(): Promise<ScheduleDescription[]>;
  /** Stops starting runs (the running ones go on) until `resumeSchedule`. */
  pauseSchedule(scheduleId: string, reason?: string): Promise<ScheduleDescription>;
  /** Starts runs again from the next due time (times that passed while paused do not run). */
  resumeSchedule(scheduleId: string): Promise<ScheduleDescription>;
  /** Starts a run now (also while paused, whatever the overlap policy); answers its instance id. */
  triggerSchedule(scheduleId: string): Promise<string>;
  /** Replaces the given fields; a new timing counts due times from now. */
  updateSchedule(scheduleId: string, changes: ScheduleChanges): Promise<ScheduleDescription>;
  /** Deletes the schedule (its instances stay); a `ScheduleNotFoundError` when there is none. */
  deleteSchedule(scheduleId: string): Promise<void>;
  /** Releases connections the client owns. */
  close(): Promise<void>;
}
