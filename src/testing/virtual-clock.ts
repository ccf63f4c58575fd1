/**
 * The test host's clock, with Temporal's time-skipping semantics: while the host works (an episode or an
 * activity is in progress) it runs with real time, so an orchestration that keeps working without waiting on a
 * timer sees time pass exactly as it would in production; while the host is idle it stands still, until the
 * host jumps it to the next due timer. A 30-day timer therefore fires at its `fireAt` after milliseconds,
 * and a loop that polls until a deadline without a timer (the monitor pattern) still reaches the deadline.
 */
import { ValidationError } from '../sdk/errors.js';
import { performance } from 'node:perf_hooks';

/** A clock that only moves forward: with real time while `isRunning()`, and when told to. */
export class VirtualClock {
  /** Virtual ms at `#since` (fractional: many sub-millisecond busy spells must add up). */
  #base: number;
  /** `performance.now()` when the current running spell began; undefined while the clock stands still. */
  #since: number | undefined;

  /** Whether the host is working now (asked at every read); until `runWhile`, never. */
  #isRunning: () => boolean = () => false;
  /** A counter that grows when work starts; a spell in which it did not grow (an empty poll) takes no time. */
  #progress: () => number = () => 0;
  /** `#progress()` when the current spell began. */
  #progressAtStart = 0;

  constructor(start: number) {
    if (!Number.isFinite(start)) throw new ValidationError(`A start time must be a finite number of milliseconds (got ${start}).`);
    this.#base = start;
  }

  /**
   * Lets the clock run with real time whenever `isRunning()` holds (the host: while its worker is not idle),
   * counting a spell only once `progress()` has grown in it: a poll that finds nothing moves no time.
   */
  runWhile(isRunning: () => boolean, progress: () => number): void {
    this.sync();
    this.#isRunning = isRunning;
    this.#progress = progress;
    this.sync();
  }

  /** Milliseconds since the epoch, like `Date.now()`; bound so it can be passed around as a function. */
  readonly now = (): number => {
    this.sync();
    return Math.floor(this.#exact());
  };

  /**
   * Starts or stops the clock as the host's state says. Reads do this themselves; the host calls it when it
   * goes idle, so that the time until the next read is not counted as work.
   */
  sync(): void {
    const running = this.#isRunning();
    if (running && this.#since === undefined) {
      this.#since = performance.now();
      this.#progressAtStart = this.#progress();
    } else if (!running && this.#since !== undefined) {
      this.#base = this.#exact();
      this.#since = undefined;
    }
  }

  /** Moves to `time` unless that is in the past (two movers never turn the clock back). */
  moveTo(time: number): void {
    this.sync();
    if (time <= this.#exact()) return;
    this.#base = time;
    if (this.#since !== undefined) this.#since = performance.now();
  }

  #exact(): number {
    if (this.#since === undefined || this.#progress() === this.#progressAtStart) return this.#base;
    return this.#base + (performance.now() - this.#since);
  }
}
