/**
 * Runs one episode for a leased instance: sorts its inbox messages (stale, control, deliverable),
 * handles terminate / suspend / resume / rewind, feeds the rest to the (cached or replayed) executor,
 * and returns the commit.
 */
import { OrchestrationExecutor, type EpisodeResult } from '../core/orchestration-executor.js';
import { isTerminalStatus, makeEvent, type ExecutionStartedEvent, type HistoryEvent } from '../sdk/history.js';
import { toFailureDetails } from '../sdk/errors.js';
import type { InstanceRecord, OrchestrationWorkItem } from '../store/store.js';
import { terminationTargets } from '../store/instance-tree.js';
import { buildEpisodeCommit, parentNotice, terminationEvent } from './episode-commit.js';
import { rewindHistory, type RewindPlan } from './rewind.js';
import { EpisodeAbandonedError, type EpisodeEnvironment, type EpisodeExecutor, type PreparedEpisode } from './episode-environment.js';
import { FailingExecutor } from './failing-executor.js';
import type { EpisodeSpan } from './orchestration-spans.js';

/** Prepares the commit of one work item. */
export async function prepareEpisode(item: OrchestrationWorkItem, env: EpisodeEnvironment): Promise<PreparedEpisode> {
  const { instance } = item;
  const now = env.now();
  const consumed: number[] = [];
  let deliver: HistoryEvent[] = [];
  let terminateReason: string | undefined;
  let terminate = false;
  let recurse = false;
  // A recursive termination that reached this instance after it finished (see passOnTermination).
  let lateRecurse: { reason: string | undefined } | undefined;
  let rewind: HistoryEvent | undefined;
  let suspended = instance.status === 'Suspended';

  for (const message of item.messages) {
    const event = message.event;
    const isStart = event.eventType === 'ExecutionStarted';
    const stale = message.executionId !== undefined && message.executionId !== instance.executionId;
    if (stale || (isStart && instance.historyLength > 0)) {
      consumed.push(message.id); // an older execution's completion, or a duplicate start
      continue;
    }
    if (event.eventType === 'ExecutionRewound') {
      // A Failed instance, or one a client moved to Pending when it asked for the rewind (it has a history,
      // which a Pending instance otherwise never has).
      consumed.push(message.id);
      if (instance.status === 'Failed' || (instance.status === 'Pending' && instance.historyLength > 0)) rewind = event;
      continue;
    }
    if (isTerminalStatus(instance.status)) {
      consumed.push(message.id);
      if (event.eventType === 'ExecutionTerminated' && event.recurse === true) lateRecurse = { reason: event.input };
      continue;
    }
    if (event.eventType === 'ExecutionTerminated') {
      consumed.push(message.id);
      terminate = true;
      terminateReason = event.input;
      recurse ||= event.recurse === true;
      continue;
    }
    if (event.eventType === 'ExecutionSuspended' || event.eventType === 'ExecutionResumed') {
      consumed.push(message.id);
      const suspend = event.eventType === 'ExecutionSuspended';
      if (suspend !== suspended) {
        suspended = suspend;
        deliver.push(event);
      }
      continue;
    }
    if (suspended) continue; // stays in the inbox until resumed
    consumed.push(message.id);
    deliver.push(event);
  }

  if (terminate) return terminateEpisode(item, env, consumed, terminateReason, recurse, now);
  if (isTerminalStatus(instance.status) && !rewind) {
    return lateRecurse ? passOnTermination(item, env, consumed, lateRecurse.reason, now) : unchanged(item, consumed);
  }
  const start = deliver.find((e): e is ExecutionStartedEvent => e.eventType === 'ExecutionStarted');
  if (start) deliver = startFirst(deliver, start, item, instance.executionId);
  if (start?.scheduledStartTime && Date.parse(start.scheduledStartTime) > now.getTime()) {
    return deferStart(item, consumed, new Set(deliver), new Date(start.scheduledStartTime));
  }

  const remote = env.remoteExecutor?.(instance);
  const decision = remote ? undefined : env.versions?.decide(instance.name, instance.version);
  if (decision && !decision.run) {
    // Rejected: the lease is given back and the claim rules keep this worker from taking it again.
    if (decision.reject) throw new EpisodeAbandonedError(`'${instance.instanceId}' is left to a worker that runs its version`);
    env.cache.delete(instance.instanceId);
    const history = instance.historyLength > 0 ? await env.store.getHistory(instance.instanceId) : [];
    return runAndBuild(item, env, new FailingExecutor(decision.error), history, deliver, consumed, suspended, now);
  }
  const cached = rewind || remote ? undefined : env.cache.take(instance.instanceId, instance.executionId, instance.historyLength);
  if (cached) return runAndBuild(item, env, cached.executor, [], deliver, consumed, suspended, now);
  const history = instance.historyLength > 0 ? await env.store.getHistory(instance.instanceId) : [];
  if (!rewind) return runAndBuild(item, env, remote ?? newExecutor(env), history, deliver, consumed, suspended, now);
  const rewound = await rewindHistory(history, instance, env.store, now, env.newExecutionId);
  return runAndBuild(item, env, remote ?? newExecutor(env), rewound.history, [rewind, ...deliver], consumed, false, now, rewound);
}

