/** The instance list's histogram of starts: instances per time bin, split by status group. Pure. */
import type { RuntimeStatus } from '../sdk/history.js';

/** Status groups the bars are stacked by. */
export type StatusGroup = 'completed' | 'failed' | 'running' | 'other';

/** One bar. */
export interface HistogramBin {
  start: number;
  end: number;
  total: number;
  groups: Record<StatusGroup, number>;
}

/** All bars and their common width. */
export interface Histogram {
  binMs: number;
  bins: HistogramBin[];
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEPS = [
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 90 * DAY, 365 * DAY,
];

/** The group a status is drawn in. */
export function statusGroup(status: RuntimeStatus): StatusGroup {
  if (status === 'Completed') return 'completed';
  if (status === 'Failed') return 'failed';
  if (status === 'Running' || status === 'Pending' || status === 'Suspended' || status === 'ContinuedAsNew') return 'running';
  return 'other';
}

/**
 * Bins instances by created time. The range is `from`–`to` when given, else from the first start to `now`
 * (or the last start); the bin width is the smallest round step that needs at most `maxBins` bars, and an
 * open range is widened to at least `minBins` bars.
 */
export function buildHistogram(
  instances: readonly { createdTime: Date; runtimeStatus: RuntimeStatus }[],
  range: { from?: Date; to?: Date; now?: number } = {},
  maxBins = 60,
  minBins = 24,
): Histogram {
  const times = instances.map((i) => i.createdTime.getTime());
  if (times.length === 0) return { binMs: 0, bins: [] };
  const max = range.to?.getTime() ?? Math.max(range.now ?? 0, ...times);
  let min = range.from?.getTime() ?? Math.min(...times);
  const span = Math.max(1, max - min + 1);
  const binMs = STEPS.find((step) => Math.ceil(span / step) + 1 <= maxBins) ?? Math.ceil(span / (maxBins - 1));
  // A short range still gets a row of bars (ending at the newest start), not one bar as wide as the chart.
  if (range.from === undefined) min = Math.min(min, max - (minBins - 1) * binMs);
  const first = Math.floor(min / binMs) * binMs;
  const count = Math.floor(max / binMs) - Math.floor(min / binMs) + 1;
  const bins: HistogramBin[] = Array.from({ length: count }, (_, i) => ({
    start: first + i * binMs,
    end: first + (i + 1) * binMs,
    total: 0,
    groups: { completed: 0, failed: 0, running: 0, other: 0 },
  }));
  for (const instance of instances) {
    const bin = bins[Math.floor((instance.createdTime.getTime() - first) / binMs)];
    if (!bin) continue; // outside an explicit range
    bin.total++;
    bin.groups[statusGroup(instance.runtimeStatus)]++;
  }
  return { binMs, bins };
}
