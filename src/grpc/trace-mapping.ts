/**
 * Trace contexts between duraflow's history and the sidecar protocol's `TraceContext` fields, so the spans of
 * Microsoft's SDK workers (durabletask-js, Python, .NET) and duraflow's join one trace. Incoming contexts are
 * read as strictly as a `traceparent` header: a malformed one is dropped, never an error.
 */
import type { TraceContext } from '../sdk/history.js';
import { parseTraceParent, traceContextFromHeaders } from '../telemetry/trace-parent.js';
import type { PbTraceContext } from './proto-types.js';

/** The protocol field of `traceContext` (nothing without one). */
export function pbTrace(traceContext: TraceContext | undefined): { parentTraceContext?: PbTraceContext } {
  if (!traceContext) return {};
  const spanId = parseTraceParent(traceContext.traceParent)?.spanId ?? '';
  return {
    parentTraceContext: {
      traceParent: traceContext.traceParent,
      spanID: spanId,
      ...(traceContext.traceState ? { traceState: { value: traceContext.traceState } } : {}),
    },
  };
}

/** The trace context of a protocol field, if it holds a valid one. */
export function fromPbTrace(field: PbTraceContext | undefined): TraceContext | undefined {
  return traceContextFromHeaders(field?.traceParent, field?.traceState?.value);
}
