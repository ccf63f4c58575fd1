/**
 * The remote halves of the executor seam (DESIGN §2): an episode or an entity batch is sent to a connected gRPC
 * worker and its answer is turned back into the result the in-process executors produce, so the runtime commits
 * it exactly like a local one.
 */
import type { OrchestratorAction } from '../core/actions.js';
import type { EntityAction, EntityBatchResult, EntityOperation, EntityStateSnapshot } from '../core/entity-executor.js';
import type { ExecutionStartedEvent, HistoryEvent } from '../sdk/history.js';
import type { EpisodeResult } from '../core/orchestration-executor.js';
import { EntityId } from '../sdk/entity-id.js';
import { toFailureDetails } from '../sdk/errors.js';
import type { InstanceRecord } from '../store/store.js';
import { fromPbActions } from './action-mapping.js';
import { readPatchMarker } from '../core/patch-markers.js';
import { HistoryTranslator, fromPbFailure, fromPbString, fromPbTimestamp, pbString } from './history-mapping.js';
import type {
  PbEntityBatchRequest,
  PbEntityBatchResult,
  PbEntityRequestV2,
  PbHistoryEvent,
  PbOrchestratorRequest,
  PbOrchestratorResponse,
} from './proto-types.js';
import type { EntityBatchExecutor, EpisodeExecutor } from '../runtime/episode-environment.js';

/** Sends one request to the worker and resolves with its answer (or rejects with `EpisodeAbandonedError`). */
export type RemoteRequest<Req, Res> = (request: Req) => Promise<Res>;

/** Runs an orchestration episode on a gRPC worker. */
export class RemoteOrchestrationExecutor implements EpisodeExecutor {
  started: ExecutionStartedEvent | undefined;
  customStatusSet = false;

  constructor(
    private readonly instance: InstanceRecord,
    private readonly request: RemoteRequest<PbOrchestratorRequest, PbOrchestratorResponse>,
    private readonly options: { now: () => Date; maxPayloadBytes: number; pastEvents?: TranslatedHistoryCache },
  ) {}

  async execute(pastEvents: readonly HistoryEvent[], newEvents: readonly HistoryEvent[]): Promise<EpisodeResult> {
    const accepted = acceptNewEvents(pastEvents, newEvents);
    this.started = [...pastEvents, ...accepted].find((e): e is ExecutionStartedEvent => e.eventType === 'ExecutionStarted');
    const { instanceId, executionId } = this.instance;
    const past = pastEvents.filter(sentToWorkers);
    const cache = this.options.pastEvents;
    const { translator, translated } = cache?.take(instanceId, executionId, past) ?? { translator: new HistoryTranslator(), translated: [] };
    for (let i = translated.length; i < past.length; i++) translated.push(translator.translate(past[i]!));
    const request: PbOrchestratorRequest = {
      instanceId,
      executionId: { value: executionId },
      pastEvents: translated,
      newEvents: accepted.map((e) => translator.translate(e)),
    };
    // The next episode's past starts with these events: it reuses their protocol form (and encoded bytes).
    cache?.put(instanceId, executionId, [...past, ...accepted], [...translated, ...request.newEvents!], translator.clone());
    const response = await this.request(request);
    let actions: OrchestratorAction[];
    try {
      actions = fromPbActions(response.actions ?? [], {
        instanceId: this.instance.instanceId,
        executionId: this.instance.executionId,
        now: this.options.now(),
        maxPayloadBytes: this.options.maxPayloadBytes,
        translator,
      });
    } catch (error) {
      // The worker asked for something duraflow cannot do: the orchestration fails with the reason.
      actions = [{ type: 'CompleteOrchestration', id: -1, status: 'Failed', failureDetails: toFailureDetails(error) }];
    }
    const customStatus = response.customStatus ? (fromPbString(response.customStatus) ?? '""') : undefined;
    this.customStatusSet = customStatus !== undefined;
    const completion = actions.find((a) => a.type === 'CompleteOrchestration');
    if (completion) cache?.delete(instanceId);
    return { actions, acceptedEvents: accepted, customStatus, completion };
  }
}

/**
 * Per instance, the protocol form of the history last sent to a worker and the translator state after it, so an
 * episode translates (and `service-definition.ts` encodes) only the events its worker has not been sent yet. An
 * entry is used only when its events are a prefix of the episode's past (by type, id, time and name); anything
 * else (another execution, a rewind, an episode that was not committed) translates the history afresh.
 */
