/**
 * The Origin rule of the HTTP host, against cross-site request forgery: without an API key any web page the
 * user opens could otherwise POST a terminate, a start or an entity signal to a host on localhost (a form, or a
 * `fetch` with `mode: 'no-cors'` and a text/plain body needs no CORS preflight).
 *
 * A request is refused with 403 when a browser says it comes from another page:
 * - it carries an `Origin` that is not this host's own (`Origin` host:port ≠ `Host`), `Origin: null` included,
 *   unless that origin is listed in `cors.origins` (then it is served with CORS headers);
 * - or it carries no `Origin` but `Sec-Fetch-Site: cross-site`, and it is not a plain navigation
 *   (`Sec-Fetch-Mode: navigate` with `GET`/`HEAD`: following a link to a status URL keeps working).
 * Browsers send `Origin` on every cross-origin request that can change something (all non-GET methods, and
 * CORS-mode `fetch`), and never on a top-level `GET` navigation. Clients that are not browsers — curl, the
 * Durable Functions SDK clients, duraflow's `HttpClient` and CLI — send neither header and are not affected.
 *
 * CORS preflights (`OPTIONS` with `Access-Control-Request-Method`) from a listed origin get 204 with the
 * grant; from any other origin 403. The dashboard (`/dashboard…`) is same-origin only: `cors` does not open it.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { ValidationError } from '../sdk/errors.js';
import { errorBody } from './http-errors.js';

/** Browser pages on other origins allowed to call the management API and the app's routes. */
export interface CorsOptions {
  /** Exact origins, e.g. `['https://ops.example.com', 'http://localhost:5173']` (scheme, host and port; no path). */
  origins: string[];
}

/** Response headers a cross-origin caller may read (the check-status and paging headers). */
const EXPOSED_HEADERS = 'Location, Retry-After, x-ms-continuation-token';
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
/** How long a browser may cache a preflight grant, in seconds. */
const PREFLIGHT_MAX_AGE = '600';

/**
 * Validates and normalises `cors.origins` to the browser's serialisation (`https://ops.example.com`).
 * @throws ValidationError for an entry that is not an http(s) origin (a path, `*`, `null`, no scheme).
 */
export function normalizeCorsOrigins(cors: { readonly origins: readonly string[] } | undefined): string[] {
  if (cors === undefined) return [];
  if (typeof cors !== 'object' || cors === null || !Array.isArray(cors.origins)) throw new ValidationError("cors must be { origins: ['https://…'] }.");
  return cors.origins.map((entry) => {
    let url: URL | undefined;
    try {
      url = typeof entry === 'string' ? new URL(entry.trim()) : undefined;
    } catch {
      url = undefined;
    }
    const bare = url && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password && !/[?#]/.test(entry);
    if (!url || !bare || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new ValidationError(
        `cors origin '${String(entry)}' is not an origin: give the scheme, host and port of the calling page, e.g. ` +
          `'https://ops.example.com' or 'http://localhost:5173' (no path, no wildcard).`,
      );
    }
    return url.origin;
  });
}

/** True for paths of the dashboard, which takes requests from its own pages only. */
function isDashboardPath(pathname: string): boolean {
  return pathname === '/dashboard' || pathname.startsWith('/dashboard/');
}

/** True when `origin` (an `Origin` header) is the origin the request was sent to (`Host`, default ports folded). */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // `null` and garbage
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const defaultPort = url.protocol === 'https:' ? ':443' : ':80';
  const own = host.toLowerCase();
  return url.host === own || `${url.host}${defaultPort}` === own;
}

/** The 403 of a refused cross-origin request. */
function refuse(c: Context, reason: string, origin: string | undefined, dashboard: boolean): Response {
  const fix = dashboard
    ? 'The dashboard takes requests only from its own pages; open it at this host.'
    : origin !== undefined && origin !== 'null'
      ? `If that page is yours, allow its origin: new DFApp({ cors: { origins: ['${origin}'] } }) or duraflow start --cors-origin ${origin}.`
      : 'Send the request from a page of this host, or from a client that is not a browser.';
  return c.json(errorBody('CrossOriginRequestError', `${reason} refused (a guard against cross-site request forgery). ${fix}`, origin !== undefined ? { origin } : {}), 403, {
    vary: 'Origin',
  });
}

/** Adds the CORS answer for an allowed `origin` to the response (a response with immutable headers is copied). */
function grant(c: Context, origin: string): void {
  const headers: Record<string, string> = { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS };
  try {
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
    c.res.headers.append('vary', 'Origin');
  } catch {
    const copy = new Response(c.res.body, c.res);
    for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value);
    copy.headers.append('vary', 'Origin');
    c.res = copy;
  }
}

/** Middleware enforcing the Origin rule and answering CORS for the origins in `cors`. */
export function crossOriginGuard(corsOrigins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(corsOrigins);
  return async (c, next) => {
    const origin = c.req.header('origin');
    const method = c.req.method;
    const dashboard = isDashboardPath(new URL(c.req.url).pathname);
    const listed = origin !== undefined && !dashboard && allowed.has(origin);

    const requestedMethod = c.req.header('access-control-request-method');
    if (method === 'OPTIONS' && origin !== undefined && requestedMethod !== undefined) {
      if (!listed) return refuse(c, `CORS preflight from '${origin}'`, origin, dashboard);
      const requestedHeaders = c.req.header('access-control-request-headers');
      return c.body(null, 204, {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': ALLOWED_METHODS,
        ...(requestedHeaders ? { 'access-control-allow-headers': requestedHeaders } : {}),
        'access-control-max-age': PREFLIGHT_MAX_AGE,
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      });
    }

    const site = c.req.header('sec-fetch-site')?.toLowerCase();
    if (origin !== undefined) {
      if (listed) {
        await next();
        grant(c, origin);
        return;
      }
      if (site === 'cross-site' || !isSameOrigin(origin, c.req.header('host') ?? new URL(c.req.url).host)) {
        return refuse(c, `Cross-origin ${method} from '${origin}'`, origin, dashboard);
      }
      return next();
    }
    if (site === 'cross-site') {
      const navigation = c.req.header('sec-fetch-mode')?.toLowerCase() === 'navigate' && (method === 'GET' || method === 'HEAD');
      if (!navigation) return refuse(c, `Cross-site ${method} (Sec-Fetch-Site: cross-site)`, undefined, dashboard);
    }
    return next();
  };
}
