/**
 * The durable client over a running host's management API: what `createClient({ url, apiKey })` returns.
 * It behaves like the store-backed client, method for method, including the typed errors, which it
 * rebuilds from the error bodies the host sends (`ExceptionType` plus details).
 */
import { context } from '@opentelemetry/api';
import { activeTraceContext } from '../telemetry/tracer.js';
import type { TraceContext } from '../sdk/history.js';
import { isTerminalStatus, type RuntimeStatus } from '../sdk/history.js';
import {
  DuraflowError,
  InstanceAlreadyExistsError,
  InstanceNotFoundError,
  InvalidInstanceStateError,
  PayloadTooLargeError,
  ScheduleAlreadyExistsError,
  ScheduleNotFoundError,
  SerializationError,
  StoreError,
  UnknownFunctionError,
  ValidationError,
  type StoreErrorReason,
} from '../sdk/errors.js';
import { checkTags } from '../sdk/tags.js';
import { checkPriority } from '../sdk/flow-control.js';
import { serialize } from '../core/payload.js';
import { checkStatusResponse, managementPayload, originOf, waitForCompletionOrCheckStatus } from './http-management.js';
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
  StartNewOptions,
  TerminateInstanceOptions,
} from '../sdk/durable-client.js';
import { recursiveOption } from '../sdk/tree-options.js';
import type {
  CleanEntityStorageOptions,
  CleanEntityStorageResult,
  EntityPage,
  EntityStateResponse,
  ListEntitiesQuery,
} from '../sdk/durable-client.js';
import type { EntityId } from '../sdk/entity-id.js';
import type { SignalEntityOptions } from '../sdk/entity-context.js';
import { httpCleanEntityStorage, httpListEntities, httpReadEntityState, httpSignalEntity } from './http-entities.js';
import * as schedules from './http-schedules.js';
import type { CreateScheduleOptions, ScheduleChanges, ScheduleDescription } from '../sdk/schedule.js';

/** Settings of an {@link HttpClient}. */
export interface HttpClientOptions {
  /** Base URL of the host, e.g. `http://127.0.0.1:7071`. */
  url: string;
  /** Sent as `x-functions-key` on every request. */
  apiKey?: string;
  /** Task hub addressed by every request (default `default`, like every other client). */
  taskHub?: string;
  /** Longest single request, in milliseconds (default 60 s; waits add their own timeout). */
  requestTimeoutMs?: number;
}

/** An error the host answered that is not one of the typed errors (5xx, unexpected status). */
export class HttpClientError extends DuraflowError {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, message: string, body: unknown) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

const BASE = '/runtime/webhooks/durabletask';

/** A {@link DurableClient} that talks to a duraflow host over HTTP. */
export class HttpClient implements DurableClient {
  readonly taskHub: string;
  readonly #origin: string;

