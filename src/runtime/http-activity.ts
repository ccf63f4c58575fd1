/**
 * The built-in activity behind `ctx.callHttp` (`BuiltIn::HttpActivity`): performs one HTTP request and
 * returns `{ statusCode, headers, content }`. A non-2xx answer is a result, not a failure; network errors
 * and timeouts fail the task. Polling of 202 answers happens in the orchestrator (src/core/durable-http.ts).
 */
import { HTTP_ACTIVITY_NAME } from '../core/durable-http.js';
import { ValidationError } from '../sdk/errors.js';
import type { DurableHttpRequest, DurableHttpResponse } from '../sdk/orchestration-context.js';
import { Registry } from '../sdk/registry.js';
import type { ActivityFunction } from '../sdk/activity.js';
import { forwardAbort } from './time-limit.js';
import { withHttpSpan } from './http-span.js';

/**
 * Resolves a `tokenSource` of `ctx.callHttp` to a bearer token. duraflow has no managed identity: the app
 * decides how to get a token for `resource` (a string token source is the resource itself).
 */
export type TokenProvider = (resource: string) => string | Promise<string>;

/** Settings of the built-in HTTP activity. */
export interface HttpActivityOptions {
  /** Turns a request's `tokenSource` into a bearer token; without it, a request with a token source fails. */
  tokenProvider?: TokenProvider;
  /** Longest a single request may take (default 240 s, as in Durable Functions). */
  httpTimeoutMs?: number;
}

/** The extension's fixed HTTP timeout. */
export const DEFAULT_HTTP_TIMEOUT_MS = 240_000;

/** Builds the built-in HTTP activity. */
export function createHttpActivity(options: HttpActivityOptions = {}): ActivityFunction<DurableHttpRequest, DurableHttpResponse> {
  return async (request, ctx) => {
    const timeoutMs = options.httpTimeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
    // One deadline for the token and the request; the attempt's own signal (activity timeout, worker stop) too.
    // A timer of our own, not AbortSignal.timeout: that one does not keep the process alive while it waits.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), Math.min(timeoutMs, 2 ** 31 - 1));
    const unlink = forwardAbort(ctx?.signal, deadline);
    try {
      return await send(request, deadline.signal, timeoutMs, options);
    } finally {
      clearTimeout(timer);
      unlink();
    }
  };
}

/** Sends one request (getting its bearer token first), until `signal` aborts. */
async function send(request: DurableHttpRequest, signal: AbortSignal, timeoutMs: number, options: HttpActivityOptions): Promise<DurableHttpResponse> {
  const headers = new Headers(request.headers ?? {});
  let body: string | undefined;
  if (request.content !== undefined) {
    // Strings are sent as they are; other values as JSON.
    const isText = typeof request.content === 'string';
    body = isText ? (request.content as string) : JSON.stringify(request.content);
    if (!headers.has('content-type')) headers.set('content-type', isText ? 'text/plain; charset=utf-8' : 'application/json');
  }
  if (request.tokenSource !== undefined) {
    const resource = typeof request.tokenSource === 'string' ? request.tokenSource : request.tokenSource.resource;
    if (!options.tokenProvider) {
      throw new ValidationError(
        `callHttp: the request to ${request.uri} has a tokenSource ('${resource}') but no tokenProvider is configured (new DFApp({ tokenProvider })).`,
      );
    }
    const provider = options.tokenProvider;
    const token = await untilAborted(
      Promise.resolve().then(() => provider(resource)),
      signal,
      () => new DOMException(`callHttp: the tokenProvider gave no token for '${resource}' within ${timeoutMs} ms.`, 'TimeoutError'),
    );
    if (typeof token !== 'string' || token.length === 0) throw new ValidationError(`callHttp: the tokenProvider returned no token for '${resource}'.`);
    headers.set('authorization', `Bearer ${token}`);
  }
  return await withHttpSpan(request.method, request.uri, headers, async () => {
    const response = await fetch(request.uri, {
      method: request.method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal,
    });
    const content = await response.text();
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name] = value;
    });
    return { statusCode: response.status, headers: responseHeaders, content };
  });
}

/**
 * Resolves like `work` unless `signal` aborts first: then rejects with `onDeadline()` (for the deadline) or the
 * signal's reason. `work`'s own later rejection is handled, and ignored.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, onDeadline: () => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(isTimeout(signal.reason) ? onDeadline() : signal.reason);
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

function isTimeout(reason: unknown): boolean {
  return reason instanceof DOMException && reason.name === 'TimeoutError';
}

/** A copy of `registry` that also serves the built-in activities (every worker registers them). */
export function withBuiltInActivities(registry: Registry, options: HttpActivityOptions = {}): Registry {
  if (registry.activities.has(HTTP_ACTIVITY_NAME)) return registry;
  const served = new Registry();
  served.merge(registry);
  served.activities.set(HTTP_ACTIVITY_NAME, createHttpActivity(options));
  return served;
}
