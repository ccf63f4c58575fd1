/**
 * The gRPC side of one task hub: claims the work that connected gRPC workers can run, sends it on their
 * `GetWorkItems` streams, and commits their answers through the same episode code as the in-process worker
 * (`prepareEpisode` with a remote executor, one fenced commit per episode, group-committed). The activities an
 * episode schedules that a connected worker has room for are created leased to this sidecar by that commit and
 * sent at once; the others wait for the activity claim loop.
 *
 * A worker gets only names it asked for in its work-item filters; a worker without filters gets every name no
 * function of this process serves. Work such a worker's claim picks up that a local function serves runs here.
 * Orchestration and entity work times out (and is re-dispatched) before its lease would expire; activities keep
 * their leases renewed while their worker is connected. A worker that disconnects gives its work back at once.
 */
import { OrchestrationSpans } from '../runtime/orchestration-spans.js';
import { pbTrace } from './trace-mapping.js';
import { randomUUID } from 'node:crypto';
import { makeEvent, type HistoryEvent } from '../sdk/history.js';
import { checkPayloadSize } from '../core/payload.js';
import { toFailureDetails } from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import type { Registry } from '../sdk/registry.js';
import { runActivity } from '../runtime/activity-dispatcher.js';
import { DispatchLoop } from '../runtime/dispatch-loop.js';
import { prepareEntityEpisode } from '../runtime/entity-episode.js';
import { HubKnownNames } from '../runtime/known-names.js';
import { OrchestrationCache } from '../runtime/orchestration-cache.js';
import { prepareEpisode } from '../runtime/orchestration-episode.js';
import {
  ANY_NAME,
  type ActivityWorkItem,
  type CommitOutcome,
  type EpisodeCommit,
  type HubStore,
  type Lease,
  type NewActivity,
  type OrchestrationWorkItem,
  type Store,
} from '../store/store.js';
import { VersionGate } from '../runtime/version-gate.js';
import { compareVersions, type VersioningOptions } from '../sdk/versioning.js';
import { decodeToken, encodeToken, type TokenClaims, type WorkKind } from './completion-token.js';
import { StaleCompletionError } from './grpc-errors.js';
import { ValidationError } from '../sdk/errors.js';
import { fromPbFailure, fromPbString } from './history-mapping.js';
import type { PbActivityResponse, PbEntityBatchResult, PbOrchestratorResponse, PbWorkItem } from './proto-types.js';
import { RemoteCall } from './remote-call.js';
import { RemoteEntityExecutor, RemoteOrchestrationExecutor, TranslatedHistoryCache, type EntityRequestFormat } from './remote-executors.js';
import type { WorkerConnection } from './worker-connection.js';
import { GroupCommit } from './group-commit.js';
import { claimableWork, pickWorker, servesLocally, type ClaimableWork } from './worker-routing.js';
import { logEpisodeOutcome } from '../runtime/worker-log.js';
import type { RegisteredNames } from '../sdk/registry.js';
import { EpisodeAbandonedError, type EpisodeEnvironment, type PreparedEpisode } from '../runtime/episode-environment.js';
import type { KnownNames } from '../runtime/known-names.js';

/** Tuning of a {@link RemoteHub}. */
export interface RemoteHubOptions {
  store: Store;
  hub: string;
  /** Functions this process serves for the hub (they run here, never on a gRPC worker). */
  registry: Registry;
  logger: Logger;
  maxPayloadBytes: number;
  /** Id of this sidecar's entry in the hub's worker registry. */
  registrationId: string;
  orchestrationLeaseMs: number;
  /** How long a worker may take to answer an orchestration or entity work item (below the lease). */
  workItemTimeoutMs: number;
  activityLeaseMs: number;
  pollIntervalMs: number;
  batchSize: number;
  entityRequestFormat: EntityRequestFormat;
  /** Wait before re-dispatching work a worker abandoned itself. */
  abandonDelayMs: number;
  /** How long results wait to share one durable commit with others arriving meanwhile. */
  commitLingerMs: number;
  /** The app's versioning, for the functions of `registry` (gRPC workers filter versions themselves). */
  versioning?: VersioningOptions;
}

