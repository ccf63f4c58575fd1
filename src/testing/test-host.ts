/**
 * `createTestHost(app)`: the app's functions on an in-memory store with a virtual clock, for unit tests.
 *
 * Time (Temporal's time-skipping semantics): while the worker works — an episode or an activity in progress —
 * the virtual clock runs with real time, so code that keeps working without waiting on a timer sees time pass
 * as in production (the monitor pattern's "poll until the deadline" loop ends). While a test waits on
 * `env.client.waitForCompletion` (or `waitForCompletionOrCreateCheckStatusResponse`), the host moves the clock
 * to the next due timer each time nothing else can progress (no activity running, no work the worker can see,
 * no episode in progress). Timers therefore fire in order, never before their `fireAt`, and a 30-day wait ends
 * in milliseconds with the history a real run would write. While the host is idle outside such a wait the
 * clock stands still, so a test can start an instance and raise an event without racing a timeout.
 */
import { StoreClient, type StoreClientOptions } from '../client/store-client.js';
import type { DurableClient, DurableOrchestrationStatus } from '../sdk/durable-client.js';
import { isTerminalStatus } from '../sdk/history.js';
import { HTTP_ACTIVITY_NAME } from '../core/durable-http.js';
import { withBuiltInActivities } from '../runtime/http-activity.js';
import { startWorker, type WorkerHandle, type WorkerOptions } from '../runtime/worker.js';
import { appSettings } from './app-settings.js';
import type { Blueprint } from '../sdk/blueprint.js';
import type { EntityClass, EntityFunction, EntityRef } from '../sdk/entity-context.js';
import { ValidationError } from '../sdk/errors.js';
import { silentLogger, type Logger } from '../sdk/logger.js';
import type { DurableHttpRequest, DurableHttpResponse } from '../sdk/orchestration-context.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { HubStore } from '../store/store.js';
import { FunctionMocks, type FunctionCall, type FunctionTarget } from './function-mocks.js';
import { VirtualClock } from './virtual-clock.js';
import type { AsyncOrchestratorFunction, OrchestrationRef, OrchestratorFunction, PlainOrchestratorFunction } from '../sdk/orchestration-context.js';
import type { ActivityFunction, ActivityRef } from '../sdk/activity.js';

/** Options of {@link createTestHost}. */
export interface TestHostOptions {
  /** Virtual time the host starts at (default: the real time when the host is created). */
  startTime?: Date | number;
  /**
   * Skip to the next due timer whenever nothing else can progress while the test waits for completion
   * (default true). With false, only `env.advanceTime` skips; work still runs the clock with real time.
   */
  autoSkipTime?: boolean;
  /** Task hub name (default: the app's). */
  taskHub?: string;
  /** Worker tuning; the clock is always the host's. */
  worker?: Omit<WorkerOptions, 'clock'>;
}

/** A running test host. */
export interface TestHost {
  /** The full durable client, on the host's store and clock. */
  readonly client: DurableClient;
  /** The task hub the host serves. */
  readonly taskHub: string;
  /** The virtual time now. */
  now(): Date;
  /**
   * Lets the work under way finish, then moves the virtual clock forward by `ms` from there, firing every
   * timer that falls due on the way at its own time and letting the work it causes finish before moving on.
   * Resolves once the host is idle again.
   */
  advanceTime(ms: number): Promise<void>;
  /** Resolves when nothing can progress without the clock moving (or the host stopped). */
  waitForIdle(): Promise<void>;
  /** Replaces (or adds) an activity for this host only; the app is not changed. */
  mockActivity<I, O>(target: string | ActivityRef<I, O>, fn: ActivityFunction<I, O>): void;
  /** Replaces (or adds) an orchestration for this host only, e.g. one called as a sub-orchestration. */
  mockOrchestration<I, O>(
    target: string | OrchestrationRef<I, O>,
    fn: OrchestratorFunction<I, O> | AsyncOrchestratorFunction<I, O> | PlainOrchestratorFunction<I, O>,
  ): void;
  /** Replaces (or adds) an entity (a function or a class, as `app.entity` takes) for this host only. */
  mockEntity(target: string | EntityRef, fn: EntityFunction | EntityClass): void;
  /** Answers every `ctx.callHttp` request with `fn` instead of the network; the requests are recorded as `calls(HTTP_ACTIVITY_NAME)`. */
  mockHttp(fn: (request: DurableHttpRequest) => DurableHttpResponse | Promise<DurableHttpResponse>): void;
  /**
   * Activity and orchestration calls made so far (mocked or real), oldest first; optionally of one function.
   * With a typed reference the inputs are typed.
   */
  calls<I>(target: ActivityRef<I, any> | OrchestrationRef<I, any>): FunctionCall<I>[];
  calls(target?: string): FunctionCall[];
  /** Forgets the recorded calls. */
  clearCalls(): void;
  /** Stops the worker and discards the store. */
  stop(): Promise<void>;
}

