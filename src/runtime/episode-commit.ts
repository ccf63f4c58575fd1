/**
 * Turns the outcome of one episode (executor actions) into an {@link EpisodeCommit}: the history rows,
 * activity work items, timers and messages to other instances that are written in one transaction.
 */
import type { OrchestratorAction } from '../core/actions.js';
import type { EpisodeResult } from '../core/orchestration-executor.js';
import { makeEvent, type ExecutionStartedEvent, type FailureDetails, type HistoryEvent, type RuntimeStatus, type TraceContext } from '../sdk/history.js';
import { UnknownFunctionError, ValidationError, toFailureDetails } from '../sdk/errors.js';
import { MAX_TAGS, mergeTags, type InstanceTags } from '../sdk/tags.js';
import type { EpisodeCommit, InboxMessage, InstanceRecord, Lease, NewMessage, StartInstanceRequest } from '../store/store.js';
import type { KnownNames } from './known-names.js';
import { refuseUnservedEntityCall } from './unserved-entity-call.js';
import { patchMarkerEvent } from '../core/patch-markers.js';
import { ENTITY_REQUEST_EVENT, withRequestTrace } from '../core/entity-messages.js';
import { sameVersion } from '../sdk/versioning.js';
import { flowLimitsFor, type FlowOptions } from '../sdk/flow-control.js';

/** Everything {@link buildEpisodeCommit} needs. */
export interface EpisodeCommitInput {
  instance: InstanceRecord;
  lease: Lease;
  started: ExecutionStartedEvent | undefined;
  result: EpisodeResult;
  /** History events of this episode that precede the scheduling events (OrchestratorStarted, accepted events). */
  leadingEvents: HistoryEvent[];
  consumedMessageIds: number[];
  /** The claimed messages: carry-over events that came with them stay in the inbox, in their place. */
  messages?: readonly InboxMessage[];
  suspended: boolean;
  now: Date;
  known: KnownNames;
  /** True when setCustomStatus was called in this execution (otherwise the stored value is kept). */
  customStatusSet: boolean;
  newExecutionId: () => string;
  /** The version of a sub-orchestration whose call names none (the worker's versioning). */
  childVersion?: (name: string) => string | undefined;
  /** The orchestration span of this episode: what it schedules and sends is parented to it (recorded in history). */
  traceContext?: TraceContext;
  /** The flow control registered for an activity or orchestration name (here, in this worker's app). */
  flowOf?: (kind: 'activity' | 'orchestration', name: string) => FlowOptions | undefined;
}