/** Dispatches one hub's work to gRPC workers. */
export class RemoteHub {
  readonly workers = new Set<WorkerConnection>();
  readonly #store: HubStore;
  readonly #workerId = `grpc:${randomUUID().slice(0, 8)}`;
  readonly #pending = new Map<string, RemoteCall<unknown>>();
  /** Chunks of orchestrator responses received so far, by completion token. */
  readonly #chunks = new Map<string, { response: PbOrchestratorResponse; count: number }>();
  readonly #orchestrations: DispatchLoop;
  readonly #activities: DispatchLoop;
  readonly #commits: GroupCommit;
  readonly #running = new Set<Promise<void>>();
  readonly #activityLeases = new Map<string, Lease>();
  readonly #known: HubKnownNames;
  readonly #env: EpisodeEnvironment;
  /** Names workers have asked for since this sidecar started (a worker that restarts keeps its names served). */
  readonly #seen: RegisteredNames = { orchestrations: [], activities: [], entities: [] };
  /** Versions workers asked for per orchestration name; `'any'` once one asked for the name without versions. */
  readonly #seenVersions = new Map<string, string[] | 'any'>();
  readonly #gate: VersionGate;
  /** The protocol form of histories already sent, reused by the instances' next episodes. */
  readonly #translated = new TranslatedHistoryCache(1000);
  #sawUnfiltered = false;
  #serial = 0;
  #localEpisodes = 0;
  #unsubscribe: (() => void) | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #registered = '';
  #registering: Promise<void> = Promise.resolve();
  #stopping = false;

  constructor(private readonly options: RemoteHubOptions) {
    this.#store = options.store.hub(options.hub);
    this.#known = new HubKnownNames(options.registry, this.#store);
    this.#gate = new VersionGate(options.registry, options.versioning);
    const known: KnownNames & { refresh(): Promise<void> } = {
      has: (kind, name) => this.#sawUnfiltered || this.#known.has(kind, name),
      list: (kind) => this.#known.list(kind),
      versions: (name) => (this.#sawUnfiltered ? 'any' : this.#known.versions(name)),
      refresh: () => this.#known.refresh(),
    };
    const now = () => new Date();
    const nextDueInMs = async (sinceStepMs: number) => {
      const next = await this.#store.nextVisibleAt(sinceStepMs);
      return next && next.getTime() - Date.now();
    };
    this.#env = {
      store: this.#store,
      registry: options.registry,
      cache: new OrchestrationCache(1000),
      // Spans of the TypeScript orchestrations this hub runs (an SDK worker traces its own episodes).
      spans: new OrchestrationSpans(),
      known,
      maxPayloadBytes: options.maxPayloadBytes,
      logger: options.logger,
      now,
      newExecutionId: () => randomUUID().replace(/-/g, ''),
      versions: this.#gate,
    };
    this.#commits = new GroupCommit(this.#store, options.commitLingerMs);
    const loop = { logger: options.logger, pollIntervalMs: options.pollIntervalMs, nextDueInMs };
    this.#orchestrations = new DispatchLoop({ ...loop, name: `gRPC orchestration dispatcher (${options.hub})` }, () => this.#orchestrationStep());
    this.#activities = new DispatchLoop({ ...loop, name: `gRPC activity dispatcher (${options.hub})` }, () => this.#activityStep());
  }

