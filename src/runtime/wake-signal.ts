/**
 * Wakes a sleeping dispatch loop. A notify that arrives while nobody waits is remembered, so a wake-up
 * between "found no work" and "went to sleep" is never lost.
 */
export class WakeSignal {
  #pending = false;
  #wake: (() => void) | undefined;

  /** True while a waiter sleeps and no wake-up is pending (cleared the moment `notify` or the timeout fires). */
  get isWaiting(): boolean {
    return this.#wake !== undefined;
  }

  /** Wakes the waiter now, or the next one. */
  notify(): void {
    if (this.#wake) {
      const wake = this.#wake;
      this.#wake = undefined;
      wake();
    } else {
      this.#pending = true;
    }
  }

  /** Resolves on the next notify, or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, Math.max(0, Math.min(timeoutMs, 2 ** 31 - 1)));
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
