/**
 * The test host's clock: frozen until the host moves it, so a test sees exactly the times it asked for
 * (a 30-day timer fires at `start + 30 days`, not a few real milliseconds later).
 */
import { ValidationError } from '../sdk/errors.js';

/** A clock that only moves forward, and only when told to. */
export class VirtualClock {
  #now: number;

  constructor(start: number) {
    if (!Number.isFinite(start)) throw new ValidationError(`A start time must be a finite number of milliseconds (got ${start}).`);
    this.#now = start;
  }

  /** Milliseconds since the epoch, like `Date.now()`; bound so it can be passed around as a function. */
  readonly now = (): number => this.#now;

  /** Moves to `time` unless that is in the past (two movers never turn the clock back). */
  moveTo(time: number): void {
    if (time > this.#now) this.#now = time;
  }
}