  /** Starts the claim loops (they idle until a worker connects). */
  async start(): Promise<void> {
    this.#unsubscribe = this.options.store.subscribe(this.options.hub, (notice) => {
      if (notice.kind === 'orchestrations') this.#orchestrations.signal.notify();
      else if (notice.kind === 'activities') this.#activities.signal.notify();
    });
    const every = Math.max(10, Math.floor(this.options.activityLeaseMs / 3));
    this.#renewTimer = setInterval(() => void this.#renewActivities(), every);
    this.#renewTimer.unref();
    this.#orchestrations.start();
    this.#activities.start();
  }

  /** Adds a connected worker and records the names it serves. */
  async addWorker(worker: WorkerConnection): Promise<void> {
    this.workers.add(worker);
    if (worker.filters === undefined) this.#sawUnfiltered = true;
    else {
      add(this.#seen.orchestrations, worker.filters.orchestration);
      add(this.#seen.activities, worker.filters.activity);
      add(this.#seen.entities, worker.filters.entity);
      for (const name of worker.filters.orchestration) {
        const asked = worker.orchestrationVersions.get(name);
        const seen = this.#seenVersions.get(name);
        if (asked === undefined || seen === 'any') this.#seenVersions.set(name, 'any');
        else this.#seenVersions.set(name, [...new Set([...(seen ?? []), ...asked])]);
      }
    }
    await this.#register();
    this.#wake();
  }

  /** Removes a worker that went away; its work is given back for another worker. */
  removeWorker(worker: WorkerConnection): void {
    this.workers.delete(worker);
    for (const token of [...worker.pending]) this.#pending.get(token)?.abandon('disconnected');
  }

  /**
   * A worker's answer to an orchestration work item; resolves once committed. An answer in chunks (`isPartial`,
   * numbered by `chunkIndex`) is gathered until its last chunk and committed as one: each partial chunk resolves
   * once it is held.
   */
  async completeOrchestration(response: PbOrchestratorResponse): Promise<void> {
    const token = response.completionToken ?? '';
    const call = this.#pending.get(token);
    if (!call || call.kind !== 'orchestration') return this.#deliver('orchestration', token, response);
    const held = this.#chunks.get(token);
    const index = response.chunkIndex?.value ?? (held ? held.count : 0);
    if (index !== (held?.count ?? 0)) {
      throw new ValidationError(`Chunk ${index} of the response for '${response.instanceId ?? ''}' arrived where chunk ${held?.count ?? 0} was expected.`);
    }
    const customStatus = response.customStatus ?? held?.response.customStatus;
    const merged: PbOrchestratorResponse = {
      ...response,
      actions: [...(held?.response.actions ?? []), ...(response.actions ?? [])],
      ...(customStatus ? { customStatus } : {}),
    };
    if (response.isPartial) {
      if (!held) call.onDone(() => this.#chunks.delete(token));
      this.#chunks.set(token, { response: merged, count: index + 1 });
      return;
    }
    this.#chunks.delete(token);
    return this.#deliver('orchestration', token, merged);
  }

  /** A worker's answer to an entity work item (V1 or V2); resolves once committed. */
  completeEntity(result: PbEntityBatchResult): Promise<void> {
    return this.#deliver('entity', result.completionToken, result);
  }

  /** A worker's activity result; resolves once committed (a late result still counts while its lease holds). */
  async completeActivity(response: PbActivityResponse): Promise<void> {
    const call = this.#pending.get(response.completionToken ?? '');
    if (call) {
      if (call.kind !== 'activity') throw new StaleCompletionError('The completion token is not an activity token.');
      return call.deliver(response);
    }
    const claims = decodeToken(response.completionToken);
    if (claims?.kind !== 'activity' || claims.hub !== this.options.hub || claims.instanceId === undefined || claims.executionId === undefined) {
      throw new StaleCompletionError(`Unknown or expired completion token.`);
    }
    const event = activityEvent(response, claims.taskId ?? response.taskId ?? 0, this.options.maxPayloadBytes);
    const ok = await this.#commits.activity({ lease: claims.lease, message: { instanceId: claims.instanceId, executionId: claims.executionId, event } });
    if (!ok) throw new StaleCompletionError('The activity was re-dispatched: its lease is held by another attempt now.');
  }

  /** A worker gives a work item back (`Abandon*`); it is dispatched again after a short pause. */
  abandon(kind: WorkKind, token: string | undefined): void {
    const call = this.#pending.get(token ?? '');
    if (call?.kind === kind) call.abandon('abandoned');
  }

  /** Stops claiming, waits up to `drainMs` for work out at workers, then gives the rest back. */
  async stop(drainMs: number): Promise<void> {
    this.#stopping = true;
    await Promise.all([this.#orchestrations.stop(), this.#activities.stop()]);
    if (this.#running.size) {
      await Promise.race([Promise.all(this.#running), new Promise((resolve) => setTimeout(resolve, drainMs).unref())]);
    }
    for (const call of [...this.#pending.values()]) call.abandon('shutdown');
    await Promise.all(this.#running);
    clearInterval(this.#renewTimer);
    this.#unsubscribe?.();
    await this.#commits.idle();
    this.#env.spans?.endAll('worker-stopped');
  }

  // ---- claiming -----------------------------------------------------------------------------------

  #wake(): void {
    this.#orchestrations.signal.notify();
    this.#activities.signal.notify();
  }

  #claimable(kinds: WorkKind[]): ClaimableWork | undefined {
    return claimableWork(this.workers, kinds, this.options.batchSize, this.#isLocal, () => this.#gate.claimRules());
  }

  /** True when a function of this process serves `name` (its work runs here, never on a gRPC worker). */
  readonly #isLocal = (kind: WorkKind, name: string): boolean => servesLocally(this.options.registry, kind, name);

  #pick(kind: WorkKind, name: string, version?: string): WorkerConnection | undefined {
    return pickWorker(this.workers, kind, name, version);
  }

  #track(work: Promise<void>): void {
    const tracked: Promise<void> = work
      .catch((error: unknown) => this.options.logger.error(`gRPC dispatch failed: ${(error as Error).message}`, error))
      .finally(() => this.#running.delete(tracked));
    this.#running.add(tracked);
  }

  async #orchestrationStep(): Promise<boolean> {
    if (this.#stopping) return false;
    const claim = this.#claimable(['orchestration', 'entity']);
    if (!claim || this.#localEpisodes >= this.options.batchSize) return false;
    const items = await this.#store.claimOrchestrations({
      workerId: this.#workerId,
      ...(claim.names ? { names: claim.names } : {}),
      ...(claim.versions ? { versions: claim.versions } : {}),
      limit: claim.room,
      leaseMs: this.options.orchestrationLeaseMs,
    });
    if (items.length === 0) return false;
    await this.#known.refresh();
    for (const item of items) this.#track(this.#runEpisode(item));
    return true;
  }

  async #runEpisode(item: OrchestrationWorkItem): Promise<void> {
    const { instance, lease } = item;
    const isEntity = instance.instanceId.startsWith('@');
    const kind: WorkKind = isEntity ? 'entity' : 'orchestration';
    const local = this.#isLocal(kind, instance.name);
    const worker = local ? undefined : this.#pick(kind, instance.name, instance.version);
    if (!local && !worker) {
      await this.#store.releaseOrchestrations([lease]).catch(() => undefined);
      return;
    }
    let call: Pick<RemoteCall<unknown>, 'abandonedFor' | 'settle'> | undefined;
    const env: EpisodeEnvironment = { ...this.#env };
    if (worker && !isEntity) {
      env.remoteExecutor = (record) =>
        new RemoteOrchestrationExecutor(
          record,
          (request) => (call = this.#dispatch<PbOrchestratorResponse>(worker, 'orchestration', lease, { orchestratorRequest: request })).answer,
          { now: this.#env.now, maxPayloadBytes: this.options.maxPayloadBytes, pastEvents: this.#translated },
        );
    }
    if (worker && isEntity) {
      env.remoteEntityExecutor = (record) =>
        new RemoteEntityExecutor(
          record,
          (body) =>
            (call = this.#dispatch<PbEntityBatchResult>(worker, 'entity', lease, body.v2 ? { entityRequestV2: body.v2 } : { entityRequest: body.v1! })).answer,
          { format: this.options.entityRequestFormat, newId: () => randomUUID(), now: this.#env.now },
        );
    }
    if (worker) worker.inFlight[kind]++;
    else this.#localEpisodes++;
    try {
      let prepared: PreparedEpisode;
      try {
        prepared = await (isEntity ? prepareEntityEpisode(item, env) : prepareEpisode(item, env));
      } catch (error) {
        this.#env.cache.delete(instance.instanceId);
        if (error instanceof EpisodeAbandonedError) {
          if (call?.abandonedFor === 'abandoned') await sleep(this.options.abandonDelayMs);
        } else {
          this.options.logger.error(`episode of '${instance.instanceId}' could not be prepared: ${(error as Error).message}`, error);
          call?.settle(error as Error);
        }
        await this.#store.releaseOrchestrations([lease]).catch(() => undefined);
        return;
      }
      const handoff = this.#reserveActivities(prepared.commit);
      let outcome: CommitOutcome;
      try {
        outcome = await this.#commits.episode(prepared.commit);
      } catch (error) {
        this.#adoptActivities(handoff, undefined);
        prepared.settle(false);
        call?.settle(error as Error);
        this.options.logger.error(`could not commit the episode of '${instance.instanceId}'`, error);
        await this.#store.releaseOrchestrations([lease]).catch(() => undefined);
        return;
      }
      this.#adoptActivities(handoff, outcome === 'committed' ? prepared.commit : undefined);
      prepared.settle(outcome === 'committed');
      if (outcome === 'committed') logEpisodeOutcome(this.options.logger, prepared.commit);
      call?.settle(outcome === 'committed' ? undefined : new StaleCompletionError(`The lease on '${instance.instanceId}' was lost; the result was not committed.`));
    } finally {
      if (worker) worker.inFlight[kind]--;
      else this.#localEpisodes--;
      this.#orchestrations.signal.notify();
    }
  }

  /**
   * Marks the activities an episode schedules that a connected worker can take now to be created leased to this
   * sidecar by the episode's own commit (`runHere`), one slot of a worker reserved for each: they go out on the
   * worker's stream as soon as the commit lands, without a claim transaction and the wait for the claim loop.
   */
  #reserveActivities(commit: EpisodeCommit): { activity: NewActivity; worker: WorkerConnection }[] {
    if (this.#stopping || commit.activities.length === 0) return [];
    const reserved: { activity: NewActivity; worker: WorkerConnection }[] = [];
    // The slots go to the highest priorities first; the rest wait for claims, which order them too.
    const runnable = commit.activities.filter((a) => !this.#isLocal('activity', a.name)).sort((x, y) => (y.priority ?? 0) - (x.priority ?? 0));
    for (const activity of runnable) {
      const worker = this.#pick('activity', activity.name);
      if (!worker) break;
      worker.inFlight.activity++;
      activity.runHere = true;
      reserved.push({ activity, worker });
    }
    if (reserved.length) commit.activityLease = { workerId: this.#workerId, leaseMs: this.options.activityLeaseMs, leased: [] };
    return reserved;
  }

  /**
   * Dispatches what the commit leased of the reserved activities and gives back the other slots; `committed` is
   * the commit when it landed (a lost lease or a failed commit leased nothing). A flow-controlled activity the
   * store did not lease here waits for a claim like any other.
   */
  #adoptActivities(reserved: { activity: NewActivity; worker: WorkerConnection }[], committed: EpisodeCommit | undefined): void {
    if (reserved.length === 0) return;
    const leased = new Map((committed?.activityLease?.leased ?? []).map((item) => [item.taskId, item]));
    for (const { activity, worker } of reserved) {
      worker.inFlight.activity--; // #runActivity takes the slot again, synchronously
      const item = leased.get(activity.taskId);
      if (item) this.#track(this.#runActivity(item, worker));
    }
    this.#activities.signal.notify();
  }

  async #activityStep(): Promise<boolean> {
    if (this.#stopping) return false;
    const claim = this.#claimable(['activity']);
    if (!claim || this.#localEpisodes >= this.options.batchSize) return false;
    const items = await this.#store.claimActivities({
      workerId: this.#workerId,
      ...(claim.names ? { names: claim.names } : {}),
      limit: claim.room,
      leaseMs: this.options.activityLeaseMs,
    });
    for (const item of items) this.#track(this.#runActivity(item));
    return items.length > 0;
  }

  /** Runs a leased activity: here when this process serves it, else at `reservedFor` (if still there) or the least busy worker. */
  async #runActivity(item: ActivityWorkItem, reservedFor?: WorkerConnection): Promise<void> {
    const message = (event: HistoryEvent) => ({ lease: item.lease, message: { instanceId: item.instanceId, executionId: item.executionId, event } });
    if (this.#isLocal('activity', item.name)) {
      this.#localEpisodes++;
      try {
        const event = await runActivity(item, this.options.registry, this.options.maxPayloadBytes, this.#env.now);
        await this.#commits.activity(message(event));
      } catch (error) {
        this.options.logger.error(`could not record the result of activity '${item.name}'`, error);
      } finally {
        this.#localEpisodes--;
        this.#activities.signal.notify();
      }
      return;
    }
    const worker = reservedFor && reservedFor.room('activity') > 0 ? reservedFor : this.#pick('activity', item.name);
    if (!worker) {
      await this.#store.releaseActivities([item.lease]).catch(() => undefined);
      return;
    }
    worker.inFlight.activity++;
    const call = this.#dispatch<PbActivityResponse>(
      worker,
      'activity',
      item.lease,
      {
        activityRequest: {
          name: item.name,
          ...(item.input !== undefined ? { input: { value: item.input } } : {}),
          orchestrationInstance: { instanceId: item.instanceId, executionId: { value: item.executionId } },
          taskId: item.taskId,
          ...pbTrace(item.traceContext),
        },
      },
      { instanceId: item.instanceId, executionId: item.executionId, taskId: item.taskId },
    );
    this.#activityLeases.set(call.token, item.lease);
    try {
      const response = await call.answer;
      const ok = await this.#commits.activity(message(activityEvent(response, item.taskId, this.options.maxPayloadBytes)));
      call.settle(ok ? undefined : new StaleCompletionError('The activity was re-dispatched: its lease is held by another attempt now.'));
    } catch (error) {
      if (error instanceof EpisodeAbandonedError) {
        if (call.abandonedFor === 'abandoned') await sleep(this.options.abandonDelayMs);
        await this.#store.releaseActivities([item.lease]).catch(() => undefined);
      } else {
        call.settle(error as Error);
        this.options.logger.error(`could not record the result of activity '${item.name}'`, error);
      }
    } finally {
      this.#activityLeases.delete(call.token);
      worker.inFlight.activity--;
      this.#activities.signal.notify();
    }
  }

  // ---- dispatch and completion --------------------------------------------------------------------

  #dispatch<Res>(worker: WorkerConnection, kind: WorkKind, lease: Lease, body: PbWorkItem, extra: Partial<TokenClaims> = {}): RemoteCall<Res> {
    const token = encodeToken({ ...extra, kind, hub: this.options.hub, lease, serial: ++this.#serial });
    const call = new RemoteCall<Res>(kind, token, worker, lease);
    this.#pending.set(token, call as RemoteCall<unknown>);
    worker.pending.add(token);
    const timer =
      kind === 'activity' ? undefined : setTimeout(() => call.abandon('timeout'), this.options.workItemTimeoutMs);
    timer?.unref();
    call.onDone(() => {
      clearTimeout(timer);
      this.#pending.delete(token);
      worker.pending.delete(token);
    });
    if (!worker.send({ ...body, completionToken: token })) call.abandon('disconnected');
    return call;
  }

  #deliver(kind: WorkKind, token: string | undefined, response: unknown): Promise<void> {
    const call = this.#pending.get(token ?? '');
    if (!call || call.kind !== kind) {
      return Promise.reject(new StaleCompletionError('Unknown or expired completion token: the work item was given back or re-dispatched.'));
    }
    return call.deliver(response);
  }

  async #renewActivities(): Promise<void> {
    const leases = [...this.#activityLeases.values()];
    if (!leases.length) return;
    try {
      await this.#store.renewLeases('activity', leases, this.options.activityLeaseMs);
    } catch (error) {
      this.options.logger.warn(`could not renew the leases of activities at gRPC workers: ${(error as Error).message}`);
    }
  }

  /**
   * Records in the hub's worker registry the names gRPC workers serve, so clients accept starts for them.
   * Registrations run one after another: two concurrent writes could land in either order and leave the
   * older set of names in the registry.
   */
  #register(): Promise<void> {
    const next = this.#registering.catch(() => undefined).then(() => this.#registerNow());
    this.#registering = next;
    return next;
  }

  async #registerNow(): Promise<void> {
    const withAny = (names: string[]) => (this.#sawUnfiltered ? [...names, ANY_NAME] : [...names]).sort();
    const versioned = [...this.#seenVersions].filter((entry): entry is [string, string[]] => entry[1] !== 'any');
    const names: RegisteredNames = {
      orchestrations: withAny(this.#seen.orchestrations),
      activities: withAny(this.#seen.activities),
      entities: withAny(this.#seen.entities),
      ...(versioned.length ? { orchestrationVersions: Object.fromEntries(versioned.map(([n, v]) => [n, [...v].sort(compareVersions)])) } : {}),
    };
    const text = JSON.stringify(names);
    if (text === this.#registered) return;
    await this.#store.registerWorker(this.options.registrationId, names);
    this.#registered = text;
    await this.#known.refresh(0);
  }
}

/** The event an activity's response puts into its orchestration's inbox. */
function activityEvent(response: PbActivityResponse, taskId: number, maxPayloadBytes: number): HistoryEvent {
  const now = new Date();
  if (response.failureDetails) {
    return makeEvent({ eventType: 'TaskFailed', taskScheduledId: taskId, failureDetails: fromPbFailure(response.failureDetails) }, now);
  }
  const result = fromPbString(response.result);
  try {
    checkPayloadSize(result, `output of activity #${taskId}`, maxPayloadBytes);
  } catch (error) {
    return makeEvent({ eventType: 'TaskFailed', taskScheduledId: taskId, failureDetails: toFailureDetails(error) }, now);
  }
  return makeEvent({ eventType: 'TaskCompleted', taskScheduledId: taskId, ...(result !== undefined ? { result } : {}) }, now);
}

function add(target: string[], names: Iterable<string>): void {
  for (const name of names) if (!target.includes(name)) target.push(name);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

