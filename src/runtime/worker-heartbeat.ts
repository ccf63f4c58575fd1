/**
 * A worker's heartbeat: it tells the store every `intervalMs` that the worker is alive for `timeoutMs` more, and
 * each beat takes over the leases of workers whose heartbeat ran out (see `HubStore.heartbeat`). That is how
 * the work of a killed worker moves within seconds, while leases keep their long expiry for workers that never
 * beat. The cost does not grow with the work a worker holds: one small write per beat.
 */
import { duraflowMetrics } from '../telemetry/metrics.js';
import { ValidationError } from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import type { RegisteredNames } from '../sdk/registry.js';
import type { HubStore } from '../store/store.js';
import { logHeartbeatTakeover } from './worker-log.js';
import { storeErrorGate } from '../store/store-outage.js';

/** Settings of a {@link WorkerHeartbeat}. */
export interface WorkerHeartbeatOptions {
  store: HubStore;
  workerId: string;
  /** Registered again if the worker's row is found missing. */
  names: RegisteredNames;
  intervalMs: number;
  /** A worker whose last heartbeat is older than this is taken for dead. */
  timeoutMs: number;
  logger: Logger;
}

/** Default time between heartbeats. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1000;
/** Default time after its last heartbeat at which a worker is taken for dead. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 3000;

/** Beats for one worker until stopped. */
export class WorkerHeartbeat {
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;

  constructor(private readonly options: WorkerHeartbeatOptions) {
    const { intervalMs, timeoutMs } = options;
    if (!(Number.isFinite(intervalMs) && intervalMs > 0 && Number.isFinite(timeoutMs) && timeoutMs > intervalMs)) {
      throw new ValidationError(
        `heartbeatTimeoutMs (${timeoutMs}) must be a number of milliseconds longer than heartbeatIntervalMs (${intervalMs}), which must be positive (or 0 for no heartbeat).`,
      );
    }
  }

  /**
   * Sends the first heartbeat, which takes over from a dead predecessor with the same worker id (so it must come
   * before the worker claims anything; it throws if the store cannot be reached), then beats on.
   */
  async start(): Promise<void> {
    await this.#beat(true);
    this.#timer = setInterval(() => {
      // A beat still waiting for the store is not doubled.
      this.#beating ??= this.#beat(false)
        .catch((error: unknown) => {
          const gate = storeErrorGate(this.options.logger, 'heartbeat', error);
          if (gate.log) this.options.logger.warn(`worker ${this.options.workerId}: heartbeat failed: ${(error as Error).message}${gate.repeats}`);
        })
        .finally(() => (this.#beating = undefined));
    }, this.options.intervalMs);
    this.#timer.unref();
  }

  /** Stops beating (the worker's row then goes stale: whatever it still held is taken over). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#beating;
  }

  async #beat(starting: boolean): Promise<void> {
    const { store, workerId, timeoutMs, logger } = this.options;
    let outcome = await store.heartbeat(workerId, { timeoutMs, starting });
    if (!outcome.registered) {
      await store.registerWorker(workerId, this.options.names);
      outcome = await store.heartbeat(workerId, { timeoutMs, starting });
    }
    if (outcome.lapsed) {
      logger.warn(
        `worker ${workerId}: its heartbeat ran out (the process was paused or blocked, or the store out of reach, for over ` +
          `${timeoutMs} ms); other workers may have taken over its work, and its commits on that work are refused`,
        { workerId },
      );
    }
    for (const takeover of outcome.takenOver) {
      logHeartbeatTakeover(logger, workerId, takeover);
      const hub = this.options.store.hub;
      if (takeover.orchestrations) duraflowMetrics().takeovers.inc({ hub, kind: 'orchestration' }, takeover.orchestrations);
      if (takeover.activities) duraflowMetrics().takeovers.inc({ hub, kind: 'activity' }, takeover.activities);
    }
  }
}