/** Starts a test host for `app` (a `DFApp` or a `Blueprint`); `stop()` it when the test ends. */
export async function createTestHost(app: Blueprint, options: TestHostOptions = {}): Promise<TestHost> {
  const start = options.startTime instanceof Date ? options.startTime.getTime() : (options.startTime ?? Date.now());
  const clock = new VirtualClock(start);
  const { options: appOptions, taskHub: appTaskHub } = appSettings(app);
  const workerOptions: WorkerOptions = {
    workerId: 'test-host',
    pollIntervalMs: 1000,
    drainTimeoutMs: 2000,
    // One worker on a private store with a virtual clock: nobody to take over from, and a clock jump would look
    // like a lapse.
    heartbeatIntervalMs: 0,
    ...(appOptions.logger ? { logger: appOptions.logger } : {}),
    ...(appOptions.maxPayloadBytes !== undefined ? { maxPayloadBytes: appOptions.maxPayloadBytes } : {}),
    ...(appOptions.tokenProvider ? { tokenProvider: appOptions.tokenProvider } : {}),
    ...(appOptions.versioning ? { versioning: appOptions.versioning } : {}),
    ...options.worker,
    clock: clock.now,
  };
  // The built-in activities are in the host's copy from the start: the worker then serves this very
  // registry (not a snapshot of it), so mocks added later, even of new names, take effect at once.
  const mocks = new FunctionMocks(withBuiltInActivities(app.registry, workerOptions));
  const taskHub = options.taskHub ?? appTaskHub;
  const store = new SqliteStore(':memory:', { clock: clock.now });
  let worker: WorkerHandle;
  try {
    worker = await startWorker(store, taskHub, mocks.registry, workerOptions);
  } catch (error) {
    await store.close();
    throw error;
  }
  const logger = workerOptions.logger ?? silentLogger;
  return new TestHostImpl(store, worker, clock, mocks, taskHub, options.autoSkipTime ?? true, logger, appOptions.maxPayloadBytes, appOptions.versioning?.defaultVersion);
}

class TestHostImpl implements TestHost {
  readonly client: DurableClient;
  readonly #hub: HubStore;
  /** Callbacks re-checked whenever something may have changed (worker idle, store notice, waiters, stop). */
  readonly #watchers = new Set<() => void>();
  readonly #unsubscribe: (() => void)[] = [];
  /** Instances the test is waiting on (id → number of waits). */
  readonly #waitingOn = new Map<string, number>();
  #skipping = false;
  #stopped: Promise<void> | undefined;

  constructor(
    private readonly store: SqliteStore,
    private readonly worker: WorkerHandle,
    private readonly clock: VirtualClock,
    private readonly mocks: FunctionMocks,
    readonly taskHub: string,
    private readonly autoSkipTime: boolean,
    private readonly logger: Logger,
    maxPayloadBytes: number | undefined,
    defaultVersion: string | undefined,
  ) {
    this.#hub = store.hub(taskHub);
    this.client = new TestHostClient(
      {
        store,
        taskHub,
        registry: mocks.registry,
        clock: clock.now,
        ...(maxPayloadBytes !== undefined ? { maxPayloadBytes } : {}),
        ...(defaultVersion !== undefined ? { defaultVersion } : {}),
      },
      (instanceId, wait) => this.#whileWaiting(instanceId, wait),
    );
    // Temporal's semantics: the clock runs with real time while the worker works, and stands still otherwise.
    clock.runWhile(
      () => this.#stopped === undefined && !worker.isIdle(),
      () => worker.progress,
    );
    this.#unsubscribe.push(worker.onIdle(() => this.#changed()));
    this.#unsubscribe.push(store.subscribe(taskHub, () => this.#changed()));
  }

  now(): Date {
    return new Date(this.clock.now());
  }

  async advanceTime(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new ValidationError(`advanceTime needs a finite number of milliseconds >= 0 (got ${String(ms)}).`);
    }
    this.#checkRunning('advanceTime');
    // Measured from when the work already under way is done: the clock ran with it, and a timer that work
    // created counts from its own (later) time.
    await this.waitForIdle();
    const target = this.clock.now() + ms;
    for (;;) {
      await this.waitForIdle();
      if (this.#stopped) return;
      const next = await this.#hub.nextVisibleAt();
      if (!next || next.getTime() > target) break;
      if (this.worker.isIdle()) this.#moveTo(next.getTime());
    }
    this.clock.moveTo(target);
  }

  waitForIdle(): Promise<void> {
    return this.#until(() => this.#stopped !== undefined || this.worker.isIdle());
  }

  mockActivity<I, O>(target: string | ActivityRef<I, O>, fn: ActivityFunction<I, O>): void {
    this.mocks.mockActivity(target, fn);
  }

