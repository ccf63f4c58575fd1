/**
 * Health probes for orchestrators such as Kubernetes: `GET /healthz` answers 200 while the process serves
 * HTTP at all (liveness); `GET /readyz` answers 200 when the store answers a trivial query and the worker is
 * running, else 503 with the reason as JSON (readiness). Both are cheap (no table scans) and need no API key,
 * since probes carry none; so they say what is down but not why in detail (no paths, addresses or messages:
 * those go to the log).
 */
import type { Hono } from 'hono';
import { StoreError } from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import type { Store } from '../store/store.js';

/** How long `/readyz` waits for the store before it answers 503. */
export const READY_STORE_TIMEOUT_MS = 2000;

/** What readiness looks at besides the store. */
export interface ReadinessOptions {
  /** Why the host is not ready (e.g. `worker stopped`), or undefined when it is. */
  notReadyReason?: () => string | undefined;
  /** Gets the store's error when a probe fails. */
  logger?: Logger;
  /** The task hub whose store is probed when the store has no `ping` (default `default`). */
  taskHub?: string;
}

const NO_STORE = { 'cache-control': 'no-store' };

/** Resolves when `store` answers, rejects with the reason otherwise (or when it takes over the timeout). */
async function probeStore(store: Store, taskHub: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the store did not answer within ${READY_STORE_TIMEOUT_MS} ms`)), READY_STORE_TIMEOUT_MS);
  });
  try {
    await Promise.race([store.ping ? store.ping() : store.hub(taskHub).getRegisteredNames(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Adds `/healthz` and `/readyz` to `http` (before any auth middleware, which they must not pass through). */
export function mountHealth(http: Hono, store: Store, options: ReadinessOptions = {}): void {
  http.get('/healthz', (c) => c.json({ status: 'ok' }, 200, NO_STORE));
  http.get('/readyz', async (c) => {
    const worker = options.notReadyReason?.();
    if (worker !== undefined) return c.json({ status: 'unavailable', reason: worker }, 503, NO_STORE);
    try {
      await probeStore(store, options.taskHub ?? 'default');
    } catch (error) {
      options.logger?.warn('readiness probe: the store did not answer', error);
      const kind = error instanceof StoreError ? ` (${error.reason})` : '';
      return c.json({ status: 'unavailable', reason: `store unreachable${kind}` }, 503, NO_STORE);
    }
    return c.json({ status: 'ready' }, 200, NO_STORE);
  });
}
