/**
 * "What does this instance wait for": the events, timers (with their due time), activities, children, entity
 * calls and locks a running instance still waits on. The history alone cannot say which events the code waits
 * for or which timers it cancelled, so the execution is replayed with the app's own orchestrator (the pure
 * executor: no I/O, nothing recorded) and asked; without the orchestrator here (another app's, a gRPC worker's)
 * the open scheduling events of the history are shown instead, and the page says events are unknown.
 */
import { OrchestrationExecutor } from '../core/orchestration-executor.js';
import type { HistoryEvent } from '../sdk/history.js';
import type { Registry } from '../sdk/registry.js';

/** Histories longer than this are not replayed for the page (the scheduling events are shown instead). */
export const MAX_REPLAYED_EVENTS = 10_000;

/** One thing an instance waits for. */
export type WaitItem =
  | { kind: 'event'; name: string }
  | { kind: 'timer'; taskId: number; fireAt: number }
  | { kind: 'activity'; taskId: number; name: string; since: number }
  | { kind: 'sub-orchestration'; taskId: number; name: string; instanceId: string; since: number }
  | { kind: 'entity-call'; taskId: number; entity: string; operation: string }
  | { kind: 'lock'; entities: string[]; held: boolean };

/** What the page shows. */
export interface WaitingFor {
  items: WaitItem[];
  /** True when the orchestrator was replayed (events and cancelled timers are known). */
  replayed: boolean;
  /** Timers the code cancelled. */
  cancelledTimers: ReadonlySet<number>;
}

/** What `history` (of a running execution) waits for; `registry` holds the app's orchestrators, if any. */
export async function waitingFor(history: readonly HistoryEvent[], registry: Registry | undefined): Promise<WaitingFor> {
  const scheduled = new Map<number, HistoryEvent>();
  for (const event of history) if (event.eventId >= 0) scheduled.set(event.eventId, event);
  const since = (id: number) => Date.parse(scheduled.get(id)?.timestamp ?? '') || 0;
  const replayed = registry ? await replay(history, registry) : undefined;
  if (!replayed) return { items: fromHistory(history, scheduled), replayed: false, cancelledTimers: new Set() };
  const items: WaitItem[] = replayed.events.map((name) => ({ kind: 'event' as const, name }));
  for (const task of replayed.tasks) {
    const event = scheduled.get(task.id);
    if (task.kind === 'timer' && event?.eventType === 'TimerCreated') items.push({ kind: 'timer', taskId: task.id, fireAt: Date.parse(event.fireAt) });
    else if (task.kind === 'activity') items.push({ kind: 'activity', taskId: task.id, name: task.name, since: since(task.id) });
    else if (task.kind === 'subOrchestration' && event?.eventType === 'SubOrchestrationInstanceCreated') {
      items.push({ kind: 'sub-orchestration', taskId: task.id, name: task.name, instanceId: event.instanceId, since: since(task.id) });
    }
  }
  for (const call of replayed.entities.calls) items.push({ kind: 'entity-call', taskId: call.taskId, entity: call.entity, operation: call.operation });
  if (replayed.entities.section) items.push({ kind: 'lock', ...replayed.entities.section });
  return { items, replayed: true, cancelledTimers: new Set(replayed.cancelledTimers) };
}

/** The executor's view after replaying `history`, or undefined when it cannot be had here. */
async function replay(history: readonly HistoryEvent[], registry: Registry) {
  if (history.length > MAX_REPLAYED_EVENTS || !history.some((e) => e.eventType === 'ExecutionStarted')) return undefined;
  const executor = new OrchestrationExecutor({ resolve: (name, version) => registry.resolveOrchestration(name, version) });
  try {
    // An async orchestrator's episode settles once its microtasks ran (see orchestrator-drivers.ts).
    const { completion } = await executor.execute(history, []);
    // Not this app's orchestrator, or no longer the code that wrote the history: the replay says nothing true.
    if (completion?.status === 'Failed') return undefined;
  } catch {
    return undefined;
  }
  return executor.pendingWork();
}

/** Scheduling events of `history` without their completion (timers may include cancelled ones). */
function fromHistory(history: readonly HistoryEvent[], scheduled: Map<number, HistoryEvent>): WaitItem[] {
  const done = new Set<number>();
  for (const event of history) {
    if ('taskScheduledId' in event) done.add(event.taskScheduledId);
    if (event.eventType === 'TimerFired') done.add(event.timerId);
  }
  const items: WaitItem[] = [];
  for (const [id, event] of scheduled) {
    if (done.has(id)) continue;
    const at = Date.parse(event.timestamp) || 0;
    if (event.eventType === 'TimerCreated') items.push({ kind: 'timer', taskId: id, fireAt: Date.parse(event.fireAt) });
    else if (event.eventType === 'TaskScheduled') items.push({ kind: 'activity', taskId: id, name: event.name, since: at });
    else if (event.eventType === 'SubOrchestrationInstanceCreated') items.push({ kind: 'sub-orchestration', taskId: id, name: event.name, instanceId: event.instanceId, since: at });
  }
  return items;
}
