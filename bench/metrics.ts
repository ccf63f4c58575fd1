/** What benchmark cases measure and return to the harness, and the small statistics they share. */

/** The workloads of the benchmark, in report order. */
export const WORKLOADS = ['hello', 'closed', 'chain5', 'sequence', 'fanout', 'events', 'entity', 'dispatch'] as const;
/** One workload's name. */
export type WorkloadName = (typeof WORKLOADS)[number];

/** The stores duraflow runs on. */
export const STORES = ['sqlite', 'postgres'] as const;
/** One store's name. */
export type StoreName = (typeof STORES)[number];

/** Who produced a number: duraflow, the DBOS peer, or the raw commit rate of the store (the physical limit). */
export type SystemName = 'duraflow' | 'dbos' | 'limit';

/** One measured number. `key` names the report row (see report.ts); the cell is (system, store). */
export interface Metric {
  key: string;
  system: SystemName;
  store: StoreName;
  value: number;
  /** Shown after the value in the table, e.g. the elapsed time behind a rate. */
  note?: string;
  /** Sample or item count behind the value. */
  n?: number;
}

/** The `p`-quantile (0..1) of ascending `sorted` values (nearest rank). */
export function quantile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** p50 and p99 of `values` (any order). */
export function percentiles(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

/** Wall-clock time in milliseconds since the epoch with sub-millisecond resolution (comparable across processes). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it is true; throws after `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`benchmark condition not reached within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** `1234.5` → `1,235`; small values keep up to `digits` significant decimals. */
export function formatNumber(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(digits);
}
