/**
 * The orchestration executor: runs an orchestrator generator over history and turns
 * (past events, new events) into actions. Pure: no I/O, no clocks, no randomness.
 *
 * One executor lives as long as its instance stays in the worker's cache, so each episode feeds only the
 * new events (no replay per step). A fresh executor replays the past events first; while it does, every
 * scheduling call is matched against the recorded scheduling event with the same sequence id (DTFx's
 * non-determinism checks, reference §6.1).
 */
import type {
  CompleteOrchestrationAction,
  CreateTimerAction,
  OrchestratorAction,
} from './actions.js';
import { describeAction, describeRecorded } from './actions.js';
import type { ExecutionStartedEvent, HistoryEvent } from '../sdk/history.js';
import type { InstanceTags } from '../sdk/tags.js';
import { PatchState } from './patch-state.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, deserialize, serialize } from './payload.js';
import { OrchestrationContextImpl } from './orchestration-context.js';
import { DEFAULT_HTTP_POLL_DELAY_MS } from './durable-http.js';
import { OrchestrationEntities } from './orchestration-entities.js';
import { uuidV5 } from './uuid.js';
import {
  NonDeterministicOrchestrationError,
  TaskFailedError,
  UnknownFunctionError,
  ValidationError,
  toFailureDetails,
} from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import { silentLogger } from '../sdk/logger.js';
import type { RetryOptions } from '../sdk/retry-options.js';
import { CompletableTask, RetryableTask, Task, TimerTask, isTask } from '../sdk/task.js';
import { validateInstanceId } from '../sdk/instance-id.js';
import type { OrchestratorFunction } from '../sdk/orchestration-context.js';
import { defuse, describeValue, isThenable } from './foreign-values.js';

/** What the executor needs from its host. */
export interface ExecutorOptions {
  /** Finds the orchestrator function for a name and the instance's version (side-by-side registrations). */
  resolve: (name: string, version: string | undefined) => OrchestratorFunction | undefined;
  /** Names to list when a name is unknown. */
  registeredNames?: () => readonly string[];
  /** The versions registered for a name side by side, to list when its instance's version is not one of them. */
  registeredVersions?: (name: string) => readonly string[];
  maxPayloadBytes?: number;
  logger?: Logger;
  /** Wait between polls of a durable HTTP 202 without `Retry-After` (default 30 s). */
  httpPollDelayMs?: number;
}

/** Outcome of one episode. */
export interface EpisodeResult {
  /** Actions to commit, in sequence order; the completion (if any) is last. */
  actions: OrchestratorAction[];
  /** The new events that belong in history (duplicate or stale completions are dropped). */
  acceptedEvents: HistoryEvent[];
  /** Custom status as JSON text. */
  customStatus: string | undefined;
  /** Set when the execution ended (completed, failed, or continued as new). */
  completion: CompleteOrchestrationAction | undefined;
}

type OpenKind = 'activity' | 'subOrchestration' | 'timer';
interface OpenTask {
  task: CompletableTask<unknown>;
  kind: OpenKind;
  name: string;
}

const SCHEDULING_MATCH: Record<string, OrchestratorAction['type']> = {
  TaskScheduled: 'ScheduleTask',
  TimerCreated: 'CreateTimer',
  SubOrchestrationInstanceCreated: 'CreateSubOrchestration',
  EventSent: 'SendEvent',
};

/** Replays and runs one orchestration execution. */
export class OrchestrationExecutor {
  readonly context: OrchestrationContextImpl;
  /** Entity calls, signals and critical sections. */
  readonly entities: OrchestrationEntities;
  readonly maxPayloadBytes: number;
  readonly logger: Logger;
  readonly httpPollDelayMs: number;
  /** From ExecutionStarted. */
  started: ExecutionStartedEvent | undefined;
  input: unknown;
  isReplaying = false;
  currentUtcDateTime = new Date(0);
  customStatusText: string | undefined;
  /** True once setCustomStatus was called in this execution. */
  customStatusSet = false;
  willContinueAsNew = false;

