/**
 * Runs activities: claims work items up to the concurrency limit, runs them, renews their leases while
 * they run, and group-commits their results into the orchestrations' inboxes.
 */
import { setMaxListeners } from 'node:events';
import { makeEvent, type HistoryEvent } from '../sdk/history.js';
import { serialize } from '../core/payload.js';
import { ActivityTimeoutError, StoreError, UnknownFunctionError, toFailureDetails } from '../sdk/errors.js';
import type { Registry } from '../sdk/registry.js';
import type { ActivityCompletion, ActivityWorkItem, HubStore } from '../store/store.js';
import { Batcher } from '../store/batcher.js';
import { storeErrorGate } from '../store/store-outage.js';
import { DispatchLoop, type DispatchLoopOptions, type StepResult } from './dispatch-loop.js';
import { DEFAULT_ACTIVITY_TIMEOUT_MS, type ActivityContext } from '../sdk/activity.js';
import { LazyAbort, withTimeLimit } from './time-limit.js';
import { logActivityFailure, logActivityTakeovers } from './worker-log.js';
import { SpanKind, SpanStatusCode, context as otelContext, trace, type Span } from '@opentelemetry/api';
import { ATTR, contextOf, recordFailure, spanName, tracer } from '../telemetry/tracer.js';
import { duraflowMetrics, secondsSince } from '../telemetry/metrics.js';

const metrics = duraflowMetrics();

/** Longest wait between two tries of recording a result the store refused (see ActivityDispatcher.#record). */
const MAX_RECORD_RETRY_MS = 1000;

/** Waits `ms`, or less if `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Settings of an {@link ActivityDispatcher}. */
export interface ActivityDispatcherOptions {
  store: HubStore;
  registry: Registry;
  workerId: string;
  maxConcurrent: number;
  leaseMs: number;
  maxPayloadBytes: number;
  now: () => Date;
  loop: Omit<DispatchLoopOptions, 'name'>;
  /** Hands a result to this worker's orchestration dispatcher in memory; false: record it through the inbox. */
  deliverLocally?: (item: ActivityWorkItem, event: HistoryEvent) => boolean;
  /** Longest an attempt may run unless its activity sets `timeoutMs` (default 30 min). */
  activityTimeoutMs?: number;
}

/**
 * Runs activities that this worker's own episodes create leased to it (no claim): an episode reserves slots,
 * marks that many activities `runHere`, and hands over whatever its commit leased.
 */
export interface LocalActivityRunner {
  readonly leaseMs: number;
  /** Reserves up to `n` slots; returns how many were granted. */
  reserve(n: number): number;
  /** Runs `items` (leased by a commit) and gives back the `reserved` slots taken for them. */
  adopt(items: ActivityWorkItem[], reserved: number): void;
}

/** Claims and runs activity work items. */
export class ActivityDispatcher implements LocalActivityRunner {
  readonly loop: DispatchLoop;
  readonly #inFlight = new Map<number, ActivityWorkItem>();
  readonly #completions: Batcher<ActivityCompletion, boolean>;
  #renewTimer: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];
  /** True while the loop waits for a free slot (only then does a finished activity wake it). */
  #waitingForSlot = false;
  /** Slots promised to episodes whose commits may lease activities to this worker. */
  #reserved = 0;
  #stopped = false;
  /** Aborted when stop() gives up waiting for running activities (their `ctx.signal`). */
  readonly #abandon = new AbortController();

