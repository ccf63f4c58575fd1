/**
 * Invariants of a stored history that crashes, lost leases and duplicate deliveries must never break:
 * one start, whole episodes, unique scheduling ids, at most one completion per task, one end.
 */
import assert from 'node:assert/strict';
import type { HistoryEvent } from '../../src/sdk/history.js';
import type { HubStore } from '../../src/store/store.js';

const SCHEDULING = new Set(['TaskScheduled', 'TimerCreated', 'SubOrchestrationInstanceCreated', 'EventSent']);
const COMPLETIONS: Record<string, string> = {
  TaskCompleted: 'TaskScheduled',
  TaskFailed: 'TaskScheduled',
  SubOrchestrationInstanceCompleted: 'SubOrchestrationInstanceCreated',
  SubOrchestrationInstanceFailed: 'SubOrchestrationInstanceCreated',
  TimerFired: 'TimerCreated',
};

/** The id of the scheduling event a completion event settles. */
function completedId(event: HistoryEvent): number | undefined {
  if ('taskScheduledId' in event) return event.taskScheduledId;
  if ('timerId' in event) return event.timerId;
  return undefined;
}

/** Asserts the invariants on one history; with `finished`, also that every scheduled task was settled. */
export function assertCleanHistory(history: HistoryEvent[], label: string, finished = true): void {
  const types = history.map((e) => e.eventType);
  const where = `${label}: ${types.join(',')}`;
  assert.equal(types.filter((t) => t === 'ExecutionStarted').length, 1, `one ExecutionStarted in ${where}`);

  // Episodes are written whole: OrchestratorStarted … OrchestratorCompleted, never interleaved or cut.
  let open = false;
  for (const type of types) {
    if (type === 'OrchestratorStarted') {
      assert.ok(!open, `episode started inside another in ${where}`);
      open = true;
    } else if (type === 'OrchestratorCompleted') {
      assert.ok(open, `episode ended without a start in ${where}`);
      open = false;
    } else {
      assert.ok(open, `${type} outside an episode in ${where}`);
    }
  }
  assert.ok(!open, `last episode is cut short in ${where}`);

  const scheduled = new Map<string, HistoryEvent>();
  for (const event of history) {
    if (!SCHEDULING.has(event.eventType)) continue;
    const key = `${event.eventType}#${event.eventId}`;
    assert.ok(!scheduled.has(key), `duplicate ${key} in ${where}`);
    scheduled.set(key, event);
  }
  const settled = new Set<string>();
  for (const event of history) {
    const kind = COMPLETIONS[event.eventType];
    if (!kind) continue;
    const key = `${kind}#${completedId(event)}`;
    assert.ok(scheduled.has(key), `${event.eventType} for unscheduled ${key} in ${where}`);
    assert.ok(!settled.has(key), `${key} settled twice in ${where}`);
    settled.add(key);
  }
  const ends = types.filter((t) => t === 'ExecutionCompleted').length;
  assert.ok(ends <= 1, `more than one ExecutionCompleted in ${where}`);
  if (finished) {
    assert.equal(ends, 1, `one ExecutionCompleted in ${where}`);
    for (const key of scheduled.keys()) {
      if (!key.startsWith('EventSent')) assert.ok(settled.has(key), `${key} never settled in ${where}`);
    }
  }
}

/** Reads an instance's history and record and asserts they agree and are clean. */
export async function assertCleanInstance(hub: HubStore, instanceId: string, finished = true): Promise<HistoryEvent[]> {
  const [instance, history] = await Promise.all([hub.getInstance(instanceId), hub.getHistory(instanceId)]);
  assert.ok(instance, `instance ${instanceId} exists`);
  assert.equal(instance.historyLength, history.length, `history length of ${instanceId} matches its rows`);
  assertCleanHistory(history, instanceId, finished);
  return history;
}

/** Counts events of `type` that concern task/timer id `id`. */
export function countFor(history: HistoryEvent[], type: string, id: number): number {
  return history.filter((e) => e.eventType === type && (SCHEDULING.has(type) ? e.eventId : completedId(e)) === id).length;
}
