/**
 * Turns an execution's history into timeline spans (the instance page's Gantt chart): each scheduling event
 * is paired with the event that ends it by sequence id (TaskScheduled ↔ TaskCompleted/TaskFailed,
 * SubOrchestrationInstanceCreated ↔ …Completed/…Failed, TimerCreated ↔ TimerFired); raised and sent events
 * are points; suspended periods are spans; patch markers (`ctx.isPatched`) are marker points. Pure: no I/O, so it is tested on plain histories.
 */
import type { HistoryEvent } from '../sdk/history.js';
import { describePatchMarker, readPatchMarker } from '../core/patch-markers.js';
import { decodeEntityMessage, isLockRequest } from '../core/entity-messages.js';
import { EntityId } from '../sdk/entity-id.js';

/** What a span stands for. */
export type SpanKind = 'orchestration' | 'activity' | 'sub-orchestration' | 'timer' | 'event-raised' | 'event-sent' | 'suspended' | 'marker';

/** How a span ended: `open` spans run until now, `point` spans have no duration. */
export type SpanOutcome = 'completed' | 'failed' | 'terminated' | 'open' | 'point' | 'cancelled';

/** One row of the timeline. */
export interface TimelineSpan {
  kind: SpanKind;
  label: string;
  /** Sequence id of the scheduling event, when there is one. */
  taskId?: number;
  /** Start and end in epoch ms; `end` is undefined while the span is open. */
  start: number;
  end?: number;
  outcome: SpanOutcome;
  /** Child instance of a sub-orchestration, or the target of a sent event. */
  instanceId?: string;
  /** Due time of a timer (epoch ms). */
  fireAt?: number;
  /** Failure message, for failed spans. */
  error?: string;
}

/** The whole chart: spans in start order and the time range they cover. */
export interface Timeline {
  start: number;
  end: number;
  spans: TimelineSpan[];
}

const time = (event: HistoryEvent) => Date.parse(event.timestamp);

/**
 * Builds the timeline of `history`; open spans end at `now` when drawn. Timers in `cancelledTimers` (known from a
 * replay: history does not record a cancellation) are drawn as cancelled, not as waiting.
 */
export function buildTimeline(history: readonly HistoryEvent[], now: number, cancelledTimers: ReadonlySet<number> = new Set()): Timeline {
  const spans: TimelineSpan[] = [];
  const byTask = new Map<number, TimelineSpan>();
  let orchestration: TimelineSpan | undefined;
  let suspended: TimelineSpan | undefined;
  /** Entity requests sent, by request id: their answers are raised under that id. */
  const requests = new Map<string, string>();

  for (const event of history) {
    const at = time(event);
    switch (event.eventType) {
      case 'ExecutionStarted':
        orchestration = { kind: 'orchestration', label: event.name, start: at, outcome: 'open' };
        spans.push(orchestration);
        break;
      case 'ExecutionCompleted':
        if (orchestration) {
          orchestration.end = at;
          orchestration.outcome = event.orchestrationStatus === 'Completed' ? 'completed' : event.orchestrationStatus === 'Failed' ? 'failed' : 'terminated';
          if (event.failureDetails) orchestration.error = event.failureDetails.message;
        }
        break;
      case 'TaskScheduled':
        byTask.set(event.eventId, push(spans, { kind: 'activity', label: event.name, taskId: event.eventId, start: at, outcome: 'open' }));
        break;
      case 'SubOrchestrationInstanceCreated':
        byTask.set(
          event.eventId,
          push(spans, { kind: 'sub-orchestration', label: event.name, taskId: event.eventId, start: at, outcome: 'open', instanceId: event.instanceId }),
        );
        break;
      case 'TimerCreated': {
        const fireAt = Date.parse(event.fireAt);
        byTask.set(event.eventId, push(spans, { kind: 'timer', label: 'timer', taskId: event.eventId, start: at, outcome: 'open', fireAt }));
        break;
      }
      case 'TaskCompleted':
      case 'SubOrchestrationInstanceCompleted':
        close(byTask.get(event.taskScheduledId), at, 'completed');
        break;
      case 'TaskFailed':
      case 'SubOrchestrationInstanceFailed':
        close(byTask.get(event.taskScheduledId), at, 'failed', event.failureDetails.message);
        break;
      case 'TimerFired':
        // The event is stamped when the timer was scheduled; it fired at its due time (or when delivered, if later).
        close(byTask.get(event.timerId), Math.max(at, Date.parse(event.fireAt)), 'completed');
        break;
      case 'EventRaised': {
        // An entity's answer is raised under the request id: name it after the request.
        const request = requests.get(event.name);
        spans.push({ kind: 'event-raised', label: request ? `answer: ${request}` : event.name, start: at, end: at, outcome: 'point' });
        break;
      }
      case 'EventSent': {
        const entity = describeEntityMessage(event);
        if (entity?.requestId) requests.set(entity.requestId, entity.label);
        spans.push({
          kind: 'event-sent',
          label: entity?.label ?? event.name,
          taskId: event.eventId,
          start: at,
          end: at,
          outcome: 'point',
          instanceId: event.instanceId,
        });
        break;
      }
      case 'ExecutionSuspended':
        suspended ??= push(spans, { kind: 'suspended', label: 'suspended', start: at, outcome: 'open' });
        break;
      case 'ExecutionResumed':
        if (suspended) close(suspended, at, 'completed');
        suspended = undefined;
        break;
      case 'ExecutionTerminated':
        spans.push({ kind: 'marker', label: 'terminated', start: at, end: at, outcome: 'point' });
        break;
      case 'ContinueAsNew':
        spans.push({ kind: 'marker', label: 'continued as new', start: at, end: at, outcome: 'point' });
        break;
      case 'ExecutionRewound':
        spans.push({ kind: 'marker', label: 'rewound', start: at, end: at, outcome: 'point' });
        break;
      case 'GenericEvent': {
        // A patch marker (ctx.isPatched): where the execution first ran the patch's code.
        const marker = readPatchMarker(event);
        if (marker) spans.push({ kind: 'marker', label: describePatchMarker(marker), start: at, end: at, outcome: 'point' });
        break;
      }
      default:
        break;
    }
  }
  for (const span of spans) {
    if (span.kind === 'timer' && span.outcome === 'open' && span.taskId !== undefined && cancelledTimers.has(span.taskId)) {
      span.outcome = 'cancelled';
      span.end = span.start;
    }
  }
  // When the orchestration ended, nothing inside it is still running (e.g. an activity of a terminated instance).
  if (orchestration?.end !== undefined) {
    for (const span of spans) if (span.outcome === 'open') span.end = orchestration.end;
  }
  const starts = spans.map((s) => s.start).filter(Number.isFinite);
  const ends = spans.map((s) => s.end ?? Math.max(now, s.fireAt ?? now)).filter(Number.isFinite);
  const start = starts.length ? Math.min(...starts) : now;
  const end = Math.max(start, ...ends);
  return { start, end, spans };
}