/**
 * The first batch of an execution in the order its code must see it: ExecutionStarted, then the events the
 * previous execution carried over and re-sent to this one (only that execution knew this one's id), then the
 * rest in arrival order (events that arrived meanwhile, and carried-over events that stayed in the inbox).
 */
function startFirst(deliver: HistoryEvent[], start: ExecutionStartedEvent, item: OrchestrationWorkItem, executionId: string): HistoryEvent[] {
  const resent = new Set(
    item.messages.filter((m) => m.executionId === executionId && m.event.eventType === 'EventRaised').map((m) => m.event),
  );
  const rank = (e: HistoryEvent) => (e === start ? 0 : resent.has(e) ? 1 : 2);
  return deliver.map((e, i) => ({ e, i })).sort((a, b) => rank(a.e) - rank(b.e) || a.i - b.i).map(({ e }) => e);
}

function newExecutor(env: EpisodeEnvironment): OrchestrationExecutor {
  return new OrchestrationExecutor({
    resolve: (name, version) => env.registry.resolveOrchestration(name, version),
    registeredNames: () => env.known.list('orchestration'),
    registeredVersions: (name) => env.registry.orchestrationVersions(name),
    maxPayloadBytes: env.maxPayloadBytes,
    logger: env.logger,
    ...(env.httpPollDelayMs !== undefined ? { httpPollDelayMs: env.httpPollDelayMs } : {}),
  });
}

