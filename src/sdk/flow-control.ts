/**
 * Flow control options of `app.activity` and `app.orchestration` (issue 21): how many work items of a name run at
 * once per key (`concurrency`) and how many start per period per key (`rateLimit`). The key is computed when the
 * work is scheduled — an activity at its orchestration's commit, an orchestration at its start — and stored with
 * it, so the store's claims enforce the limits across every worker of the hub.
 */
import { ValidationError, safeString } from './errors.js';

/** A key function: the work item's input in, the key of its limit out (default: one key for the whole name). */
export type FlowKey<TInput = any> = (input: TInput) => string;

/** `concurrency`: at most `limit` run at once per key; the rest wait, in FIFO order per key. */
export interface ConcurrencyOptions<TInput = any> {
  /** An integer ≥ 1. */
  limit: number;
  key?: FlowKey<TInput>;
}

/** `rateLimit`: at most `limit` starts per sliding `periodMs` per key; the rest wait, in FIFO order per key. */
export interface RateLimitOptions<TInput = any> {
  /** An integer ≥ 1. */
  limit: number;
  /** An integer number of milliseconds ≥ 1. */
  periodMs: number;
  key?: FlowKey<TInput>;
}

/** The flow control options shared by activities and orchestrations. */
export interface FlowOptions<TInput = any> {
  concurrency?: ConcurrencyOptions<TInput>;
  rateLimit?: RateLimitOptions<TInput>;
}

/** Longest key stored (longer keys are refused when the work is scheduled). */
export const MAX_FLOW_KEY_LENGTH = 256;

/** Checks flow options (a `ValidationError` naming `what` for a bad one); answers the checked copy, or undefined for none. */
export function checkFlowOptions(options: FlowOptions, what: string): FlowOptions | undefined {
  const { concurrency, rateLimit } = options;
  const checked: FlowOptions = {};
  if (concurrency !== undefined) {
    if (typeof concurrency !== 'object' || concurrency === null) throw new ValidationError(`concurrency of ${what} must be an object { limit, key? }.`);
    checkCount(concurrency.limit, `concurrency.limit of ${what}`);
    checkKey(concurrency.key, `concurrency.key of ${what}`);
    checked.concurrency = { limit: concurrency.limit, ...(concurrency.key ? { key: concurrency.key } : {}) };
  }
  if (rateLimit !== undefined) {
    if (typeof rateLimit !== 'object' || rateLimit === null) throw new ValidationError(`rateLimit of ${what} must be an object { limit, periodMs, key? }.`);
    checkCount(rateLimit.limit, `rateLimit.limit of ${what}`);
    checkCount(rateLimit.periodMs, `rateLimit.periodMs of ${what}`);
    checkKey(rateLimit.key, `rateLimit.key of ${what}`);
    checked.rateLimit = { limit: rateLimit.limit, periodMs: rateLimit.periodMs, ...(rateLimit.key ? { key: rateLimit.key } : {}) };
  }
  return checked.concurrency || checked.rateLimit ? checked : undefined;
}

function checkCount(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(`${what} must be an integer ≥ 1, got ${safeString(value)}.`);
  }
}

function checkKey(value: unknown, what: string): void {
  if (value !== undefined && typeof value !== 'function') throw new ValidationError(`${what} must be a function (input) => string, got ${safeString(value)}.`);
}

/** The stored form of a work item's limits (the store's `FlowControl`). */
export interface FlowLimits {
  concurrency?: { key: string; limit: number };
  rate?: { key: string; limit: number; periodMs: number };
}

/**
 * The limits of one work item with input `input` (JSON text): each key function applied to the parsed input. A key
 * function that throws or answers something other than a string of at most {@link MAX_FLOW_KEY_LENGTH} characters
 * is a `ValidationError` (the caller fails the work item with it).
 */
export function flowLimitsFor(options: FlowOptions | undefined, input: string | undefined, what: string): FlowLimits | undefined {
  if (!options || (!options.concurrency && !options.rateLimit)) return undefined;
  let parsed: unknown;
  let read = false;
  const keyOf = (key: FlowKey | undefined, which: string): string => {
    if (!key) return '';
    if (!read) {
      parsed = input === undefined ? undefined : JSON.parse(input);
      read = true;
    }
    let value: unknown;
    try {
      value = key(parsed);
    } catch (error) {
      throw new ValidationError(`The ${which} key function of ${what} threw: ${error instanceof Error ? error.message : safeString(error)}`);
    }
    if (typeof value !== 'string' || value.length > MAX_FLOW_KEY_LENGTH) {
      throw new ValidationError(`The ${which} key function of ${what} must return a string of at most ${MAX_FLOW_KEY_LENGTH} characters, got ${safeString(value)}.`);
    }
    return value;
  };
  const limits: FlowLimits = {};
  if (options.concurrency) limits.concurrency = { key: keyOf(options.concurrency.key, 'concurrency'), limit: options.concurrency.limit };
  if (options.rateLimit) {
    const { limit, periodMs } = options.rateLimit;
    limits.rate = { key: keyOf(options.rateLimit.key, 'rateLimit'), limit, periodMs };
  }
  return limits;
}

/** Checks a priority: an integer (higher runs first within its name; default 0). `ValidationError` otherwise. */
export function checkPriority(value: unknown, what = 'priority'): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > MAX_PRIORITY) {
    throw new ValidationError(`${what} must be an integer from -${MAX_PRIORITY} to ${MAX_PRIORITY}, got ${safeString(value)}.`);
  }
  return value;
}

/** Largest priority magnitude (a 32-bit column in both stores). */
export const MAX_PRIORITY = 1_000_000_000;

/** Checks `startNew`'s debounce option (a `ValidationError` for a bad one). */
export function checkDebounce(value: unknown, instanceId: unknown): { key: string; delayMs: number } | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) throw new ValidationError('debounce must be an object { key, delayMs }.');
  const { key, delayMs } = value as { key?: unknown; delayMs?: unknown };
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_FLOW_KEY_LENGTH) {
    throw new ValidationError(`debounce.key must be a non-empty string of at most ${MAX_FLOW_KEY_LENGTH} characters, got ${safeString(key)}.`);
  }
  checkCount(delayMs, 'debounce.delayMs');
  if (instanceId !== undefined) throw new ValidationError('A debounced start takes no instanceId: the debounce picks the instance.');
  return { key, delayMs: delayMs as number };
}
