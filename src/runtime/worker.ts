/**
 * A worker: the orchestration and activity dispatchers of one task hub in one process, woken by store
 * notices (in-process; across processes through LISTEN/NOTIFY on PostgreSQL or a watch of the SQLite file) with
 * polling only as the fallback.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../core/payload.js';
import type { Logger } from '../sdk/logger.js';
import { checkTimeout } from '../sdk/activity.js';
import { silentLogger, withFields } from '../sdk/logger.js';
import type { Registry } from '../sdk/registry.js';
import type { HistoryEvent } from '../sdk/history.js';
import type { ActivityWorkItem, Store } from '../store/store.js';
import { ActivityDispatcher } from './activity-dispatcher.js';
import { withBuiltInActivities, type TokenProvider } from './http-activity.js';
import { HubKnownNames } from './known-names.js';
import { OrchestrationCache } from './orchestration-cache.js';
import { NextDue } from './next-due.js';
import { OrchestrationDispatcher } from './orchestration-dispatcher.js';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS, WorkerHeartbeat } from './worker-heartbeat.js';
import { DEFAULT_ENTITY_OPERATION_TIMEOUT_MS } from './entity-episode.js';
import { offerLocalStarts } from '../store/local-starts.js';
import type { VersioningOptions } from '../sdk/versioning.js';
import { VersionGate } from './version-gate.js';
import { ScheduleRunner } from './schedule-runner.js';
import { declareSchedules } from './declared-schedules.js';
import { defaultStartVersion } from '../sdk/start-version.js';
import { OrchestrationSpans } from './orchestration-spans.js';

/** Tuning knobs of a worker; every one has a sensible default. */
export interface WorkerOptions {
  /** Activities run at once by this worker (default 100). */
  maxConcurrentActivities?: number;
  /** Instances claimed and committed together per episode batch (default 100). */
  orchestrationBatchSize?: number;
  /** Lease of an instance during an episode (default 30 s). */
  orchestrationLeaseMs?: number;
  /** Lease of a running activity, renewed every third of it (default 60 s). */
  activityLeaseMs?: number;
  /**
   * How often the worker tells the store it is alive (default 1 s; 0: never, so its work moves only when its
   * leases expire). Each heartbeat also takes over the work of workers whose heartbeat ran out.
   */
  heartbeatIntervalMs?: number;
  /**
   * A worker silent for this long is taken for dead and its instances and activities are taken over (default
   * 3 s): a killed worker's work moves within seconds. A worker whose event loop is blocked that long (a
   * synchronous activity, a huge replay) is taken for dead too: its activities may run again elsewhere
   * (at-least-once) and its episodes are fenced off. Raise it for apps with such code.
   */
  heartbeatTimeoutMs?: number;
  /** Longest sleep without a notice (default 5 s where notices cross processes — PostgreSQL, a watchable SQLite file — else 500 ms). */
  pollIntervalMs?: number;
  /** Running orchestrations kept in memory (default 10,000). */
  cacheSize?: number;
  /** How long `stop()` waits for running activities before releasing them (default 30 s). */
  drainTimeoutMs?: number;
  maxPayloadBytes?: number;
  logger?: Logger;
  /** Clock for event times (the test host passes a virtual one). */
  clock?: () => number;
  /**
   * This worker's id (default `host:pid:random`); unique among running workers. A process restarted with its
   * predecessor's id takes over what the predecessor held at once, without waiting for its heartbeat to run out.
   */
  workerId?: string;
  /** Wait between polls of a durable HTTP 202 without `Retry-After` (default 30 s). */
  httpPollDelayMs?: number;
  /** Bearer tokens for `ctx.callHttp({ tokenSource })` (there is no managed identity outside Azure). */
  tokenProvider?: TokenProvider;
  /** Longest single durable HTTP request, getting its token included (default 240 s). */
  httpTimeoutMs?: number;
  /**
   * Longest an activity attempt may run unless the activity sets its own `timeoutMs` (default 30 min,
   * `Infinity` for none). A timed-out attempt fails with `ActivityTimeoutError` and frees its slot.
   */
  activityTimeoutMs?: number;
  /**
   * How long the operations of one entity batch may await, together (default 10 s, at most half the
   * orchestration lease; `Infinity` for no limit).
   * An operation still pending then fails with `EntityOperationTimeoutError` and is rolled back.
   */
  entityOperationTimeoutMs?: number;
  /**
   * Hand the result of an activity whose orchestration this worker has cached straight to that
   * orchestration's next episode, which deletes the work item in its own commit: one durable write per step
   * instead of two (default true). With false every result is first recorded in the inbox.
   */
  activityResultsInMemory?: boolean;
  /**
   * Take starts made by clients in this process on the same store object: the start's commit leases the new
   * instance to this worker, which runs its first episode without claiming it (default true). With false
   * every start is claimed, by whichever worker gets there first.
   */
  localStarts?: boolean;
  /** Orchestration versioning: which instance versions this worker runs (see `version-gate.ts`). */
  versioning?: VersioningOptions;
  /**
   * Start the runs of the hub's schedules when they fall due (default true). Every worker of a hub may: the store
   * lets exactly one write each run.
   */
  schedules?: boolean;
}

