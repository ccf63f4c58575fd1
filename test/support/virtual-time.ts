/**
 * Checks of test-host times. The test host's clock runs with real time while work runs (Temporal's
 * time-skipping semantics), so a time after work is the skipped time plus the real milliseconds the work took:
 * never earlier than the skipped time, and no more than a bound later.
 */
import assert from 'node:assert/strict';

/** Generous bound on the real time a test's work adds to the virtual clock (the machine may be loaded). */
export const REAL_WORK_BOUND_MS = 60_000;

const ms = (time: number | string | Date | undefined): number =>
  typeof time === 'number' ? time : time instanceof Date ? time.getTime() : Date.parse(time ?? 'NaN');

/** `actual` is `expected`, or later by no more than the real time work may add. */
export function assertAtOrJustAfter(actual: number | string | Date | undefined, expected: number | string | Date, what = 'time'): void {
  const [a, e] = [ms(actual), ms(expected)];
  assert.ok(a >= e && a < e + REAL_WORK_BOUND_MS, `${what}: expected ${new Date(e).toISOString()} or just after, got ${Number.isNaN(a) ? String(actual) : new Date(a).toISOString()}`);
}
