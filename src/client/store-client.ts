/**
 * The durable client over a store: what `createClient({ store })`, `host.client` and route handlers use.
 */
import { checkDebounce, checkPriority, flowLimitsFor } from '../sdk/flow-control.js';
import { randomUUID } from 'node:crypto';
import { isTerminalStatus, makeEvent, type HistoryEvent, type RuntimeStatus, type TraceContext } from '../sdk/history.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, deserialize, serialize } from '../core/payload.js';
import { InstanceNotFoundError, InvalidInstanceStateError, UnknownFunctionError, ValidationError } from '../sdk/errors.js';
import type { Registry } from '../sdk/registry.js';
import { ANY_NAME, type HubStore, type InstanceRecord, type Store } from '../store/store.js';
import { startInstanceRequest } from '../store/start-request.js';
import { purgeTree } from '../store/instance-tree.js';
import { recursiveOption } from '../sdk/tree-options.js';
import { defaultStartVersion, startVersion } from '../sdk/start-version.js';
import { withStartSpan } from './start-span.js';
import { reserveLocalStart } from '../store/local-starts.js';
import { checkStatusResponse, managementPayload, originOf, waitForCompletionOrCheckStatus } from './http-management.js';
import * as entities from './store-entities.js';
import { CompletionWaiters } from './completion-waiters.js';
import * as schedules from './store-schedules.js';
import type { CreateScheduleOptions, ScheduleChanges, ScheduleDescription } from '../sdk/schedule.js';
import type { EntityId } from '../sdk/entity-id.js';
import type { SignalEntityOptions } from '../sdk/entity-context.js';
import type {
  DurableClient,
  DurableOrchestrationStatus,
  GetStatusOptions,
  HttpManagementPayload,
  InstancePage,
  ListInstancesQuery,
  OrchestrationFilter,
  OrchestrationName,
  PurgeHistoryResult,
  PurgeInstanceOptions,
  TerminateInstanceOptions,
  StartNewOptions,
  CleanEntityStorageOptions,
  CleanEntityStorageResult,
  EntityPage,
  EntityStateResponse,
  ListEntitiesQuery,
} from '../sdk/durable-client.js';
import { validateInstanceId } from '../sdk/instance-id.js';
import { checkTags, type InstanceTags } from '../sdk/tags.js';

const RUNTIME_STATUSES = new Set<string>(['Running', 'Completed', 'ContinuedAsNew', 'Failed', 'Canceled', 'Terminated', 'Pending', 'Suspended']);

/** Settings of a {@link StoreClient}. */
export interface StoreClientOptions {
  store: Store;
  taskHub: string;
  /** The app's own functions, accepted even before any worker registered them. */
  registry?: Registry;
  /** The app's `versioning.defaultVersion`, stamped on starts that name no version. */
  defaultVersion?: string;
  maxPayloadBytes?: number;
  /** Origin used in management URLs when no request gives one (default http://127.0.0.1:7071). */
  baseUrl?: string;
  apiKey?: string;
  /** Called by `close()` (releases a store the client opened itself). */
  onClose?: () => Promise<void>;
  /** Clock for event timestamps (the test host passes its virtual one); waits still use real time. */
  clock?: () => number;
}

/** A {@link DurableClient} that reads and writes the store directly. */
export class StoreClient implements DurableClient {
  readonly taskHub: string;
  readonly #hub: HubStore;
  readonly #limit: number;
  readonly #waiters: CompletionWaiters;

