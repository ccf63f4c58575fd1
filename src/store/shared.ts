/**
 * Pieces every store shares: row ↔ record mapping, continuation tokens, and the in-process notice bus.
 */
import { isTerminalStatus, type FailureDetails, type HistoryEvent, type RuntimeStatus, type TraceContext } from '../sdk/history.js';
import { ValidationError } from '../sdk/errors.js';
import { checkStorableText } from '../sdk/instance-id.js';
import { checkTags, type InstanceTags } from '../sdk/tags.js';
import type {
  ActivityWorkItem,
  ClaimOptions,
  EpisodeCommit,
  FlowControl,
  InstanceFilter,
  InstanceRecord,
  InstanceUpdate,
  NewActivity,
  NewMessage,
  OrchestrationWorkItem,
  StartInstanceRequest,
  StoreNotice,
} from './store.js';

/** An `instances` row as both stores select it (snake_case columns, times in ms). */
export interface InstanceRow {
  instance_id: string;
  name: string;
  version: string | null;
  execution_id: string;
  status: string;
  input: string | null;
  output: string | null;
  custom_status: string | null;
  failure_details: string | null;
  parent_instance_id: string | null;
  created_at: number | string;
  updated_at: number | string;
  history_length: number | string;
  /** JSON object text, or null for none. */
  tags: string | null;
  /** The flow control JSON (see `store/flow.ts`), or null for none. */
  flow: string | null;
  priority: number | string;
}

/** Columns to select for {@link rowToInstance}. */
export const INSTANCE_COLUMNS =
  'instance_id, name, version, execution_id, status, input, output, custom_status, failure_details, ' +
  'parent_instance_id, created_at, updated_at, history_length, tags, flow, priority';

/** Maps a selected row to an {@link InstanceRecord}, leaving absent fields out. */
export function rowToInstance(row: InstanceRow): InstanceRecord {
  const record: InstanceRecord = {
    instanceId: row.instance_id,
    name: row.name,
    executionId: row.execution_id,
    status: row.status as RuntimeStatus,
    createdAt: new Date(Number(row.created_at)),
    lastUpdatedAt: new Date(Number(row.updated_at)),
    historyLength: Number(row.history_length),
  };
  if (row.version !== null) record.version = row.version;
  if (row.input !== null) record.input = row.input;
  if (row.output !== null) record.output = row.output;
  if (row.custom_status !== null) record.customStatus = row.custom_status;
  if (row.failure_details !== null) record.failureDetails = JSON.parse(row.failure_details) as FailureDetails;
  if (row.parent_instance_id !== null) record.parentInstanceId = row.parent_instance_id;
  if (row.tags !== null) record.tags = JSON.parse(row.tags) as InstanceTags;
  if (row.flow !== null && row.flow !== undefined) record.flow = JSON.parse(row.flow) as FlowControl;
  if (Number(row.priority ?? 0) !== 0) record.priority = Number(row.priority);
  return record;
}

/** The `tags` column of a start: JSON object text, or null when it has none. */
export function tagsColumn(request: StartInstanceRequest): string | null {
  return request.tags && Object.keys(request.tags).length ? JSON.stringify(request.tags) : null;
}

/**
 * The work item of an instance just created leased (`createInstance` with a lease): everything is known from
 * the request except what the store assigned — creation time, lease epoch and the start message's id.
 */
export function startedWorkItem(request: StartInstanceRequest, createdAt: number, epoch: number, messageId: number): OrchestrationWorkItem {
  const instance: InstanceRecord = {
    instanceId: request.instanceId,
    name: request.name,
    executionId: request.executionId,
    status: 'Pending',
    createdAt: new Date(createdAt),
    lastUpdatedAt: new Date(createdAt),
    historyLength: 0,
  };
  if (request.version !== undefined) instance.version = request.version;
  if (request.input !== undefined) instance.input = request.input;
  if (request.parentInstance) instance.parentInstanceId = request.parentInstance.instanceId;
  if (tagsColumn(request) !== null) instance.tags = request.tags!;
  return {
    instance,
    messages: [{ id: messageId, instanceId: request.instanceId, executionId: request.executionId, event: request.startEvent }],
    lease: { id: request.instanceId, epoch },
  };
}

/**
 * History is stored one row per episode: the row's `seq` is the position of its first event in the execution's
 * history, and `events` is the episode's events as one JSON array (one row to write per step, not one per event).
 * Reads the rows of one instance, in `seq` order, back into its history.
 */
