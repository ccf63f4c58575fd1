import type { HubStore } from '../store/store.js';

/**
 * When the next timer or lease expiry of a task hub falls due, asked of the store only when the answer may
 * have changed. Both dispatch loops ask each time they go to sleep; without this every step of a busy
 * orchestration would cost them a query. The answer is kept until it falls due, until a `timers` notice says
 * a delayed message was written, or for at most one polling interval (lease expiries of other workers'
 * items are not announced: the interval bounds how late a crashed worker's work is seen).
 */
export class NextDue {
  #due: number | undefined;
  #askedAt: number | undefined;

  constructor(
    private readonly query: (lookBackMs: number) => Promise<Date | undefined>,
    private readonly clock: () => number,
    private readonly maxAgeMs: number,
  ) {}

  /** Forgets the answer (a delayed message was written). */
  invalidate(): void {
    this.#askedAt = undefined;
  }

  /**
   * Milliseconds until the next due time (≤ 0: due now), or undefined when nothing is scheduled. `lookBackMs`
   * goes to the query (see {@link HubStore.nextVisibleAt}); a kept answer needs none: anything that became
   * visible since it was asked was then in the future, so the answer is no later and has fallen due.
   */
  async inMs(lookBackMs = 0): Promise<number | undefined> {
    const now = this.clock();
    const fresh = this.#askedAt !== undefined && now - this.#askedAt < this.maxAgeMs && now >= this.#askedAt;
    if (!fresh || (this.#due !== undefined && this.#due <= now)) {
      // Invalidated while the query runs: the answer is used once but not kept.
      const askedAt = now;
      this.#askedAt = askedAt;
      const next = await this.query(lookBackMs);
      this.#due = next?.getTime();
      if (this.#askedAt !== askedAt) this.#askedAt = undefined;
    }
    return this.#due === undefined ? undefined : this.#due - now;
  }
}
