/**
 * The action ledger of one orchestration execution: the sequence numbers of its scheduling calls, the actions
 * not yet recorded in history (matched against the recorded scheduling events while replaying, DTFx's
 * non-determinism checks, reference §6.1), the tasks still open, and the external events with their waiters.
 * The executor applies history events; this is what they are applied to.
 */
import type { CreateTimerAction, OrchestratorAction } from './actions.js';
import { describeAction, describeRecorded } from './actions.js';
import type { HistoryEvent } from '../sdk/history.js';
import { NonDeterministicOrchestrationError } from '../sdk/errors.js';
import { CompletableTask, TimerTask } from '../sdk/task.js';
import { deserialize } from './payload.js';

/** What completes an open task. */
export type OpenKind = 'activity' | 'subOrchestration' | 'timer';

/** A task waiting for its completion event. */
export interface OpenTask {
  task: CompletableTask<unknown>;
  kind: OpenKind;
  name: string;
}

const SCHEDULING_MATCH: Record<string, OrchestratorAction['type']> = {
  TaskScheduled: 'ScheduleTask',
  TimerCreated: 'CreateTimer',
  SubOrchestrationInstanceCreated: 'CreateSubOrchestration',
  EventSent: 'SendEvent',
};

/** Sequence numbers, pending actions, open tasks and external events of one execution. */
export class ActionLedger {
  #nextSequence = 0;
  #pending = new Map<number, OrchestratorAction>();
  #open = new Map<number, OpenTask>();
  #eventWaiters = new Map<string, CompletableTask<unknown>[]>();
  /** An event name as the code wrote it, by its case-insensitive key. */
  #eventNames = new Map<string, string>();
  #cancelledTimers = new Set<number>();
  #bufferedEvents = new Map<string, { event: HistoryEvent; order: number }[]>();
  #bufferOrder = 0;

  /** The sequence number the next action gets. */
  get nextSequence(): number {
    return this.#nextSequence;
  }
  /** Activities, sub-orchestrations and uncancelled timers still open. */
  get openCount(): number {
    return this.#open.size;
  }

  /** Adds an action with the next sequence number. */
  newAction<A extends OrchestratorAction>(make: (id: number) => A): A {
    const action = make(this.#nextSequence++);
    this.#pending.set(action.id, action);
    return action;
  }

  /** A task that the completion event of action `id` settles. */
  track(id: number, kind: OpenKind, name: string): CompletableTask<unknown> {
    const task = new CompletableTask<unknown>(id);
    this.#open.set(id, { task, kind, name });
    return task;
  }

  /** A durable timer; cancelling it before it is recorded marks its action cancelled. */
  timer(fireAt: Date): TimerTask {
    const action: CreateTimerAction = this.newAction((id) => ({ type: 'CreateTimer' as const, id, fireAt: fireAt.toISOString() }));
    const timer = new TimerTask(action.id, fireAt, () => {
      if (this.#open.delete(action.id)) this.#cancelledTimers.add(action.id);
      if (this.#pending.get(action.id) === action) action.isCanceled = true;
    });
    this.#open.set(action.id, { task: timer as CompletableTask<unknown>, kind: 'timer', name: 'timer' });
    return timer;
  }

  /** The actions not yet handed out, in sequence order; they are handed out once. */
  takePending(): OrchestratorAction[] {
    const actions = [...this.#pending.values()];
    this.#pending.clear();
    return actions;
  }

  /** Replay: the recorded scheduling `event` must be the action the code scheduled with its sequence id. */
  matchRecorded(event: HistoryEvent & { eventId: number }, where: string): void {
    const action = this.#pending.get(event.eventId);
    if (!action) {
      throw new NonDeterministicOrchestrationError(
        `${where}: history recorded ${describeRecorded(event)}, but the orchestrator code did not schedule it ` +
          '(it scheduled fewer actions, or in another order).',
        { recorded: describeRecorded(event), current: 'nothing' },
      );
    }
    const sameName = !('name' in event) || !('name' in action) || event.name.toLowerCase() === action.name.toLowerCase();
    if (SCHEDULING_MATCH[event.eventType] !== action.type || !sameName) {
      throw new NonDeterministicOrchestrationError(
        `${where}: history recorded ${describeRecorded(event)}, but the orchestrator code now schedules ${describeAction(action)}.`,
        { recorded: describeRecorded(event), current: describeAction(action) },
      );
    }
    this.#pending.delete(event.eventId);
  }

  /** Replay, at the end of a recorded episode: the code scheduled nothing history does not show. */
  checkAllRecorded(where: string): void {
    const unrecorded = [...this.#pending.values()][0];
    if (unrecorded) {
      throw new NonDeterministicOrchestrationError(
        `${where}: the orchestrator code now schedules ${describeAction(unrecorded)}, but history recorded no such action at ` +
          'that point (it scheduled more actions).',
        { recorded: 'nothing', current: describeAction(unrecorded) },
      );
    }
  }

  /** Settles the open task `id` of `kind`; false for a duplicate, stale or cancelled completion (not recorded). */
  settle(id: number, kind: OpenKind, settle: (task: CompletableTask<unknown>, open: OpenTask) => void): boolean {
    const open = this.#open.get(id);
    if (!open || open.kind !== kind) return false;
    this.#open.delete(id);
    settle(open.task, open);
    return true;
  }

  /** Gives a raised event to the newest waiter of its name (as DTFx does), else keeps it for a later wait. */
  deliverEvent(event: HistoryEvent & { eventType: 'EventRaised' }): void {
    const key = event.name.toLowerCase();
    const waiter = this.#eventWaiters.get(key)?.pop();
    if (waiter) {
      waiter._complete(deserialize(event.input));
      return;
    }
    const buffer = this.#bufferedEvents.get(key) ?? [];
    buffer.push({ event, order: this.#bufferOrder++ });
    this.#bufferedEvents.set(key, buffer);
  }

  /** Waits for an external event; events raised earlier are delivered first-in first-out. */
  waitForEvent(name: string): CompletableTask<unknown> {
    const key = name.toLowerCase();
    const task = new CompletableTask<unknown>(-1);
    const early = this.#bufferedEvents.get(key)?.shift();
    if (early && early.event.eventType === 'EventRaised') {
      task._complete(deserialize(early.event.input));
      return task;
    }
    const waiters = this.#eventWaiters.get(key) ?? [];
    waiters.push(task);
    this.#eventWaiters.set(key, waiters);
    this.#eventNames.set(key, name);
    return task;
  }

  /** The open tasks, the events still waited for (as the code named them) and the timers cancelled while open. */
  pendingWork(): { tasks: { id: number; kind: OpenKind; name: string }[]; events: string[]; cancelledTimers: number[] } {
    return {
      tasks: [...this.#open].map(([id, open]) => ({ id, kind: open.kind, name: open.name })).sort((a, b) => a.id - b.id),
      events: [...this.#eventWaiters].filter(([, waiters]) => waiters.some((w) => !w.isCompleted)).map(([key]) => this.#eventNames.get(key) ?? key),
      cancelledTimers: [...this.#cancelledTimers].sort((a, b) => a - b),
    };
  }

  /** Raised events nobody consumed, in the order they came (carried over by continue-as-new). */
  unconsumedEvents(): HistoryEvent[] {
    return [...this.#bufferedEvents.values()]
      .flat()
      .sort((a, b) => a.order - b.order)
      .map((b) => b.event);
  }
}
