/**
 * The `orchestration:<name>` span of each running execution: one span for the whole execution, with an event
 * per episode (and per timer, event and entity message), ended when the execution ends.
 *
 * OpenTelemetry cannot end a span in another process nor give a new span a chosen id, so the span lives in the
 * worker that runs the instance, and its W3C context is recorded in history (on the OrchestratorStarted of the
 * episode that began it): every activity, child and entity request of the execution is parented to it, in any
 * process. When the span is lost (its worker crashed or stopped, or another worker ran the instance meanwhile)
 * the next episode begins a continuation span, linked to the recorded one, so the trace stays one trace.
 *
 * The live spans of a process are shared by its dispatchers (a worker, a gRPC sidecar's hub: both run
 * episodes of the same instances), keyed by execution id, which is unique across stores and hubs.
 */
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { decodeEntityMessage, isLockRequest } from '../core/entity-messages.js';
import type { ExecutionStartedEvent, HistoryEvent, TraceContext } from '../sdk/history.js';
import type { EpisodeCommit, InstanceRecord } from '../store/store.js';
import { ATTR, contextOf, recordFailure, spanName, traceContextOf, tracer } from '../telemetry/tracer.js';

/** Live spans kept by default; beyond that the least recently used one is ended (and continued if needed). */
export const DEFAULT_LIVE_SPANS = 10_000;

interface LiveSpan {
  span: Span;
  context: TraceContext;
  /** The dispatcher that ran its last episode (ends it when it stops). */
  owner: OrchestrationSpans;
}

/** Every live orchestration span of this process, by execution id, least recently used first. */
const LIVE = new Map<string, LiveSpan>();

/** What an episode learns from {@link OrchestrationSpans.begin}. */
export interface EpisodeSpan {
  /** The span's context: what the episode schedules is parented to it. */
  context: TraceContext;
  /** Set when this episode began the span: record it on the episode's OrchestratorStarted. */
  record: TraceContext | undefined;
  /** Called with the commit's outcome. */
  finish(commit: EpisodeCommit, committed: boolean): void;
}

/** Where {@link OrchestrationSpans.begin} finds the execution. */
export interface EpisodeSpanInput {
  instance: InstanceRecord;
  started: ExecutionStartedEvent;
  /** The stored history the episode replays (empty when a cached executor runs it). */
  past: readonly HistoryEvent[];
  /** True when this worker's cached executor runs the episode (so nobody else ran the instance since). */
  cached: boolean;
  now: Date;
}

/** One dispatcher's view of the process's live orchestration spans. */
export class OrchestrationSpans {
  readonly #live = LIVE;
  constructor(private readonly capacity = DEFAULT_LIVE_SPANS) {}