/** A running worker. */
export interface WorkerHandle {
  readonly workerId: string;
  /** Wakes both dispatchers (used by the test host after moving its clock). */
  wake(): void;
  /** Number of activities running now. */
  readonly activitiesInFlight: number;
  /**
   * True when no dispatcher sees work it could do and no activity is running: nothing progresses until a
   * message arrives or a timer falls due. The test host moves its virtual clock only then.
   */
  isIdle(): boolean;
  /**
   * Grows whenever the worker starts work: an episode batch or an activity attempt (a claim that finds nothing
   * does not count). The test host's clock runs with real time only across spells in which it grew.
   */
  readonly progress: number;
  /** Calls `listener` whenever a dispatcher goes to sleep for lack of work; returns the unsubscribe function. */
  onIdle(listener: () => void): () => void;
  /** True once `stop()` was called: the worker claims nothing more. */
  readonly stopping: boolean;
  /** Stops claiming, drains in-flight work (or releases it after the drain timeout). */
  stop(): Promise<void>;
}

/** Starts a worker for `hub` of `store` serving the functions in `registry`. */
export async function startWorker(store: Store, hub: string, appRegistry: Registry, options: WorkerOptions = {}): Promise<WorkerHandle> {
  if (options.activityTimeoutMs !== undefined) checkTimeout(options.activityTimeoutMs, 'activityTimeoutMs');
  if (options.entityOperationTimeoutMs !== undefined) checkTimeout(options.entityOperationTimeoutMs, 'entityOperationTimeoutMs');
  const registry = withBuiltInActivities(appRegistry, options);
  const leaseMs = options.orchestrationLeaseMs ?? 30_000;
  const hubStore = store.hub(hub);
  // Every record of this worker names its task hub.
  const logger = withFields(options.logger ?? silentLogger, { taskHub: hub });
  const clock = options.clock ?? Date.now;
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const pollIntervalMs = options.pollIntervalMs ?? (store.crossProcessNotices ? 5000 : 500);
  const now = () => new Date(clock());
  const nextDue = new NextDue((lookBackMs) => hubStore.nextVisibleAt(lookBackMs), clock, pollIntervalMs);
  const nextDueInMs = (sinceStepMs: number) => nextDue.inMs(sinceStepMs);
  const idleListeners = new Set<() => void>();
  const onIdle = () => {
    for (const listener of idleListeners) {
      try {
        listener();
      } catch (error) {
        logger.error('an idle listener failed', error);
      }
    }
  };
  const defaultVersion = options.versioning?.defaultVersion;
  // Before registering: a declared schedule of an orchestration no one serves fails the start with nothing written.
  await declareSchedules(hubStore, registry, await hubStore.getRegisteredNames(), { maxPayloadBytes, clock });
  await hubStore.registerWorker(workerId, { ...registry.names(), ...(defaultVersion !== undefined ? { defaultVersion } : {}) });
  const known = new HubKnownNames(registry, hubStore);
  await known.refresh(0);

  // Each dispatcher hands work to the other; `orchestrations` is only used once both run.
  const activities: ActivityDispatcher = new ActivityDispatcher({
    ...(options.activityResultsInMemory === false
      ? {}
      : { deliverLocally: (item: ActivityWorkItem, event: HistoryEvent): boolean => orchestrations.deliverLocally(item, event) }),
    store: hubStore,
    registry,
    workerId,
    maxConcurrent: options.maxConcurrentActivities ?? 100,
    ...(options.activityTimeoutMs !== undefined ? { activityTimeoutMs: options.activityTimeoutMs } : {}),
    leaseMs: options.activityLeaseMs ?? 60_000,
    maxPayloadBytes,
    now,
    loop: { logger, pollIntervalMs, nextDueInMs, onIdle, clock },
  });
  const spans = new OrchestrationSpans();
  const orchestrations = new OrchestrationDispatcher({
    env: {
      spans,
      store: hubStore,
      registry,
      cache: new OrchestrationCache(options.cacheSize ?? 10_000),
      known,
      maxPayloadBytes,
      logger,
      now,
      newExecutionId: () => randomUUID().replace(/-/g, ''),
      ...(options.httpPollDelayMs !== undefined ? { httpPollDelayMs: options.httpPollDelayMs } : {}),
      // An entity batch commits with its episode batch, which must commit while its lease holds.
      entityOperationTimeoutMs: options.entityOperationTimeoutMs ?? Math.min(DEFAULT_ENTITY_OPERATION_TIMEOUT_MS, leaseMs / 2),
      versions: new VersionGate(registry, options.versioning),
    },
    workerId,
    batchSize: options.orchestrationBatchSize ?? 100,
    leaseMs,
    loop: { logger, pollIntervalMs, nextDueInMs, onIdle, clock },
    localActivities: activities,
  });
  // Before the first claim: the first heartbeat takes over what a predecessor with this id held.
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const heartbeat =
    heartbeatIntervalMs !== 0
      ? new WorkerHeartbeat({
          store: hubStore,
          workerId,
          names: registry.names(),
          intervalMs: heartbeatIntervalMs,
          timeoutMs: options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
          logger,
        })
      : undefined;
  await heartbeat?.start();
  const unsubscribe = store.subscribe(hub, (notice) => {
    if (notice.kind === 'orchestrations') orchestrations.wake(notice.instanceId);
    else if (notice.kind === 'activities') activities.loop.signal.notify();
    else if (notice.kind === 'timers') {
      nextDue.invalidate();
      orchestrations.wake(); // to sleep again until the new timer
    }
  });
  orchestrations.start();
  activities.start();
  const schedules =
    options.schedules === false
      ? undefined
      : new ScheduleRunner({
          store,
          hub: hubStore,
          logger,
          clock,
          pollIntervalMs,
          versionFor: (name) =>
            defaultStartVersion(name, {
              ...(registry.hasOrchestration(name) ? { registry } : {}),
              defaultVersion,
              served: () => hubStore.getRegisteredNames(),
            }),
          flowFor: (name) => registry.orchestrationFlow.get(name),
        });
  schedules?.start();
  const withdrawLocalStarts = options.localStarts === false ? () => undefined : offerLocalStarts(store, hub, orchestrations);

  let stopped: Promise<void> | undefined;
  return {
    workerId,
    wake() {
      nextDue.invalidate();
      orchestrations.wake();
      activities.loop.signal.notify();
      schedules?.wake();
    },
    get activitiesInFlight() {
      return activities.inFlight;
    },
    get progress() {
      return orchestrations.worked + activities.started;
    },
    get stopping() {
      return stopped !== undefined;
    },
    isIdle() {
      return (
        orchestrations.loop.isIdle && activities.loop.isIdle && activities.inFlight === 0 && orchestrations.pendingLocalWork === 0
      );
    },
    onIdle(listener) {
      idleListeners.add(listener);
      return () => idleListeners.delete(listener);
    },
    stop() {
      stopped ??= (async () => {
        const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
        logger.info('worker draining', { workerId, activitiesInFlight: activities.inFlight, drainTimeoutMs });
        withdrawLocalStarts();
        await schedules?.stop();
        // Activities first: their results may still need an episode while we drain.
        const drained = await activities.stop(drainTimeoutMs);
        await orchestrations.stop();
        // Spans of executions still running end here; whoever runs them next continues them (linked).
        spans.endAll('worker-stopped');
        // Beating until here: a drain may take long, and the work must not be taken over meanwhile.
        await heartbeat?.stop();
        unsubscribe();
        logger.info('worker drained', {
          workerId,
          activitiesFinished: drained.running - drained.released,
          activitiesReleased: drained.released,
        });
      })();
      return stopped;
    },
  };
}
