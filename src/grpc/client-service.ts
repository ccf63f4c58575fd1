/**
 * The client half of TaskHubSidecarService: starting, querying and steering instances and entities of one task
 * hub. Payloads arrive as JSON text and are stored as they are (after a check that they are JSON and within the
 * size limit); everything else goes through the same store client the HTTP API uses.
 */
import { fromPbTrace } from './trace-mapping.js';
import type { PbTraceContext } from './proto-types.js';
import { randomUUID } from 'node:crypto';
import { isTerminalStatus, makeEvent, type RuntimeStatus } from '../sdk/history.js';
import { ENTITY_REQUEST_EVENT, type EntityRequest } from '../core/entity-messages.js';
import { parseSchedulerState } from '../core/entity-scheduler.js';
import { checkPayloadSize } from '../core/payload.js';
import type { StoreClient } from '../client/store-client.js';
import { InstanceAlreadyExistsError, InstanceNotFoundError, InvalidInstanceStateError, ValidationError } from '../sdk/errors.js';
import type { HubStore, InstanceRecord, Store } from '../store/store.js';
import { HistoryTranslator, fromPbStatus, fromPbString, fromPbTimestamp, pbFailure, pbStatus, pbString, pbTimestamp } from './history-mapping.js';
import type { PbEntityMetadata, PbHistoryEvent, PbOrchestrationState, PbString, PbTimestamp } from './proto-types.js';
import { startInstanceRequest } from '../store/start-request.js';
import { validateInstanceId } from '../sdk/instance-id.js';
import { checkVersion } from '../sdk/versioning.js';
import { checkTags } from '../sdk/tags.js';
import { replaceableStatuses, requestEntityId } from './request-checks.js';
import { purgeTree } from '../store/instance-tree.js';

/** What the client calls of one hub need. */
export interface ClientContext {
  store: Store;
  hubName: string;
  hub: HubStore;
  client: StoreClient;
  maxPayloadBytes: number;
}

/** Request shapes (as decoded). */
interface CreateInstanceRequest {
  instanceId?: string;
  name?: string;
  version?: PbString;
  input?: PbString;
  scheduledStartTimestamp?: PbTimestamp;
  orchestrationIdReusePolicy?: { replaceableStatus?: number[] };
  tags?: Record<string, string>;
  /** The SDK client's `create_orchestration` span: the instance's trace continues it. */
  parentTraceContext?: PbTraceContext;
}
interface InstanceFilterRequest {
  runtimeStatus?: number[];
  createdTimeFrom?: PbTimestamp;
  createdTimeTo?: PbTimestamp;
}

/** `StartInstance`: creates an instance (honouring the id reuse policy and a scheduled start time). */
export async function startInstance(ctx: ClientContext, request: CreateInstanceRequest): Promise<{ instanceId: string }> {
  const name = request.name ?? '';
  if (!name) throw new ValidationError('StartInstance needs an orchestration name.');
  if (name.startsWith('@')) throw new ValidationError(`Orchestration names may not start with '@': '${name}'.`);
  const instanceId = request.instanceId || randomUUID().replace(/-/g, '');
  validateInstanceId(instanceId);
  const input = jsonText(request.input, `input of orchestration '${name}'`, ctx.maxPayloadBytes);
  const explicit = fromPbString(request.version);
  // The SDKs send "" for "no version": such a start gets the version any start gets (see client/start-version.ts).
  const version = explicit !== undefined ? checkVersion(explicit, 'version') : await ctx.client.defaultVersionFor(name);
  const scheduled = fromPbTimestamp(request.scheduledStartTimestamp);
  const tags = checkTags(request.tags);
  const policy = request.orchestrationIdReusePolicy?.replaceableStatus;
  if (policy) await applyReusePolicy(ctx, instanceId, replaceableStatuses(policy));
  const traceContext = fromPbTrace(request.parentTraceContext);
  await ctx.hub.createInstance(startInstanceRequest({ name, instanceId, input, version, scheduledStartTime: scheduled, tags, traceContext }, new Date()));
  return { instanceId };
}

/**
 * DTFx's reuse policy: an existing instance whose status is listed may be replaced (a live one is terminated
 * first); any other existing instance makes the start fail.
 */
