/**
 * The skeleton both dispatchers share: claim work, process it, and when there is none sleep until a
 * notice, the next timer, or the polling fallback — whichever comes first.
 */
import type { Logger } from '../sdk/logger.js';
import { storeErrorGate } from '../store/store-outage.js';
import { WakeSignal } from './wake-signal.js';

/** Tuning of a {@link DispatchLoop}. */
export interface DispatchLoopOptions {
  name: string;
  logger: Logger;
  /** Longest sleep without a notice (the polling fallback). */
  pollIntervalMs: number;
  /**
   * Time until the next known timer, if any; `sinceStepMs` is how long ago the step that found no work began
   * (what became visible since then is due now).
   */
  nextDueInMs?: (sinceStepMs: number) => Promise<number | undefined>;
  /** The clock of due times (the test host's virtual one; default `Date.now`). */
  clock?: () => number;
  /** Called each time the loop goes to sleep because it found no work (the test host's idle cue). */
  onIdle?: () => void;
}

/**
 * What one step found: `true` work (and maybe more right away), `false` none, `'drained'` work but less
 * than it could take, so nothing more is visible now. After `false` or `'drained'` the loop sleeps; work that
 * arrives meanwhile wakes it through its signal, so a drained step saves the empty claim that would follow.
 */
export type StepResult = boolean | 'drained';

/** Runs `step` until stopped. */
export class DispatchLoop {
  readonly signal = new WakeSignal();
  #stopping = false;
  #done: Promise<void> | undefined;
  #sleepingForLackOfWork = false;

  constructor(
    private readonly options: DispatchLoopOptions,
    private readonly step: () => Promise<StepResult>,
  ) {}

  get stopping(): boolean {
    return this.#stopping;
  }

  /** True while the loop sleeps because its last step found no work and nothing has woken it since. */
  get isIdle(): boolean {
    return this.#sleepingForLackOfWork && this.signal.isWaiting;
  }

  start(): void {
    this.#done = this.#run();
  }

  /** Stops after the current step; resolves when the loop has exited. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.signal.notify();
    await this.#done;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      let found: StepResult;
      const clock = this.options.clock ?? Date.now;
      const stepStartedAt = clock();
      try {
        found = await this.step();
        failures = 0;
      } catch (error) {
        failures++;
        // A store outage fails every step: its errors are logged once per window, not once per step.
        const gate = storeErrorGate(this.options.logger, this.options.name, error);
        if (gate.log) this.options.logger.error(`${this.options.name}: ${(error as Error).message}${gate.repeats}`, error);
        await this.signal.wait(Math.min(50 * 2 ** failures, 5000));
        continue;
      }
      if (found === true || this.#stopping) continue;
      let sleep = this.options.pollIntervalMs;
      try {
        const due = await this.options.nextDueInMs?.(Math.max(0, clock() - stepStartedAt));
        if (due !== undefined) sleep = Math.min(sleep, Math.max(0, due));
      } catch {
        // keep the polling interval
      }
      this.#sleepingForLackOfWork = true;
      const sleeping = this.signal.wait(sleep);
      this.options.onIdle?.();
      await sleeping;
      this.#sleepingForLackOfWork = false;
    }
  }
}
