/**
 * Durable HTTP (`ctx.callHttp`): each request runs as the built-in activity `BuiltIn::HttpActivity`; a
 * `202 Accepted` with a `Location` header is polled from the orchestrator on durable timers (reference §5),
 * so the wait survives restarts and replays like any other step. Pure: no I/O, no node:* imports.
 */
import { ValidationError } from '../sdk/errors.js';
import type { DurableHttpRequest, DurableHttpResponse } from '../sdk/orchestration-context.js';
import { CompositeTask, Task } from '../sdk/task.js';

/** Name of the built-in activity that performs one HTTP request (the extension's name). */
export const HTTP_ACTIVITY_NAME = 'BuiltIn::HttpActivity';

/** Wait between polls when a 202 has no usable `Retry-After` (the extension's default, 30 s). */
export const DEFAULT_HTTP_POLL_DELAY_MS = 30_000;

/** What the orchestrator needs to run the polling loop. */
export interface DurableHttpScheduler {
  scheduleActivity(name: string, input: unknown): Task<unknown>;
  createTimer(fireAt: Date): Task<void>;
  readonly currentUtcDateTime: Date;
}

const METHOD = /^[A-Za-z]+$/;

/** Checks a `callHttp` request and returns a plain copy (the activity input). */
export function checkHttpRequest(request: unknown): DurableHttpRequest {
  if (typeof request !== 'object' || request === null) throw new ValidationError('callHttp needs a request object { method, uri }.');
  const r = request as Record<string, unknown>;
  if (typeof r['method'] !== 'string' || !METHOD.test(r['method'])) {
    throw new ValidationError(`callHttp: method must be an HTTP method name, got ${JSON.stringify(r['method'])}.`);
  }
  const method = r['method'].toUpperCase();
  const uri = r['uri'];
  if (typeof uri !== 'string' || !isHttpUrl(uri)) throw new ValidationError(`callHttp: uri must be an absolute http(s) URL, got ${JSON.stringify(uri)}.`);
  const out: DurableHttpRequest = { method, uri };
  if (r['content'] !== undefined) {
    if (method === 'GET' || method === 'HEAD') throw new ValidationError(`callHttp: a ${method} request cannot have content.`);
    out.content = r['content'];
  }
  if (r['headers'] !== undefined) {
    const headers = r['headers'];
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) throw new ValidationError('callHttp: headers must be an object of strings.');
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== 'string') throw new ValidationError(`callHttp: the value of header '${name}' must be a string.`);
    }
    out.headers = { ...(headers as Record<string, string>) };
  }
  const source = r['tokenSource'];
  if (source !== undefined) {
    const resource = typeof source === 'string' ? source : (source as { resource?: unknown } | null)?.resource;
    if (typeof resource !== 'string' || resource.length === 0) {
      throw new ValidationError('callHttp: tokenSource must be a resource string or { resource: string }.');
    }
    out.tokenSource = typeof source === 'string' ? source : { resource };
  }
  if (r['asynchronousPatternEnabled'] !== undefined) {
    if (typeof r['asynchronousPatternEnabled'] !== 'boolean') throw new ValidationError('callHttp: asynchronousPatternEnabled must be a boolean.');
    out.asynchronousPatternEnabled = r['asynchronousPatternEnabled'];
  }
  return out;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** A header of a durable HTTP response, by case-insensitive name. */
export function responseHeader(response: DurableHttpResponse, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(response.headers ?? {})) {
    if (key.toLowerCase() === wanted) return Array.isArray(value) ? String(value[0]) : String(value);
  }
  return undefined;
}

/** The delay before the next poll: `Retry-After` when it is a whole number of seconds, else `fallbackMs`. */
export function pollDelayMs(response: DurableHttpResponse, fallbackMs: number): number {
  const retryAfter = responseHeader(response, 'retry-after')?.trim();
  return retryAfter !== undefined && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : fallbackMs;
}

/** The GET that polls `location` after a 202 (relative locations resolve against the previous URL). */
export function pollRequest(previous: DurableHttpRequest, location: string): DurableHttpRequest {
  const next = new URL(location, previous.uri);
  const sameOrigin = next.origin === new URL(previous.uri).origin;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(previous.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'x-functions-key' || lower === 'content-type' || lower === 'content-length') continue;
    // Credentials the caller set by hand do not follow a poll to another origin.
    if (!sameOrigin && (lower === 'authorization' || lower === 'cookie')) continue;
    headers[name] = value;
  }
  return {
    method: 'GET',
    uri: next.toString(),
    ...(Object.keys(headers).length ? { headers } : {}),
    ...(previous.tokenSource !== undefined ? { tokenSource: previous.tokenSource } : {}),
  };
}

/** Forwards one child's completion to a callback. */
class Step extends CompositeTask<void> {
  constructor(
    child: Task<unknown>,
    private readonly onDone: (child: Task<unknown>) => void,
  ) {
    super([child]);
    if (child.isCompleted) onDone(child);
  }
  /** @internal */
  override _onChildCompleted(child: Task<unknown>): void {
    this.onDone(child);
  }
}

/** The task `ctx.callHttp` returns: one activity per request, a durable timer between polls. */
export class DurableHttpTask extends Task<DurableHttpResponse> {
  constructor(
    private readonly scheduler: DurableHttpScheduler,
    request: DurableHttpRequest,
    private readonly defaultPollDelayMs: number,
  ) {
    super();
    const { asynchronousPatternEnabled, ...first } = request;
    this.#send(first, asynchronousPatternEnabled !== false);
  }

  #send(input: DurableHttpRequest, poll: boolean): void {
    new Step(this.scheduler.scheduleActivity(HTTP_ACTIVITY_NAME, input), (call) => {
      if (call.isFaulted) return this._fail(call.error ?? new Error('The HTTP request failed.'));
      const response = call.result as DurableHttpResponse;
      const location = response.statusCode === 202 && poll ? responseHeader(response, 'location') : undefined;
      if (!location) return this._complete(response);
      const fireAt = new Date(this.scheduler.currentUtcDateTime.getTime() + pollDelayMs(response, this.defaultPollDelayMs));
      new Step(this.scheduler.createTimer(fireAt), () => this.#send(pollRequest(input, location), true));
    });
  }
}