  #generator: Generator<unknown, unknown, unknown> | undefined;
  #generatorStarted = false;
  #current: Task<unknown> | undefined;
  #returned = false;
  #output: string | undefined;
  #nextSequence = 0;
  #pendingActions = new Map<number, OrchestratorAction>();
  #open = new Map<number, OpenTask>();
  #eventWaiters = new Map<string, CompletableTask<unknown>[]>();
  #bufferedEvents = new Map<string, { event: HistoryEvent; order: number }[]>();
  #bufferOrder = 0;
  #completion: CompleteOrchestrationAction | undefined;
  #completionEmitted = false;
  #continueAsNew: { input: string | undefined; cutoff: number } | undefined;
  #carryover: HistoryEvent[] = [];
  /** `ctx.isPatched` / `ctx.deprecatePatch` of this execution. */
  readonly #patches = new PatchState();
  /** The non-determinism that failed this execution, if one did (with what was recorded and what the code does now). */
  nonDeterminism: NonDeterministicOrchestrationError | undefined;

  constructor(private readonly options: ExecutorOptions) {
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.logger = options.logger ?? silentLogger;
    this.httpPollDelayMs = options.httpPollDelayMs ?? DEFAULT_HTTP_POLL_DELAY_MS;
    this.context = new OrchestrationContextImpl(this);
    this.entities = new OrchestrationEntities({
      maxPayloadBytes: this.maxPayloadBytes,
      instanceId: () => this.started?.instanceId ?? '',
      executionId: () => this.started?.executionId,
      now: () => this.currentUtcDateTime,
      newUuid: () => uuidV5(this.nextUuidName()),
      send: (instanceId, name, input) => this.#sendEventText(instanceId, name, input),
    });
  }

