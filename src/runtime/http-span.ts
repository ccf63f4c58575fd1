/**
 * The HTTP client span of a `ctx.callHttp` request (`HTTP <METHOD>`, OpenTelemetry's HTTP semantic
 * conventions), a child of the built-in activity's span, with its W3C context sent in `traceparent` so the
 * called service's spans join the trace. A `traceparent` the orchestration set itself is left alone.
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { recordFailure, traceContextOf, tracer } from '../telemetry/tracer.js';
import { toFailureDetails } from '../sdk/errors.js';

/** Runs `send` inside the request's span; `headers` get the span's trace context. */
export async function withHttpSpan<T extends { statusCode: number }>(method: string, uri: string, headers: Headers, send: () => Promise<T>): Promise<T> {
  const verb = method.toUpperCase();
  const url = safeUrl(uri);
  const span = tracer().startSpan(
    `HTTP ${verb}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': verb,
        ...(url ? { 'url.full': url.href, 'server.address': url.hostname, ...(url.port ? { 'server.port': Number(url.port) } : {}) } : {}),
      },
    },
    context.active(),
  );
  const own = traceContextOf(span);
  if (own && !headers.has('traceparent')) {
    headers.set('traceparent', own.traceParent);
    if (own.traceState) headers.set('tracestate', own.traceState);
  }
  try {
    const response = await context.with(trace.setSpan(context.active(), span), send);
    span.setAttribute('http.response.status_code', response.statusCode);
    // A 4xx/5xx answer is a result of the orchestration's call, but the request did fail (HTTP conventions).
    span.setStatus({ code: response.statusCode >= 400 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET });
    return response;
  } catch (error) {
    recordFailure(span, toFailureDetails(error));
    throw error;
  } finally {
    span.end();
  }
}

/** The URL without user info (never put credentials in a span). */
function safeUrl(uri: string): URL | undefined {
  try {
    const url = new URL(uri);
    url.username = '';
    url.password = '';
    return url;
  } catch {
    return undefined;
  }
}