/** Builds the commit of one episode. */
export function buildEpisodeCommit(input: EpisodeCommitInput): EpisodeCommit {
  const { instance, result, now } = input;
  const executionId = instance.executionId;
  const history: HistoryEvent[] = [...input.leadingEvents];
  const commit: EpisodeCommit = {
    lease: input.lease,
    historyMode: 'append',
    history,
    consumedMessageIds: input.consumedMessageIds,
    instance: {
      status: input.suspended ? 'Suspended' : 'Running',
      executionId,
      name: instance.name,
      ...(instance.version !== undefined ? { version: instance.version } : {}),
      keepInput: true,
      ...customStatusOf(input),
    },
    activities: [],
    messages: [],
    startInstances: [],
  };
  const toSelf = (event: HistoryEvent, visibleAt?: Date): NewMessage => ({
    instanceId: instance.instanceId,
    executionId,
    event,
    ...(visibleAt ? { visibleAt } : {}),
  });

  // An executor that chose a parent for its task (a gRPC SDK worker's own span) keeps it.
  const traced = (own?: TraceContext): { parentTraceContext?: TraceContext } => {
    const context = own ?? input.traceContext;
    return context ? { parentTraceContext: context } : {};
  };
  for (const action of result.actions) {
    switch (action.type) {
      case 'ScheduleTask': {
        const trace = traced(action.parentTraceContext);
        history.push(makeEvent({ eventType: 'TaskScheduled', eventId: action.id, name: action.name, ...opt('input', action.input), ...trace }, now));
        if (input.known.has('activity', action.name)) {
          let flow;
          try {
            flow = flowLimitsFor(input.flowOf?.('activity', action.name), action.input, `activity '${action.name}'`);
          } catch (error) {
            // A key function that fails fails this call, as an activity that threw would.
            commit.messages.push(toSelf(makeEvent({ eventType: 'TaskFailed', taskScheduledId: action.id, failureDetails: toFailureDetails(error) }, now)));
            break;
          }
          commit.activities.push({
            instanceId: instance.instanceId,
            executionId,
            taskId: action.id,
            name: action.name,
            ...opt('input', action.input),
            ...(trace.parentTraceContext ? { traceContext: trace.parentTraceContext } : {}),
            ...(flow ? { flow } : {}),
            ...(action.priority ? { priority: action.priority } : {}),
          });
        } else {
          const error = new UnknownFunctionError('activity', action.name, input.known.list('activity'));
          commit.messages.push(toSelf(makeEvent({ eventType: 'TaskFailed', taskScheduledId: action.id, failureDetails: toFailureDetails(error) }, now)));
        }
        break;
      }
      case 'CreateSubOrchestration': {
        const child = { ...action, ...opt('version', action.version ?? input.childVersion?.(action.name)), ...traced(action.parentTraceContext) };
        history.push(
          makeEvent(
            {
              eventType: 'SubOrchestrationInstanceCreated',
              eventId: child.id,
              name: child.name,
              instanceId: child.instanceId,
              ...opt('version', child.version),
              ...opt('input', child.input),
              ...(child.tags ? { tags: child.tags } : {}),
              ...(child.parentTraceContext ? { parentTraceContext: child.parentTraceContext } : {}),
            },
            now,
          ),
        );
        let unserved = unservedChild(input.known, child.name, child.version) ?? tooManyTags(input.started?.tags, child.tags);
        let flow;
        try {
          // A child's key is computed at its start, here (a key function that fails fails the call).
          flow = unserved ? undefined : flowLimitsFor(input.flowOf?.('orchestration', child.name), child.input, `orchestration '${child.name}'`);
        } catch (error) {
          unserved = error as ValidationError;
        }
        if (!unserved) {
          const start = childStart(input, child, now, toSelf);
          if (flow) start.request.flow = flow;
          commit.startInstances.push(start);
        } else {
          commit.messages.push(
            toSelf(makeEvent({ eventType: 'SubOrchestrationInstanceFailed', taskScheduledId: child.id, failureDetails: toFailureDetails(unserved) }, now)),
          );
        }
        break;
      }
      case 'CreateTimer':
        history.push(makeEvent({ eventType: 'TimerCreated', eventId: action.id, fireAt: action.fireAt }, now));
        if (!action.isCanceled) {
          commit.messages.push(toSelf(makeEvent({ eventType: 'TimerFired', timerId: action.id, fireAt: action.fireAt }, now), new Date(action.fireAt)));
        }
        break;
      case 'SendEvent': {
        const trace = traced();
        history.push(
          makeEvent(
            { eventType: 'EventSent', eventId: action.id, instanceId: action.instanceId, name: action.name, ...opt('input', action.input), ...trace },
            now,
          ),
        );
        // An entity request carries its sender's span inside it: it may wait in the entity's queue.
        const sent = action.instanceId.startsWith('@') && action.name === ENTITY_REQUEST_EVENT ? withRequestTrace(action.input, trace.parentTraceContext) : action.input;
        commit.messages.push(
          // A call to an entity that no worker serves fails at once instead of waiting forever.
          refuseUnservedEntityCall(action, input.known, now) ?? {
            instanceId: action.instanceId,
            event: makeEvent({ eventType: 'EventRaised', name: action.name, ...opt('input', sent), ...trace }, now),
            ...(action.deliverAt !== undefined && Date.parse(action.deliverAt) > now.getTime() ? { visibleAt: new Date(action.deliverAt) } : {}),
          },
        );
        break;
      }
      case 'RecordPatch':
        history.push(patchMarkerEvent(action, now));
        break;
      case 'TerminateInstance':
        commit.messages.push({ instanceId: action.instanceId, event: terminationEvent(action.reason, action.recurse === true, now) });
        break;
      case 'CompleteOrchestration':
        applyCompletion(commit, action, input);
        break;
    }
  }
  if (commit.historyMode === 'append') history.push(makeEvent({ eventType: 'OrchestratorCompleted' }, now));
  return commit;
}

/** Why no worker of the hub can run a child of `name` at `version` (undefined when one can). */
function unservedChild(known: KnownNames, name: string, version: string | undefined): UnknownFunctionError | undefined {
  if (!known.has('orchestration', name)) return new UnknownFunctionError('orchestration', name, known.list('orchestration'));
  const versions = known.versions?.(name);
  if (versions === undefined || versions === 'any' || versions.some((v) => sameVersion(v, version))) return undefined;
  return new UnknownFunctionError('orchestration', name, known.list('orchestration'), { version: version ?? '', registeredVersions: versions });
}

