/**
 * duraflow's OpenTelemetry tracer and the durable-task span conventions (names and attributes shared with
 * Microsoft's durabletask SDKs, so their spans and ours read alike in one trace).
 *
 * Only `@opentelemetry/api` is used: spans go to whatever tracer provider the app registered globally, and
 * without one every call here is a cheap no-op. Trace contexts travel as W3C text ({@link TraceContext}) in
 * history; these helpers turn them into OpenTelemetry contexts and back.
 */
import { ROOT_CONTEXT, SpanStatusCode, createTraceState, isSpanContextValid, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { FailureDetails, TraceContext } from '../sdk/history.js';
import { formatTraceParent, parseTraceParent } from './trace-parent.js';

/** The tracer name (the durabletask SDKs use `Microsoft.DurableTask`; duraflow's spans say who made them). */
export const TRACER_NAME = 'duraflow';

/** Attribute keys of the durable-task conventions. */
export const ATTR = {
  type: 'durabletask.type',
  name: 'durabletask.task.name',
  version: 'durabletask.task.version',
  instanceId: 'durabletask.task.instance_id',
  executionId: 'durabletask.task.execution_id',
  status: 'durabletask.task.status',
  taskId: 'durabletask.task.task_id',
  fireAt: 'durabletask.fire_at',
  eventTarget: 'durabletask.event.target_instance_id',
  entityOperation: 'durabletask.entity.operation',
  entityInstanceId: 'durabletask.entity.instance_id',
  /** duraflow's own: the attempt number of an activity run (1 for the first dequeue). */
  dequeueCount: 'duraflow.activity.dequeue_count',
  /** duraflow's own: why an orchestration span ended before its execution did. */
  spanEnd: 'duraflow.span.ended_by',
} as const;

/** The tracer: resolved on every call, so a provider registered after duraflow loaded is still used. */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** `type:name` or `type:name@(version)`, the span names of the durable-task conventions. */
export function spanName(type: string, name: string, version?: string): string {
  return version ? `${type}:${name}@(${version})` : `${type}:${name}`;
}

/** An OpenTelemetry context whose (remote) parent is `traceContext`; the root context without a valid one. */
export function contextOf(traceContext: TraceContext | undefined): Context {
  const parts = parseTraceParent(traceContext?.traceParent);
  if (!parts) return ROOT_CONTEXT;
  let traceState;
  try {
    traceState = traceContext?.traceState ? createTraceState(traceContext.traceState) : undefined;
  } catch {
    traceState = undefined;
  }
  return trace.setSpanContext(ROOT_CONTEXT, { ...parts, isRemote: true, ...(traceState ? { traceState } : {}) });
}

/** The trace context of `span` as history stores it; undefined for a no-op span (no provider registered). */
export function traceContextOf(span: Span | undefined): TraceContext | undefined {
  const context = span?.spanContext();
  if (!context || !isSpanContextValid(context)) return undefined;
  const state = context.traceState?.serialize();
  return { traceParent: formatTraceParent(context), ...(state ? { traceState: state } : {}) };
}

/** The trace context of the active span (the caller's), if any. */
export function activeTraceContext(context: Context): TraceContext | undefined {
  return traceContextOf(trace.getSpan(context));
}

/** Marks `span` failed with `failure` (status, and an exception event with the type, message and stack). */
export function recordFailure(span: Span, failure: FailureDetails): void {
  span.recordException({ name: failure.errorType, message: failure.message, ...(failure.stack ? { stack: failure.stack } : {}) });
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${failure.errorType}: ${failure.message}` });
}
