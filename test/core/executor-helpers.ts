/**
 * Builders of hand-made histories for the pure executor tests, and a tiny "runtime" that records an
 * episode's actions as the history events the real runtime would write.
 */
import type { OrchestratorAction } from '../../src/core/actions.js';
import {
  makeEvent,
  type EventRaisedEvent,
  type ExecutionStartedEvent,
  type FailureDetails,
  type HistoryEvent,
  type OrchestratorCompletedEvent,
  type OrchestratorStartedEvent,
  type SubOrchestrationInstanceCompletedEvent,
  type SubOrchestrationInstanceCreatedEvent,
  type TaskCompletedEvent,
  type TaskFailedEvent,
  type TaskScheduledEvent,
  type TimerCreatedEvent,
  type TimerFiredEvent,
} from '../../src/sdk/history.js';
import { OrchestrationExecutor, type EpisodeResult } from '../../src/core/orchestration-executor.js';
import { patchMarkerEvent } from '../../src/core/patch-markers.js';
import type { OrchestratorFunction } from '../../src/index.js';

/** Base time of every hand-built history. */
export const T0 = Date.parse('2026-03-01T12:00:00.000Z');
/** ISO time `ms` after {@link T0}. */
export const at = (ms: number): string => new Date(T0 + ms).toISOString();

const json = (value: unknown): { input?: string } => (value === undefined ? {} : { input: JSON.stringify(value) });

/** Builders of history events. */
export const ev: {
  started(name: string, input?: unknown, extra?: { instanceId?: string; generation?: number; version?: string }): ExecutionStartedEvent;
  orchestratorStarted(ms: number): OrchestratorStartedEvent;
  orchestratorCompleted(ms: number): OrchestratorCompletedEvent;
  scheduled(id: number, name: string, input?: unknown): TaskScheduledEvent;
  completed(id: number, result?: unknown): TaskCompletedEvent;
  failed(id: number, failureDetails: FailureDetails): TaskFailedEvent;
  timerCreated(id: number, fireAtMs: number): TimerCreatedEvent;
  timerFired(id: number, fireAtMs: number): TimerFiredEvent;
  subCreated(id: number, name: string, instanceId: string): SubOrchestrationInstanceCreatedEvent;
  subCompleted(id: number, result?: unknown): SubOrchestrationInstanceCompletedEvent;
  raised(name: string, input?: unknown): EventRaisedEvent;
} = {
  started: (name: string, input?: unknown, extra: { instanceId?: string; generation?: number; version?: string } = {}) =>
    makeEvent(
      {
        eventType: 'ExecutionStarted',
        name,
        instanceId: extra.instanceId ?? 'inst',
        executionId: 'exec-1',
        ...json(input),
        ...(extra.generation !== undefined ? { generation: extra.generation } : {}),
        ...(extra.version !== undefined ? { version: extra.version } : {}),
      },
      at(0),
    ),
  orchestratorStarted: (ms: number) => makeEvent({ eventType: 'OrchestratorStarted' }, at(ms)),
  orchestratorCompleted: (ms: number) => makeEvent({ eventType: 'OrchestratorCompleted' }, at(ms)),
  scheduled: (id: number, name: string, input?: unknown) => makeEvent({ eventType: 'TaskScheduled', eventId: id, name, ...json(input) }, at(0)),
  completed: (id: number, result?: unknown) =>
    makeEvent({ eventType: 'TaskCompleted', taskScheduledId: id, ...(result === undefined ? {} : { result: JSON.stringify(result) }) }, at(0)),
  failed: (id: number, failureDetails: FailureDetails) => makeEvent({ eventType: 'TaskFailed', taskScheduledId: id, failureDetails }, at(0)),
  timerCreated: (id: number, fireAtMs: number) => makeEvent({ eventType: 'TimerCreated', eventId: id, fireAt: at(fireAtMs) }, at(0)),
  timerFired: (id: number, fireAtMs: number) => makeEvent({ eventType: 'TimerFired', timerId: id, fireAt: at(fireAtMs) }, at(0)),
  subCreated: (id: number, name: string, instanceId: string) =>
    makeEvent({ eventType: 'SubOrchestrationInstanceCreated', eventId: id, name, instanceId }, at(0)),
  subCompleted: (id: number, result?: unknown) =>
    makeEvent(
      { eventType: 'SubOrchestrationInstanceCompleted', taskScheduledId: id, ...(result === undefined ? {} : { result: JSON.stringify(result) }) },
      at(0),
    ),
  raised: (name: string, input?: unknown) => makeEvent({ eventType: 'EventRaised', name, ...json(input) }, at(0)),
};

/** An executor of generator orchestrators, whose episodes run synchronously: `execute` returns the result itself. */
export class SyncExecutor extends OrchestrationExecutor {
  override execute(pastEvents: readonly HistoryEvent[], newEvents: readonly HistoryEvent[]): EpisodeResult {
    const result = super.execute(pastEvents, newEvents);
    if (result instanceof Promise) throw new Error('The episode of a generator orchestrator returned a promise.');
    return result;
  }
}

/** A fresh executor serving `functions`. */
export function executorFor(functions: Record<string, OrchestratorFunction | ((...args: any[]) => unknown)>, maxPayloadBytes?: number): SyncExecutor {
  return new SyncExecutor({
    resolve: (name) => functions[name] as OrchestratorFunction | undefined,
    registeredNames: () => Object.keys(functions).sort(),
    ...(maxPayloadBytes !== undefined ? { maxPayloadBytes } : {}),
  });
}

/** The scheduling events the runtime writes for an episode's actions. */
export function recordActions(actions: readonly OrchestratorAction[]): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const a of actions) {
    if (a.type === 'ScheduleTask') events.push(ev.scheduled(a.id, a.name, a.input === undefined ? undefined : JSON.parse(a.input)));
    else if (a.type === 'CreateTimer') events.push(makeEvent({ eventType: 'TimerCreated', eventId: a.id, fireAt: a.fireAt }, at(0)));
    else if (a.type === 'CreateSubOrchestration') events.push(ev.subCreated(a.id, a.name, a.instanceId));
    else if (a.type === 'SendEvent') events.push(makeEvent({ eventType: 'EventSent', eventId: a.id, instanceId: a.instanceId, name: a.name }, at(0)));
    else if (a.type === 'RecordPatch') events.push(patchMarkerEvent(a, new Date(T0)));
  }
  return events;
}

/**
 * Keeps a growing history the way the runtime does: each episode appends OrchestratorStarted, the accepted
 * new events, the recorded actions and OrchestratorCompleted.
 */
export class HistoryRecorder {
  readonly history: HistoryEvent[] = [];
  /** Records the episode that `result` came from (its new events started at `ms`). */
  record(result: EpisodeResult, ms: number): EpisodeResult {
    this.history.push(...result.acceptedEvents, ...recordActions(result.actions), ev.orchestratorCompleted(ms));
    return result;
  }
}

/** The failure of a completion action, or undefined. */
export function failureOf(result: EpisodeResult): FailureDetails | undefined {
  return result.completion?.failureDetails;
}
