/**
 * Logging a store outage (a full disk, unwritable files, an unreachable server) without a line per failed
 * write: while it lasts every worker loop, heartbeat and request fails, several times a second. Each place that
 * logs store errors asks {@link storeErrorGate} first: the first error of a kind is logged at once, the ones
 * after it for {@link REPEAT_MS} are counted, and the next line says how many were held back. The store's own
 * {@link StoreOutage} (kept by `guardStore`) logs one "store recovered" line when a write succeeds again, which
 * also ends every place's held-back window, so the next outage is logged at once.
 */
import { StoreError } from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';

/** How long a place holds back repeats of a store error it logged. */
export const REPEAT_MS = 30_000;

interface Window {
  loggedAt: number;
  heldBack: number;
  generation: number;
}

/** Per logger (the HTTP host's, a worker's), per place and kind of error. */
const windows = new WeakMap<Logger, Map<string, Window>>();
/** Bumped at every recovery: windows opened before it are over. */
let generation = 0;

/** What {@link storeErrorGate} decided. */
export interface GateDecision {
  /** Log this error now. */
  log: boolean;
  /** Text to append to the message: how many like it were held back since the last line (or ''). */
  repeats: string;
}

/**
 * Whether `site` logs `error` through `logger` now. Errors other than a `StoreError` are always logged; a
 * `StoreError` once per {@link REPEAT_MS} per site and reason (and code).
 */
export function storeErrorGate(logger: Logger, site: string, error: unknown, now = Date.now()): GateDecision {
  if (!(error instanceof StoreError)) return { log: true, repeats: '' };
  let sites = windows.get(logger);
  if (!sites) windows.set(logger, (sites = new Map()));
  const key = `${site}\u0000${error.reason}\u0000${error.code ?? ''}`;
  const window = sites.get(key);
  if (window && window.generation === generation && now - window.loggedAt < REPEAT_MS) {
    window.heldBack++;
    return { log: false, repeats: '' };
  }
  const heldBack = window && window.generation === generation ? window.heldBack : 0;
  sites.set(key, { loggedAt: now, heldBack: 0, generation });
  return { log: true, repeats: heldBack ? ` (${heldBack} more like it in the last ${Math.round((now - window!.loggedAt) / 1000)} s)` : '' };
}

/** Hub store methods that always write when they succeed (a claim or release may succeed without writing). */
const WRITES = new Set(['createInstance', 'sendMessages', 'requestRewind', 'registerWorker', 'heartbeat', 'commitEpisodes', 'completeActivities']);

/** The failures of one store since its writes last succeeded; logs when they succeed again. */
export class StoreOutage {
  #since: number | undefined;
  #failures = 0;
  #reason: string | undefined;

  constructor(private logger: Logger | undefined) {}

  /** Sets the logger, unless one was given already (the first opener of a shared store may have none). */
  adoptLogger(logger: Logger): void {
    this.logger ??= logger;
  }

  /** A store call failed with `error` (only a `StoreError` counts: a named store fault). */
  failed(error: unknown): void {
    if (!(error instanceof StoreError)) return;
    this.#since ??= Date.now();
    this.#failures++;
    this.#reason = error.reason;
  }

  /** A call of `method` succeeded: a write after failures ends the outage. */
  succeeded(method: string): void {
    if (this.#since === undefined || !WRITES.has(method)) return;
    const seconds = (Date.now() - this.#since) / 1000;
    this.logger?.info(`store recovered: writes succeed again after ${seconds.toFixed(1)} s of store errors (${this.#failures} failed calls)`, {
      reason: this.#reason,
      failures: this.#failures,
      outageMs: Math.round(seconds * 1000),
    });
    this.#since = undefined;
    this.#failures = 0;
    generation++;
  }
}
