/**
 * W3C `traceparent` text (https://www.w3.org/TR/trace-context/#traceparent-header): parsing and formatting,
 * with no OpenTelemetry in sight, so history, HTTP headers and gRPC fields share one strict reading.
 */
import type { TraceContext } from '../sdk/history.js';

/** The parts of a `traceparent`. */
export interface TraceParentParts {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

const TRACE_PARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;

/**
 * Reads a `traceparent`; undefined when it is malformed, uses the invalid version `ff`, or has an all-zero
 * trace or span id (the spec says to ignore such a header, never to fail the request).
 */
export function parseTraceParent(text: string | undefined | null): TraceParentParts | undefined {
  if (typeof text !== 'string') return undefined;
  const match = TRACE_PARENT.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  // Version 00 has exactly four fields; later versions may append more, which we ignore.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) };
}

/** Formats a version-00 `traceparent`. */
export function formatTraceParent(parts: TraceParentParts): string {
  return `00-${parts.traceId}-${parts.spanId}-${(parts.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * The trace context named by W3C headers (`traceparent`, `tracestate`), normalised; undefined without a valid
 * `traceparent`. A `tracestate` over 512 characters is dropped, as the spec allows.
 */
export function traceContextFromHeaders(traceParent: string | undefined | null, traceState?: string | null): TraceContext | undefined {
  const parts = parseTraceParent(traceParent);
  if (!parts) return undefined;
  const state = traceState?.trim();
  return { traceParent: formatTraceParent(parts), ...(state && state.length <= 512 ? { traceState: state } : {}) };
}
