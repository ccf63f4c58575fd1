/**
 * Rewind of a failed instance: rebuild its history without the failures of the episode that failed it
 * (and without the failed ExecutionCompleted), then re-issue every piece of work that the rebuilt history
 * shows as still open. Successful results replay from history; only failed work runs again. A sub-orchestration
 * that was purged meanwhile is started again (its failure was purged with it).
 */
import { makeEvent, type HistoryEvent } from '../sdk/history.js';
import type { EpisodeCommit, HubStore, InstanceRecord, NewActivity, NewMessage } from '../store/store.js';
import { subOrchestrationStart } from './episode-commit.js';

/** The rebuilt history and the work to re-issue. */
export interface RewindPlan {
  history: HistoryEvent[];
  activities: NewActivity[];
  messages: NewMessage[];
  startInstances: EpisodeCommit['startInstances'];
}

const REMOVED_IN_LAST_EPISODE = new Set(['TaskFailed', 'SubOrchestrationInstanceFailed', 'ExecutionCompleted']);

/** Plans the rewind of `instance` from its recorded `history`. */
export async function rewindHistory(
  history: readonly HistoryEvent[],
  instance: InstanceRecord,
  store: HubStore,
  now: Date,
  newExecutionId: () => string,
): Promise<RewindPlan> {
  let lastEpisode = 0;
  history.forEach((e, i) => {
    if (e.eventType === 'OrchestratorStarted') lastEpisode = i;
  });
  const rebuilt = history.filter(
    (e, i) => e.eventType !== 'ExecutionCompleted' && !(i >= lastEpisode && REMOVED_IN_LAST_EPISODE.has(e.eventType)),
  );

  // Open work, in history order: a task scheduled again under its id (SDK retries) is open again.
  const settled = new Set<string>();
  for (const e of rebuilt) {
    if (e.eventType === 'TaskScheduled') settled.delete(`task:${e.eventId}`);
    if (e.eventType === 'SubOrchestrationInstanceCreated') settled.delete(`sub:${e.eventId}`);
    if (e.eventType === 'TimerCreated') settled.delete(`timer:${e.eventId}`);
    if (e.eventType === 'TaskCompleted' || e.eventType === 'TaskFailed') settled.add(`task:${e.taskScheduledId}`);
    if (e.eventType === 'SubOrchestrationInstanceCompleted' || e.eventType === 'SubOrchestrationInstanceFailed') {
      settled.add(`sub:${e.taskScheduledId}`);
    }
    if (e.eventType === 'TimerFired') settled.add(`timer:${e.timerId}`);
  }
  const lastScheduled = new Map<string, HistoryEvent>();
  for (const e of rebuilt) {
    if (e.eventType === 'TaskScheduled') lastScheduled.set(`task:${e.eventId}`, e);
    if (e.eventType === 'SubOrchestrationInstanceCreated') lastScheduled.set(`sub:${e.eventId}`, e);
    if (e.eventType === 'TimerCreated') lastScheduled.set(`timer:${e.eventId}`, e);
  }

  const plan: RewindPlan = { history: rebuilt, activities: [], messages: [], startInstances: [] };
  const { instanceId, executionId } = instance;
  for (const e of lastScheduled.values()) {
    if (e.eventType === 'TaskScheduled' && !settled.has(`task:${e.eventId}`)) {
      plan.activities.push({ instanceId, executionId, taskId: e.eventId, name: e.name, ...(e.input !== undefined ? { input: e.input } : {}) });
    } else if (e.eventType === 'TimerCreated' && !settled.has(`timer:${e.eventId}`)) {
      plan.messages.push({
        instanceId,
        executionId,
        event: makeEvent({ eventType: 'TimerFired', timerId: e.eventId, fireAt: e.fireAt }, now),
        visibleAt: new Date(e.fireAt),
      });
    } else if (e.eventType === 'SubOrchestrationInstanceCreated' && !settled.has(`sub:${e.eventId}`)) {
      const child = await store.getInstance(e.instanceId);
      const taskScheduledId = e.eventId;
      if (child?.status === 'Failed') {
        plan.messages.push({ instanceId: e.instanceId, event: makeEvent({ eventType: 'ExecutionRewound', reason: `rewind of parent '${instanceId}'` }, now) });
      } else if (child?.status === 'Completed') {
        plan.messages.push({
          instanceId,
          executionId,
          event: makeEvent({ eventType: 'SubOrchestrationInstanceCompleted', taskScheduledId, ...(child.output !== undefined ? { result: child.output } : {}) }, now),
        });
      } else if (!child) {
        const parent = { name: instance.name, version: instance.version, instanceId, executionId, tags: instance.tags };
        const toParent = (event: HistoryEvent): NewMessage => ({ instanceId, executionId, event });
        plan.startInstances.push(subOrchestrationStart(parent, { ...e, id: taskScheduledId }, newExecutionId(), now, toParent));
      } else if (child.status === 'Terminated' || child.status === 'Canceled') {
        const failureDetails = { errorType: 'TerminatedError', message: `Sub-orchestration '${e.instanceId}' is ${child.status}.` };
        plan.messages.push({ instanceId, executionId, event: makeEvent({ eventType: 'SubOrchestrationInstanceFailed', taskScheduledId, failureDetails }, now) });
      }
    }
  }
  return plan;
}