export function historyFromRows(rows: readonly { events: string }[]): HistoryEvent[] {
  return rows.flatMap((row) => JSON.parse(row.events) as HistoryEvent[]);
}

/** Position after the last row of a page: instances are ordered by (created time, id). */
export interface PagePosition {
  createdAt: number;
  instanceId: string;
}

/** Encodes a page position as an opaque token. */
export function encodeContinuationToken(position: PagePosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.instanceId]), 'utf8').toString('base64url');
}

/** Decodes a token from {@link encodeContinuationToken}; a malformed token is a `ValidationError`. */
export function decodeContinuationToken(token: string): PagePosition {
  try {
    const [createdAt, instanceId] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [unknown, unknown];
    // Only what encodeContinuationToken writes: a millisecond time and an id a store can hold.
    if (Number.isSafeInteger(createdAt) && (createdAt as number) >= 0 && typeof instanceId === 'string' && !instanceId.includes('\u0000')) {
      return { createdAt: createdAt as number, instanceId };
    }
  } catch {
    // fall through
  }
  throw new ValidationError(`Invalid continuation token: '${token}'.`);
}

/** Default and largest page size of instance queries. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** Checks a page size: an integer from 1 to {@link MAX_PAGE_SIZE}. */
export function checkPageSize(pageSize: number | undefined): number {
  if (pageSize === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new ValidationError(`pageSize must be an integer from 1 to ${MAX_PAGE_SIZE} (got ${pageSize}).`);
  }
  return pageSize;
}

/** Delivers notices to in-process subscribers, per task hub. */
export class NoticeBus {
  /** Per hub, one entry per subscription (the same function subscribed twice is two subscriptions). */
  #subscriptions = new Map<string, Set<{ listener: (notice: StoreNotice) => void }>>();

