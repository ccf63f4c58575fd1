/**
 * User routes registered with `app.route(path, handler, { methods, authLevel, taskHub })`, served under
 * `/api/`. `{name}` path segments become `params.name` (`{*rest}` matches the rest of the path). A handler
 * gets the standard `Request`, a client (for the route's task hub) and the params; a `Response` it returns
 * is sent as is, any other value as JSON (`undefined` as 204 No Content).
 */
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AuthLevel } from '../sdk/blueprint.js';
import { StoreError, ValidationError, safeString } from '../sdk/errors.js';
import { describeValue } from '../core/foreign-values.js';
import type { RouteRegistration } from '../sdk/registry.js';
import { levelNeedsKey, requireKey } from './auth.js';
import type { HostContext } from './host-context.js';
import { HttpError, errorBody, errorResponse, newErrorId, statusOf } from './http-errors.js';

const DEFAULT_METHODS = ['GET', 'POST'];

/** The hono path of a user route: `orders/{id}` → `/api/orders/:id`. */
export function userRoutePath(path: string): string {
  const converted = path
    .replace(/^\/+/, '')
    .replace(/\{\*(\w+)\}/g, ':$1{.+}')
    .replace(/\{(\w+)\}/g, ':$1');
  if (/[{}]/.test(converted.replace(/\{\.\+\}/g, ''))) throw new ValidationError(`Invalid route path '${path}': use {name} for parameters.`);
  return '/api/' + converted;
}

/** Adds every route of `ctx.app` to `http`. */
export function mountUserRoutes(http: Hono, ctx: HostContext): void {
  for (const route of ctx.app.registry.routes) mountRoute(http, ctx, route);
}

function mountRoute(http: Hono, ctx: HostContext, route: RouteRegistration): void {
  const methods = ((route.options['methods'] as string[] | undefined) ?? DEFAULT_METHODS).map((m) => m.toUpperCase());
  const level = (route.options['authLevel'] as AuthLevel | undefined) ?? ctx.app.httpAuthLevel;
  const taskHub = (route.options['taskHub'] as string | undefined) ?? ctx.app.taskHub;
  http.on(
    methods,
    userRoutePath(route.path),
    requireKey(levelNeedsKey(level) ? ctx.apiKey : undefined),
    bodyLimit({
      maxSize: ctx.maxBodyBytes,
      onError: () =>
        errorResponse(new HttpError(413, `The request body is over the limit of ${ctx.maxBodyBytes} bytes.`, 'PayloadTooLargeError'), ctx.logger),
    }),
    async (c) => {
      let result: unknown;
      try {
        result = await route.handler(c.req.raw, ctx.clientFor(taskHub), c.req.param());
      } catch (error) {
        // Typed errors (an unknown function, a bad instance id, a store error) answer as the management API does.
        if (statusOf(error) !== 500 || error instanceof StoreError) throw error;
        return handlerFailed(error, route.path, taskHub, c.req.raw, ctx);
      }
      if (isResponse(result)) return result;
      if (result === undefined) return c.body(null, 204);
      return new Response(JSON.stringify(result), { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' } });
    },
  );
}

/**
 * True for a web `Response`. Not `instanceof` alone: @hono/node-server swaps the global `Response` for its own
 * class once a server runs, so a `Response.json(…)` made with the original global would read as a plain value.
 */
function isResponse(value: unknown): value is Response {
  if (value instanceof Response) return true;
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<Response>;
  return Object.prototype.toString.call(value) === '[object Response]' || (typeof r.status === 'number' && r.headers instanceof Headers && typeof r.arrayBuffer === 'function');
}

/**
 * A route handler threw: its message and stack go to the log, and the caller gets a 500 that names the route,
 * the error's type and the `errorId` of that log record (not the message, which may hold the app's secrets).
 */
function handlerFailed(error: unknown, path: string, taskHub: string, request: Request, ctx: HostContext): Response {
  // hono hands only Errors on: another thrown value (`throw 'nope'`, `throw null`) is described in one.
  const e = error instanceof Error ? error : new Error(`The handler of route '${path}' threw ${describeValue(error)} (${safeString(error)}), not an Error.`);
  const type = e.name || 'Error';
  const errorId = newErrorId();
  ctx.logger.error(`route handler '${path}' failed`, { route: path, method: request.method, path: new URL(request.url).pathname, taskHub, errorId }, e);
  const body = errorBody(type, `The handler of route '${path}' threw ${/^[aeiou]/i.test(type) ? 'an' : 'a'} ${type}; the host's log has its message and stack under errorId ${errorId}.`, {
    route: path,
    errorId,
  });
  return new Response(JSON.stringify(body), { status: 500, headers: { 'content-type': 'application/json; charset=utf-8' } });
}
