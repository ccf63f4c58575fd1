/**
 * What an episode needs from its worker and what it hands back: the environment, the executor seam
 * (DESIGN §2: past events + new events → actions, in-process or at a remote gRPC worker) and the prepared commit.
 */
import type { EpisodeResult } from '../core/orchestration-executor.js';
import type { EntityExecutor } from '../core/entity-executor.js';
import type { ExecutionStartedEvent, HistoryEvent } from '../sdk/history.js';
import type { Logger } from '../sdk/logger.js';
import type { Registry } from '../sdk/registry.js';
import type { EpisodeCommit, HubStore, InstanceRecord } from '../store/store.js';
import type { KnownNames } from './known-names.js';
import type { OrchestrationCache } from './orchestration-cache.js';
import type { VersionGate } from './version-gate.js';
import type { OrchestrationSpans } from './orchestration-spans.js';

/** What an episode needs from its worker. */
export interface EpisodeEnvironment {
  store: HubStore;
  registry: Registry;
  cache: OrchestrationCache;
  known: KnownNames;
  maxPayloadBytes: number;
  logger: Logger;
  now: () => Date;
  newExecutionId: () => string;
  /** Wait between polls of a durable HTTP 202 without `Retry-After`. */
  httpPollDelayMs?: number;
  /** How long the operations of one entity batch may await in total (default 10 s). */
  entityOperationTimeoutMs?: number;
  /** The worker's versioning: which instance versions run here (in-process executors only). */
  versions?: VersionGate;
  /** The executor of an instance whose functions run elsewhere (a gRPC worker); undefined runs it in-process. */
  remoteExecutor?: (instance: InstanceRecord) => EpisodeExecutor | undefined;
  /** Likewise for an entity's operation batches. */
  remoteEntityExecutor?: (instance: InstanceRecord) => EntityBatchExecutor | undefined;
  /** The worker's orchestration spans (in-process executors; a gRPC SDK worker traces its own episodes). */
  spans?: OrchestrationSpans;
}

/**
 * The executor step of an episode (the seam of DESIGN §2): (past events, new events) → actions. The in-process
 * {@link OrchestrationExecutor} is one implementation; a remote worker (gRPC) is another, and answers later.
 */
export interface EpisodeExecutor {
  /** The ExecutionStarted event of the execution, once seen. */
  readonly started: ExecutionStartedEvent | undefined;
  /** True when the orchestration set its custom status in this execution. */
  readonly customStatusSet: boolean;
  execute(pastEvents: readonly HistoryEvent[], newEvents: readonly HistoryEvent[]): EpisodeResult | Promise<EpisodeResult>;
}

/** Runs a batch of entity operations (the entity half of the seam). */
export type EntityBatchExecutor = Pick<EntityExecutor, 'executeBatch'>;

/**
 * Thrown by an executor that gives its work back without a result (its remote worker went away or gave up):
 * nothing is committed and the lease is released, so the episode runs again.
 */
export class EpisodeAbandonedError extends Error {
  override readonly name = 'EpisodeAbandonedError';
}

/** A prepared episode: its commit and what to do with the executor once the commit is known. */
export interface PreparedEpisode {
  commit: EpisodeCommit;
  /** Called with the commit's outcome: caches the executor when it can serve the next episode. */
  settle(committed: boolean): void;
}