export class TranslatedHistoryCache {
  readonly #entries = new Map<string, { executionId: string; keys: string[]; events: PbHistoryEvent[]; translator: HistoryTranslator }>();

  constructor(private readonly capacity = 1000) {}

  /** The translated prefix of `past` and a translator that has seen it; undefined when nothing usable is held. */
  take(instanceId: string, executionId: string, past: readonly HistoryEvent[]): { translator: HistoryTranslator; translated: PbHistoryEvent[] } | undefined {
    const entry = this.#entries.get(instanceId);
    this.#entries.delete(instanceId);
    if (!entry || entry.executionId !== executionId || entry.keys.length > past.length) return undefined;
    for (let i = 0; i < entry.keys.length; i++) if (entry.keys[i] !== eventKey(past[i]!)) return undefined;
    return { translator: entry.translator, translated: entry.events.slice() };
  }

  /** Holds `events` (translated as `translated`, leaving `translator`) for the instance's next episode. */
  put(instanceId: string, executionId: string, events: readonly HistoryEvent[], translated: PbHistoryEvent[], translator: HistoryTranslator): void {
    this.#entries.delete(instanceId);
    this.#entries.set(instanceId, { executionId, keys: events.map(eventKey), events: translated, translator });
    if (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** Forgets an instance (its orchestration finished). */
  delete(instanceId: string): void {
    this.#entries.delete(instanceId);
  }
}

/**
 * Whether a past event goes to an SDK worker. Not sent: patch markers (duraflow's own `ctx.isPatched`), and
 * `OrchestratorCompleted`, the end-of-episode marker of duraflow's history that the Durable Task Scheduler and
 * the durabletask-go sidecar never send either (the SDKs skip it: durabletask-js decodes it, logs it as an unknown
 * event and moves on), so each episode's work item carries one event fewer per past episode.
 */
function sentToWorkers(event: HistoryEvent): boolean {
  return event.eventType !== 'OrchestratorCompleted' && !readPatchMarker(event);
}

function eventKey(event: HistoryEvent): string {
  const e = event as { name?: string; taskScheduledId?: number; timerId?: number; input?: string; result?: string };
  return `${event.eventType}|${event.eventId}|${event.timestamp}|${e.name ?? ''}|${e.taskScheduledId ?? e.timerId ?? ''}|${(e.input ?? e.result)?.length ?? ''}`;
}

/**
 * Drops new events the worker must not see twice: a second start, and completions of tasks that are already
 * completed or were never scheduled (a duplicate or a stale delivery). The in-process executor drops the same.
 * A task scheduled again under its id (the Python SDK retries an activity or sub-orchestration that way) is open
 * again: its next result is accepted.
 */
function acceptNewEvents(past: readonly HistoryEvent[], events: readonly HistoryEvent[]): HistoryEvent[] {
  const scheduled = new Set<string>();
  const done = new Set<string>();
  let started = false;
  const note = (event: HistoryEvent) => {
    switch (event.eventType) {
      case 'ExecutionStarted':
        started = true;
        break;
      case 'TaskScheduled':
      case 'SubOrchestrationInstanceCreated':
      case 'TimerCreated': {
        const key = `${SCHEDULED_KIND[event.eventType]}:${event.eventId}`;
        scheduled.add(key);
        done.delete(key);
        break;
      }
      default: {
        const key = completionKey(event);
        if (key) done.add(key);
      }
    }
  };
  past.forEach(note);
  const accepted: HistoryEvent[] = [];
  for (const event of events) {
    if (event.eventType === 'ExecutionStarted' && started) continue;
    const key = completionKey(event);
    if (key && (done.has(key) || !scheduled.has(key))) continue;
    note(event);
    accepted.push(event);
  }
  return accepted;
}

const SCHEDULED_KIND = { TaskScheduled: 'task', SubOrchestrationInstanceCreated: 'sub', TimerCreated: 'timer' } as const;

function completionKey(event: HistoryEvent): string | undefined {
  switch (event.eventType) {
    case 'TaskCompleted':
    case 'TaskFailed':
      return `task:${event.taskScheduledId}`;
    case 'SubOrchestrationInstanceCompleted':
    case 'SubOrchestrationInstanceFailed':
      return `sub:${event.taskScheduledId}`;
    case 'TimerFired':
      return `timer:${event.timerId}`;
    default:
      return undefined;
  }
}

/** Which form of entity work item a worker gets. */
export type EntityRequestFormat = 'v1' | 'v2';

/** Runs entity operation batches on a gRPC worker. */
export class RemoteEntityExecutor implements EntityBatchExecutor {
  constructor(
    private readonly instance: InstanceRecord,
    private readonly request: RemoteRequest<{ v1?: PbEntityBatchRequest; v2?: PbEntityRequestV2 }, PbEntityBatchResult>,
    private readonly options: { format: EntityRequestFormat; newId: () => string; now: () => Date },
  ) {}

  async executeBatch(entityId: EntityId, start: EntityStateSnapshot, operations: readonly EntityOperation[]): Promise<EntityBatchResult> {
    if (operations.length === 0) return { ...start, results: [], actions: [] };
    const entityState = start.exists ? pbString(start.state ?? 'null') : undefined;
    const requests = operations.map((op) => ({ requestId: this.options.newId(), op }));
    const body =
      this.options.format === 'v2'
        ? {
            v2: {
              instanceId: entityId.toString(),
              executionId: this.instance.executionId,
              ...(entityState ? { entityState } : {}),
              operationRequests: requests.map(({ requestId, op }) => ({
                eventId: -1,
                entityOperationSignaled: {
                  requestId,
                  operation: op.name,
                  ...(op.input !== undefined ? { input: { value: op.input } } : {}),
                  targetInstanceId: { value: entityId.toString() },
                },
              })),
            },
          }
        : {
            v1: {
              instanceId: entityId.toString(),
              ...(entityState ? { entityState } : {}),
              operations: requests.map(({ requestId, op }) => ({
                operation: op.name,
                requestId,
                ...(op.input !== undefined ? { input: { value: op.input } } : {}),
              })),
            },
          };
    const result = await this.request(body);
    return toBatchResult(result, start, operations.length, this.options.newId);
  }
}

function isEntityInstanceId(instanceId: string | undefined): instanceId is string {
  try {
    return instanceId !== undefined && EntityId.fromInstanceId(instanceId) !== undefined;
  } catch {
    return false;
  }
}

function toBatchResult(result: PbEntityBatchResult, start: EntityStateSnapshot, count: number, newId: () => string): EntityBatchResult {
  if (result.failureDetails) {
    // The worker could not run the batch at all: every operation fails with its reason, the state stays.
    const failureDetails = fromPbFailure(result.failureDetails);
    return { ...start, results: Array.from({ length: count }, () => ({ failureDetails })), actions: [] };
  }
  const results = Array.from({ length: count }, (_, i) => {
    const r = result.results?.[i];
    if (r?.success) {
      const text = fromPbString(r.success.result);
      return text !== undefined ? { result: text } : {};
    }
    const failureDetails = r?.failure ? fromPbFailure(r.failure.failureDetails) : { errorType: 'ProtocolError', message: 'The worker returned no result for this operation.' };
    return { failureDetails };
  });
  const state = fromPbString(result.entityState);
  // The protocol does not say which operation sent an action; they go out after the batch's last response.
  const last = count - 1;
  const actions: EntityAction[] = [];
  for (const action of result.actions ?? []) {
    if (action.sendSignal) {
      const signal = action.sendSignal;
      if (!isEntityInstanceId(signal.instanceId)) continue; // nowhere to deliver it
      const input = fromPbString(signal.input);
      const scheduled = fromPbTimestamp(signal.scheduledTime);
      actions.push({
        type: 'SignalEntity',
        operation: last,
        target: signal.instanceId,
        name: signal.name ?? '',
        ...(input !== undefined ? { input } : {}),
        ...(scheduled ? { scheduledTime: scheduled.toISOString() } : {}),
      });
    } else if (action.startNewOrchestration) {
      const startAction = action.startNewOrchestration;
      const input = fromPbString(startAction.input);
      const version = fromPbString(startAction.version);
      actions.push({
        type: 'StartOrchestration',
        operation: last,
        name: startAction.name ?? '',
        instanceId: startAction.instanceId || newId(),
        ...(version !== undefined ? { version } : {}),
        ...(input !== undefined ? { input } : {}),
      });
    }
  }
  return { exists: state !== undefined, ...(state !== undefined ? { state } : {}), results, actions };
}
