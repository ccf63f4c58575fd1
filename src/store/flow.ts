/**
 * Flow control in the stores: how a work item's {@link FlowControl} is stored (one JSON column, NULL for none,
 * from which both schemas derive the columns their claims read) and what both stores' claims decide with it.
 */
import { ValidationError } from '../sdk/errors.js';
import type { FlowControl } from './store.js';

/** The `flow` column of a work item: JSON, or null when it has no limits (the common case, which costs nothing). */
export function flowColumn(flow: FlowControl | undefined): string | null {
  if (!flow || (!flow.concurrency && !flow.rate)) return null;
  return JSON.stringify(flow);
}

/** The advisory lock class (PostgreSQL) under which the claims of one hub's flow-controlled work are serialized. */
export const FLOW_LOCK_CLASS = 0x64666c66; // 'dflf'

/** The advisory lock class (PostgreSQL) under which debounced starts of one name and key are serialized. */
export const DEBOUNCE_LOCK_CLASS = 0x64666c64; // 'dfld'

/** The `limit` of `flowWaitingActivities` (1 to 1,000), else a `ValidationError`. */
export function checkWaitLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ValidationError(`limit must be an integer from 1 to 1000, got ${String(limit)}`);
  return limit;
}
