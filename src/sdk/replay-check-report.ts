/**
 * What a pre-deploy replay check reports, per instance and in all: the one shape `replayCheck` (duraflow/testing)
 * returns and `duraflow replay-check` prints.
 */
import type { RuntimeStatus } from './history.js';

/** The outcome for one instance. */
export interface ReplayCheckResult {
  instanceId: string;
  name: string;
  version?: string;
  status: RuntimeStatus;
  /**
   * `ok`: the new code replays it; `breaks`: it would fail after the deploy; `skipped`: the app's workers would not
   * run it (its versioning leaves it to workers of its own version).
   */
  outcome: 'ok' | 'breaks' | 'skipped';
  /** Why it breaks or is skipped. */
  reason?: string;
  /** Where a breaking replay diverges: what history recorded and what the code does now. */
  divergence?: { recorded?: string; current?: string };
}

/** What {@link replayCheck} found. */
export interface ReplayCheckReport {
  /** True when no instance would break. */
  ok: boolean;
  taskHub: string;
  checked: number;
  broken: number;
  skipped: number;
  results: ReplayCheckResult[];
}
