/**
 * Activities: what an activity function receives and the typed reference `app.activity(...)` returns.
 * A reference can be passed instead of a name (`ctx.callActivity(sayHello, 'Tokyo')`) and carries the
 * input and output types so that `yield* ctx.callActivity(ref, input)` is typed.
 */
import { ValidationError, safeString } from './errors.js';
import type { FlowOptions } from './flow-control.js';

/** What an activity receives besides its input. */
export interface ActivityContext {
  /** The orchestration instance that scheduled this activity. */
  instanceId: string;
  /** The activity's registered name. */
  name: string;
  /** The sequence id of the activity in the orchestration's history. */
  taskId: number;
  /** 1 for the first delivery; higher when an attempt whose worker died (its lease expired) is re-run. */
  dequeueCount: number;
  /**
   * Aborted when this attempt times out (its reason is the `ActivityTimeoutError`) or when the worker stops
   * without waiting for it. duraflow cannot stop the activity's code: pass the signal to what it awaits
   * (`fetch(url, { signal: ctx.signal })`) so it ends when its result is no longer wanted.
   */
  signal: AbortSignal;
}

/** Options of `app.activity(name, fn, options)`. */
export interface ActivityOptions<TInput = any> extends FlowOptions<TInput> {
  /**
   * Longest one attempt may run, in ms, before it fails with an `ActivityTimeoutError` (which the caller's
   * retry policy may retry, like any failure). Default: the worker's `activityTimeoutMs` (30 minutes);
   * `Infinity` for no limit. Durable Functions calls this the function timeout, Temporal the start-to-close
   * timeout.
   */
  timeoutMs?: number;
}

/** An activity: plain (async) code that does the I/O. Runs at least once. */
export type ActivityFunction<TInput = any, TOutput = any> = (
  input: TInput,
  ctx: ActivityContext,
) => TOutput | Promise<TOutput>;

/** A typed handle on a registered activity. */
export interface ActivityRef<TInput = any, TOutput = any> {
  readonly kind: 'activity';
  readonly name: string;
  readonly fn: ActivityFunction<TInput, TOutput>;
}

/** The default activity timeout: 30 minutes, Durable Functions' default function timeout on hosts you run yourself. */
export const DEFAULT_ACTIVITY_TIMEOUT_MS = 30 * 60_000;

/** Checks a timeout setting: a number of milliseconds > 0, or `Infinity` for none. */
export function checkTimeout(value: unknown, what: string): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new ValidationError(`${what} must be a number of milliseconds > 0 (or Infinity for no limit), got ${safeString(value)}.`);
  }
}
