/**
 * API-key middleware of the HTTP host. With a key configured (the `apiKey` option or `DURAFLOW_API_KEY`) the
 * management API and routes of auth level `function`/`admin` require it, given as the `x-functions-key`
 * header, the `code` query parameter or `Authorization: Bearer <key>`. Without a key everything is open,
 * which is why the host refuses to listen on a non-loopback address without one.
 */
import type { MiddlewareHandler } from 'hono';
import type { AuthLevel } from '../sdk/blueprint.js';
import { keysMatch, presentedKey } from '../sdk/api-key.js';
import { errorBody } from './http-errors.js';

/** Middleware that answers 401 unless the request carries `apiKey` (a no-op when no key is configured). */
export function requireKey(apiKey: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (apiKey === undefined || keysMatch(presentedKey(c.req.raw), apiKey)) return next();
    return c.json(
      errorBody('UnauthorizedError', 'A valid API key is required: send it as the x-functions-key header, a Bearer token or the code query parameter.'),
      401,
      { 'www-authenticate': 'Bearer' },
    );
  };
}

/** True when a route of `level` needs the key. */
export function levelNeedsKey(level: AuthLevel): boolean {
  return level !== 'anonymous';
}