async function applyReusePolicy(ctx: ClientContext, instanceId: string, replaceable: RuntimeStatus[]): Promise<void> {
  const existing = await ctx.hub.getInstance(instanceId);
  if (!existing) return;
  if (!replaceable.includes(existing.status)) throw new InstanceAlreadyExistsError(instanceId, existing.status);
  if (isTerminalStatus(existing.status)) return;
  await ctx.client.terminate(instanceId, 'Replaced by a new instance with the same id (reuse policy).');
  const status = await ctx.client.waitForCompletion(instanceId, { timeoutInMilliseconds: 30_000 });
  if (!isTerminalStatus(status.runtimeStatus)) throw new InstanceAlreadyExistsError(instanceId, status.runtimeStatus);
}

/** `GetInstance`. */
export async function getInstance(ctx: ClientContext, instanceId: string | undefined, withPayloads: boolean): Promise<{ exists: boolean; orchestrationState?: PbOrchestrationState }> {
  const record = await ctx.hub.getInstance(checkId(instanceId));
  return record ? { exists: true, orchestrationState: orchestrationState(record, withPayloads) } : { exists: false };
}

/**
 * `WaitForInstanceStart` / `WaitForInstanceCompletion`: a long poll until `done(status)`, woken by store notices
 * (polling covers other processes), that ends when the caller cancels (or its deadline passes). With
 * `untilCreated` (WaitForInstanceStart, as durabletask-go's sidecar does) a missing instance is waited for too;
 * otherwise it answers `exists: false` at once.
 */
export async function waitForInstance(
  ctx: ClientContext,
  instanceId: string | undefined,
  withPayloads: boolean,
  done: (status: RuntimeStatus) => boolean,
  signal: AbortSignal,
  untilCreated = false,
): Promise<{ exists: boolean; orchestrationState?: PbOrchestrationState }> {
  const id = checkId(instanceId);
  let wake: (() => void) | undefined;
  let missing = false;
  const unsubscribe = ctx.store.subscribe(ctx.hubName, (notice) => {
    if ((notice.kind === 'instance' && notice.instanceId === id) || notice.kind === 'instances') wake?.();
    // A start announces new work, not the instance: while it is missing, new work may be it.
    else if (missing && notice.kind === 'orchestrations') wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  try {
    let pollMs = 10;
    for (;;) {
      const record = await ctx.hub.getInstance(id);
      if (!record && !untilCreated) return { exists: false };
      missing = !record;
      if (record && done(record.status)) return { exists: true, orchestrationState: orchestrationState(record, withPayloads) };
      if (signal.aborted) throw new ValidationError('The wait was cancelled.');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      pollMs = Math.min(pollMs * 2, ctx.store.crossProcessNotices ? 2000 : 250);
    }
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', onAbort);
  }
}

/** `RaiseEvent`. */
export async function raiseEvent(ctx: ClientContext, request: { instanceId?: string; name?: string; input?: PbString }): Promise<void> {
  const id = checkId(request.instanceId);
  const name = request.name ?? '';
  await ctx.client.raiseEvent(id, name, parseJson(jsonText(request.input, `data of event '${name}'`, ctx.maxPayloadBytes)));
}

/** `TerminateInstance` (the output is the JSON reason). */
export async function terminate(ctx: ClientContext, request: { instanceId?: string; output?: PbString; recursive?: boolean }): Promise<void> {
  const reason = parseJson(jsonText(request.output, 'termination reason', ctx.maxPayloadBytes));
  await ctx.client.terminate(checkId(request.instanceId), reason as string, { recursive: request.recursive === true });
}

/** `RestartInstance`. */
export async function restart(ctx: ClientContext, request: { instanceId?: string; restartWithNewInstanceId?: boolean }): Promise<{ instanceId: string }> {
  const id = checkId(request.instanceId);
  try {
    return { instanceId: await ctx.client.restart(id, { restartWithNewInstanceId: request.restartWithNewInstanceId === true }) };
  } catch (error) {
    if (error instanceof InstanceAlreadyExistsError) throw new InvalidInstanceStateError(id, 'Running', `Instance '${id}' is still running; it cannot be restarted with the same id.`);
    throw error;
  }
}

/**
 * `PurgeInstances` by id, by filter, or for a batch of ids; with `recursive`, each purged instance's
 * sub-orchestrations (and theirs) that have finished are purged with it.
 */
export async function purge(
  ctx: ClientContext,
  request: { request?: string; instanceId?: string; purgeInstanceFilter?: InstanceFilterRequest; instanceBatch?: { instanceIds?: string[] }; recursive?: boolean },
): Promise<{ deletedInstanceCount: number; isComplete: { value: boolean } }> {
  const recursive = request.recursive === true;
  let deleted = 0;
  if (request.request === 'purgeInstanceFilter' || request.purgeInstanceFilter) {
    const filter = filterOf(request.purgeInstanceFilter ?? {});
    if (!recursive) deleted = (await ctx.client.purgeInstanceHistoryBy(filter)).instancesDeleted;
    else for (const id of await finishedIds(ctx, filter)) deleted += await purgeTree(ctx.hub, id);
  } else if (request.request === 'instanceBatch' || request.instanceBatch) {
    for (const id of request.instanceBatch?.instanceIds ?? []) {
      const record = await ctx.hub.getInstance(checkId(id));
      if (record && isTerminalStatus(record.status)) deleted += recursive ? await purgeTree(ctx.hub, id) : await ctx.hub.purgeInstances({ instanceId: id });
    }
  } else {
    // A running root is refused either way (as for a single purge); with recursive, its finished tree goes with it.
    deleted = (await ctx.client.purgeInstanceHistory(checkId(request.instanceId), { recursive })).instancesDeleted;
  }
  return { deletedInstanceCount: deleted, isComplete: { value: true } };
}

/** Ids of the finished instances matching a purge filter (read before any is deleted). */
async function finishedIds(ctx: ClientContext, filter: ReturnType<typeof filterOf>): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await ctx.hub.queryInstances({ ...filter, pageSize: 1000, ...(token !== undefined ? { continuationToken: token } : {}) });
    for (const record of page.instances) if (isTerminalStatus(record.status)) ids.push(record.instanceId);
    token = page.continuationToken;
  } while (token !== undefined);
  return ids;
}

