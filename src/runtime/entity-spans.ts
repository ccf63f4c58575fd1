/**
 * Spans of entity operations (`entity:<name>:<operation>`): one per operation an entity episode executed,
 * parented to the span that sent the request (an orchestration's, a client's), with the failure of an
 * operation that threw. Operations of one batch share the batch's time (they run one after another in it).
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { EntityEpisodeOutcome } from '../core/entity-scheduler.js';
import type { EntityId } from '../sdk/entity-id.js';
import { ATTR, contextOf, recordFailure, spanName, tracer } from '../telemetry/tracer.js';

/** Emits the spans of `executed`, run by `entityId` between `start` and `end`. */
export function emitEntitySpans(entityId: EntityId, executed: EntityEpisodeOutcome['executed'], start: Date, end: Date): void {
  for (const { request, result } of executed) {
    const operation = request.op ?? '';
    const span = tracer().startSpan(
      spanName('entity', `${entityId.name}:${operation}`),
      {
        kind: SpanKind.SERVER,
        startTime: start,
        attributes: {
          [ATTR.type]: 'entity',
          [ATTR.name]: entityId.name,
          [ATTR.entityInstanceId]: entityId.toString(),
          [ATTR.entityOperation]: operation,
          'duraflow.entity.signal': request.signal === true,
          ...(request.parent !== undefined ? { [ATTR.instanceId]: request.parent } : {}),
        },
      },
      contextOf(request.trace),
    );
    if (result.failureDetails) recordFailure(span, result.failureDetails);
    else span.setStatus({ code: SpanStatusCode.OK });
    span.end(end);
  }
}