async function runAndBuild(
  item: OrchestrationWorkItem,
  env: EpisodeEnvironment,
  executor: EpisodeExecutor,
  past: HistoryEvent[],
  deliver: HistoryEvent[],
  consumed: number[],
  suspended: boolean,
  clockNow: Date,
  rewound?: RewindPlan,
): Promise<PreparedEpisode> {
  const { instance } = item;
  // Every event of the episode carries its time, so nothing it records predates a timer it delivers.
  const now = episodeTime(clockNow, deliver);
  // A timer's message is written when the timer is created; it fires when an episode delivers it.
  deliver = deliver.map((e) => (e.eventType === 'TimerFired' ? { ...e, timestamp: now.toISOString() } : e));
  const span = beginSpan(env, executor, instance, past, deliver, now);
  const started = makeEvent({ eventType: 'OrchestratorStarted', ...(span?.record ? { orchestrationTraceContext: span.record } : {}) }, now);
  let result: EpisodeResult;
  try {
    const outcome = executor.execute(past, [started, ...deliver]);
    result = outcome instanceof Promise ? await outcome : outcome;
  } catch (error) {
    if (error instanceof EpisodeAbandonedError) throw error;
    // An unexpected error inside the executor: fail the instance rather than retry forever.
    env.logger.error(`orchestration '${instance.instanceId}' failed inside the executor`, { instanceId: instance.instanceId, name: instance.name }, error);
    if (executor instanceof OrchestrationExecutor) executor = newExecutor(env);
    result = {
      actions: [{ type: 'CompleteOrchestration' as const, id: -1, status: 'Failed' as const, failureDetails: toFailureDetails(error) }],
      acceptedEvents: [started],
      customStatus: undefined,
      completion: undefined,
    };
  }
  const commit = buildEpisodeCommit({
    instance,
    lease: item.lease,
    started: executor.started,
    result,
    leadingEvents: rewound ? [...past, ...result.acceptedEvents] : result.acceptedEvents,
    consumedMessageIds: consumed,
    messages: item.messages,
    suspended,
    now,
    known: env.known,
    customStatusSet: executor.customStatusSet,
    newExecutionId: env.newExecutionId,
    ...(env.versions ? { childVersion: (name: string) => env.versions!.childVersion(name, env.known) } : {}),
    ...(span ? { traceContext: span.context } : {}),
    flowOf: (kind, name) => (kind === 'activity' ? env.registry.activityOptions.get(name) : env.registry.orchestrationFlow.get(name)),
  });
  if (rewound && commit.historyMode === 'append') {
    // The rebuilt history replaces the failed one; only the failed work runs again.
    commit.historyMode = 'replace';
    commit.activities.push(...rewound.activities);
    commit.messages.push(...rewound.messages);
    commit.startInstances.push(...rewound.startInstances);
  }
  const done = result.actions.some((a) => a.type === 'CompleteOrchestration');
  return {
    commit,
    settle(committed) {
      span?.finish(commit, committed);
      if (!committed || done || !(executor instanceof OrchestrationExecutor)) {
        env.cache.delete(instance.instanceId);
        return;
      }
      const historyLength = (commit.historyMode === 'replace' ? 0 : instance.historyLength) + commit.history.length;
      const { keepInput, ...update } = commit.instance;
      const after: InstanceRecord = {
        instanceId: instance.instanceId,
        createdAt: instance.createdAt,
        lastUpdatedAt: now,
        historyLength,
        ...(instance.parentInstanceId !== undefined ? { parentInstanceId: instance.parentInstanceId } : {}),
        ...(keepInput && instance.input !== undefined ? { input: instance.input } : {}),
        ...update,
      };
      env.cache.put(instance.instanceId, { executor, instance: after, leaseEpoch: item.lease.epoch });
    },
  };
}

/**
 * The orchestration span this episode runs under. Only for executors of this process: a gRPC SDK worker
 * traces its own episodes (its actions carry its spans' contexts).
 */
function beginSpan(
  env: EpisodeEnvironment,
  executor: EpisodeExecutor,
  instance: InstanceRecord,
  past: readonly HistoryEvent[],
  deliver: readonly HistoryEvent[],
  now: Date,
): EpisodeSpan | undefined {
  if (!env.spans || !(executor instanceof OrchestrationExecutor || executor instanceof FailingExecutor)) return undefined;
  const isStart = (e: HistoryEvent): e is ExecutionStartedEvent => e.eventType === 'ExecutionStarted';
  const started = executor.started ?? past.find(isStart) ?? deliver.find(isStart);
  if (!started) return undefined;
  // A cached executor replays nothing: no other worker ran the instance since this one's last commit.
  const cached = past.length === 0 && instance.historyLength > 0;
  return env.spans.begin({ instance, started, past, cached, now });
}

function unchanged(item: OrchestrationWorkItem, consumed: number[]): PreparedEpisode {
  const { instance } = item;
  return {
    commit: {
      lease: item.lease,
      historyMode: 'append',
      history: [],
      consumedMessageIds: consumed,
      instance: {
        status: instance.status,
        executionId: instance.executionId,
        name: instance.name,
        ...(instance.version !== undefined ? { version: instance.version } : {}),
        ...(instance.input !== undefined ? { input: instance.input } : {}),
        ...(instance.output !== undefined ? { output: instance.output } : {}),
        ...(instance.customStatus !== undefined ? { customStatus: instance.customStatus } : {}),
        ...(instance.failureDetails !== undefined ? { failureDetails: instance.failureDetails } : {}),
      },
      activities: [],
      messages: [],
      startInstances: [],
    },
    settle: () => {},
  };
}