/** `QueryInstances`. */
export async function queryInstances(
  ctx: ClientContext,
  request: {
    query?: InstanceFilterRequest & {
      maxInstanceCount?: number;
      continuationToken?: PbString;
      instanceIdPrefix?: PbString;
      fetchInputsAndOutputs?: boolean;
      taskHubNames?: PbString[];
    };
  },
): Promise<{ orchestrationState: PbOrchestrationState[]; continuationToken?: PbString }> {
  const query = request.query ?? {};
  const prefix = fromPbString(query.instanceIdPrefix);
  const token = fromPbString(query.continuationToken);
  if (prefix?.startsWith('@')) throw new ValidationError(`Instance id prefixes may not start with '@' (entities): '${prefix}'.`);
  // A query for other task hubs lists nothing of this one.
  const hubs = (query.taskHubNames ?? []).map((name) => fromPbString(name)).filter((name): name is string => name !== undefined);
  if (hubs.length > 0 && !hubs.includes(ctx.hubName)) return { orchestrationState: [] };
  const page = await ctx.hub.queryInstances({
    ...filterOf(query),
    ...(prefix !== undefined ? { instanceIdPrefix: prefix } : {}),
    pageSize: Math.min(query.maxInstanceCount || 100, 1000),
    ...(token !== undefined ? { continuationToken: token } : {}),
  });
  return {
    orchestrationState: page.instances.map((r) => orchestrationState(r, query.fetchInputsAndOutputs === true)),
    ...(page.continuationToken ? { continuationToken: { value: page.continuationToken } } : {}),
  };
}

/**
 * `ListInstanceIds`: instance ids in id order, a page at a time, as the Durable Task Scheduler lists them for
 * history exports. The filters (statuses; the completed-time range, which only finished instances match) select
 * before the page is cut, and `lastInstanceKey` is the last id of the page: the next page starts after it.
 */
export async function listInstanceIds(
  ctx: ClientContext,
  request: { runtimeStatus?: number[]; completedTimeFrom?: PbTimestamp; completedTimeTo?: PbTimestamp; pageSize?: number; lastInstanceKey?: PbString },
): Promise<{ instanceIds: string[]; lastInstanceKey?: PbString }> {
  const from = fromPbTimestamp(request.completedTimeFrom);
  const to = fromPbTimestamp(request.completedTimeTo);
  const after = fromPbString(request.lastInstanceKey);
  const page = await ctx.hub.queryInstances({
    ...filterOf({ runtimeStatus: request.runtimeStatus ?? [] }),
    ...(from ? { completedTimeFrom: from } : {}),
    ...(to ? { completedTimeTo: to } : {}),
    orderBy: 'instanceId',
    pageSize: Math.min(request.pageSize || 100, 1000),
    ...(after !== undefined ? { continuationToken: after } : {}),
  });
  return {
    instanceIds: page.instances.map((r) => r.instanceId),
    ...(page.continuationToken !== undefined ? { lastInstanceKey: { value: page.continuationToken } } : {}),
  };
}

