/**
 * The PRODUCER spans of a client (durable-task conventions): `create_orchestration:<name>` of a start, whose
 * context goes into the ExecutionStarted event so the instance's spans, in whatever process, join its trace;
 * `signal_entity:<operation>` of a signal, whose context goes into the request.
 */
import { SpanKind, SpanStatusCode, context, type Span } from '@opentelemetry/api';
import type { TraceContext } from '../sdk/history.js';
import { toFailureDetails } from '../sdk/errors.js';
import { ATTR, contextOf, recordFailure, spanName, traceContextOf, tracer } from '../telemetry/tracer.js';

/** What a start span names. */
export interface StartSpanFields {
  name: string;
  instanceId: string;
  version?: string | undefined;
  /** An explicit parent (an incoming `traceparent`); default: the active context. */
  parent?: TraceContext | undefined;
}

/** Runs `start` inside a start span, giving it the span's trace context (undefined when nothing is traced). */
export async function withStartSpan<T>(fields: StartSpanFields, start: (traceContext: TraceContext | undefined) => Promise<T>): Promise<T> {
  const span: Span = tracer().startSpan(
    spanName('create_orchestration', fields.name, fields.version),
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [ATTR.type]: 'orchestration',
        [ATTR.name]: fields.name,
        [ATTR.instanceId]: fields.instanceId,
        ...(fields.version ? { [ATTR.version]: fields.version } : {}),
      },
    },
    fields.parent ? contextOf(fields.parent) : context.active(),
  );
  return within(span, start);
}

/** Runs `send` inside a `signal_entity:<operation>` span, giving it the span's trace context. */
export async function withSignalSpan<T>(entityId: string, operation: string, send: (traceContext: TraceContext | undefined) => Promise<T>): Promise<T> {
  const span = tracer().startSpan(
    spanName('signal_entity', operation),
    { kind: SpanKind.PRODUCER, attributes: { [ATTR.type]: 'signal_entity', [ATTR.entityOperation]: operation, [ATTR.entityInstanceId]: entityId } },
    context.active(),
  );
  return within(span, send);
}

/** Runs `work` with `span`'s trace context, then ends the span: OK, or failed with the error it threw. */
async function within<T>(span: Span, work: (traceContext: TraceContext | undefined) => Promise<T>): Promise<T> {
  try {
    const result = await work(traceContextOf(span));
    span.setStatus({ code: SpanStatusCode.OK });
    return result;
  } catch (error) {
    recordFailure(span, toFailureDetails(error));
    throw error;
  } finally {
    span.end();
  }
}