  /** Number of live spans this dispatcher ran last. */
  get size(): number {
    return [...this.#live.values()].filter((l) => l.owner === this).length;
  }

  /** The span an episode runs under (undefined when no tracer provider is registered). */
  begin(input: EpisodeSpanInput): EpisodeSpan | undefined {
    const { instance, started, now } = input;
    const id = instance.executionId;
    let live = this.#live.get(id);
    const recorded = input.cached ? undefined : lastRecorded(input.past);
    if (live && !input.cached && recorded?.traceParent !== live.context.traceParent) {
      // Another worker ran the instance since and recorded a span of its own.
      this.#end(id, 'superseded', now);
      live = undefined;
    }
    let record: TraceContext | undefined;
    if (!live) {
      const span = tracer().startSpan(
        spanName('orchestration', started.name, started.version),
        {
          kind: SpanKind.SERVER,
          startTime: now,
          attributes: {
            [ATTR.type]: 'orchestration',
            [ATTR.name]: started.name,
            [ATTR.instanceId]: instance.instanceId,
            [ATTR.executionId]: instance.executionId,
            ...(started.version ? { [ATTR.version]: started.version } : {}),
          },
          // A continuation of a span lost with its process.
          ...(recorded ? { links: [{ context: trace.getSpanContext(contextOf(recorded))! }] } : {}),
        },
        contextOf(started.parentTraceContext),
      );
      const context = traceContextOf(span);
      if (!context) return undefined; // no provider: nothing to record or parent
      live = { span, context, owner: this };
      record = context;
    }
    live.owner = this;
    this.#touch(id, live, now);
    const chosen = live;
    return {
      context: chosen.context,
      record,
      finish: (commit, committed) => this.#finish(id, chosen, record !== undefined, commit, committed, now, input.cached),
    };
  }

  /** Ends the span of a terminated execution. */
  terminated(executionId: string, now: Date): void {
    const live = this.#live.get(executionId);
    if (!live) return;
    live.span.setAttribute(ATTR.status, 'Terminated');
    live.span.addEvent('terminated', {}, now);
    this.#live.delete(executionId);
    live.span.end(now);
  }

  /** Ends the live spans this dispatcher ran last (it stops): whoever runs them next continues them, linked. */
  endAll(reason: string, now = new Date()): void {
    for (const [id, live] of [...this.#live]) if (live.owner === this) this.#end(id, reason, now);
  }

  #finish(id: string, live: LiveSpan, began: boolean, commit: EpisodeCommit, committed: boolean, now: Date, cached: boolean): void {
    const { span } = live;
    if (!committed) {
      // Nothing of this episode was recorded: a span it began is referenced by nothing.
      if (began) this.#end(id, 'lease-lost', now);
      return;
    }
    span.addEvent('episode', { 'duraflow.episode.replayed': !cached, 'duraflow.episode.events': commit.history.length }, now);
    for (const event of commit.history) describe(span, event, now);
    const { status, failureDetails } = commit.instance;
    if (status === 'Completed' || status === 'Failed' || status === 'Terminated' || status === 'ContinuedAsNew') {
      span.setAttribute(ATTR.status, status);
      if (status === 'Failed' && failureDetails) recordFailure(span, failureDetails);
      else span.setStatus({ code: SpanStatusCode.OK });
      this.#live.delete(id);
      span.end(now);
    }
  }

  #touch(id: string, live: LiveSpan, now: Date): void {
    this.#live.delete(id);
    this.#live.set(id, live);
    while (this.#live.size > this.capacity) this.#end(this.#live.keys().next().value!, 'evicted', now);
  }

  #end(id: string, reason: string, now: Date): void {
    const live = this.#live.get(id);
    if (!live) return;
    this.#live.delete(id);
    live.span.setAttribute(ATTR.spanEnd, reason);
    live.span.end(now);
  }
}

/** The orchestration span most recently recorded in this execution's history. */
function lastRecorded(past: readonly HistoryEvent[]): TraceContext | undefined {
  for (let i = past.length - 1; i >= 0; i--) {
    const event = past[i]!;
    if (event.eventType === 'OrchestratorStarted' && event.orchestrationTraceContext) return event.orchestrationTraceContext;
  }
  return undefined;
}

/** Span events for what an episode recorded: timers, events, entity messages, suspensions. */
function describe(span: Span, event: HistoryEvent, now: Date): void {
  switch (event.eventType) {
    case 'TimerCreated':
      span.addEvent('timer created', { [ATTR.taskId]: event.eventId, [ATTR.fireAt]: event.fireAt }, now);
      break;
    case 'TimerFired':
      span.addEvent('timer fired', { [ATTR.taskId]: event.timerId, [ATTR.fireAt]: event.fireAt }, now);
      break;
    case 'EventRaised':
      span.addEvent('event raised', { [ATTR.name]: event.name }, now);
      break;
    case 'EventSent': {
      const message = decodeEntityMessage({ ...event, eventType: 'EventRaised' });
      if (message.kind === 'request') {
        const request = message.request;
        const kind = isLockRequest(request) ? 'lock entities' : request.signal ? 'signal entity' : 'call entity';
        span.addEvent(kind, {
          [ATTR.entityInstanceId]: isLockRequest(request) ? (request.lockset ?? []).join(',') : event.instanceId,
          ...(request.op !== undefined ? { [ATTR.entityOperation]: request.op } : {}),
          [ATTR.taskId]: event.eventId,
        }, now);
      } else if (message.kind === 'release') {
        span.addEvent('release entity lock', { [ATTR.entityInstanceId]: event.instanceId }, now);
      } else {
        span.addEvent('event sent', { [ATTR.name]: event.name, [ATTR.eventTarget]: event.instanceId, [ATTR.taskId]: event.eventId }, now);
      }
      break;
    }
    case 'ExecutionSuspended':
    case 'ExecutionResumed':
      span.addEvent(event.eventType === 'ExecutionSuspended' ? 'suspended' : 'resumed', {}, now);
      break;
    default:
      break;
  }
}
