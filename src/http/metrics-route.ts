/**
 * `GET /metrics`: the process's metrics in Prometheus text (prom-client), with the task hub's numbers read
 * from the store at each scrape (indexed counts only, see `HubStore.metricsSnapshot`). Behind the API key when
 * one is set (scrapers send it as a bearer token); never cached.
 */
import type { Hono } from 'hono';
import type { Logger } from '../sdk/logger.js';
import type { Store } from '../store/store.js';
import { duraflowMetrics } from '../telemetry/metrics.js';
import { requireKey } from './auth.js';

/** Adds `GET /metrics` to `http` for task hub `taskHub` of `store`. */
export function mountMetrics(http: Hono, store: Store, taskHub: string, apiKey: string | undefined, logger: Logger): void {
  const metrics = duraflowMetrics();
  const hub = store.hub(taskHub);
  // The same gauges for an OpenTelemetry meter provider, read when it collects (keyed by hub name: a later host
  // of the same hub name in this process takes over; a stopped store's read fails and reports nothing).
  if (hub.metricsSnapshot) metrics.observeHub(taskHub, () => hub.metricsSnapshot!());
  http.get('/metrics', requireKey(apiKey), async () => {
    try {
      if (hub.metricsSnapshot) metrics.setSnapshot(taskHub, await hub.metricsSnapshot());
    } catch (error) {
      // The process's own numbers are still worth a scrape; the store's gauges keep their last values.
      logger.warn('metrics: the store snapshot failed', error);
    }
    return new Response(await metrics.render(), { headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' } });
  });
}
