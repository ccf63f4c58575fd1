/**
 * Retry policy for `callActivityWithRetry` and `callSubOrchestratorWithRetry` (DTFx `RetryOptions`).
 * Retries wait on durable timers, so a retry an hour later survives restarts.
 */
import { ValidationError } from './errors.js';

/** How a failed task is retried. */
export class RetryOptions {
  /** Delay before the first retry; must be > 0. */
  readonly firstRetryIntervalInMilliseconds: number;
  /** Total number of attempts, including the first. */
  readonly maxNumberOfAttempts: number;
  /** Each further delay is the previous one times this (default 1). */
  backoffCoefficient = 1;
  /** Upper bound of one delay (default: unbounded). */
  maxRetryIntervalInMilliseconds = Number.POSITIVE_INFINITY;
  /** No retry starts after this long since the first attempt (default: unbounded). */
  retryTimeoutInMilliseconds = Number.POSITIVE_INFINITY;
  /** Decides whether an error is worth retrying (default: every error). Runs in the orchestrator: keep it deterministic. */
  handle?: (error: Error) => boolean;

  constructor(firstRetryIntervalInMilliseconds: number, maxNumberOfAttempts: number) {
    if (!(firstRetryIntervalInMilliseconds > 0) || !Number.isFinite(firstRetryIntervalInMilliseconds)) {
      throw new ValidationError('firstRetryIntervalInMilliseconds must be a finite number greater than 0.');
    }
    if (!Number.isInteger(maxNumberOfAttempts) || maxNumberOfAttempts < 1) {
      throw new ValidationError('maxNumberOfAttempts must be an integer of at least 1.');
    }
    this.firstRetryIntervalInMilliseconds = firstRetryIntervalInMilliseconds;
    this.maxNumberOfAttempts = maxNumberOfAttempts;
  }

  /**
   * Delay before the next attempt after `attempt` (1-based) failed with `error`, or 0 for no retry.
   * Mirrors DTFx's `RetryInterceptor`.
   */
  nextDelay(attempt: number, error: Error, elapsedMs: number): number {
    if (attempt >= this.maxNumberOfAttempts) return 0;
    if (!(this.backoffCoefficient > 0)) throw new ValidationError('backoffCoefficient must be greater than 0.');
    if (this.handle && !this.handle(error)) return 0;
    if (elapsedMs >= this.retryTimeoutInMilliseconds) return 0;
    const delay = this.firstRetryIntervalInMilliseconds * Math.pow(this.backoffCoefficient, attempt - 1);
    return Math.min(delay, this.maxRetryIntervalInMilliseconds);
  }
}
