/**
 * The orchestration executor: runs an orchestrator (a generator or an `async` function, see
 * orchestrator-drivers.ts) over history and turns (past events, new events) into actions. Pure: no I/O, no
 * clocks, no randomness.
 *
 * One executor lives as long as its instance stays in the worker's cache, so each episode feeds only the
 * new events (no replay per step). A fresh executor replays the past events first; while it does, every
 * scheduling call is matched against the recorded scheduling event with the same sequence id (DTFx's
 * non-determinism checks, reference §6.1, kept in action-ledger.ts). An episode of a generator runs synchronously; one of async code
 * drains the microtask queue after every event that woke it, so `execute` then returns a promise.
 */
import type { CompleteOrchestrationAction, OrchestratorAction } from './actions.js';
import { ActionLedger } from './action-ledger.js';
import type { ExecutionStartedEvent, HistoryEvent } from '../sdk/history.js';
import type { InstanceTags } from '../sdk/tags.js';
import { PatchState } from './patch-state.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, deserialize, serialize } from './payload.js';
import { OrchestrationContextImpl } from './orchestration-context.js';
import { DEFAULT_HTTP_POLL_DELAY_MS } from './durable-http.js';
import { OrchestrationEntities, type PendingEntityWork } from './orchestration-entities.js';
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
import { RetryableTask, type CompletableTask, type Task, type TimerTask } from '../sdk/task.js';
import type { OrchestratorFunction } from '../sdk/orchestration-context.js';
import { AwaitWatch, afterMicrotasks, describeStray, driverFor, type DriverHost, type OrchestratorDriver } from './orchestrator-drivers.js';
import { validateChildId } from './orchestration-checks.js';

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
  /** Calls back once the microtask queue is empty, for async orchestrators (default: {@link afterMicrotasks}). */
  drain?: (then: () => void) => void;
}

/** What a running execution waits for, as the executor sees it after replaying its history. */
export interface PendingWork {
  /** Activities, sub-orchestrations and timers scheduled and not finished (cancelled timers left out). */
  tasks: { id: number; kind: 'activity' | 'subOrchestration' | 'timer'; name: string }[];
  /** Names of the external events the code waits for now (as it wrote them). */
  events: string[];
  /** Timers the code cancelled (they never fire for it). */
  cancelledTimers: number[];
  entities: PendingEntityWork;
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

/** What `#run` returns when async code woke and the microtask queue must drain before the next event. */
const DRAIN = Symbol('drain');

/** The events of one episode and how far it has gone (an async episode resumes it after each drain). */
interface EpisodeRun {
  past: readonly HistoryEvent[];
  news: readonly HistoryEvent[];
  next: number;
  accepted: HistoryEvent[];
}

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