/**
 * `StreamInstanceHistory`: the current execution's history as protocol events, in the shape the Durable Task
 * Scheduler returns it: every episode opens with `orchestratorStarted` and has no `orchestratorCompleted` (a
 * marker of duraflow's own history that SDK clients and history exports do not expect).
 */
export async function instanceHistory(ctx: ClientContext, instanceId: string | undefined): Promise<PbHistoryEvent[]> {
  const id = checkId(instanceId);
  if (!(await ctx.hub.getInstance(id))) throw new InstanceNotFoundError(id);
  const translator = new HistoryTranslator();
  return (await ctx.hub.getHistory(id)).filter((e) => e.eventType !== 'OrchestratorCompleted').map((e) => translator.translate(e));
}

/**
 * `SignalEntity`. Like the SDKs' own sidecars it accepts a signal for any entity name: the entity's worker may
 * connect later (duraflow's own clients refuse names no worker ever registered).
 */
export async function signalEntity(
  ctx: ClientContext,
  request: { instanceId?: string; name?: string; input?: PbString; requestId?: string; scheduledTime?: PbTimestamp },
): Promise<void> {
  const entityId = requestEntityId(request.instanceId);
  const operation = request.name ?? '';
  const input = jsonText(request.input, `input of operation '${operation}' on entity '${entityId}'`, ctx.maxPayloadBytes);
  const scheduledTime = fromPbTimestamp(request.scheduledTime);
  const now = new Date();
  const message: EntityRequest = {
    id: request.requestId || randomUUID(),
    op: operation,
    signal: true,
    ...(input !== undefined ? { input } : {}),
    timestamp: now.toISOString(),
  };
  await ctx.hub.sendMessages([
    {
      instanceId: entityId.toString(),
      event: makeEvent({ eventType: 'EventRaised', name: ENTITY_REQUEST_EVENT, input: JSON.stringify(message) }, now),
      ...(scheduledTime && scheduledTime > now ? { visibleAt: scheduledTime } : {}),
    },
  ]);
}

/** `GetEntity`. */
export async function getEntity(ctx: ClientContext, request: { instanceId?: string; includeState?: boolean }): Promise<{ exists: boolean; entity?: PbEntityMetadata }> {
  const entityId = requestEntityId(request.instanceId);
  const record = await ctx.hub.getInstance(entityId.toString());
  const metadata = record && entityMetadata(record, request.includeState === true, false);
  return metadata ? { exists: true, entity: metadata } : { exists: false };
}

/** `QueryEntities`. */
export async function queryEntities(
  ctx: ClientContext,
  request: {
    query?: {
      instanceIdStartsWith?: PbString;
      lastModifiedFrom?: PbTimestamp;
      lastModifiedTo?: PbTimestamp;
      includeState?: boolean;
      includeTransient?: boolean;
      pageSize?: { value?: number };
      continuationToken?: PbString;
    };
  },
): Promise<{ entities: PbEntityMetadata[]; continuationToken?: PbString }> {
  const query = request.query ?? {};
  const prefix = fromPbString(query.instanceIdStartsWith) ?? '@';
  if (!prefix.startsWith('@')) throw new ValidationError(`An entity instance id prefix starts with '@', got '${prefix}'.`);
  const from = fromPbTimestamp(query.lastModifiedFrom)?.getTime() ?? Number.NEGATIVE_INFINITY;
  const to = fromPbTimestamp(query.lastModifiedTo)?.getTime() ?? Number.POSITIVE_INFINITY;
  const pageSize = Math.min(Math.max(query.pageSize?.value ?? 100, 1), 1000);
  const entities: PbEntityMetadata[] = [];
  let token = fromPbString(query.continuationToken);
  for (;;) {
    const page = await ctx.hub.queryInstances({ instanceIdPrefix: prefix, pageSize, ...(token !== undefined ? { continuationToken: token } : {}) });
    for (const record of page.instances) {
      const time = record.lastUpdatedAt.getTime();
      if (time < from || time > to) continue;
      const metadata = entityMetadata(record, query.includeState === true, query.includeTransient === true);
      if (metadata) entities.push(metadata);
    }
    token = page.continuationToken;
    // A page is returned once it has entities (or the listing ended), so filtered-out rows never stall a client.
    if (token === undefined || entities.length > 0) return { entities, ...(token !== undefined ? { continuationToken: { value: token } } : {}) };
  }
}