  /** Subscribes `listener` to `hub`'s notices; the returned function unsubscribes (once; later calls do nothing). */
  subscribe(hub: string, listener: (notice: StoreNotice) => void): () => void {
    let set = this.#subscriptions.get(hub);
    if (!set) this.#subscriptions.set(hub, (set = new Set()));
    const subscription = { listener };
    set.add(subscription);
    return () => {
      if (!set.delete(subscription) || set.size > 0) return;
      if (this.#subscriptions.get(hub) === set) this.#subscriptions.delete(hub);
    };
  }

  /** The hubs that have subscribers now. */
  hubs(): string[] {
    return [...this.#subscriptions.keys()];
  }

  emit(hub: string, notice: StoreNotice): void {
    const set = this.#subscriptions.get(hub);
    if (!set) return;
    for (const { listener } of set) listener(notice);
  }
}

/** The work item of activity `a`, created as row `id` already leased to the committing worker (epoch 1). */
export function leasedActivity(id: number, a: NewActivity): ActivityWorkItem {
  return {
    id,
    instanceId: a.instanceId,
    executionId: a.executionId,
    taskId: a.taskId,
    name: a.name,
    ...(a.input !== undefined ? { input: a.input } : {}),
    dequeueCount: 1,
    lease: { id: String(id), epoch: 1 },
    ...(a.traceContext ? { traceContext: a.traceContext } : {}),
  };
}

/** An activity's trace context as its `trace_context` column holds it (JSON text, or null). */
export function traceContextColumn(context: TraceContext | undefined): string | null {
  return context ? JSON.stringify(context) : null;
}

/** The trace context field of a work item from its `trace_context` column (a malformed value is ignored). */
export function traceContextField(column: string | null | undefined): { traceContext?: TraceContext } {
  if (!column) return {};
  try {
    const value = JSON.parse(column) as Partial<TraceContext>;
    return typeof value.traceParent === 'string' ? { traceContext: value as TraceContext } : {};
  } catch {
    return {};
  }
}

/**
 * The notice of new work that `messages` (just committed) make: naming their instance when they all go to one, so
 * a worker that holds that instance need not claim for them (see {@link StoreNotice}).
 */
export function newWorkNotice(messages: readonly NewMessage[]): StoreNotice {
  const instanceId = messages[0]?.instanceId;
  return instanceId !== undefined && messages.every((m) => m.instanceId === instanceId) ? { kind: 'orchestrations', instanceId } : { kind: 'orchestrations' };
}

/**
 * The `timers` notice when any of `messages` has a visibility time (none otherwise). Any time counts, past
 * ones too: stores may run on another clock (the test host's virtual one), and a spare notice costs one query.
 */
export function delayedMessageNotices(messages: readonly NewMessage[]): StoreNotice[] {
  return messages.some((m) => m.visibleAt !== undefined) ? [{ kind: 'timers' }] : [];
}

/**
 * The status notice of an episode commit's instance update, with the final state when it is terminal (see
 * {@link StoreNotice}); `updatedAt` is the time the commit stored as the instance's last update.
 */
export function statusNotice(instanceId: string, update: InstanceUpdate, updatedAt: number): StoreNotice {
  if (!isTerminalStatus(update.status)) return { kind: 'instance', instanceId, status: update.status };
  return { kind: 'instance', instanceId, status: update.status, final: { ...update, lastUpdatedAt: new Date(updatedAt) } };
}

/** `notices` with the final states of `commits` on their terminal status notices, for in-process listeners. */
export function withFinalStates(notices: StoreNotice[], commits: readonly EpisodeCommit[], updatedAt: number): StoreNotice[] {
  if (!notices.some((n) => n.kind === 'instance' && isTerminalStatus(n.status))) return notices;
  const updates = new Map(commits.map((c) => [c.lease.id, c.instance]));
  return notices.map((n) => {
    const update = n.kind === 'instance' ? updates.get(n.instanceId) : undefined;
    return update && n.kind === 'instance' && update.status === n.status ? statusNotice(n.instanceId, update, updatedAt) : n;
  });
}

/** Drops repeated notices of one commit so listeners wake once per kind. */
export function dedupeNotices(notices: StoreNotice[]): StoreNotice[] {
  const seen = new Set<string>();
  return notices.filter((n) => {
    const key = n.kind === 'instance' ? `${n.kind}:${n.instanceId}:${n.status}` : n.kind === 'orchestrations' && n.instanceId !== undefined ? `${n.kind}:${n.instanceId}` : n.kind;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The entity name of an entity instance id (`@name@key`), or `undefined` for orchestration ids. Stores use it
 * to create an entity's instance row when its first message arrives (the row's `name` is the entity name).
 */
export function entityNameOf(instanceId: string): string | undefined {
  if (!instanceId.startsWith('@')) return undefined;
  const at = instanceId.indexOf('@', 1);
  return at > 1 ? instanceId.slice(1, at) : undefined;
}

/**
 * The claim's version rules as JSON for the stores' SQL (`[{ name, oneOf?, atMost? }]`), or null for none. Both
 * stores compare with `duraflow_version_compare`, which is `compareVersions` (SQLite registers the JavaScript
 * function itself; PostgreSQL has it in PL/pgSQL, see `postgres/schema.ts`).
 */
export function versionRulesParam(options: ClaimOptions): string | null {
  const rules = Object.entries(options.versions ?? {});
  if (rules.length === 0) return null;
  return JSON.stringify(rules.map(([name, rule]) => ({ name, ...(rule.oneOf ? { oneOf: rule.oneOf } : {}), ...(rule.atMost !== undefined ? { atMost: rule.atMost } : {}) })));
}

/**
 * Checks the parts of an instance filter both stores bind as parameters; a bad one is a `ValidationError`.
 * Answers the filter's tags (checked as a start's are), or undefined when it has none.
 */
export function checkInstanceFilter(filter: InstanceFilter): InstanceTags | undefined {
  if (filter.instanceIdPrefix !== undefined) {
    if (typeof filter.instanceIdPrefix !== 'string') throw new ValidationError('instanceIdPrefix must be a string.');
    checkStorableText(filter.instanceIdPrefix, 'instanceIdPrefix');
  }
  if (filter.version !== undefined) {
    if (typeof filter.version !== 'string') throw new ValidationError('version must be a string.');
    checkStorableText(filter.version, 'version');
  }
  const times = [
    ['createdTimeFrom', filter.createdTimeFrom],
    ['createdTimeTo', filter.createdTimeTo],
    ['completedTimeFrom', filter.completedTimeFrom],
    ['completedTimeTo', filter.completedTimeTo],
  ] as const;
  for (const [what, time] of times) {
    if (time !== undefined && (!(time instanceof Date) || !Number.isFinite(time.getTime()))) throw new ValidationError(`${what} must be a valid Date.`);
  }
  return checkTags(filter.tags, 'tags filter');
}
