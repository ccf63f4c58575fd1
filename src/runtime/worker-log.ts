/**
 * What a worker tells its logger about the work it does: instances that end (a failure at error level, with
 * its type and message; non-determinism named as such), activities that fail, and leases it takes over from a
 * worker that let them expire. Records carry `instanceId` and `name` fields (the worker's logger adds `taskHub`).
 */
import type { FailureDetails, HistoryEvent } from '../sdk/history.js';
import type { Logger } from '../sdk/logger.js';
import type { ActivityWorkItem, EpisodeCommit, OrchestrationWorkItem, WorkerTakeover } from '../store/store.js';

/** The failure's fields of a log record: its type and message, and the innermost cause's when there is one. */
function failureFields(details: FailureDetails | undefined): Record<string, unknown> {
  if (!details) return {};
  let root = details;
  while (root.inner) root = root.inner;
  return {
    errorType: details.errorType,
    errorMessage: details.message,
    ...(root !== details ? { rootErrorType: root.errorType, rootErrorMessage: root.message } : {}),
  };
}

/** Logs how a committed episode ended its instance, if it did: a failure at error level, other ends at debug. */
export function logEpisodeOutcome(logger: Logger, commit: EpisodeCommit): void {
  const instanceId = commit.lease.id;
  if (instanceId.startsWith('@')) return; // entities do not end
  let completed: Extract<HistoryEvent, { eventType: 'ExecutionCompleted' }> | undefined;
  for (const event of commit.history) if (event.eventType === 'ExecutionCompleted') completed = event;
  const continued = commit.historyMode === 'replace' && commit.instance.status === 'Running' && !completed;
  if (!completed) {
    if (continued) logger.debug('orchestration continued as new', { instanceId, name: commit.instance.name });
    return;
  }
  const fields = { instanceId, name: commit.instance.name };
  if (completed.orchestrationStatus !== 'Failed') {
    logger.debug(`orchestration ${completed.orchestrationStatus.toLowerCase()}`, { ...fields, status: completed.orchestrationStatus });
    return;
  }
  const details = completed.failureDetails ?? commit.instance.failureDetails;
  const nonDeterministic = details?.errorType === 'NonDeterministicOrchestrationError';
  logger.error(nonDeterministic ? 'orchestration failed: non-deterministic replay' : 'orchestration failed', {
    ...fields,
    ...failureFields(details),
  });
}

/** Logs a failed activity attempt at warn level (the orchestration decides whether that fails it). */
export function logActivityFailure(logger: Logger, item: ActivityWorkItem, details: FailureDetails): void {
  logger.warn('activity failed', {
    instanceId: item.instanceId,
    name: item.name,
    taskId: item.taskId,
    attempt: item.dequeueCount,
    ...failureFields(details),
  });
}

/** Logs, at warn level, the instances this worker took over from another worker whose lease had expired. */
export function logOrchestrationTakeovers(logger: Logger, workerId: string, items: readonly OrchestrationWorkItem[]): void {
  for (const item of items) {
    if (item.previousOwner === undefined || item.previousOwner === workerId) continue;
    logger.warn('lease taken over: instance', {
      instanceId: item.instance.instanceId,
      name: item.instance.name,
      workerId,
      previousWorkerId: item.previousOwner,
    });
  }
}

/** Logs, at warn level, the activities this worker took over from another worker whose lease had expired. */
export function logActivityTakeovers(logger: Logger, workerId: string, items: readonly ActivityWorkItem[]): void {
  for (const item of items) {
    if (item.previousOwner === undefined || item.previousOwner === workerId) continue;
    logger.warn('lease taken over: activity', {
      instanceId: item.instanceId,
      name: item.name,
      taskId: item.taskId,
      attempt: item.dequeueCount,
      workerId,
      previousWorkerId: item.previousOwner,
    });
  }
}

/**
 * Logs, at warn level, the leases a heartbeat took over from a worker whose heartbeat ran out (or from this
 * worker's dead predecessor with the same id), with both worker ids and the counts.
 */
export function logHeartbeatTakeover(logger: Logger, workerId: string, takeover: WorkerTakeover): void {
  const { workerId: previous, orchestrations, activities } = takeover;
  if (orchestrations + activities === 0) return;
  const whose = previous === workerId ? 'its predecessor with the same worker id' : `worker ${previous}, whose heartbeat stopped`;
  logger.warn(`lease taken over: worker ${workerId} took over ${orchestrations} instance and ${activities} activity leases from ${whose}`, {
    workerId,
    previousWorkerId: previous,
    instances: orchestrations,
    activities,
  });
}