  /** Awaits on this execution's tasks, and whether an episode is running (the context marks its tasks with it). */
  readonly watch = new AwaitWatch();
  #driver: OrchestratorDriver | undefined;
  readonly #driverHost: DriverHost;
  #returned = false;
  #output: string | undefined;
  /** Sequence numbers, actions not yet recorded, open tasks and external events. */
  readonly #ledger = new ActionLedger();
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
    const executor = this;
    this.#driverHost = {
      get where() {
        return `'${executor.started?.name ?? '?'}'`;
      },
      get willContinueAsNew() {
        return executor.willContinueAsNew;
      },
      get stopped() {
        return executor.#returned || executor.#completion !== undefined;
      },
      returned: (value) => this.#onReturned(value),
      fail: (error) => this.#fail(error),
      continuedAsNew: () => this.#finishContinueAsNew(),
    };
    this.entities = new OrchestrationEntities({
      maxPayloadBytes: this.maxPayloadBytes,
      instanceId: () => this.started?.instanceId ?? '',
      executionId: () => this.started?.executionId,
      now: () => this.currentUtcDateTime,
      newUuid: () => uuidV5(this.nextUuidName()),
      send: (instanceId, name, input) => this.#sendEventText(instanceId, name, input),
    });
  }

  /** What the execution waits for now (read after {@link execute}; no effect on it). */
  pendingWork(): PendingWork {
    return { ...this.#ledger.pendingWork(), entities: this.entities.pending() };
  }

  /** The execution has ended; later events are ignored. */
  get isComplete(): boolean {
    return this.#completion !== undefined;
  }
  /**
   * Runs one episode. A fresh executor gets the whole recorded history as `pastEvents`; a cached one
   * gets `[]` and only the new events.
   */
  execute(pastEvents: readonly HistoryEvent[], newEvents: readonly HistoryEvent[]): EpisodeResult | Promise<EpisodeResult> {
    this.#patches.noteRecorded(pastEvents);
    this.watch.inStep = true;
    const run: EpisodeRun = { past: pastEvents, news: newEvents, next: 0, accepted: [] };
    const first = this.#run(run, false);
    if (first !== DRAIN) return first;
    // Async code woke: go on after each drain (callbacks, not a promise per drain: replay pays one per step).
    const drain = this.options.drain ?? afterMicrotasks;
    return new Promise<EpisodeResult>((resolve, reject) => {
      const step = (): void => {
        try {
          const next = this.#run(run, true);
          if (next === DRAIN) drain(step);
          else resolve(next);
        } catch (error) {
          reject(error);
        }
      };
      drain(step);
    });
  }

  /**
   * Applies the episode's events from `run.next` on. After an event that woke async code it returns
   * {@link DRAIN}: the caller goes on once the microtask queue is empty.
   */
  #run(run: EpisodeRun, drained: boolean): EpisodeResult | typeof DRAIN {
    const total = run.past.length + run.news.length;
    try {
      if (drained) this.#afterDrain();
      while (run.next < total) {
        const isPast = run.next < run.past.length;
        const event = isPast ? run.past[run.next]! : run.news[run.next - run.past.length]!;
        run.next++;
        this.isReplaying = isPast;
        if (this.#apply(event, isPast) && !isPast) run.accepted.push(event);
        this.#afterEvent();
        if (this.watch.woke && this.#driver?.isAsync && !this.#completion) {
          this.watch.woke = false;
          return DRAIN;
        }
      }
    } catch (error) {
      if (!(error instanceof NonDeterministicOrchestrationError)) {
        this.watch.inStep = false;
        throw error;
      }
      // Non-determinism is only found while replaying, so a return reached before it (the code now returns
      // earlier than history shows) was never real: the failure replaces it. A failure of the code stays.
      if (!this.#completionEmitted && this.#completion?.status !== 'Failed') this.#completion = undefined;
      this.nonDeterminism ??= error;
      this.#fail(error);
    }
    this.isReplaying = false;
    this.watch.inStep = false;
    this.watch.woke = false;
    return { actions: this.#takeActions(), acceptedEvents: run.accepted, customStatus: this.customStatusText, completion: this.#completion };
  }

  #takeActions(): OrchestratorAction[] {
    // Markers first: on replay the code reaches a patch before its marker is read back (see PatchState.check).
    let actions: OrchestratorAction[] = [...this.#patches.takeNewMarkers(), ...this.#ledger.takePending()];
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
        this.#ledger.matchRecorded(event, this.#nonDeterministic());
        return true;
      case 'TaskCompleted':
      case 'SubOrchestrationInstanceCompleted':
        return this.#ledger.settle(event.taskScheduledId, event.eventType === 'TaskCompleted' ? 'activity' : 'subOrchestration', (t) =>
          t._complete(deserialize(event.result)),
        );
      case 'TaskFailed':
      case 'SubOrchestrationInstanceFailed': {
        const kind = event.eventType === 'TaskFailed' ? 'activity' : 'subOrchestration';
        return this.#ledger.settle(event.taskScheduledId, kind, (t, open) => {
          const what = kind === 'activity' ? 'Activity' : 'Sub-orchestration';
          const message = `${what} '${open.name}' (task #${event.taskScheduledId}) failed: ${event.failureDetails.message}`;
          t._fail(new TaskFailedError(message, event.failureDetails, event.taskScheduledId));
        });
      }
      case 'TimerFired':
        return this.#ledger.settle(event.timerId, 'timer', (t) => t._complete(undefined));
      case 'EventRaised':
        if (!this.entities.deliver(event)) this.#ledger.deliverEvent(event);
        return true;
      case 'OrchestratorCompleted':
        if (isPast) this.#ledger.checkAllRecorded(this.#nonDeterministic());
        return true;
      case 'GenericEvent':
        if (isPast) this.#patches.check(event, this.#nonDeterministic());
        return true;
      default:
        return true;
    }
  }

  #afterEvent(): void {
    if (this.watch.stray !== undefined && !this.#completion) {
      this.#fail(new NonDeterministicOrchestrationError(describeStray(this.#driverHost.where, this.watch.stray)));
    }
    this.#driver?.resume();
    if (this.#returned) this.#tryComplete();
  }

  #afterDrain(): void {
    this.#driver?.afterDrain();
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
    let driver: OrchestratorDriver | undefined;
    let result: unknown;
    try {
      this.input = deserialize(event.input);
      result = fn(this.context, this.input);
      driver = driverFor(result, this.#driverHost, this.watch);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (driver) {
      this.#driver = driver;
      driver.resume();
    } else {
      this.#onReturned(result);
    }
  }

  /** The opening of a non-determinism message. */
  #nonDeterministic(): string {
    return `Non-deterministic orchestration '${this.started?.name}' (instance '${this.started?.instanceId}')`;
  }

  #collectCarryover(): HistoryEvent[] {
    return [...this.#ledger.unconsumedEvents(), ...this.#carryover];
  }

  // ---- ending the execution ----------------------------------------------------------------------

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
    if (this.#completion || this.#ledger.openCount > 0) return;
    this.#completion = {
      type: 'CompleteOrchestration',
      id: this.#ledger.nextSequence,
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
      id: this.#ledger.nextSequence,
      status: 'ContinuedAsNew',
      ...(input !== undefined ? { result: input } : {}),
    };
  }

  #fail(error: unknown): void {
    if (this.#completion) return;
    this.#returned = true;
    this.#completion = {
      type: 'CompleteOrchestration',
      id: this.#ledger.nextSequence,
      status: 'Failed',
      failureDetails: toFailureDetails(error),
    };
  }

  // ---- scheduling (called by the context) ------------------------------------------------------

  /** Schedules an activity. */
  scheduleActivity(name: string, input: unknown, priority?: number): CompletableTask<unknown> {
    const inputText = serialize(input, `input of activity '${name}'`, this.maxPayloadBytes);
    const action = this.#ledger.newAction((id) => ({
      type: 'ScheduleTask' as const,
      id,
      name,
      ...(inputText !== undefined ? { input: inputText } : {}),
      ...(priority ? { priority } : {}),
    }));
    return this.#ledger.track(action.id, 'activity', name);
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
    const action = this.#ledger.newAction((id) => ({
      type: 'CreateSubOrchestration' as const,
      id,
      name,
      instanceId: instanceId ?? `${this.started?.instanceId}:${generation > 0 ? `${generation}:` : ''}${id}`,
      ...(version !== undefined ? { version } : {}),
      ...(inputText !== undefined ? { input: inputText } : {}),
      ...(tags !== undefined ? { tags } : {}),
    }));
    return this.#ledger.track(action.id, 'subOrchestration', name);
  }

  /** Creates a durable timer. */
  createTimer(fireAt: Date): TimerTask {
    if (!(fireAt instanceof Date) || Number.isNaN(fireAt.getTime())) throw new ValidationError('createTimer needs a valid Date.');
    return this.#ledger.timer(fireAt);
  }

  /** Sends an event to another instance (fire and forget). */
  sendEvent(instanceId: string, name: string, input: unknown): void {
    const inputText = serialize(input, `data of event '${name}'`, this.maxPayloadBytes);
    this.#sendEventText(instanceId, name, inputText);
  }

  #sendEventText(instanceId: string, name: string, inputText: string | undefined): number {
    return this.#ledger.newAction((id) => ({ type: 'SendEvent' as const, id, instanceId, name, ...(inputText !== undefined ? { input: inputText } : {}) })).id;
  }

  /** Waits for an external event; events raised earlier are delivered first-in first-out. */
  waitForExternalEvent(name: string): CompletableTask<unknown> {
    if (typeof name !== 'string' || name.length === 0) throw new ValidationError('An event name must be a non-empty string.');
    return this.#ledger.waitForEvent(name);
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
    this.#continueAsNew = { input: inputText, cutoff: this.#ledger.nextSequence };
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

}