/** Why a child cannot carry its parent's tags and its own together (undefined when it can). */
function tooManyTags(inherited: InstanceTags | undefined, own: InstanceTags | undefined): ValidationError | undefined {
  const merged = mergeTags(inherited, own);
  if (!merged || Object.keys(merged).length <= MAX_TAGS) return undefined;
  return new ValidationError(`A sub-orchestration may carry at most ${MAX_TAGS} tags, its parent's and its own (got ${Object.keys(merged).length}).`);
}

function customStatusOf(input: EpisodeCommitInput): { customStatus?: string } {
  const value = input.customStatusSet ? input.result.customStatus : input.instance.customStatus;
  return value !== undefined ? { customStatus: value } : {};
}

function opt<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value !== undefined ? { [key]: value } : {}) as { [P in K]?: string };
}

function childStart(
  input: EpisodeCommitInput,
  action: OrchestratorAction & { type: 'CreateSubOrchestration' },
  now: Date,
  toSelf: (event: HistoryEvent) => NewMessage,
): { request: StartInstanceRequest; onConflict: NewMessage } {
  const parent = {
    name: input.instance.name,
    version: input.instance.version,
    instanceId: input.instance.instanceId,
    executionId: input.instance.executionId,
    tags: input.started?.tags,
  };
  return subOrchestrationStart(parent, action, input.newExecutionId(), now, toSelf);
}

/**
 * The start of a sub-orchestration `child` of `parent` (the child's `id` is the parent's task id for it), and
 * the failure its parent gets instead when an instance with the child's id is already running.
 */
export function subOrchestrationStart(
  parent: { name: string; version?: string | undefined; instanceId: string; executionId: string; tags?: InstanceTags | undefined },
  child: {
    id: number;
    name: string;
    instanceId: string;
    version?: string | undefined;
    input?: string | undefined;
    tags?: InstanceTags | undefined;
    parentTraceContext?: TraceContext | undefined;
  },
  executionId: string,
  now: Date,
  toParent: (event: HistoryEvent) => NewMessage,
): { request: StartInstanceRequest; onConflict: NewMessage } {
  const parentInstance = {
    name: parent.name,
    ...opt('version', parent.version),
    instanceId: parent.instanceId,
    executionId: parent.executionId,
    taskScheduledId: child.id,
  };
  // DTFx's rule: a child inherits its parent's tags; its own win on the same key.
  const tags = mergeTags(parent.tags, child.tags);
  const startEvent = makeEvent(
    {
      eventType: 'ExecutionStarted',
      name: child.name,
      instanceId: child.instanceId,
      executionId,
      ...opt('version', child.version),
      ...opt('input', child.input),
      parentInstance,
      ...(tags ? { tags } : {}),
      ...(child.parentTraceContext ? { parentTraceContext: child.parentTraceContext } : {}),
    },
    now,
  );
  const conflict: FailureDetails = {
    errorType: 'InstanceAlreadyExistsError',
    message: `Cannot start sub-orchestration '${child.name}': an instance with id '${child.instanceId}' is already running.`,
  };
  return {
    request: {
      instanceId: child.instanceId,
      name: child.name,
      executionId,
      ...opt('version', child.version),
      ...opt('input', child.input),
      parentInstance,
      ...(tags ? { tags } : {}),
      startEvent,
    },
    onConflict: toParent(makeEvent({ eventType: 'SubOrchestrationInstanceFailed', taskScheduledId: child.id, failureDetails: conflict }, now)),
  };
}

