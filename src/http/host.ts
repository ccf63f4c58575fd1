/**
 * The HTTP host: one hono server (on node) serving the Durable Functions management API under
 * `/runtime/webhooks/durabletask/` and `/durabletask/`, the app's routes under `/api/`, the dashboard, and the
 * health probes `/healthz` and `/readyz`, and `/metrics` (Prometheus).
 * It listens on 127.0.0.1 unless told otherwise, and refuses a non-loopback address without an API key.
 * Before any route, two guards keep web pages out: the `Host` allowlist (DNS rebinding, `allowed-hosts.ts`)
 * and the Origin rule with CORS (cross-site request forgery, `cross-origin.ts`).
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../core/payload.js';
import type { Logger } from '../sdk/logger.js';
import { silentLogger } from '../sdk/logger.js';
import type { Store } from '../store/store.js';
import { mountDashboard } from '../dashboard/dashboard.js';
import { createHostContext, type HostedApp } from './host-context.js';
import { errorBody, errorResponse } from './http-errors.js';
import { mountHealth } from './health.js';
import { mountMetrics } from './metrics-route.js';
import { managementRouter } from './management-router.js';
import { mountUserRoutes } from './user-routes.js';
import { rejectMalformedPaths } from './path-check.js';
import { assertSafeBinding, resolveApiKey } from '../sdk/api-key.js';
import { allowedHostsGuard, normalizeAllowedHosts } from './allowed-hosts.js';
import { crossOriginGuard, normalizeCorsOrigins } from './cross-origin.js';

/** The bases under which the management API is served. */
export const MANAGEMENT_BASES = ['/runtime/webhooks/durabletask', '/durabletask'] as const;

/** A listening HTTP server. */
export interface HttpHost {
  url: string;
  close(): Promise<void>;
}

/** Where the server listens. */
export interface HttpListenOptions {
  /** Port of the HTTP server (default 7071; 0 picks a free port). */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  hostname?: string;
}

/** Settings of the host beyond the app's own options. */
export interface HttpHostOptions {
  /** API key (default: the app's `apiKey` option, else env `DURAFLOW_API_KEY`). */
  apiKey?: string;
  logger?: Logger;
  /** Largest request body (default: the app's payload limit, 1 MiB unless configured). */
  maxBodyBytes?: number;
  /** Why the host is not ready (its worker stopped), for `GET /readyz`; undefined while it is. */
  notReadyReason?: () => string | undefined;
}

/**
 * Builds the hono app serving `app`'s management API and routes; mount `fetch` in any server. `hostname` is the
 * address or name the server listens on (one more name the `Host` check accepts).
 * @throws ValidationError for malformed `allowedHosts` or `cors` options of the app.
 */
export function buildHttpApp(
  app: HostedApp,
  store: Store,
  baseUrl: () => string,
  options: HttpHostOptions & Pick<HttpListenOptions, 'hostname'> = {},
): Hono {
  const logger = options.logger ?? app.options.logger ?? silentLogger;
  const hostRule = { boundHostname: options.hostname, allowedHosts: normalizeAllowedHosts(app.options.allowedHosts) };
  const corsOrigins = normalizeCorsOrigins(app.options.cors);
  const ctx = createHostContext(
    {
      app,
      store,
      logger,
      apiKey: resolveApiKey(options.apiKey ?? app.options.apiKey),
      maxBodyBytes: options.maxBodyBytes ?? app.options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      maxPayloadBytes: app.options.maxPayloadBytes,
    },
    baseUrl,
  );
  const http = new Hono({ strict: false });
  http.use('*', allowedHostsGuard(hostRule));
  http.use('*', crossOriginGuard(corsOrigins));
  http.use('*', rejectMalformedPaths());
  mountHealth(http, store, { logger, taskHub: app.taskHub, ...(options.notReadyReason ? { notReadyReason: options.notReadyReason } : {}) });
  mountMetrics(http, store, app.taskHub, ctx.apiKey, logger);
  const management = managementRouter(ctx);
  for (const base of MANAGEMENT_BASES) http.route(base, management);
  mountUserRoutes(http, ctx);
  mountDashboard(http, ctx);
  http.notFound((c) => c.json(errorBody('NotFound', `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`), 404));
  http.onError((error, c) =>
    error instanceof HTTPException ? error.getResponse() : errorResponse(error, logger, { method: c.req.method, path: new URL(c.req.url).pathname }),
  );
  return http;
}

/** Starts the HTTP server for `app`. */
export async function startHttpHost(app: HostedApp, store: Store, options: HttpListenOptions & HttpHostOptions = {}): Promise<HttpHost> {
  const hostname = options.hostname ?? '127.0.0.1';
  assertSafeBinding(hostname, resolveApiKey(options.apiKey ?? app.options.apiKey));
  let url = '';
  const http = buildHttpApp(app, store, () => url, { ...options, hostname });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: http.fetch, port: options.port ?? 7071, hostname }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${address.port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        const s = server as Server;
        // Idle keep-alive connections would hold close() open; requests in flight get a moment to finish.
        const force = setTimeout(() => s.closeAllConnections(), 5000);
        force.unref();
        s.close(() => {
          clearTimeout(force);
          resolve();
        });
        s.closeIdleConnections();
      }),
  };
}