  constructor(private readonly options: ActivityDispatcherOptions) {
    // Every running attempt listens on it (up to maxConcurrentActivities): not a leak, so no warning.
    setMaxListeners(0, this.#abandon.signal);
    this.#completions = new Batcher((items) => options.store.completeActivities(items));
    this.loop = new DispatchLoop({ ...options.loop, name: 'activity dispatcher' }, () => this.#step());
  }

  /** Number of activities running now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  get leaseMs(): number {
    return this.options.leaseMs;
  }

  reserve(n: number): number {
    if (this.loop.stopping) return 0;
    const granted = Math.max(0, Math.min(n, this.options.maxConcurrent - this.#inFlight.size - this.#reserved));
    this.#reserved += granted;
    return granted;
  }

  adopt(items: ActivityWorkItem[], reserved: number): void {
    this.#reserved -= reserved;
    if (this.#stopped) {
      // Too late to run them here: let another worker take them now rather than when the lease expires.
      void this.options.store.releaseActivities(items.map((i) => i.lease)).catch(() => undefined);
      return;
    }
    for (const item of items) {
      this.#inFlight.set(item.id, item);
      void this.#run(item);
    }
    if (reserved > items.length && this.#waitingForSlot) this.loop.signal.notify();
  }

  start(): void {
    this.loop.start();
    const every = Math.max(10, Math.floor(this.options.leaseMs / 3));
    this.#renewTimer = setInterval(() => void this.#renew(), every);
    this.#renewTimer.unref();
  }

  /**
   * Stops claiming, waits up to `drainMs` for running activities, then releases the rest; returns how many were
   * running when it began and how many it released unfinished.
   */
  async stop(drainMs: number): Promise<{ running: number; released: number }> {
    await this.loop.stop();
    const running = this.#inFlight.size;
    if (this.#inFlight.size > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, drainMs).unref()),
      ]);
    }
    clearInterval(this.#renewTimer);
    this.#stopped = true;
    if (this.#inFlight.size > 0) this.#abandon.abort(new Error('The worker stopped before this activity finished; it will run again.'));
    const abandoned = [...this.#inFlight.values()].map((item) => item.lease);
    this.#inFlight.clear();
    if (abandoned.length) await this.options.store.releaseActivities(abandoned).catch(() => undefined);
    await this.#completions.idle();
    return { running, released: abandoned.length };
  }

  async #step(): Promise<StepResult> {
    const capacity = this.options.maxConcurrent - this.#inFlight.size - this.#reserved;
    if (capacity <= 0) {
      this.#waitingForSlot = true;
      await this.loop.signal.wait(1000); // woken when a slot frees
      this.#waitingForSlot = false;
      return true;
    }
    const items = await this.options.store.claimActivities({
      workerId: this.options.workerId,
      names: [...this.options.registry.activities.keys()],
      limit: capacity,
      leaseMs: this.options.leaseMs,
    });
    logActivityTakeovers(this.options.loop.logger, this.options.workerId, items);
    const takenOver = items.filter((i) => i.previousOwner !== undefined && i.previousOwner !== this.options.workerId).length;
    if (takenOver) metrics.takeovers.inc({ hub: this.options.store.hub, kind: 'activity' }, takenOver);
    for (const item of items) {
      this.#inFlight.set(item.id, item);
      void this.#run(item);
    }
    return items.length === 0 ? false : items.length < capacity ? 'drained' : true;
  }

  /** Number of activity attempts started. */
  get started(): number {
    return this.#started;
  }
  #started = 0;

  async #run(item: ActivityWorkItem): Promise<void> {
    this.#started++;
    const { name } = item;
    const began = performance.now();
    const event = await runActivity(item, this.options.registry, this.options.maxPayloadBytes, this.options.now, {
      ...(this.options.activityTimeoutMs !== undefined ? { timeoutMs: this.options.activityTimeoutMs } : {}),
      signal: this.#abandon.signal,
    });
    const hub = this.options.store.hub;
    metrics.activitySeconds.observe({ hub, name }, secondsSince(began));
    metrics.activities.inc({ hub, name, outcome: event.eventType === 'TaskFailed' ? 'failed' : 'completed' });
    if (event.eventType === 'TaskFailed') logActivityFailure(this.options.loop.logger, item, event.failureDetails);
    try {
      if (this.#inFlight.has(item.id) && !this.options.deliverLocally?.(item, event)) await this.#record(item, event);
    } finally {
      this.#inFlight.delete(item.id);
      if (this.#waitingForSlot) this.loop.signal.notify();
      if (this.#inFlight.size === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  /**
   * Records an attempt's result. While the store fails for a named reason (a full disk, unwritable files, an
   * unreachable server) it tries again, up to every {@link MAX_RECORD_RETRY_MS}: the attempt stays in flight, so
   * its lease is renewed meanwhile, and the result is recorded as soon as the store takes writes again instead of
   * the activity running again when its lease expires. It gives up when the worker stops, on any other error, and
   * when the lease is lost (the fence refuses the result): then the activity runs again (at-least-once).
   */
  async #record(item: ActivityWorkItem, event: HistoryEvent): Promise<void> {
    const { logger } = this.options.loop;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#completions.add({ lease: item.lease, message: { instanceId: item.instanceId, executionId: item.executionId, event } });
        return;
      } catch (error) {
        const gate = storeErrorGate(logger, 'activity results', error);
        // Not once the worker stops: its drain would wait out the outage (the activity runs again elsewhere).
        const retry = error instanceof StoreError && !this.loop.stopping && !this.#abandon.signal.aborted;
        if (gate.log) logger.error(`could not record the result of activity '${item.name}'${retry ? ' (trying again)' : ''}${gate.repeats}`, { instanceId: item.instanceId, name: item.name }, error);
        if (!retry) return;
      }
      await sleep(Math.min(100 * 2 ** attempt, MAX_RECORD_RETRY_MS), this.#abandon.signal);
      if (this.#abandon.signal.aborted || this.loop.stopping) return;
    }
  }

  async #renew(): Promise<void> {
    const items = [...this.#inFlight.values()];
    if (!items.length) return;
    try {
      await this.options.store.renewLeases('activity', items.map((i) => i.lease), this.options.leaseMs);
    } catch (error) {
      const gate = storeErrorGate(this.options.loop.logger, 'activity leases', error);
      if (gate.log) this.options.loop.logger.warn(`could not renew activity leases: ${(error as Error).message}${gate.repeats}`);
    }
  }
}

/** How {@link runActivity} runs an attempt. */
export interface RunActivityOptions {
  /** Limit of an attempt when the activity sets none (default {@link DEFAULT_ACTIVITY_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Aborts the attempt's `ctx.signal` from outside (the worker stopping). */
  signal?: AbortSignal;
}

/**
 * Runs the activity function of `item` from `registry`; its result or failure as the event for the orchestration.
 * Never rejects, whatever the activity does: a throw, a rejection, a value that cannot be serialized and an attempt
 * that outlives its timeout (`ActivityTimeoutError`) are all a `TaskFailed`.
 */
export async function runActivity(
  item: ActivityWorkItem,
  registry: Registry,
  maxPayloadBytes: number,
  now: () => Date,
  options: RunActivityOptions = {},
): Promise<HistoryEvent> {
  const { name, taskId } = item;
  // Made on first read of ctx.signal only (see LazyAbort); the wait below ends on `options.signal` itself.
  const attempt = new LazyAbort(options.signal);
  const timeoutMs = registry.activityOptions.get(name)?.timeoutMs ?? options.timeoutMs ?? DEFAULT_ACTIVITY_TIMEOUT_MS;
  const span = startActivitySpan(item);
  try {
    const fn = registry.activities.get(name);
    if (!fn) throw new UnknownFunctionError('activity', name, [...registry.activities.keys()]);
    const context: ActivityContext = {
      instanceId: item.instanceId,
      name,
      taskId,
      dequeueCount: item.dequeueCount,
      get signal() {
        return attempt.signal;
      },
    };
    const input = item.input === undefined ? undefined : JSON.parse(item.input);
    // The activity's code runs in its span's context: spans it makes (its HTTP calls, its database) are children.
    const output = await withTimeLimit(Promise.resolve().then(() => inSpan(span, () => fn(input, context))), timeoutMs, () => {
      const error = new ActivityTimeoutError(name, taskId, timeoutMs);
      attempt.abort(error);
      return error;
    }, options.signal);
    const result = serialize(output, `output of activity '${name}'`, maxPayloadBytes);
    span.setStatus({ code: SpanStatusCode.OK });
    return makeEvent({ eventType: 'TaskCompleted', taskScheduledId: taskId, ...(result !== undefined ? { result } : {}) }, now());
  } catch (error) {
    const failureDetails = toFailureDetails(error);
    recordFailure(span, failureDetails);
    return makeEvent({ eventType: 'TaskFailed', taskScheduledId: taskId, failureDetails }, now());
  } finally {
    attempt.dispose();
    span.end();
  }
}

/** The span of one activity attempt (`activity:<name>`), a child of the orchestration span that scheduled it. */
function startActivitySpan(item: ActivityWorkItem): Span {
  return tracer().startSpan(
    spanName('activity', item.name),
    {
      kind: SpanKind.SERVER,
      attributes: {
        [ATTR.type]: 'activity',
        [ATTR.name]: item.name,
        [ATTR.instanceId]: item.instanceId,
        [ATTR.executionId]: item.executionId,
        [ATTR.taskId]: item.taskId,
        [ATTR.dequeueCount]: item.dequeueCount,
      },
    },
    contextOf(item.traceContext),
  );
}

/** Runs `fn` with `span` active (a no-op without a context manager). */
function inSpan<T>(span: Span, fn: () => T): T {
  return otelContext.with(trace.setSpan(otelContext.active(), span), fn);
}