  /** The execution has ended; later events are ignored. */
  get isComplete(): boolean {
    return this.#completion !== undefined;
  }
  /**
   * Runs one episode. A fresh executor gets the whole recorded history as `pastEvents`; a cached one
   * gets `[]` and only the new events.
   */
  execute(pastEvents: readonly HistoryEvent[], newEvents: readonly HistoryEvent[]): EpisodeResult {
    const acceptedEvents: HistoryEvent[] = [];
    this.#patches.noteRecorded(pastEvents);
    try {
      this.isReplaying = true;
      for (const event of pastEvents) {
        this.#apply(event, true);
        this.#afterEvent();
      }
      this.isReplaying = false;
      for (const event of newEvents) {
        if (this.#apply(event, false)) acceptedEvents.push(event);
        this.#afterEvent();
      }
    } catch (error) {
      if (!(error instanceof NonDeterministicOrchestrationError)) throw error;
      // Non-determinism is only found while replaying, so a return reached before it (the code now returns
      // earlier than history shows) was never real: the failure replaces it. A failure of the code stays.
      if (!this.#completionEmitted && this.#completion?.status !== 'Failed') this.#completion = undefined;
      this.nonDeterminism ??= error;
      this.#fail(error);
    }
    this.isReplaying = false;
    return { actions: this.#takeActions(), acceptedEvents, customStatus: this.customStatusText, completion: this.#completion };
  }

  #takeActions(): OrchestratorAction[] {
    // Markers first: on replay the code reaches a patch before its marker is read back (see PatchState.check).
    let actions: OrchestratorAction[] = [...this.#patches.takeNewMarkers(), ...this.#pendingActions.values()];
    this.#pendingActions.clear();
    const completion = this.#completion;
    if (completion) {
      if (completion.status === 'Failed') actions = actions.filter((a) => a.type === 'SendEvent' || a.type === 'RecordPatch');
      if (this.#continueAsNew) actions = actions.filter((a) => a.id < this.#continueAsNew!.cutoff);
      if (!this.#completionEmitted) {
        if (completion.status === 'ContinuedAsNew') completion.carryoverEvents = this.#collectCarryover();
        // Locks still held are released when the execution ends. These sends have no sequence id: they are
        // never replayed (a replay that reaches them would have completed here too).
        for (const release of this.entities.takeFinalReleases()) {
          actions.push({ type: 'SendEvent', id: -1, instanceId: release.instanceId, name: release.name, input: release.input });
        }
        actions.push(completion);
        this.#completionEmitted = true;
      }
    }
    return actions;
  }

  // ---- events -------------------------------------------------------------------------------

  /** Applies one event; returns false when a new event is a duplicate or stale and must not be recorded. */
  #apply(event: HistoryEvent, isPast: boolean): boolean {
    if (this.#completion && !isPast) {
      if (event.eventType === 'EventRaised' && this.#completion.status === 'ContinuedAsNew') this.#carryover.push(event);
      return false;
    }
    switch (event.eventType) {
      case 'OrchestratorStarted': {
        const at = Date.parse(event.timestamp);
        if (at > this.currentUtcDateTime.getTime()) this.currentUtcDateTime = new Date(at);
        return true;
      }
      case 'ExecutionStarted':
        this.#start(event);
        return true;
      case 'TaskScheduled':
      case 'TimerCreated':
      case 'SubOrchestrationInstanceCreated':
      case 'EventSent':
        if (event.eventType === 'EventSent' && event.eventId < 0) return true; // a lock release at completion (see #takeActions)
        this.#matchRecorded(event);
        return true;
      case 'TaskCompleted':
      case 'SubOrchestrationInstanceCompleted':
        return this.#settle(event.taskScheduledId, event.eventType === 'TaskCompleted' ? 'activity' : 'subOrchestration', (t) =>
          t._complete(deserialize(event.result)),
        );
      case 'TaskFailed':
      case 'SubOrchestrationInstanceFailed': {
        const kind = event.eventType === 'TaskFailed' ? 'activity' : 'subOrchestration';
        return this.#settle(event.taskScheduledId, kind, (t, open) => {
          const what = kind === 'activity' ? 'Activity' : 'Sub-orchestration';
          const message = `${what} '${open.name}' (task #${event.taskScheduledId}) failed: ${event.failureDetails.message}`;
          t._fail(new TaskFailedError(message, event.failureDetails, event.taskScheduledId));
        });
      }
      case 'TimerFired':
        return this.#settle(event.timerId, 'timer', (t) => t._complete(undefined));
      case 'EventRaised':
        this.#deliverEvent(event);
        return true;
      case 'OrchestratorCompleted':
        if (isPast) this.#checkAllRecorded();
        return true;
      case 'GenericEvent':
        if (isPast) this.#patches.check(event, `Non-deterministic orchestration '${this.started?.name}' (instance '${this.started?.instanceId}')`);
        return true;
      default:
        return true;
    }
  }

  #afterEvent(): void {
    this.#resume();
    if (this.#returned) this.#tryComplete();
  }

  #start(event: ExecutionStartedEvent): void {
    this.started = event;
    const fn = this.options.resolve(event.name, event.version);
    if (!fn) {
      const versions = this.options.registeredVersions?.(event.name) ?? [];
      const registered = this.options.registeredNames?.() ?? [];
      this.#fail(
        versions.length && event.version
          ? new UnknownFunctionError('orchestration', event.name, registered, { version: event.version, registeredVersions: versions })
          : new UnknownFunctionError('orchestration', event.name, registered),
      );
      return;
    }
    let result: unknown;
    try {
      this.input = deserialize(event.input);
      result = fn(this.context, this.input);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (isGenerator(result)) {
      this.#generator = result;
      this.#resume();
    } else if (isThenable(result) || isAsyncIterable(result)) {
      defuse(result); // its rejection is nobody's to handle now
      const what = isThenable(result) ? `returned ${describeValue(result)}` : 'returned an async generator';
      this.#fail(
        new TypeError(
          `Orchestrator '${event.name}' ${what}: orchestrators must be generator functions (function*), ` +
            'not async functions. Use `yield ctx.callActivity(...)` instead of `await`.',
        ),
      );
    } else {
      this.#onReturned(result);
    }
  }

  #matchRecorded(event: HistoryEvent): void {
    const action = this.#pendingActions.get(event.eventId);
    const where = `Non-deterministic orchestration '${this.started?.name}' (instance '${this.started?.instanceId}')`;
    if (!action) {
      throw new NonDeterministicOrchestrationError(
        `${where}: history recorded ${describeRecorded(event)}, but the orchestrator code did not schedule it ` +
          '(it scheduled fewer actions, or in another order).',
        { recorded: describeRecorded(event), current: 'nothing' },
      );
    }
    const sameName =
      !('name' in event) || !('name' in action) || event.name.toLowerCase() === action.name.toLowerCase();
    if (SCHEDULING_MATCH[event.eventType] !== action.type || !sameName) {
      throw new NonDeterministicOrchestrationError(
        `${where}: history recorded ${describeRecorded(event)}, but the orchestrator code now schedules ${describeAction(action)}.`,
        { recorded: describeRecorded(event), current: describeAction(action) },
      );
    }
    this.#pendingActions.delete(event.eventId);
  }

  #checkAllRecorded(): void {
    const unrecorded = [...this.#pendingActions.values()][0];
    if (unrecorded) {
      throw new NonDeterministicOrchestrationError(
        `Non-deterministic orchestration '${this.started?.name}' (instance '${this.started?.instanceId}'): the orchestrator code now ` +
          `schedules ${describeAction(unrecorded)}, but history recorded no such action at that point (it scheduled more actions).`,
        { recorded: 'nothing', current: describeAction(unrecorded) },
      );
    }
  }

  #settle(id: number, kind: OpenKind, settle: (task: CompletableTask<unknown>, open: OpenTask) => void): boolean {
    const open = this.#open.get(id);
    if (!open || open.kind !== kind) return false; // duplicate, stale, or cancelled: not recorded
    this.#open.delete(id);
    settle(open.task, open);
    return true;
  }

  #deliverEvent(event: HistoryEvent & { eventType: 'EventRaised' }): void {
    if (this.entities.deliver(event)) return;
    const key = event.name.toLowerCase();
    const waiters = this.#eventWaiters.get(key);
    const waiter = waiters?.pop(); // newest wait first, as in DTFx
    if (waiter) {
      waiter._complete(deserialize(event.input));
      return;
    }
    const buffer = this.#bufferedEvents.get(key) ?? [];
    buffer.push({ event, order: this.#bufferOrder++ });
    this.#bufferedEvents.set(key, buffer);
  }

  #collectCarryover(): HistoryEvent[] {
    const buffered = [...this.#bufferedEvents.values()].flat().sort((a, b) => a.order - b.order);
    return [...buffered.map((b) => b.event), ...this.#carryover];
  }

  // ---- driving the generator -------------------------------------------------------------------

  #resume(): void {
    const generator = this.#generator;
    if (!generator || this.#returned || this.#completion) return;
    for (;;) {
      let step: IteratorResult<unknown, unknown>;
      try {
        if (!this.#generatorStarted) {
          this.#generatorStarted = true;
          step = generator.next();
        } else {
          const current = this.#current;
          if (!current || !current.isCompleted) return;
          this.#current = undefined;
          step = current.isFaulted ? generator.throw(current.error) : generator.next(current.result);
        }
      } catch (error) {
        this.#fail(error);
        return;
      }
      if (this.willContinueAsNew) {
        this.#finishContinueAsNew();
        return;
      }
      if (step.done) {
        this.#onReturned(step.value);
        return;
      }
      if (!isYieldedTask(step.value)) {
        // A yielded Promise is refused, and must not end the process when it rejects later.
        defuse(step.value);
        this.#fail(new TypeError(describeBadYield(this.started?.name ?? '?', step.value)));
        return;
      }
      this.#current = step.value;
    }
  }

  #onReturned(value: unknown): void {
    this.#returned = true;
    if (this.willContinueAsNew) {
      this.#finishContinueAsNew();
      return;
    }
    try {
      this.#output = serialize(value, `output of orchestration '${this.started?.name}'`, this.maxPayloadBytes);
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#tryComplete();
  }

  /** Completion rule (reference §6.2): returned, and no activity, child or uncancelled timer still open. */
  #tryComplete(): void {
    if (this.#completion || this.#open.size > 0) return;
    this.#completion = {
      type: 'CompleteOrchestration',
      id: this.#nextSequence,
      status: 'Completed',
      ...(this.#output !== undefined ? { result: this.#output } : {}),
    };
  }

  #finishContinueAsNew(): void {
    this.#returned = true;
    if (this.#completion) return;
    const input = this.#continueAsNew?.input;
    this.#completion = {
      type: 'CompleteOrchestration',
      id: this.#nextSequence,
      status: 'ContinuedAsNew',
      ...(input !== undefined ? { result: input } : {}),
    };
  }

  #fail(error: unknown): void {
    if (this.#completion) return;
    this.#returned = true;
    this.#completion = {
      type: 'CompleteOrchestration',
      id: this.#nextSequence,
      status: 'Failed',
      failureDetails: toFailureDetails(error),
    };
  }

  // ---- scheduling (called by the context) ------------------------------------------------------

  #newAction<A extends OrchestratorAction>(make: (id: number) => A): A {
    const action = make(this.#nextSequence++);
    this.#pendingActions.set(action.id, action);
    return action;
  }

  /** Schedules an activity. */
  scheduleActivity(name: string, input: unknown, priority?: number): CompletableTask<unknown> {
    const inputText = serialize(input, `input of activity '${name}'`, this.maxPayloadBytes);
    const action = this.#newAction((id) => ({
      type: 'ScheduleTask' as const,
      id,
      name,
      ...(inputText !== undefined ? { input: inputText } : {}),
      ...(priority ? { priority } : {}),
    }));
    return this.#track(action.id, 'activity', name);
  }

  /** `ctx.isPatched` (see {@link PatchState.isPatched}). */
  isPatched(patchId: string): boolean {
    return this.#patches.isPatched(patchId, this.isReplaying);
  }

  /** `ctx.deprecatePatch` (see {@link PatchState.deprecatePatch}). */
  deprecatePatch(patchId: string): void {
    this.#patches.deprecatePatch(patchId, this.isReplaying);
  }

  /** Starts a sub-orchestration; without an explicit id the child id is derived from this instance and the sequence id. */
  scheduleSubOrchestration(name: string, input: unknown, instanceId: string | undefined, version?: string, tags?: InstanceTags): CompletableTask<unknown> {
    const inputText = serialize(input, `input of sub-orchestration '${name}'`, this.maxPayloadBytes);
    if (instanceId !== undefined) validateChildId(instanceId, this.started?.instanceId);
    const generation = this.started?.generation ?? 0;
    const action = this.#newAction((id) => ({
      type: 'CreateSubOrchestration' as const,
      id,
      name,
      instanceId: instanceId ?? `${this.started?.instanceId}:${generation > 0 ? `${generation}:` : ''}${id}`,
      ...(version !== undefined ? { version } : {}),
      ...(inputText !== undefined ? { input: inputText } : {}),
      ...(tags !== undefined ? { tags } : {}),
    }));
    return this.#track(action.id, 'subOrchestration', name);
  }

  /** Creates a durable timer. */
  createTimer(fireAt: Date): TimerTask {
    if (!(fireAt instanceof Date) || Number.isNaN(fireAt.getTime())) throw new ValidationError('createTimer needs a valid Date.');
    const action: CreateTimerAction = this.#newAction((id) => ({ type: 'CreateTimer' as const, id, fireAt: fireAt.toISOString() }));
    const timer = new TimerTask(action.id, fireAt, () => {
      this.#open.delete(action.id);
      if (this.#pendingActions.get(action.id) === action) action.isCanceled = true;
    });
    this.#open.set(action.id, { task: timer as CompletableTask<unknown>, kind: 'timer', name: 'timer' });
    return timer;
  }

  /** Sends an event to another instance (fire and forget). */
  sendEvent(instanceId: string, name: string, input: unknown): void {
    const inputText = serialize(input, `data of event '${name}'`, this.maxPayloadBytes);
    this.#sendEventText(instanceId, name, inputText);
  }

  #sendEventText(instanceId: string, name: string, inputText: string | undefined): number {
    return this.#newAction((id) => ({ type: 'SendEvent' as const, id, instanceId, name, ...(inputText !== undefined ? { input: inputText } : {}) })).id;
  }

  /** Waits for an external event; events raised earlier are delivered first-in first-out. */
  waitForExternalEvent(name: string): CompletableTask<unknown> {
    if (typeof name !== 'string' || name.length === 0) throw new ValidationError('An event name must be a non-empty string.');
    const key = name.toLowerCase();
    const task = new CompletableTask<unknown>(-1);
    const buffer = this.#bufferedEvents.get(key);
    const early = buffer?.shift();
    if (early && early.event.eventType === 'EventRaised') {
      task._complete(deserialize(early.event.input));
      return task;
    }
    const waiters = this.#eventWaiters.get(key) ?? [];
    waiters.push(task);
    this.#eventWaiters.set(key, waiters);
    return task;
  }

  /** Wraps `attempt` in a retry policy whose waits are durable timers. */
  withRetry<T>(options: RetryOptions, attempt: () => CompletableTask<T>): Task<T> {
    const firstAttemptAt = this.currentUtcDateTime.getTime();
    const task: RetryableTask<T> = new RetryableTask<T>(
      (t, error) => {
        let delay = 0;
        try {
          const nonRetriable = error instanceof TaskFailedError && error.failureDetails.isNonRetriable;
          delay = nonRetriable ? 0 : options.nextDelay(t.attempts, error, this.currentUtcDateTime.getTime() - firstAttemptAt);
        } catch (policyError) {
          t._fail(policyError as Error);
          return;
        }
        if (delay <= 0) t._fail(error);
        else t._watch(this.createTimer(new Date(this.currentUtcDateTime.getTime() + delay)), 'timer');
      },
      (t) => {
        t.attempts++;
        t._watch(attempt(), 'attempt');
      },
    );
    task._watch(attempt(), 'attempt');
    return task;
  }

  /** Records the decision to continue as new; the generator ends at its next yield or return. */
  continueAsNew(input: unknown): void {
    const inputText = serialize(input, `input of orchestration '${this.started?.name}' (continueAsNew)`, this.maxPayloadBytes);
    this.willContinueAsNew = true;
    this.#continueAsNew = { input: inputText, cutoff: this.#nextSequence };
  }

  /** Sets the custom status (JSON text kept for the commit). */
  setCustomStatus(value: unknown): void {
    this.customStatusText = serialize(value, `custom status of orchestration '${this.started?.name}'`, this.maxPayloadBytes);
    this.customStatusSet = true;
  }

  /** Next value of the deterministic counter behind `newUuid`. */
  nextUuidName(): string {
    return `${this.started?.instanceId}_${this.currentUtcDateTime.toISOString()}_${this.#uuidCounter++}`;
  }
  #uuidCounter = 0;

  #track(id: number, kind: OpenKind, name: string): CompletableTask<unknown> {
    const task = new CompletableTask<unknown>(id);
    this.#open.set(id, { task, kind, name });
    return task;
  }
}


