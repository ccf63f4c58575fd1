/**
 * `waitForCompletion` for every waiter of one client: one store subscription, waiters found by instance id, and
 * no store read per notice. A terminal status committed in this process arrives with the row it wrote (the
 * notice's `final`), so its waiters return without reading; one committed elsewhere costs each of its waiters
 * one read; statuses that are not terminal cost nothing. Where notices cross processes, a slow poll covers the
 * rare notice that never arrives; where they do not, waiters poll as before (5 ms, doubling to 250 ms).
 */
import { isTerminalStatus } from '../sdk/history.js';
import { InstanceNotFoundError } from '../sdk/errors.js';
import type { FinalInstanceState, InstanceRecord, Store, StoreNotice } from '../store/store.js';

/** Poll interval of a waiter whose store carries notices across processes: only a safety net. */
const SAFETY_POLL_MS = 2000;
/** First and longest poll interval where notices stay in this process. */
const LOCAL_POLL_MS = { first: 5, max: 250 } as const;

interface Waiter {
  /** A notice says the status may be terminal now: read it. */
  stale: boolean;
  /** The row a commit in this process left when it made the instance terminal. */
  final?: FinalInstanceState;
  /** Ends the current sleep early. */
  wake?: () => void;
}

/** The waiters of one client on one task hub. */
export class CompletionWaiters {
  readonly #waiters = new Map<string, Set<Waiter>>();
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly taskHub: string,
    private readonly read: (instanceId: string) => Promise<InstanceRecord | undefined>,
  ) {}

  /**
   * The instance's record once it is terminal, or as it is at `deadline` (epoch ms). Throws
   * {@link InstanceNotFoundError} when it does not exist (or is purged while waited for).
   */
  async wait(instanceId: string, deadline: number): Promise<InstanceRecord> {
    const waiter: Waiter = { stale: false };
    this.#add(instanceId, waiter);
    try {
      let record = await this.read(instanceId);
      let pollMs = this.store.crossProcessNotices ? SAFETY_POLL_MS : LOCAL_POLL_MS.first;
      for (;;) {
        if (!record) throw new InstanceNotFoundError(instanceId);
        if (isTerminalStatus(record.status) || Date.now() >= deadline) return record;
        if (!waiter.final && !waiter.stale) await sleep(waiter, Math.min(pollMs, Math.max(0, deadline - Date.now())));
        const handed = waiter.final && merge(record, waiter.final);
        waiter.final = undefined;
        if (handed && !waiter.stale) {
          record = handed;
          continue;
        }
        waiter.stale = false;
        record = await this.read(instanceId);
        if (!this.store.crossProcessNotices) pollMs = Math.min(pollMs * 2, LOCAL_POLL_MS.max);
      }
    } finally {
      this.#remove(instanceId, waiter);
    }
  }

  #add(instanceId: string, waiter: Waiter): void {
    let set = this.#waiters.get(instanceId);
    if (!set) this.#waiters.set(instanceId, (set = new Set()));
    set.add(waiter);
    this.#unsubscribe ??= this.store.subscribe(this.taskHub, (notice) => this.#hear(notice));
  }

  #remove(instanceId: string, waiter: Waiter): void {
    const set = this.#waiters.get(instanceId);
    if (!set?.delete(waiter) || set.size > 0) return;
    this.#waiters.delete(instanceId);
    if (this.#waiters.size === 0) {
      this.#unsubscribe?.();
      this.#unsubscribe = undefined;
    }
  }

  #hear(notice: StoreNotice): void {
    if (notice.kind === 'instances') {
      for (const set of this.#waiters.values()) for (const waiter of set) markStale(waiter);
      return;
    }
    if (notice.kind !== 'instance' || !isTerminalStatus(notice.status)) return;
    for (const waiter of this.#waiters.get(notice.instanceId) ?? []) {
      if (notice.final) {
        waiter.final = notice.final;
        waiter.wake?.();
      } else markStale(waiter);
    }
  }
}

function markStale(waiter: Waiter): void {
  waiter.stale = true;
  waiter.wake?.();
}

function sleep(waiter: Waiter, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      waiter.wake = undefined;
      resolve();
    }
    waiter.wake = done;
  });
}

/**
 * The record after the commit that wrote `final`, from the one read before it; undefined when the read was of
 * an earlier execution whose input the commit kept (continue-as-new happened in between): then read it.
 */
function merge(read: InstanceRecord, final: FinalInstanceState): InstanceRecord | undefined {
  if (final.keepInput && final.executionId !== read.executionId) return undefined;
  const record: InstanceRecord = {
    instanceId: read.instanceId,
    name: final.name,
    executionId: final.executionId,
    status: final.status,
    createdAt: read.createdAt,
    lastUpdatedAt: final.lastUpdatedAt,
    historyLength: read.historyLength,
  };
  const input = final.keepInput ? read.input : final.input;
  if (final.version !== undefined) record.version = final.version;
  if (input !== undefined) record.input = input;
  if (final.output !== undefined) record.output = final.output;
  if (final.customStatus !== undefined) record.customStatus = final.customStatus;
  if (final.failureDetails !== undefined) record.failureDetails = final.failureDetails;
  if (read.parentInstanceId !== undefined) record.parentInstanceId = read.parentInstanceId;
  if (read.tags !== undefined) record.tags = read.tags; // episode commits never change an instance's tags
  return record;
}