/** A start scheduled for later: the instance stays Pending and its messages return to the inbox until then. */
function deferStart(item: OrchestrationWorkItem, consumed: number[], delivered: Set<HistoryEvent>, visibleAt: Date): PreparedEpisode {
  const prepared = unchanged(item, consumed);
  for (const message of item.messages) {
    if (!delivered.has(message.event)) continue;
    const { instanceId, executionId, event } = message;
    prepared.commit.messages.push({ instanceId, ...(executionId !== undefined ? { executionId } : {}), event, visibleAt });
  }
  return prepared;
}

async function terminateEpisode(
  item: OrchestrationWorkItem,
  env: EpisodeEnvironment,
  consumed: number[],
  reason: string | undefined,
  recurse: boolean,
  now: Date,
): Promise<PreparedEpisode> {
  const { instance } = item;
  env.cache.delete(instance.instanceId);
  env.spans?.terminated(instance.executionId, now);
  const prepared = unchanged(item, consumed);
  const commit = prepared.commit;
  commit.history.push(
    makeEvent({ eventType: 'OrchestratorStarted' }, now),
    makeEvent({ eventType: 'ExecutionTerminated', ...(reason !== undefined ? { input: reason } : {}) }, now),
    makeEvent({ eventType: 'ExecutionCompleted', orchestrationStatus: 'Terminated', ...(reason !== undefined ? { result: reason } : {}) }, now),
    makeEvent({ eventType: 'OrchestratorCompleted' }, now),
  );
  commit.instance.status = 'Terminated';
  if (reason !== undefined) commit.instance.output = reason;
  else delete commit.instance.output;
  // The instance's remaining inbox (including events held while suspended) is of no use any more.
  for (const message of item.messages) if (!consumed.includes(message.id)) consumed.push(message.id);
  if (instance.parentInstanceId && instance.historyLength > 0) {
    const history = await env.store.getHistory(instance.instanceId);
    const start = history.find((e): e is ExecutionStartedEvent => e.eventType === 'ExecutionStarted');
    if (start?.parentInstance) {
      const failure = { errorType: 'TerminatedError', message: `Sub-orchestration '${instance.instanceId}' was terminated: ${reason ?? ''}` };
      commit.messages.push(parentNotice(start.parentInstance, { failure }, now));
    }
  }
  // A recursive termination goes on to the unfinished sub-orchestrations of every execution (found through the
  // store: the history holds the current execution's only), which pass it on to theirs.
  if (recurse) await addTerminations(commit, env, instance.instanceId, reason, now);
  return prepared;
}

/**
 * A recursive termination delivered to an instance that has finished meanwhile (a child that completed between
 * its parent's read and the delivery): nothing changes here, but the termination still goes on to the unfinished
 * sub-orchestrations its executions left behind.
 */
async function passOnTermination(item: OrchestrationWorkItem, env: EpisodeEnvironment, consumed: number[], reason: string | undefined, now: Date): Promise<PreparedEpisode> {
  const prepared = unchanged(item, consumed);
  await addTerminations(prepared.commit, env, item.instance.instanceId, reason, now);
  return prepared;
}

/** Adds to `commit` a recursive termination for each of {@link terminationTargets} of `instanceId`. */
async function addTerminations(commit: PreparedEpisode['commit'], env: EpisodeEnvironment, instanceId: string, reason: string | undefined, now: Date): Promise<void> {
  for (const target of await terminationTargets(env.store, instanceId)) {
    commit.messages.push({ instanceId: target, event: terminationEvent(reason, true, now) });
  }
}

/**
 * The episode's time: now, but never before a timer it delivers was due. Visibility is judged by the
 * store's clock, so a timer may arrive a moment early by this worker's clock; after `yield timer` the
 * orchestrator must still see `currentUtcDateTime >= fireAt`.
 */
function episodeTime(now: Date, deliver: readonly HistoryEvent[]): Date {
  let time = now.getTime();
  for (const event of deliver) {
    if (event.eventType === 'TimerFired') time = Math.max(time, Date.parse(event.fireAt));
  }
  return new Date(time);
}
