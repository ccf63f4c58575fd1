/**
 * Builders and small helpers of the store conformance suite: requests, events, commits built from a
 * claimed work item, and bounded waits.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { makeEvent, type HistoryEvent, type ParentInstanceInfo, type RuntimeStatus } from '../../src/sdk/history.js';
import type { ActivityWorkItem, EpisodeCommit, HubStore, InstanceUpdate, NewMessage, OrchestrationWorkItem, StartInstanceRequest, Store } from '../../src/store/store.js';

/** What a store factory of the suite returns. */
export interface StoreUnderTest {
  store: Store;
  cleanup(): Promise<void>;
}

/** A task hub of its own for one test, so tests never see each other's rows. */
export function freshHub(store: Store): HubStore {
  return store.hub(`hub-${randomUUID().slice(0, 8)}`);
}

/** A fresh execution id. */
export function newExecutionId(): string {
  return randomUUID().replace(/-/g, '');
}

/** A start request with its ExecutionStarted event. */
export function startRequest(
  instanceId: string,
  options: { name?: string; input?: string; version?: string; parent?: ParentInstanceInfo; tags?: Record<string, string> } = {},
): StartInstanceRequest {
  const name = options.name ?? 'orch';
  const executionId = newExecutionId();
  const request: StartInstanceRequest = {
    instanceId,
    name,
    executionId,
    startEvent: makeEvent(
      {
        eventType: 'ExecutionStarted',
        name,
        instanceId,
        executionId,
        ...(options.version !== undefined ? { version: options.version } : {}),
        ...(options.input !== undefined ? { input: options.input } : {}),
        ...(options.parent ? { parentInstance: options.parent } : {}),
        ...(options.tags ? { tags: options.tags } : {}),
      },
      new Date(),
    ),
  };
  if (options.input !== undefined) request.input = options.input;
  if (options.version !== undefined) request.version = options.version;
  if (options.parent) request.parentInstance = options.parent;
  if (options.tags) request.tags = options.tags;
  return request;
}

/** An EventRaised event. */
export function raised(name: string, input?: string): HistoryEvent {
  return makeEvent({ eventType: 'EventRaised', name, ...(input !== undefined ? { input } : {}) }, new Date());
}

/** A message carrying an EventRaised event. */
export function eventMessage(instanceId: string, name: string, input?: string, visibleAt?: Date): NewMessage {
  return { instanceId, event: raised(name, input), ...(visibleAt ? { visibleAt } : {}) };
}

/** A TaskCompleted event for `taskId`. */
export function taskCompleted(taskId: number, result?: string): HistoryEvent {
  return makeEvent({ eventType: 'TaskCompleted', taskScheduledId: taskId, ...(result !== undefined ? { result } : {}) }, new Date());
}

/** An OrchestratorStarted event (a cheap history row). */
export function marker(): HistoryEvent {
  return makeEvent({ eventType: 'OrchestratorStarted' }, new Date());
}

/** A TaskScheduled event. */
export function scheduled(taskId: number, name: string): HistoryEvent {
  return makeEvent({ eventType: 'TaskScheduled', eventId: taskId, name }, new Date());
}

/** A commit of `item` that consumes all its messages and changes nothing else unless `patch` says so. */
export function commitOf(
  item: OrchestrationWorkItem,
  patch: Partial<Omit<EpisodeCommit, 'instance'>> & { instance?: Partial<InstanceUpdate> } = {},
): EpisodeCommit {
  const { instance, ...rest } = patch;
  const base: InstanceUpdate = {
    status: 'Running',
    executionId: item.instance.executionId,
    name: item.instance.name,
    ...(item.instance.version !== undefined ? { version: item.instance.version } : {}),
    ...(item.instance.input !== undefined ? { input: item.instance.input } : {}),
  };
  return {
    lease: item.lease,
    historyMode: 'append',
    history: [],
    consumedMessageIds: item.messages.map((m) => m.id),
    activities: [],
    messages: [],
    startInstances: [],
    ...rest,
    instance: { ...base, ...instance },
  };
}

/** Claims everything visible in `hub` (any name) with a long lease. */
export async function claimAll(hub: HubStore, leaseMs = 60_000): Promise<OrchestrationWorkItem[]> {
  return hub.claimOrchestrations({ workerId: 'w-all', limit: 1000, leaseMs });
}

/** Claims the one instance `instanceId`, failing the test when it is not claimable; other claims are released. */
export async function claimOne(hub: HubStore, instanceId: string, leaseMs = 60_000): Promise<OrchestrationWorkItem> {
  const items = await claimAll(hub, leaseMs);
  const item = items.find((i) => i.instance.instanceId === instanceId);
  const others = items.filter((i) => i !== item);
  if (others.length) await hub.releaseOrchestrations(others.map((i) => i.lease));
  assert.ok(item, `instance '${instanceId}' should be claimable`);
  return item;
}

/** Claims every visible activity of `hub`. */
export async function claimAllActivities(hub: HubStore, leaseMs = 60_000): Promise<ActivityWorkItem[]> {
  return hub.claimActivities({ workerId: 'w-act', limit: 1000, leaseMs });
}

/** Creates an instance and commits one episode that leaves it in `status` (consuming its start message). */
export async function createWithStatus(
  hub: HubStore,
  instanceId: string,
  status: RuntimeStatus,
  options: { name?: string; input?: string; output?: string } = {},
): Promise<void> {
  await hub.createInstance(startRequest(instanceId, options));
  if (status === 'Pending') return;
  const item = await claimOne(hub, instanceId);
  const outcome = await hub.commitEpisodes([
    commitOf(item, {
      history: [item.messages[0]!.event],
      instance: { status, ...(options.output !== undefined ? { output: options.output } : {}) },
    }),
  ]);
  assert.deepEqual(outcome, ['committed']);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Event types of a list of events (or messages). */
export function types(events: readonly ({ eventType: string } | { event: { eventType: string } })[]): string[] {
  return events.map((e) => ('event' in e ? e.event.eventType : e.eventType));
}
