/**
 * Refuses request paths with malformed percent-escapes (`a%zz`, `a%ED%A0%80b`). The router would otherwise
 * keep such a segment as literal text, so an instance id nobody meant would be addressed (or created).
 */
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './http-errors.js';

/** Middleware answering 400 when a path segment does not decode as UTF-8 percent-encoding. */
export function rejectMalformedPaths(): MiddlewareHandler {
  return async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (path.includes('%')) {
      for (const segment of path.split('/')) {
        try {
          decodeURIComponent(segment);
        } catch {
          return c.json(errorBody('ValidationError', `The request path has a malformed percent-escape in '${segment}'.`), 400);
        }
      }
    }
    return next();
  };
}
