/**
 * Runs orchestration episodes: claims a batch of instances with new messages, runs every episode
 * (cached executors feed only new events), and commits the whole batch in one transaction.
 *
 * Activity results of instances this worker has cached skip the inbox: the activity dispatcher hands them
 * over in memory, the instance is leased, and the episode that consumes them deletes their work items in
 * its own commit — one durable write per step instead of two. Whatever cannot go that way (the instance is
 * busy, suspended or gone, or the commit loses a lease) is recorded through the inbox as usual.
 */
import type { HistoryEvent } from '../sdk/history.js';
import { StoreError, toFailureDetails } from '../sdk/errors.js';
import type { ActivityWorkItem, ClaimVersionRule, HubStore, Lease, OrchestrationWorkItem } from '../store/store.js';
import { storeErrorGate } from '../store/store-outage.js';
import { VersionGate } from './version-gate.js';
import { DispatchLoop, type DispatchLoopOptions, type StepResult } from './dispatch-loop.js';
import type { LocalActivityRunner } from './activity-dispatcher.js';
import type { HubKnownNames } from './known-names.js';
import { prepareEpisode } from './orchestration-episode.js';
import { prepareEntityEpisode } from './entity-episode.js';
import type { LocalStartTaker, StartReservation } from '../store/local-starts.js';
import { EpisodeAbandonedError, type EpisodeEnvironment, type PreparedEpisode } from './episode-environment.js';
import { logEpisodeOutcome, logOrchestrationTakeovers } from './worker-log.js';
import { duraflowMetrics, secondsSince } from '../telemetry/metrics.js';
import type { EpisodeCommit } from '../store/store.js';
import { canFuse, StartFusions } from './start-fusion.js';

const metrics = duraflowMetrics();

/** Counts the executions a committed episode began and ended (entities have no history: none). */
function countExecutions(hub: string, commit: EpisodeCommit): void {
  const name = commit.instance.name;
  for (const event of commit.history) {
    if (event.eventType === 'ExecutionStarted') metrics.started.inc({ hub, name });
    else if (event.eventType === 'ExecutionCompleted') metrics.finished.inc({ hub, name, status: event.orchestrationStatus });
  }
  // Continue-as-new replaces the history: the ended execution is counted by its status.
  if (commit.instance.status === 'ContinuedAsNew') metrics.finished.inc({ hub, name, status: 'ContinuedAsNew' });
}

/** The claim's version rules: what the worker's versioning runs, and without it what its registrations can run. */
function versionRules(env: EpisodeEnvironment): { versions?: Record<string, ClaimVersionRule> } {
  const rules = (env.versions ?? new VersionGate(env.registry)).claimRules();
  return rules ? { versions: rules } : {};
}

/** How soon a step retries activity results the store refused. */
const RETRY_MS = 500;

/** Settings of an {@link OrchestrationDispatcher}. */
export interface OrchestrationDispatcherOptions {
  env: EpisodeEnvironment & { known: HubKnownNames };
  workerId: string;
  batchSize: number;
  leaseMs: number;
  loop: Omit<DispatchLoopOptions, 'name'>;
  /** This worker's activity runner: the activities an episode schedules that it can run are leased to it in the commit. */
  localActivities?: LocalActivityRunner;
}

/** An activity result held in memory for the episode of its instance. */
interface LocalResult {
  item: ActivityWorkItem;
  event: HistoryEvent;
}

