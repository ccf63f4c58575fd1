/**
 * Running orchestrations kept in memory between episodes (live generator and task table), so an
 * episode feeds only its new events. An entry is valid only while the stored history still has the
 * length it had when this worker last committed (another worker may have moved the instance on).
 */
import type { OrchestrationExecutor } from '../core/orchestration-executor.js';
import type { InstanceRecord } from '../store/store.js';

/** A cached executor and the instance as it stands after this worker's commit. */
export interface CachedOrchestration {
  executor: OrchestrationExecutor;
  /** The instance as this worker's commit left it (its execution id and history length locate the executor). */
  instance: InstanceRecord;
  /**
   * The lease epoch of that commit. Every lease takes a new epoch, so while the row still has this one nobody
   * has leased the instance since, and a commit fenced by it is as safe as one under a fresh lease.
   */
  leaseEpoch: number;
}

/** Least-recently-used cache of executors. */
export class OrchestrationCache {
  readonly #entries = new Map<string, CachedOrchestration>();
  constructor(private readonly capacity: number) {}

  /** The entry for `instanceId` if it still matches the stored execution and history length. */
  take(instanceId: string, executionId: string, historyLength: number): CachedOrchestration | undefined {
    const entry = this.#entries.get(instanceId);
    if (!entry) return undefined;
    this.#entries.delete(instanceId);
    return entry.instance.executionId === executionId && entry.instance.historyLength === historyLength ? entry : undefined;
  }

  /** The entry for `instanceId`, left in place. */
  peek(instanceId: string): CachedOrchestration | undefined {
    return this.#entries.get(instanceId);
  }

  /** True when an executor for `instanceId` is cached (it may still prove stale when taken). */
  has(instanceId: string): boolean {
    return this.#entries.has(instanceId);
  }

  put(instanceId: string, entry: CachedOrchestration): void {
    if (this.capacity <= 0) return;
    this.#entries.delete(instanceId);
    this.#entries.set(instanceId, entry);
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  delete(instanceId: string): void {
    this.#entries.delete(instanceId);
  }

  get size(): number {
    return this.#entries.size;
  }
}