  mockOrchestration<I, O>(
    target: string | OrchestrationRef<I, O>,
    fn: OrchestratorFunction<I, O> | AsyncOrchestratorFunction<I, O> | PlainOrchestratorFunction<I, O>,
  ): void {
    this.mocks.mockOrchestration(target, fn as OrchestratorFunction);
  }

  mockEntity(target: string | EntityRef, fn: EntityFunction | EntityClass): void {
    this.mocks.mockEntity(target, fn);
  }

  mockHttp(fn: (request: DurableHttpRequest) => DurableHttpResponse | Promise<DurableHttpResponse>): void {
    this.mocks.mockActivity(HTTP_ACTIVITY_NAME, fn);
  }

  calls<I>(target: ActivityRef<I, any> | OrchestrationRef<I, any>): FunctionCall<I>[];
  calls(target?: string): FunctionCall[];
  calls(target?: FunctionTarget): FunctionCall[] {
    return this.mocks.calls(target);
  }

  clearCalls(): void {
    this.mocks.clearCalls();
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#changed();
      try {
        await this.worker.stop();
      } finally {
        for (const unsubscribe of this.#unsubscribe) unsubscribe();
        await this.store.close();
      }
    })();
    return this.#stopped;
  }

  /** Runs a client wait for `instanceId` with time skipping on (when enabled). */
  async #whileWaiting<T>(instanceId: string, wait: () => Promise<T>): Promise<T> {
    if (!this.autoSkipTime || this.#stopped) return wait();
    this.#waitingOn.set(instanceId, (this.#waitingOn.get(instanceId) ?? 0) + 1);
    if (!this.#skipping) void this.#skipWhileWaiting();
    try {
      return await wait();
    } finally {
      const left = (this.#waitingOn.get(instanceId) ?? 1) - 1;
      if (left > 0) this.#waitingOn.set(instanceId, left);
      else this.#waitingOn.delete(instanceId);
      this.#changed();
    }
  }

  /** True when an instance the test waits on may still progress (it exists and is not finished). */
  async #waitedOnIsLive(): Promise<boolean> {
    for (const instanceId of this.#waitingOn.keys()) {
      const instance = await this.#hub.getInstance(instanceId);
      if (instance && !isTerminalStatus(instance.status)) return true;
    }
    return false;
  }

  /** While anyone waits: whenever the host is idle, jump to the next due time; with none, wait for a change. */
  async #skipWhileWaiting(): Promise<void> {
    this.#skipping = true;
    const done = () => this.#waitingOn.size === 0 || this.#stopped !== undefined;
    try {
      while (!done()) {
        await this.#until(() => done() || this.worker.isIdle());
        if (done()) return;
        // A finished instance needs no more time (its wait ends at the next notice); a cancelled
        // timer left in its inbox must not drag the clock along.
        const live = await this.#waitedOnIsLive();
        const next = live ? await this.#hub.nextVisibleAt() : undefined;
        if (done()) return;
        if (next && this.worker.isIdle()) {
          this.#moveTo(next.getTime());
        } else if (!next) {
          // Idle and nothing scheduled (or nothing left to wait for): only a change can move things on.
          await this.#nextChange();
        }
      }
    } catch (error) {
      // Skipping ends; the waits end on their own timeouts. After stop() this is the closed store.
      if (!this.#stopped) this.logger.error('the test host stopped skipping time', error);
    } finally {
      // Cleared in the same synchronous step as the last `done()` check, so a new waiter never misses it.
      this.#skipping = false;
    }
  }

  #moveTo(time: number): void {
    this.clock.moveTo(time);
    this.worker.wake();
  }

  /** Resolves once `ready()` holds; re-checked on every change the host hears of. */
  #until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!ready()) return;
        this.#watchers.delete(check);
        resolve();
      };
      this.#watchers.add(check);
    });
  }

  /** Resolves at the next change the host hears of. */
  #nextChange(): Promise<void> {
    return new Promise((resolve) => {
      const once = () => {
        this.#watchers.delete(once);
        resolve();
      };
      this.#watchers.add(once);
    });
  }

  #changed(): void {
    this.clock.sync(); // the worker may have gone idle: time stops now, not at the next read
    for (const check of [...this.#watchers]) check();
  }

  #checkRunning(what: string): void {
    if (this.#stopped) throw new ValidationError(`${what}: the test host has been stopped.`);
  }
}

/** The store client, with waits for completion running under time skipping. */
class TestHostClient extends StoreClient {
  constructor(
    options: StoreClientOptions,
    private readonly whileWaiting: <T>(instanceId: string, wait: () => Promise<T>) => Promise<T>,
  ) {
    super(options);
  }

  override waitForCompletion(instanceId: string, options?: { timeoutInMilliseconds?: number }): Promise<DurableOrchestrationStatus> {
    return this.whileWaiting(instanceId, () => super.waitForCompletion(instanceId, options));
  }
}