function push(spans: TimelineSpan[], span: TimelineSpan): TimelineSpan {
  spans.push(span);
  return span;
}

function close(span: TimelineSpan | undefined, at: number, outcome: SpanOutcome, error?: string): void {
  if (!span || span.end !== undefined) return; // a duplicate completion changes nothing
  span.end = at;
  span.outcome = outcome;
  if (error !== undefined) span.error = error;
}

/** Direct children of an instance, from its history (sub-orchestrations it created), in creation order. */
export function childInstances(history: readonly HistoryEvent[]): { instanceId: string; name: string }[] {
  const seen = new Set<string>();
  const children: { instanceId: string; name: string }[] = [];
  for (const event of history) {
    if (event.eventType === 'SubOrchestrationInstanceCreated' && !seen.has(event.instanceId)) {
      seen.add(event.instanceId);
      children.push({ instanceId: event.instanceId, name: event.name });
    }
  }
  return children;
}

/** The parent of an instance, from its ExecutionStarted event. */
export function parentInstance(history: readonly HistoryEvent[]): { instanceId: string; name: string } | undefined {
  const started = history.find((e) => e.eventType === 'ExecutionStarted');
  const parent = started?.eventType === 'ExecutionStarted' ? started.parentInstance : undefined;
  return parent ? { instanceId: parent.instanceId, name: parent.name } : undefined;
}

/**
 * How an entity message sent by an orchestration reads: `call account@alice withdraw`, `signal …`,
 * `lock account@alice, account@bob`, `release lock on …` (undefined for an event to an orchestration).
 */
export function describeEntityMessage(event: HistoryEvent): { label: string; requestId?: string } | undefined {
  if (event.eventType !== 'EventSent' || !event.instanceId.startsWith('@')) return undefined;
  const message = decodeEntityMessage({ ...event, eventType: 'EventRaised' });
  const target = entityLabel(event.instanceId);
  if (message.kind === 'release') return { label: `release lock on ${target}` };
  if (message.kind !== 'request') return undefined;
  const request = message.request;
  if (isLockRequest(request)) return { label: `lock ${(request.lockset ?? []).map(entityLabel).join(', ')}`, requestId: request.id };
  return { label: `${request.signal ? 'signal' : 'call'} ${target} ${request.op ?? ''}`.trim(), ...(request.signal ? {} : { requestId: request.id }) };
}

/** `account@alice` for the instance id `@account@alice`. */
export function entityLabel(instanceId: string): string {
  const id = EntityId.fromInstanceId(instanceId);
  return id ? `${id.name}@${id.key}` : instanceId;
}