function applyCompletion(
  commit: EpisodeCommit,
  action: OrchestratorAction & { type: 'CompleteOrchestration' },
  input: EpisodeCommitInput,
): void {
  const { now, started } = input;
  const parent = started?.parentInstance;
  if (action.status === 'ContinuedAsNew') {
    // The next execution starts from a fresh history; it begins when its ExecutionStarted is delivered.
    const executionId = input.newExecutionId();
    commit.historyMode = 'replace';
    commit.history.length = 0;
    commit.activities.length = 0;
    commit.startInstances.length = 0;
    commit.messages = commit.messages.filter((m) => m.instanceId !== input.instance.instanceId);
    // The new execution's input replaces the stored one (none: cleared).
    const { keepInput: _keep, input: _old, ...fields } = commit.instance;
    commit.instance = { ...fields, status: 'ContinuedAsNew', executionId, ...opt('input', action.result) };
    const startEvent = makeEvent(
      {
        eventType: 'ExecutionStarted',
        name: input.instance.name,
        instanceId: input.instance.instanceId,
        executionId,
        ...opt('version', action.newVersion ?? input.instance.version),
        ...opt('input', action.result),
        ...(parent ? { parentInstance: parent } : {}),
        generation: (started?.generation ?? 0) + 1,
        // The instance row keeps its tags; the next execution's start event carries them too.
        ...(started?.tags ? { tags: started.tags } : {}),
        // The next execution's span is a sibling of this one, under whatever started the first.
        ...(started?.parentTraceContext ? { parentTraceContext: started.parentTraceContext } : {}),
      },
      now,
    );
    commit.messages.push({ instanceId: input.instance.instanceId, executionId, event: startEvent });
    // Carry-over events of this batch are left unconsumed rather than re-sent: a re-sent event would queue
    // behind events that arrived during this episode. The others (from history) are re-sent addressed to the new
    // execution, which takes them right after its ExecutionStarted (see orchestration-episode.ts).
    const { kept, resend } = matchCarryover(action.carryoverEvents ?? [], input.messages ?? []);
    for (const event of resend) commit.messages.push({ instanceId: input.instance.instanceId, executionId, event });
    if (kept.size) commit.consumedMessageIds = commit.consumedMessageIds.filter((id) => !kept.has(id));
    return;
  }
  const status: RuntimeStatus = action.status;
  commit.history.push(
    makeEvent(
      {
        eventType: 'ExecutionCompleted',
        orchestrationStatus: action.status,
        ...opt('result', action.result),
        ...(action.failureDetails ? { failureDetails: action.failureDetails } : {}),
      },
      now,
    ),
  );
  commit.instance = { ...commit.instance, status, ...opt('output', action.result) };
  if (action.failureDetails) commit.instance.failureDetails = action.failureDetails;
  if (parent) commit.messages.push(parentNotice(parent, action.status === 'Completed' ? { result: action.result } : { failure: action.failureDetails! }, now));
}

/**
 * Which carry-over events are claimed messages of this batch (by their order and content: a worker over gRPC
 * sends copies) and which must be re-sent. Events from the batch come after those from history, so the match
 * runs from the end and stops at the first event that is not in the batch. Only messages addressed to no
 * execution can stay where they are (one addressed to this execution would be stale in the next).
 */
function matchCarryover(carryover: readonly HistoryEvent[], messages: readonly InboxMessage[]): { kept: Set<number>; resend: HistoryEvent[] } {
  const batch = messages.filter((m) => m.executionId === undefined && m.event.eventType === 'EventRaised');
  const kept = new Set<number>();
  let next = batch.length - 1;
  let i = carryover.length - 1;
  for (; i >= 0; i--) {
    const event = carryover[i]!;
    while (next >= 0 && !sameRaisedEvent(batch[next]!.event, event)) next--;
    if (next < 0) break;
    kept.add(batch[next]!.id);
    next--;
  }
  return { kept, resend: carryover.slice(0, i + 1) };
}

function sameRaisedEvent(a: HistoryEvent, b: HistoryEvent): boolean {
  return a.eventType === 'EventRaised' && b.eventType === 'EventRaised' && a.name === b.name && a.input === b.input;
}

/** The event that terminates an instance (and, with `recurse`, its running sub-orchestrations). */
export function terminationEvent(reason: string | undefined, recurse: boolean, now: Date): HistoryEvent {
  return makeEvent({ eventType: 'ExecutionTerminated', ...opt('input', reason), ...(recurse ? { recurse: true } : {}) }, now);
}

/** The message that tells a parent orchestration its child finished. */
export function parentNotice(
  parent: NonNullable<ExecutionStartedEvent['parentInstance']>,
  outcome: { result?: string | undefined } | { failure: FailureDetails },
  now: Date,
): NewMessage {
  const event: HistoryEvent =
    'failure' in outcome
      ? makeEvent({ eventType: 'SubOrchestrationInstanceFailed', taskScheduledId: parent.taskScheduledId, failureDetails: outcome.failure }, now)
      : makeEvent({ eventType: 'SubOrchestrationInstanceCompleted', taskScheduledId: parent.taskScheduledId, ...opt('result', outcome.result) }, now);
  return { instanceId: parent.instanceId, executionId: parent.executionId, event };
}