  constructor(private readonly options: HttpClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new ValidationError(`createClient: url must be an absolute http(s) URL, got '${options.url}'.`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError(`createClient: url must use http or https, got '${options.url}'.`);
    this.#origin = url.origin + url.pathname.replace(/\/+$/, '');
    this.taskHub = options.taskHub ?? 'default';
  }

  async startNew(name: OrchestrationName, options: StartNewOptions = {}): Promise<string> {
    const orchestration = typeof name === 'string' ? name : name?.name;
    if (typeof orchestration !== 'string' || orchestration.length === 0) throw new ValidationError('startNew needs an orchestration name or reference.');
    if (options.instanceId !== undefined && (typeof options.instanceId !== 'string' || options.instanceId.length === 0)) {
      throw new ValidationError('An instance id must be a non-empty string.');
    }
    const body = serialize(options.input, `input of orchestration '${orchestration}'`, Number.POSITIVE_INFINITY);
    const path = `/orchestrators/${seg(orchestration)}${options.instanceId !== undefined ? `/${seg(options.instanceId)}` : ''}`;
    const version = options.version ?? (typeof name === 'string' ? undefined : name.version);
    const tags = checkTags(options.tags);
    const priority = checkPriority(options.priority);
    if (options.debounce !== undefined) throw new ValidationError('debounce is not available over the HTTP API: start debounced instances with a store client.');
    const response = await this.#request('POST', path, {
      query: {
        ...(version !== undefined ? { version } : {}),
        ...(tags ? { tags: JSON.stringify(tags) } : {}),
        ...(priority !== undefined ? { priority: String(priority) } : {}),
      },
      ...(options.traceContext ? { headers: traceHeaders(options.traceContext) } : {}),
      ...(body !== undefined ? { body } : {}),
      ok: [202],
      context: { instanceId: options.instanceId, functionName: orchestration },
    });
    return ((await response.json()) as { id: string }).id;
  }

  async getStatus(instanceId: string, options: GetStatusOptions = {}): Promise<DurableOrchestrationStatus | undefined> {
    checkId(instanceId);
    const response = await this.#request('GET', `/instances/${seg(instanceId)}`, {
      query: {
        format: 'duraflow',
        showHistory: String(options.showHistory ?? false),
        showHistoryOutput: String(options.showHistoryOutput ?? false),
        showInput: String(options.showInput ?? true),
      },
      ok: [200, 202, 404],
      context: { instanceId },
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    return toStatus(await response.json());
  }

  async getStatusAll(): Promise<DurableOrchestrationStatus[]> {
    return this.getStatusBy({});
  }

  async getStatusBy(filter: OrchestrationFilter): Promise<DurableOrchestrationStatus[]> {
    const all: DurableOrchestrationStatus[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.listInstances({ ...filter, pageSize: 1000, ...(continuationToken ? { continuationToken } : {}) });
      all.push(...page.instances);
      continuationToken = page.continuationToken;
    } while (continuationToken);
    return all;
  }

  async listInstances(query: ListInstancesQuery = {}): Promise<InstancePage> {
    const response = await this.#request('GET', '/instances', {
      query: {
        format: 'duraflow',
        ...filterQuery(query),
        ...(query.showInput !== undefined ? { showInput: String(query.showInput) } : {}),
        ...(query.pageSize !== undefined ? { top: String(query.pageSize) } : {}),
      },
      headers: query.continuationToken ? { 'x-ms-continuation-token': query.continuationToken } : {},
      ok: [200],
    });
    const instances = ((await response.json()) as unknown[]).map(toStatus);
    const token = response.headers.get('x-ms-continuation-token');
    return token && token !== 'null' ? { instances, continuationToken: token } : { instances };
  }

  async waitForCompletion(instanceId: string, options: { timeoutInMilliseconds?: number } = {}): Promise<DurableOrchestrationStatus> {
    checkId(instanceId);
    const deadline = Date.now() + (options.timeoutInMilliseconds ?? Number.POSITIVE_INFINITY);
    let delay = 10;
    for (;;) {
      const status = await this.getStatus(instanceId);
      if (!status) throw new InstanceNotFoundError(instanceId);
      if (isTerminalStatus(status.runtimeStatus) || Date.now() >= deadline) return status;
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(delay * 2, 500);
    }
  }

  async raiseEvent(instanceId: string, eventName: string, eventData?: unknown): Promise<void> {
    checkId(instanceId);
    if (typeof eventName !== 'string' || eventName.length === 0) throw new ValidationError('An event name must be a non-empty string.');
    const body = serialize(eventData, `data of event '${eventName}'`, Number.POSITIVE_INFINITY);
    await this.#request('POST', `/instances/${seg(instanceId)}/raiseEvent/${seg(eventName)}`, {
      ...(body !== undefined ? { body } : {}),
      ok: [202],
      context: { instanceId },
    });
  }

  /** `POST …/terminate?reason=…`, with `recursive=true` for a recursive termination (a duraflow extension). */
  async terminate(instanceId: string, reason?: string, options?: TerminateInstanceOptions): Promise<void> {
    // async: a bad option is a rejection, as every other error of the client is.
    const recursive = recursiveOption(options, 'terminate');
    return this.#operation('terminate', instanceId, reason, recursive ? { recursive: 'true' } : {});
  }

  suspend(instanceId: string, reason?: string): Promise<void> {
    return this.#operation('suspend', instanceId, reason);
  }

  resume(instanceId: string, reason?: string): Promise<void> {
    return this.#operation('resume', instanceId, reason);
  }

  rewind(instanceId: string, reason?: string): Promise<void> {
    return this.#operation('rewind', instanceId, reason);
  }

  async restart(instanceId: string, options: { restartWithNewInstanceId?: boolean } = {}): Promise<string> {
    checkId(instanceId);
    const response = await this.#request('POST', `/instances/${seg(instanceId)}/restart`, {
      query: { restartWithNewInstanceId: String(options.restartWithNewInstanceId ?? true) },
      ok: [202],
      context: { instanceId },
    });
    return ((await response.json()) as { id: string }).id;
  }

  /** `DELETE …/instances/{id}`, with `recursive=true` for the finished instances of its tree (a duraflow extension). */
  async purgeInstanceHistory(instanceId: string, options?: PurgeInstanceOptions): Promise<PurgeHistoryResult> {
    checkId(instanceId);
    const recursive = recursiveOption(options, 'purgeInstanceHistory');
    const response = await this.#request('DELETE', `/instances/${seg(instanceId)}`, {
      ...(recursive ? { query: { recursive: 'true' } } : {}),
      ok: [200, 404],
      context: { instanceId },
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return { instancesDeleted: 0 };
    }
    return { instancesDeleted: ((await response.json()) as PurgeHistoryResult).instancesDeleted };
  }

  async purgeInstanceHistoryBy(filter: OrchestrationFilter): Promise<PurgeHistoryResult> {
    // The API requires createdTimeFrom; "from the beginning of time" is what an unbounded filter means.
    const query = filterQuery({ createdTimeFrom: new Date(0), ...filter });
    const response = await this.#request('DELETE', '/instances', { query, ok: [200, 404] });
    const result = (await response.json()) as PurgeHistoryResult;
    return { instancesDeleted: response.status === 404 ? 0 : result.instancesDeleted };
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

  signalEntity(entityId: EntityId, operationName: string, input?: unknown, options?: SignalEntityOptions): Promise<void> {
    return httpSignalEntity((m, p, i) => this.#request(m, p, i), entityId, operationName, input, options);
  }

  readEntityState<T = any>(entityId: EntityId): Promise<EntityStateResponse<T>> {
    return httpReadEntityState<T>((m, p, i) => this.#request(m, p, i), entityId);
  }

  listEntities(query?: ListEntitiesQuery): Promise<EntityPage> {
    return httpListEntities((m, p, i) => this.#request(m, p, i), query);
  }

  cleanEntityStorage(options?: CleanEntityStorageOptions): Promise<CleanEntityStorageResult> {
    return httpCleanEntityStorage((m, p, i) => this.#request(m, p, i), options);
  }

  createSchedule(options: CreateScheduleOptions): Promise<ScheduleDescription> {
    return schedules.httpCreateSchedule(this.#requester(), options);
  }

  getSchedule(scheduleId: string): Promise<ScheduleDescription | undefined> {
    return schedules.httpGetSchedule(this.#requester(), scheduleId);
  }

  listSchedules(): Promise<ScheduleDescription[]> {
    return schedules.httpListSchedules(this.#requester());
  }

  pauseSchedule(scheduleId: string, reason?: string): Promise<ScheduleDescription> {
    return schedules.httpPauseSchedule(this.#requester(), scheduleId, reason);
  }

  resumeSchedule(scheduleId: string): Promise<ScheduleDescription> {
    return schedules.httpResumeSchedule(this.#requester(), scheduleId);
  }

  triggerSchedule(scheduleId: string): Promise<string> {
    return schedules.httpTriggerSchedule(this.#requester(), scheduleId);
  }

  updateSchedule(scheduleId: string, changes: ScheduleChanges): Promise<ScheduleDescription> {
    return schedules.httpUpdateSchedule(this.#requester(), scheduleId, changes);
  }

  deleteSchedule(scheduleId: string): Promise<void> {
    return schedules.httpDeleteSchedule(this.#requester(), scheduleId);
  }

  #requester(): schedules.ScheduleHttpRequest {
    return (method, path, init) => this.#request(method, path, init);
  }

  async close(): Promise<void> {
    // fetch keeps no per-client state worth releasing.
  }

  #location(request: Request | undefined) {
    return { origin: originOf(request, this.#origin), taskHub: this.taskHub };
  }

  async #operation(
    operation: 'terminate' | 'suspend' | 'resume' | 'rewind',
    instanceId: string,
    reason: string | undefined,
    extra: Record<string, string> = {},
  ): Promise<void> {
    checkId(instanceId);
    if (reason !== undefined && typeof reason !== 'string') throw new ValidationError(`The ${operation} reason must be a string.`);
    await this.#request('POST', `/instances/${seg(instanceId)}/${operation}`, {
      query: { ...(reason !== undefined ? { reason } : {}), ...extra },
      ok: [202],
      context: { instanceId },
    });
  }

  async #request(
    method: string,
    path: string,
    init: {
      query?: Record<string, string | undefined>;
      headers?: Record<string, string>;
      body?: string;
      ok: number[];
      context?: { instanceId?: string | undefined; functionName?: string; scheduleId?: string };
    },
  ): Promise<Response> {
    const url = new URL(this.#origin + BASE + path);
    url.searchParams.set('taskHub', this.taskHub);
    for (const [key, value] of Object.entries(init.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    // The caller's active span continues on the host (its start, its events, its signals).
    const active = activeTraceContext(context.active());
    const headers: Record<string, string> = { accept: 'application/json', ...(active ? traceHeaders(active) : {}), ...init.headers };
    if (this.options.apiKey) headers['x-functions-key'] = this.options.apiKey;
    if (method === 'POST' || method === 'PATCH') headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 60_000),
      });
    } catch (error) {
      throw unreachable(error, this.#origin);
    }
    if (init.ok.includes(response.status)) return response;
    throw await toError(response, init.context ?? {});
  }
}

/**
 * A request that got no answer: `fetch failed` says nothing, its cause (`connect ECONNREFUSED …`) says little,
 * so the error names the host it tried and what to check. Timeouts and aborts pass through.
 */
function unreachable(error: unknown, origin: string): unknown {
  if (!(error instanceof TypeError)) return error;
  const cause = (error as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? cause.message : error.message;
  return new HttpClientError(0, `cannot reach the duraflow host at ${origin} (${detail}); is it running (duraflow start), and is the URL right?`, undefined);
}

/** Rebuilds the typed error of an error response. */
async function toError(response: Response, context: { instanceId?: string | undefined; functionName?: string; scheduleId?: string }): Promise<Error> {
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: keep the text as the message
  }
  const message = typeof body['ExceptionMessage'] === 'string' ? body['ExceptionMessage'] : text || `HTTP ${response.status}`;
  const type = body['ExceptionType'];
  const instanceId = typeof body['instanceId'] === 'string' ? body['instanceId'] : (context.instanceId ?? '');
  let error: Error;
  switch (type) {
    case 'InstanceNotFoundError':
      error = new InstanceNotFoundError(instanceId);
      break;
    case 'InvalidInstanceStateError':
      error = new InvalidInstanceStateError(instanceId, String(body['instanceStatus'] ?? ''), message);
      break;
    case 'InstanceAlreadyExistsError':
      error = new InstanceAlreadyExistsError(instanceId, '');
      break;
    case 'ScheduleNotFoundError':
      error = new ScheduleNotFoundError(typeof body['scheduleId'] === 'string' ? body['scheduleId'] : (context.scheduleId ?? ''));
      break;
    case 'ScheduleAlreadyExistsError':
      error = new ScheduleAlreadyExistsError(typeof body['scheduleId'] === 'string' ? body['scheduleId'] : (context.scheduleId ?? ''));
      break;
    case 'UnknownFunctionError':
      error = new UnknownFunctionError(
        'orchestration',
        String(body['functionName'] ?? context.functionName ?? ''),
        Array.isArray(body['registeredNames']) ? (body['registeredNames'] as string[]) : [],
        typeof body['version'] === 'string'
          ? { version: body['version'], registeredVersions: Array.isArray(body['registeredVersions']) ? (body['registeredVersions'] as string[]) : [] }
          : undefined,
      );
      break;
    case 'PayloadTooLargeError':
      error = new PayloadTooLargeError('payload', Number(body['size'] ?? 0), Number(body['limit'] ?? 0));
      break;
    case 'SerializationError':
      error = new SerializationError(message);
      break;
    case 'ValidationError':
      error = new ValidationError(message);
      break;
    case 'StoreError':
      error = new StoreError((body['reason'] as StoreErrorReason | undefined) ?? 'unreachable', message);
      break;
    default:
      if (response.status === 413) error = new PayloadTooLargeError('payload', Number(body['size'] ?? 0), Number(body['limit'] ?? 0));
      else if (response.status === 400) error = new ValidationError(message);
      else return new HttpClientError(response.status, `The host answered ${response.status}: ${message}`, body);
  }
  error.message = message;
  return error;
}

/** A status as the host sends it with `format=duraflow`. */
function toStatus(json: unknown): DurableOrchestrationStatus {
  const j = json as Record<string, unknown>;
  const status: DurableOrchestrationStatus = {
    name: String(j['name']),
    instanceId: String(j['instanceId']),
    runtimeStatus: j['runtimeStatus'] as RuntimeStatus,
    ...(typeof j['version'] === 'string' ? { version: j['version'] } : {}),
    createdTime: new Date(String(j['createdTime'])),
    lastUpdatedTime: new Date(String(j['lastUpdatedTime'])),
  };
  if ('input' in j) status.input = j['input'];
  if ('output' in j) status.output = j['output'];
  if ('customStatus' in j) status.customStatus = j['customStatus'];
  if (j['failureDetails']) status.failureDetails = j['failureDetails'] as NonNullable<DurableOrchestrationStatus['failureDetails']>;
  if (Array.isArray(j['historyEvents'])) status.history = j['historyEvents'] as NonNullable<DurableOrchestrationStatus['history']>;
  if (j['tags'] && typeof j['tags'] === 'object') status.tags = j['tags'] as Record<string, string>;
  return status;
}

function filterQuery(filter: OrchestrationFilter): Record<string, string> {
  const query: Record<string, string> = {};
  for (const key of ['createdTimeFrom', 'createdTimeTo'] as const) {
    const value = filter[key];
    if (value === undefined) continue;
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new ValidationError(`${key} must be a valid Date.`);
    query[key] = value.toISOString();
  }
  if (filter.runtimeStatus?.length) query['runtimeStatus'] = filter.runtimeStatus.join(',');
  if (filter.instanceIdPrefix) query['instanceIdPrefix'] = filter.instanceIdPrefix;
  if (filter.version !== undefined) {
    if (typeof filter.version !== 'string') throw new ValidationError('version must be a string.');
    query['version'] = filter.version;
  }
  // JSON, not key=value pairs: exact for any key (the host takes both).
  const tags = checkTags(filter.tags, 'tags filter');
  if (tags) query['tags'] = JSON.stringify(tags);
  return query;
}

/** A path segment. `.` and `..` would be resolved away by URL parsing, so they cannot name anything here. */
function seg(value: string): string {
  if (value === '.' || value === '..') throw new ValidationError(`'${value}' cannot be used as an instance id or name over HTTP.`);
  return encodeURIComponent(value);
}

function checkId(instanceId: unknown): void {
  if (typeof instanceId !== 'string' || instanceId.length === 0) throw new ValidationError('An instance id must be a non-empty string.');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** W3C trace headers of `traceContext`. */
function traceHeaders(traceContext: TraceContext): Record<string, string> {
  return { traceparent: traceContext.traceParent, ...(traceContext.traceState ? { tracestate: traceContext.traceState } : {}) };
}