function validateChildId(instanceId: string, ownId: string | undefined): void {
  validateInstanceId(instanceId);
  if (instanceId === ownId) throw new ValidationError(`A sub-orchestration cannot use its parent's instance id '${instanceId}'.`);
}

function isGenerator(value: unknown): value is Generator<unknown, unknown, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  try {
    // Getters and Proxy traps of user code run here: a throw means "not a generator".
    return typeof (value as Generator).next === 'function' && typeof (value as Generator).throw === 'function' && Symbol.iterator in value;
  } catch {
    return false;
  }
}

function isAsyncIterable(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return Symbol.asyncIterator in value;
  } catch {
    return false;
  }
}

/** `isTask`, guarded: `instanceof` runs a Proxy's getPrototypeOf trap. */
function isYieldedTask(value: unknown): value is Task<unknown> {
  try {
    return isTask(value);
  } catch {
    return false;
  }
}

function describeBadYield(name: string, value: unknown): string {
  if (isThenable(value) || isAsyncIterable(value)) {
    return (
      `Orchestrator '${name}' yielded ${describeValue(value)}, which is not allowed: an orchestrator may only yield tasks returned by ` +
      'the context (ctx.callActivity, ctx.createTimer, ctx.waitForExternalEvent, …), because only their results are recorded in ' +
      'history and replayed. Do I/O (fetch, a database call) in an activity, or use ctx.callHttp, instead of yielding or awaiting it here.'
    );
  }
  const described = describeValue(value);
  const shown = described === 'an array' ? 'an array (use ctx.taskAll)' : typeof value === 'object' || value === undefined ? described : typeof value;
  return `Orchestrator '${name}' yielded ${shown}, which is not a task. Yield only tasks returned by the context.`;
}