/** Claims and runs orchestration episodes. */
export class OrchestrationDispatcher implements LocalStartTaker {
  readonly loop: DispatchLoop;
  readonly #store: HubStore;
  #local = new Map<string, LocalResult[]>();
  /**
   * Instances leased to this worker waiting for their episode: started in this process and leased by their start,
   * or kept leased by their last commit because more messages were waiting (`EpisodeCommit.continueLease`).
   */
  #started: OrchestrationWorkItem[] = [];
  /** Starts reserved whose commit has not answered yet. */
  #reservedStarts = 0;
  /** Starts handed over before their commit, to commit with their first episode (see start-fusion.ts). */
  readonly #fusions = new StartFusions();
  /** Whether new inbox work may exist: set by notices, timeouts and full claims, cleared by a claim that took less. */
  #claimDue = true;
  /**
   * Instances that notices named as having new messages since the last step began. Where the next step holds the
   * instance anyway (a kept lease, a start, results in memory), its commit finds those messages — it keeps the
   * lease for them, or announces them as new work — so they need no claim of their own.
   */
  #noticed = new Set<string>();
  /**
   * Instance leases whose release the store refused (a full disk): given back before the next step does anything
   * else, so the instances are claimable as soon as the store takes writes again, not when the leases expire.
   */
  #unreleased: Lease[] = [];
  /** Wakes the loop to retry results kept in memory because the store refused them. */
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: OrchestrationDispatcherOptions) {
    this.#store = options.env.store;
    this.loop = new DispatchLoop({ ...options.loop, name: 'orchestration dispatcher' }, () => this.#step());
  }

  start(): void {
    this.loop.start();
  }

  /**
   * Wakes the loop to claim: messages may be waiting in the inbox — only for instance `instanceId` when given, so
   * that a step holding that instance skips the claim.
   */
  wake(instanceId?: string): void {
    if (instanceId === undefined) this.#claimDue = true;
    else this.#noticed.add(instanceId);
    this.loop.signal.notify();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.#fusions.giveBackAll();
    clearTimeout(this.#retryTimer);
    await this.#toInbox([...this.#local.values()].flat());
    this.#local = new Map();
    await this.#releaseStarted(this.#started.splice(0));
    await this.#store.releaseOrchestrations(this.#unreleased.splice(0)).catch(() => undefined);
  }

  /** Number of steps that had episodes to run. */
  get worked(): number {
    return this.#worked;
  }
  #worked = 0;

  /** Results and starts held in memory for their episode (the worker is not idle while there are any). */
  get pendingLocalWork(): number {
    return this.#local.size + this.#started.length + this.#reservedStarts + this.#fusions.waiting;
  }

  /**
   * Takes a start made in this process when this worker serves `name` and holds fewer than a batch of them;
   * beyond that the start is left to the claims of all workers, so one busy client does not hog the starts.
   */
  reserve(name: string, version?: string): StartReservation | undefined {
    const { env, workerId, leaseMs, batchSize } = this.options;
    if (this.loop.stopping || !env.registry.hasOrchestration(name)) return undefined;
    // Only a start this worker runs: one it would reject or fail is left to the claims of all workers.
    if (env.versions ? !env.versions.decide(name, version).run : !env.registry.resolveOrchestration(name, version)) return undefined;
    if (this.#started.length + this.#reservedStarts >= batchSize) return undefined;
    this.#reservedStarts++;
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      this.#reservedStarts--;
      return true;
    };
    return {
      lease: { workerId, leaseMs },
      take: (item) => {
        if (!settle()) return;
        if (this.loop.stopping) {
          void this.#releaseStarted([item]);
          return;
        }
        this.#started.push(item);
        this.loop.signal.notify();
      },
      cancel: () => void settle(),
      // Only while idle (or joining starts already waiting for the next step): a busy step would hold the start up.
      fuse: async (request) => {
        if (settled || this.loop.stopping || !canFuse(request) || !(this.loop.isIdle || this.#fusions.waiting > 0)) return false;
        const fused = this.#fusions.add(request, { workerId, leaseMs }, Date.now());
        this.loop.signal.notify();
        try {
          const committed = await fused;
          if (committed) settle();
          return committed;
        } catch (error) {
          settle();
          throw error;
        }
      },
    };
  }

  /** Gives up the leases of starts this worker will not run, so any worker's claim takes them now. */
  async #releaseStarted(items: OrchestrationWorkItem[]): Promise<void> {
    if (!items.length) return;
    await this.#store.releaseOrchestrations(items.map((i) => i.lease)).catch((error: unknown) => {
      const gate = storeErrorGate(this.options.env.logger, 'release starts', error);
      if (gate.log) this.options.env.logger.warn(`could not release ${items.length} started instances: ${(error as Error).message}${gate.repeats}`);
    });
  }

  /**
   * Takes an activity result in memory when this worker has its instance cached (so the next episode is
   * cheap); false when the result should go through the inbox instead.
   */
  deliverLocally(item: ActivityWorkItem, event: HistoryEvent): boolean {
    if (this.loop.stopping || !this.options.env.cache.has(item.instanceId)) return false;
    const results = this.#local.get(item.instanceId) ?? [];
    results.push({ item, event });
    this.#local.set(item.instanceId, results);
    this.loop.signal.notify();
    return true;
  }

  /**
   * Records results through the inbox (a result whose activity lease was lost is dropped: the activity runs again).
   * Results the store refuses for a named reason (a full disk) stay in memory for the next step, which is woken
   * for them: recorded as soon as the store takes writes again, rather than run again when their leases expire.
   */
  async #toInbox(results: LocalResult[]): Promise<void> {
    if (!results.length) return;
    try {
      await this.#store.completeActivities(
        results.map(({ item, event }) => ({ lease: item.lease, message: { instanceId: item.instanceId, executionId: item.executionId, event } })),
      );
    } catch (error) {
      const keep = error instanceof StoreError && !this.loop.stopping;
      const gate = storeErrorGate(this.options.env.logger, 'activity results', error);
      if (gate.log) this.options.env.logger.error(`could not record ${results.length} activity results${keep ? ' (trying again)' : ''}: ${(error as Error).message}${gate.repeats}`, error);
      if (!keep) return;
      for (const result of results) {
        const held = this.#local.get(result.item.instanceId) ?? [];
        held.push(result);
        this.#local.set(result.item.instanceId, held);
      }
      this.#retryTimer ??= setTimeout(() => {
        this.#retryTimer = undefined;
        this.loop.signal.notify();
      }, RETRY_MS);
    }
  }

  /** Releases `leases`; those the store refuses wait in {@link #unreleased} for the next step. */
  async #release(leases: Lease[]): Promise<void> {
    if (!leases.length) return;
    try {
      await this.#store.releaseOrchestrations(leases);
    } catch {
      this.#unreleased.push(...leases);
    }
  }

  /**
   * Work items for the instances that have results in memory, with those results as their messages. An instance
   * this worker's own last commit left Running needs no lease: its episode commits fenced by that commit's
   * epoch, which holds only while nobody has leased the instance since (messages that arrived meanwhile stay
   * in the inbox for a later episode). The others are leased.
   */
  async #leaseLocal(): Promise<{ items: OrchestrationWorkItem[]; fused: Map<string, LocalResult[]> }> {
    const local = this.#local;
    this.#local = new Map();
    const fused = new Map<string, LocalResult[]>();
    if (!local.size) return { items: [], fused };
    const items: OrchestrationWorkItem[] = [];
    const toLease: string[] = [];
    for (const id of local.keys()) {
      const cached = this.options.env.cache.peek(id);
      if (cached?.instance.status === 'Running') {
        items.push({ instance: cached.instance, messages: [], lease: { id, epoch: cached.leaseEpoch } });
      } else toLease.push(id);
    }
    try {
      if (toLease.length) items.push(...(await this.#store.leaseInstances(toLease, { workerId: this.options.workerId, leaseMs: this.options.leaseMs })));
    } catch (error) {
      const gate = storeErrorGate(this.options.env.logger, 'lease for results', error);
      if (gate.log) this.options.env.logger.warn(`could not lease instances for results in memory: ${(error as Error).message}${gate.repeats}`);
    }
    for (const item of items) {
      const id = item.instance.instanceId;
      const results = local.get(id)!;
      local.delete(id);
      // In memory, not in the inbox: no message id to delete (the commit deletes the work items instead).
      item.messages.push(...results.map(({ item: a, event }) => ({ id: -1, instanceId: id, executionId: a.executionId, event })));
      fused.set(id, results);
    }
    await this.#toInbox([...local.values()].flat());
    return { items, fused };
  }

  async #step(): Promise<StepResult> {
    const { env } = this.options;
    if (this.#unreleased.length) {
      const leases = this.#unreleased.splice(0);
      try {
        await this.#store.releaseOrchestrations(leases);
      } catch (error) {
        this.#unreleased.unshift(...leases);
        throw error; // the store takes no writes yet: the loop tries again after a pause
      }
    }
    const { items, fused } = await this.#leaseLocal();
    for (const item of this.#started.splice(0)) {
      // Results in memory for an instance whose lease its last commit kept: one episode, under that lease.
      const held = items.findIndex((i) => i.instance.instanceId === item.instance.instanceId);
      if (held >= 0) item.messages.push(...items.splice(held, 1)[0]!.messages);
      items.push(item);
    }
    // A step woken only by work in memory skips the claim: no notice said the inbox has anything, or only for
    // instances this step holds, whose commit (sent after those notices) finds their messages.
    const noticed = this.#noticed;
    this.#noticed = new Set();
    const holding = new Set(items.map((i) => i.instance.instanceId));
    // Fused starts are work in memory too (taken after the claim, so that starts made meanwhile join this step).
    const fusing = this.#fusions.waiting;
    const claim = this.#claimDue || items.length + fusing === 0 || [...noticed].some((id) => !holding.has(id));
    this.#claimDue = false;
    const limit = claim ? Math.max(1, this.options.batchSize - items.length - fusing) : 0;
    const claimed =
      limit === 0
        ? []
        : await this.#store
            .claimOrchestrations({
              workerId: this.options.workerId,
              // Entity instances ('@name@key') carry the entity name; their episodes share this claim and commit.
              names: [...env.registry.orchestrationNames(), ...env.registry.entities.keys()],
              ...versionRules(env),
              limit,
              leaseMs: this.options.leaseMs,
            })
            .catch(async (error: unknown) => {
              // The leased instances must not wait for their lease to expire because the claim failed.
              this.#fusions.giveBackAll();
              await this.#abandon(items, fused);
              throw error;
            });
    // A full claim means more may be waiting: the next step claims again, whatever else it has to do. (Only
    // ever set here: a notice that arrived during the claim must not be cleared.)
    if (limit > 0 && claimed.length >= limit) this.#claimDue = true;
    logOrchestrationTakeovers(env.logger, this.options.workerId, claimed);
    const takenOver = claimed.filter((i) => i.previousOwner !== undefined && i.previousOwner !== this.options.workerId).length;
    if (takenOver) metrics.takeovers.inc({ hub: this.#store.hub, kind: 'orchestration' }, takenOver);
    for (const item of claimed) {
      // An instance held here without a lease (see #leaseLocal) can be claimed too: the claim's lease and
      // inbox messages take over, with the results in memory added.
      const held = items.findIndex((i) => i.instance.instanceId === item.instance.instanceId);
      if (held >= 0) item.messages.push(...items.splice(held, 1)[0]!.messages);
      items.push(item);
    }
    for (const item of this.#fusions.take()) {
      // A live instance holds the id (it was just claimed): the client's own start reports the conflict.
      if (items.some((i) => i.instance.instanceId === item.instance.instanceId)) this.#fusions.settle(item, undefined, false);
      else items.push(item);
    }
    if (items.length === 0) return false;
    this.#worked++;
    const found: StepResult = limit === 0 || claimed.length < limit ? 'drained' : true;
    await env.known.refresh();
    const prepared: PreparedEpisode[] = [];
    const failed = [];
    const unrecorded: LocalResult[] = [];
    const fusedItems = new Map<PreparedEpisode, OrchestrationWorkItem>();
    // Prepared side by side: entity operations that await (each batch up to its time limit) hold the batch up
    // for the longest of them, not for all of them in turn, so the batch commits while its leases hold.
    const outcomes = await Promise.all(
      items.map((item) => {
        const began = performance.now();
        return (item.instance.instanceId.startsWith('@') ? prepareEntityEpisode(item, env) : prepareEpisode(item, env)).then(
          (episode) => {
            metrics.episodeSeconds.observe({ hub: this.#store.hub, name: item.instance.name }, secondsSince(began));
            return { item, episode };
          },
          (error: unknown) => ({ item, error }),
        );
      }),
    );
    for (const outcome of outcomes) {
      const { item } = outcome;
      const id = item.instance.instanceId;
      if ('episode' in outcome) {
        const { episode } = outcome;
        if (this.#fusions.has(item) && !this.#fusions.toCommit(item, episode.commit)) {
          episode.settle(false); // given back while it ran: the client writes the start itself
          continue;
        }
        const results = fused.get(id);
        if (results) {
          episode.commit.consumedMessageIds = episode.commit.consumedMessageIds.filter((m) => m >= 0);
          episode.commit.completedActivities = [...(episode.commit.completedActivities ?? []), ...results.map((r) => r.item.lease)];
        }
        prepared.push(episode);
        if (this.#fusions.has(item)) fusedItems.set(episode, item);
      } else {
        env.cache.delete(id);
        const { error } = outcome;
        if (error instanceof EpisodeAbandonedError) env.logger.debug(`episode of '${id}' given back: ${error.message}`);
        else env.logger.error(`episode of '${id}' could not be prepared: ${toFailureDetails(error).message}`, { instanceId: id, name: item.instance.name }, error);
        // A fused start's instance does not exist yet: the client writes the start, and a claim runs it.
        if (this.#fusions.has(item)) this.#fusions.settle(item, undefined, false);
        else failed.push(item.lease);
        unrecorded.push(...(fused.get(id) ?? []));
      }
    }
    await this.#release(failed);
    if (prepared.length === 0) {
      await this.#toInbox(unrecorded);
      return found;
    }
    const reserved = this.#reserveActivities(prepared);
    // Consecutive messages to one instance (events, signals) run as the next episode under the same lease, handed
    // back by this commit: no claim, no lease write of their own.
    if (!this.loop.stopping) for (const p of prepared) p.commit.continueLease = { workerId: this.options.workerId, leaseMs: this.options.leaseMs };
    let committed;
    const commitStart = performance.now();
    try {
      committed = await this.#store.commitEpisodes(prepared.map((p) => p.commit));
      metrics.commitSeconds.observe({ hub: this.#store.hub }, secondsSince(commitStart));
      metrics.commitBatch.observe({ hub: this.#store.hub }, prepared.length);
    } catch (error) {
      this.options.localActivities?.adopt([], reserved);
      for (const p of prepared) p.settle(false);
      this.#fusions.giveBackAll();
      await this.#release(prepared.filter((p) => !p.commit.start).map((p) => p.commit.lease));
      await this.#toInbox([...unrecorded, ...prepared.flatMap((p) => fused.get(p.commit.lease.id) ?? [])]);
      throw error;
    }
    this.options.localActivities?.adopt(prepared.flatMap((p) => p.commit.activityLease?.leased ?? []), reserved);
    let continued = false;
    prepared.forEach((p, i) => {
      const ok = committed[i] === 'committed';
      const item = fusedItems.get(p);
      if (item) this.#fusions.settle(item, p.commit, ok);
      p.settle(ok);
      const next = ok ? p.commit.continueLease?.next : undefined;
      if (next) {
        this.#started.push(next);
        continued = true;
      }
      if (ok) {
        logEpisodeOutcome(env.logger, p.commit);
        countExecutions(this.#store.hub, p.commit);
      }
      else unrecorded.push(...(fused.get(p.commit.lease.id) ?? []));
    });
    await this.#toInbox(unrecorded);
    // The kept leases' episodes run next, without sleeping first.
    return continued ? true : found;
  }

  /** Marks the activities this worker can run to be leased to it by the commit, as far as it has free slots. */
  #reserveActivities(prepared: PreparedEpisode[]): number {
    const runner = this.options.localActivities;
    if (!runner) return 0;
    let reserved = 0;
    for (const { commit } of prepared) {
      // The slots go to the highest priorities first (the rest wait for claims, which order them too); the store
      // leases a flow-controlled one here only when its limits allow (else the slot comes back unused).
      const runnable = commit.activities
        .filter((a) => this.options.env.registry.activities.has(a.name))
        .sort((x, y) => (y.priority ?? 0) - (x.priority ?? 0));
      const granted = runner.reserve(runnable.length);
      if (granted === 0) continue;
      for (const activity of runnable.slice(0, granted)) activity.runHere = true;
      commit.activityLease = { workerId: this.options.workerId, leaseMs: runner.leaseMs, leased: [] };
      reserved += granted;
    }
    return reserved;
  }

  async #abandon(items: OrchestrationWorkItem[], fused: Map<string, LocalResult[]>): Promise<void> {
    if (!items.length) return;
    await this.#release(items.map((i) => i.lease));
    await this.#toInbox([...fused.values()].flat());
  }
}