  constructor(private readonly options: StoreClientOptions) {
    this.taskHub = options.taskHub;
    this.#hub = options.store.hub(options.taskHub);
    this.#waiters = new CompletionWaiters(options.store, options.taskHub, (id) => this.#hub.getInstance(id));
    this.#limit = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  }

  async startNew(name: OrchestrationName, options: StartNewOptions = {}): Promise<string> {
    const orchestration = typeof name === 'string' ? name : name?.name;
    if (typeof orchestration !== 'string' || orchestration.length === 0) {
      throw new ValidationError('startNew needs an orchestration name or reference.');
    }
    await this.#checkServed(orchestration);
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    validateInstanceId(instanceId);
    if (options.version !== undefined && typeof options.version !== 'string') throw new ValidationError('version must be a string.');
    const tags = checkTags(options.tags);
    const priority = checkPriority(options.priority);
    const debounce = checkDebounce(options.debounce, options.instanceId);
    const input = serialize(options.input, `input of orchestration '${orchestration}'`, this.#limit);
    const version = await this.#versionOf(orchestration, options.version ?? (typeof name === 'string' ? undefined : name.version));
    return await withStartSpan({ name: orchestration, instanceId, version, parent: options.traceContext }, (traceContext) =>
      this.#start(orchestration, instanceId, input, version, tags, traceContext, priority, debounce),
    );
  }

  /** The version of a start (see `start-version.ts`). */
  #versionOf(name: string, explicit: string | undefined): Promise<string | undefined> {
    return startVersion(name, explicit, this.#versionSources());
  }

  /** The version a start of `name` that names none gets here (for starts that do not go through `startNew`). */
  defaultVersionFor(name: string): Promise<string | undefined> {
    return defaultStartVersion(name, this.#versionSources());
  }

  #versionSources() {
    return { registry: this.options.registry, defaultVersion: this.options.defaultVersion, served: () => this.#hub.getRegisteredNames() };
  }

  async #checkServed(name: string): Promise<void> {
    if (name.startsWith('@')) throw new ValidationError(`Orchestration names may not start with '@': '${name}'.`);
    if (this.options.registry?.hasOrchestration(name)) return;
    const served = await this.#hub.getRegisteredNames();
    if (!served) return; // no worker has registered yet: the start waits for one
    if (!served.orchestrations.includes(name) && !served.orchestrations.includes(ANY_NAME)) {
      const names = new Set([...served.orchestrations, ...(this.options.registry?.orchestrationNames() ?? [])]);
      throw new UnknownFunctionError('orchestration', name, [...names].sort());
    }
  }

  /**
   * Creates the instance (answers its id); a worker in this process that serves `name` may take it leased (see
   * `local-starts.ts`). A debounced start may answer the id of the waiting instance it updated instead.
   */
  async #start(
    name: string,
    instanceId: string,
    input: string | undefined,
    version: string | undefined,
    tags: InstanceTags | undefined,
    traceContext?: TraceContext,
    priority?: number,
    debounce?: { key: string; delayMs: number },
  ): Promise<string> {
    const request = startInstanceRequest({ name, instanceId, input, version, tags, traceContext }, this.#now());
    if (priority) request.priority = priority;
    // The key of a flow-controlled orchestration is computed here, at its start (a failing key function: nothing stored).
    const flow = flowLimitsFor(this.options.registry?.orchestrationFlow.get(name), input, `orchestration '${name}'`);
    if (flow) request.flow = flow;
    if (debounce) return (await this.#hub.debounceStart(request, debounce.key, debounce.delayMs)).instanceId;
    const reservation = reserveLocalStart(this.options.store, this.taskHub, name, version);
    // An idle worker here commits the start with its first episode; else the start is written on its own.
    if (reservation?.fuse && (await reservation.fuse(request))) return instanceId;
    let item;
    try {
      item = await this.#hub.createInstance(request, reservation?.lease);
    } catch (error) {
      reservation?.cancel();
      throw error;
    }
    if (item) reservation!.take(item);
    else reservation?.cancel();
    return instanceId;
  }

  async getStatus(instanceId: string, options: GetStatusOptions = {}): Promise<DurableOrchestrationStatus | undefined> {
    checkId(instanceId);
    const record = await this.#hub.getInstance(instanceId);
    if (!record) return undefined;
    const status = toStatus(record, options.showInput ?? true);
    if (options.showHistory) {
      const history = await this.#hub.getHistory(instanceId);
      status.history = history.map((e) => projectEvent(e, options.showHistoryOutput ?? false, options.showInput ?? true));
    }
    return status;
  }

  async getStatusAll(): Promise<DurableOrchestrationStatus[]> {
    return this.getStatusBy({});
  }

  async getStatusBy(filter: OrchestrationFilter): Promise<DurableOrchestrationStatus[]> {
    const all: DurableOrchestrationStatus[] = [];
    let continuationToken: string | undefined;
    do {
      const page: InstancePage = await this.listInstances({ ...filter, pageSize: 1000, ...(continuationToken ? { continuationToken } : {}) });
      all.push(...page.instances);
      continuationToken = page.continuationToken;
    } while (continuationToken);
    return all;
  }

  async listInstances(query: ListInstancesQuery = {}): Promise<InstancePage> {
    checkFilter(query);
    const page = await this.#hub.queryInstances(query);
    const instances = page.instances.map((r) => toStatus(r, query.showInput ?? true));
    return page.continuationToken ? { instances, continuationToken: page.continuationToken } : { instances };
  }

  async waitForCompletion(instanceId: string, options: { timeoutInMilliseconds?: number } = {}): Promise<DurableOrchestrationStatus> {
    checkId(instanceId);
    const deadline = Date.now() + (options.timeoutInMilliseconds ?? Number.POSITIVE_INFINITY);
    return toStatus(await this.#waiters.wait(instanceId, deadline), true);
  }

  async raiseEvent(instanceId: string, eventName: string, eventData?: unknown): Promise<void> {
    if (typeof eventName !== 'string' || eventName.length === 0) throw new ValidationError('An event name must be a non-empty string.');
    checkId(instanceId);
    const input = serialize(eventData, `data of event '${eventName}'`, this.#limit);
    const event = makeEvent({ eventType: 'EventRaised', name: eventName, ...(input !== undefined ? { input } : {}) }, this.#now());
    await this.#sendToLive(instanceId, event, (status) => `Cannot raise event '${eventName}': instance '${instanceId}' is ${status}.`);
  }

  /** Terminates `instanceId`; with `recursive`, its running sub-orchestrations too (and theirs). */
  async terminate(instanceId: string, reason?: string, options?: TerminateInstanceOptions): Promise<void> {
    checkId(instanceId);
    const recursive = recursiveOption(options, 'terminate');
    const input = serialize(reason, 'termination reason', this.#limit);
    // The runtime passes a recursive termination on to the children of every execution (terminationTargets).
    const event = makeEvent({ eventType: 'ExecutionTerminated', ...(input !== undefined ? { input } : {}), ...(recursive ? { recurse: true } : {}) }, this.#now());
    await this.#sendToLive(instanceId, event, refused(instanceId, 'terminate'));
  }

  async suspend(instanceId: string, reason?: string): Promise<void> {
    checkId(instanceId);
    await this.#sendToLive(instanceId, makeEvent({ eventType: 'ExecutionSuspended', ...(reason !== undefined ? { reason } : {}) }, this.#now()), refused(instanceId, 'suspend'));
  }

  async resume(instanceId: string, reason?: string): Promise<void> {
    checkId(instanceId);
    await this.#sendToLive(instanceId, makeEvent({ eventType: 'ExecutionResumed', ...(reason !== undefined ? { reason } : {}) }, this.#now()), refused(instanceId, 'resume'));
  }


  async rewind(instanceId: string, reason?: string): Promise<void> {
    const record = await this.#require(instanceId);
    const refuse = (status: string) =>
      new InvalidInstanceStateError(instanceId, status, `Only failed instances can be rewound; '${instanceId}' is ${status}.`);
    if (record.status !== 'Failed') throw refuse(record.status);
    const event = makeEvent({ eventType: 'ExecutionRewound', ...(reason !== undefined ? { reason } : {}) }, this.#now());
    // Atomically Pending + the rewind message: from now on no reader takes the old failure as final.
    if (!(await this.#hub.requestRewind(instanceId, { instanceId, event }))) {
      throw refuse((await this.#hub.getInstance(instanceId))?.status ?? 'gone');
    }
  }

  async restart(instanceId: string, options: { restartWithNewInstanceId?: boolean } = {}): Promise<string> {
    const record = await this.#require(instanceId);
    const newId = options.restartWithNewInstanceId ?? true ? randomUUID().replace(/-/g, '') : instanceId;
    // A restart is a new instance: it gets the version a start gets now, not the old one's; it keeps the tags.
    await this.#start(record.name, newId, record.input, await this.#versionOf(record.name, undefined), record.tags);
    return newId;
  }

  /** Purges a finished instance; with `recursive`, the finished instances of its tree too (see {@link purgeTree}). */
  async purgeInstanceHistory(instanceId: string, options?: PurgeInstanceOptions): Promise<PurgeHistoryResult> {
    checkId(instanceId);
    const recursive = recursiveOption(options, 'purgeInstanceHistory');
    const record = await this.#hub.getInstance(instanceId);
    if (!record) return { instancesDeleted: 0 };
    // A running root is refused with or without recursive, as a purge of any running instance is.
    if (!isTerminalStatus(record.status)) {
      throw new InvalidInstanceStateError(instanceId, record.status, `Cannot purge instance '${instanceId}' while it is ${record.status}; terminate it first.`);
    }
    return { instancesDeleted: recursive ? await purgeTree(this.#hub, instanceId) : await this.#hub.purgeInstances({ instanceId }) };
  }

  async purgeInstanceHistoryBy(filter: OrchestrationFilter): Promise<PurgeHistoryResult> {
    checkFilter(filter);
    return { instancesDeleted: await this.#hub.purgeInstances(filter) };
  }

  createHttpManagementPayload(instanceId: string): HttpManagementPayload {
    return managementPayload(this.#location(undefined), instanceId);
  }

  createCheckStatusResponse(request: Request | undefined, instanceId: string): Response {
    return checkStatusResponse(managementPayload(this.#location(request), instanceId));
  }

  async waitForCompletionOrCreateCheckStatusResponse(
    request: Request | undefined,
    instanceId: string,
    options: { timeoutInMilliseconds?: number; retryIntervalInMilliseconds?: number } = {},
  ): Promise<Response> {
    return waitForCompletionOrCheckStatus(this, this.#location(request), instanceId, options);
  }

  #now(): Date {
    return new Date(this.options.clock ? this.options.clock() : Date.now());
  }

  signalEntity(entityId: EntityId, operationName: string, input?: unknown, options?: SignalEntityOptions): Promise<void> {
    return entities.signalEntity(this.#entities(), entityId, operationName, input, options);
  }

  readEntityState<T = any>(entityId: EntityId): Promise<EntityStateResponse<T>> {
    return entities.readEntityState<T>(this.#entities(), entityId);
  }

  listEntities(query?: ListEntitiesQuery): Promise<EntityPage> {
    return entities.listEntities(this.#entities(), query);
  }

  cleanEntityStorage(options?: CleanEntityStorageOptions): Promise<CleanEntityStorageResult> {
    return entities.cleanEntityStorage(this.#entities(), options);
  }

  #entities(): entities.EntityClientContext {
    return { hub: this.#hub, maxPayloadBytes: this.#limit, ...(this.options.registry ? { registry: this.options.registry } : {}) };
  }

  createSchedule(options: CreateScheduleOptions): Promise<ScheduleDescription> {
    return schedules.createSchedule(this.#schedules(), options);
  }

  getSchedule(scheduleId: string): Promise<ScheduleDescription | undefined> {
    return schedules.getSchedule(this.#schedules(), scheduleId);
  }

  listSchedules(): Promise<ScheduleDescription[]> {
    return schedules.listSchedules(this.#schedules());
  }

  pauseSchedule(scheduleId: string, reason?: string): Promise<ScheduleDescription> {
    return schedules.pauseSchedule(this.#schedules(), scheduleId, reason);
  }

  resumeSchedule(scheduleId: string): Promise<ScheduleDescription> {
    return schedules.resumeSchedule(this.#schedules(), scheduleId);
  }

  triggerSchedule(scheduleId: string): Promise<string> {
    return schedules.triggerSchedule(this.#schedules(), scheduleId);
  }

  updateSchedule(scheduleId: string, changes: ScheduleChanges): Promise<ScheduleDescription> {
    return schedules.updateSchedule(this.#schedules(), scheduleId, changes);
  }

  deleteSchedule(scheduleId: string): Promise<void> {
    return schedules.deleteSchedule(this.#schedules(), scheduleId);
  }

  #schedules(): schedules.ScheduleClientContext {
    return {
      hub: this.#hub,
      registry: this.options.registry,
      maxPayloadBytes: this.#limit,
      now: () => this.#now().getTime(),
      versionFor: (name, explicit) => this.#versionOf(name, explicit),
    };
  }

  async close(): Promise<void> {
    await this.options.onClose?.();
  }

  #location(request: Request | undefined) {
    return {
      origin: originOf(request, this.options.baseUrl ?? 'http://127.0.0.1:7071'),
      taskHub: this.taskHub,
      ...(this.options.apiKey ? { apiKey: this.options.apiKey } : {}),
    };
  }

  async #require(instanceId: string): Promise<InstanceRecord> {
    checkId(instanceId);
    const record = await this.#hub.getInstance(instanceId);
    if (!record) throw new InstanceNotFoundError(instanceId);
    return record;
  }

  /** Sends `event` to a live instance in one write (no read first); a missing or terminal instance is refused. */
  async #sendToLive(instanceId: string, event: HistoryEvent, message: (status: RuntimeStatus) => string): Promise<void> {
    const status = await this.#hub.sendToLiveInstance({ instanceId, event });
    if (status === undefined) throw new InstanceNotFoundError(instanceId);
    if (isTerminalStatus(status)) throw new InvalidInstanceStateError(instanceId, status, message(status));
  }
}

/** The refusal of `operation` on an instance that already ended. */
function refused(instanceId: string, operation: string): (status: RuntimeStatus) => string {
  return (status) => `Cannot ${operation} instance '${instanceId}': it is already ${status}.`;
}

function checkId(instanceId: unknown): void {
  if (typeof instanceId !== 'string' || instanceId.length === 0) throw new ValidationError('An instance id must be a non-empty string.');
}

function checkFilter(filter: OrchestrationFilter): void {
  for (const key of ['createdTimeFrom', 'createdTimeTo'] as const) {
    const value = filter[key];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) throw new ValidationError(`${key} must be a valid Date.`);
  }
  for (const status of filter.runtimeStatus ?? []) {
    if (!RUNTIME_STATUSES.has(status)) throw new ValidationError(`Unknown runtime status '${status}'.`);
  }
  if (filter.version !== undefined && typeof filter.version !== 'string') throw new ValidationError('version must be a string.');
  checkTags(filter.tags, 'tags filter');
}

/** Maps a stored record to the public status. */
export function toStatus(record: InstanceRecord, showInput: boolean): DurableOrchestrationStatus {
  const status: DurableOrchestrationStatus = {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.status as RuntimeStatus,
    ...(record.version !== undefined ? { version: record.version } : {}),
    createdTime: record.createdAt,
    lastUpdatedTime: record.lastUpdatedAt,
    ...(record.tags ? { tags: record.tags } : {}),
    ...(record.flow ? { flowControl: record.flow } : {}),
    ...(record.priority !== undefined ? { priority: record.priority } : {}),
  };
  if (showInput && record.input !== undefined) status.input = deserialize(record.input);
  if (record.customStatus !== undefined) status.customStatus = deserialize(record.customStatus);
  if (record.status === 'Failed' && record.failureDetails) {
    status.output = `Orchestrator function '${record.name}' failed: ${record.failureDetails.message}`;
    status.failureDetails = record.failureDetails;
  } else if (record.output !== undefined) {
    status.output = deserialize(record.output);
  }
  return status;
}

/** A history event as the client shows it: results only with `showHistoryOutput`, inputs only with `showInput`. */
function projectEvent(event: HistoryEvent, showOutput: boolean, showInput: boolean): HistoryEvent {
  if (showOutput && showInput) return event;
  const copy = { ...event } as Record<string, unknown>;
  if (!showOutput) delete copy['result'];
  if (!showInput) delete copy['input'];
  return copy as unknown as HistoryEvent;
}