/** `CleanEntityStorage`. */
export async function cleanEntityStorage(
  ctx: ClientContext,
  request: { removeEmptyEntities?: boolean; releaseOrphanedLocks?: boolean },
): Promise<{ emptyEntitiesRemoved: number; orphanedLocksReleased: number }> {
  const result = await ctx.client.cleanEntityStorage({
    removeEmptyEntities: request.removeEmptyEntities === true,
    releaseOrphanedLocks: request.releaseOrphanedLocks === true,
  });
  return { emptyEntitiesRemoved: result.numberOfEmptyEntitiesRemoved, orphanedLocksReleased: result.numberOfOrphanedLocksRemoved };
}

// ---- shapes ---------------------------------------------------------------------------------------

/** An instance as the protocol's `OrchestrationState`. */
export function orchestrationState(record: InstanceRecord, withPayloads: boolean): PbOrchestrationState {
  const terminal = isTerminalStatus(record.status);
  return {
    instanceId: record.instanceId,
    name: record.name,
    ...(record.version !== undefined ? { version: { value: record.version } } : {}),
    orchestrationStatus: pbStatus(record.status),
    createdTimestamp: pbTimestamp(record.createdAt),
    lastUpdatedTimestamp: pbTimestamp(record.lastUpdatedAt),
    ...(terminal ? { completedTimestamp: pbTimestamp(record.lastUpdatedAt) } : {}),
    executionId: { value: record.executionId },
    ...(record.parentInstanceId !== undefined ? { parentInstanceId: { value: record.parentInstanceId } } : {}),
    ...(record.customStatus !== undefined ? { customStatus: { value: record.customStatus } } : {}),
    ...(record.failureDetails ? { failureDetails: pbFailure(record.failureDetails) } : {}),
    ...(withPayloads && record.input !== undefined ? { input: { value: record.input } } : {}),
    ...(withPayloads && record.output !== undefined && record.status !== 'Failed' ? { output: { value: record.output } } : {}),
    ...(record.tags ? { tags: record.tags } : {}),
  };
}

function entityMetadata(record: InstanceRecord, includeState: boolean, includeTransient: boolean): PbEntityMetadata | undefined {
  const state = parseSchedulerState(record.input);
  const transient = !state.exists;
  if (transient && !(includeTransient && (state.lockedBy !== undefined || (state.queue?.length ?? 0) > 0))) return undefined;
  return {
    instanceId: record.instanceId,
    lastModifiedTime: pbTimestamp(record.lastUpdatedAt),
    backlogQueueSize: state.queue?.length ?? 0,
    ...(state.lockedBy !== undefined ? { lockedBy: { value: state.lockedBy } } : {}),
    ...(includeState && state.exists ? { serializedState: pbString(state.state ?? 'null') } : {}),
  };
}

function filterOf(filter: InstanceFilterRequest): { runtimeStatus?: RuntimeStatus[]; createdTimeFrom?: Date; createdTimeTo?: Date } {
  const statuses = (filter.runtimeStatus ?? []).map((value) => {
    const status = fromPbStatus(value);
    if (!status) throw new ValidationError(`Unknown runtime status ${value}.`);
    return status;
  });
  const from = fromPbTimestamp(filter.createdTimeFrom);
  const to = fromPbTimestamp(filter.createdTimeTo);
  return { ...(statuses.length ? { runtimeStatus: statuses } : {}), ...(from ? { createdTimeFrom: from } : {}), ...(to ? { createdTimeTo: to } : {}) };
}

function checkId(instanceId: string | undefined): string {
  if (!instanceId) throw new ValidationError('An instance id must be a non-empty string.');
  return instanceId;
}


/** A payload that must be JSON text within the size limit (absent or empty stays absent). */
function jsonText(value: PbString | undefined, what: string, limit: number): string | undefined {
  const text = fromPbString(value);
  if (text === undefined) return undefined;
  checkPayloadSize(text, what, limit);
  try {
    JSON.parse(text);
  } catch {
    throw new ValidationError(`The ${what} is not JSON text: ${text.slice(0, 100)}`);
  }
  return text;
}

function parseJson(text: string | undefined): unknown {
  return text === undefined ? undefined : JSON.parse(text);
}
