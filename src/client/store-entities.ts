/**
 * Entity operations of the store-backed client: signal, read state, list, clean. Entities are instances
 * with ids `@name@key` whose `input` column holds the scheduler state (see `runtime/entity-episode.ts`).
 */
import { withSignalSpan } from './start-span.js';
import { randomUUID } from 'node:crypto';
import {
  ENTITY_RELEASE_EVENT,
  ENTITY_REQUEST_EVENT,
  type EntityRelease,
  type EntityRequest,
} from '../core/entity-messages.js';
import { isEmptyEntity, parseSchedulerState } from '../core/entity-scheduler.js';
import { isTerminalStatus, makeEvent } from '../sdk/history.js';
import { deserialize, serialize } from '../core/payload.js';
import { EntityId } from '../sdk/entity-id.js';
import type { SignalEntityOptions } from '../sdk/entity-context.js';
import { UnknownFunctionError, ValidationError } from '../sdk/errors.js';
import type { Registry } from '../sdk/registry.js';
import { checkPageSize, decodeContinuationToken, encodeContinuationToken } from '../store/shared.js';
import { ANY_NAME, type HubStore, type InstanceRecord } from '../store/store.js';
import type {
  CleanEntityStorageOptions,
  CleanEntityStorageResult,
  DurableEntityStatus,
  EntityPage,
  EntityStateResponse,
  ListEntitiesQuery,
} from '../sdk/durable-client.js';
import { checkOperationName, checkScheduledTime, toEntityId } from '../sdk/entity-id.js';

/** What the entity operations need from their client. */
export interface EntityClientContext {
  hub: HubStore;
  /** The app's own functions, accepted even before any worker registered them. */
  registry?: Registry;
  maxPayloadBytes: number;
}

/** Sends a one-way operation from a client. */
export async function signalEntity(
  context: EntityClientContext,
  entityId: EntityId,
  operationName: string,
  input: unknown,
  options: SignalEntityOptions = {},
): Promise<void> {
  const target = toEntityId(entityId);
  checkOperationName(operationName);
  const scheduledTime = checkScheduledTime(options?.scheduledTime);
  await checkServed(context, target.name.toLowerCase());
  const inputText = serialize(
    input,
    `input of operation '${operationName}' on entity '${target}'`,
    context.maxPayloadBytes,
  );
  const now = new Date();
  await withSignalSpan(target.toString(), operationName, async (trace) => {
    const request: EntityRequest = {
      id: randomUUID(),
      op: operationName,
      signal: true,
      ...(inputText !== undefined ? { input: inputText } : {}),
      timestamp: now.toISOString(),
      ...(trace ? { trace } : {}),
    };
    await context.hub.sendMessages([
      {
        instanceId: target.toString(),
        event: makeEvent(
          { eventType: 'EventRaised', name: ENTITY_REQUEST_EVENT, input: JSON.stringify(request), ...(trace ? { parentTraceContext: trace } : {}) },
          now,
        ),
        ...(scheduledTime !== undefined ? { visibleAt: new Date(scheduledTime) } : {}),
      },
    ]);
  });
}

/** Refuses entity names that no worker serves (once some worker has registered). */
async function checkServed(context: EntityClientContext, name: string): Promise<void> {
  if (context.registry?.entities.has(name)) return;
  const served = await context.hub.getRegisteredNames();
  if (!served || served.entities.includes(name) || served.entities.includes(ANY_NAME)) return;
  const names = new Set([...served.entities, ...(context.registry?.entities.keys() ?? [])]);
  throw new UnknownFunctionError('entity', name, [...names].sort());
}

/** Reads an entity's state. */
export async function readEntityState<T>(
  context: EntityClientContext,
  entityId: EntityId,
): Promise<EntityStateResponse<T>> {
  const target = toEntityId(entityId);
  const record = await context.hub.getInstance(target.toString());
  const state = parseSchedulerState(record?.input);
  return state.exists
    ? { entityExists: true, entityState: deserialize<T>(state.state) }
    : { entityExists: false, entityState: undefined };
}

/** Lists entities a page at a time, filtering by name and last operation time. */
export async function listEntities(context: EntityClientContext, query: ListEntitiesQuery = {}): Promise<EntityPage> {
  const pageSize = checkPageSize(query.pageSize);
  for (const key of ['lastOperationTimeFrom', 'lastOperationTimeTo'] as const) {
    const value = query[key];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime())))
      throw new ValidationError(`${key} must be a valid Date.`);
  }
  if (query.continuationToken !== undefined) decodeContinuationToken(query.continuationToken); // a bad token fails here
  const from = query.lastOperationTimeFrom?.getTime() ?? Number.NEGATIVE_INFINITY;
  const to = query.lastOperationTimeTo?.getTime() ?? Number.POSITIVE_INFINITY;
  const entities: DurableEntityStatus[] = [];
  let token = query.continuationToken;
  for (;;) {
    const page = await context.hub.queryInstances({
      instanceIdPrefix: entityPrefix(query),
      pageSize: Math.max(pageSize, 100),
      ...(token !== undefined ? { continuationToken: token } : {}),
    });
    for (let i = 0; i < page.instances.length; i++) {
      const record = page.instances[i]!;
      const status = toEntityStatus(record, query, from, to);
      if (status) entities.push(status);
      if (entities.length === pageSize) {
        const more = i < page.instances.length - 1 || page.continuationToken !== undefined;
        return more ? { entities, continuationToken: positionOf(record) } : { entities };
      }
    }
    token = page.continuationToken;
    if (token === undefined) return { entities };
  }
}

function entityPrefix(query: ListEntitiesQuery): string {
  if (query.entityName !== undefined) {
    if (typeof query.entityName !== 'string' || query.entityName.length === 0)
      throw new ValidationError('entityName must be a non-empty string.');
    return new EntityId(query.entityName, '').toString();
  }
  if (query.entityNamePrefix !== undefined) {
    if (typeof query.entityNamePrefix !== 'string' || query.entityNamePrefix.includes('@')) {
      throw new ValidationError(`entityNamePrefix must be a string without '@'.`);
    }
    return `@${query.entityNamePrefix.toLowerCase()}`;
  }
  return '@';
}

function toEntityStatus(
  record: InstanceRecord,
  query: ListEntitiesQuery,
  from: number,
  to: number,
): DurableEntityStatus | undefined {
  let entityId: EntityId | undefined;
  try {
    entityId = EntityId.fromInstanceId(record.instanceId);
  } catch {
    return undefined;
  }
  const time = record.lastUpdatedAt.getTime();
  if (!entityId || time < from || time > to) return undefined;
  const state = parseSchedulerState(record.input);
  if (!state.exists && !query.includeDeleted) return undefined;
  const status: DurableEntityStatus = { entityId, lastOperationTime: record.lastUpdatedAt };
  if (query.fetchState && state.exists) status.state = deserialize(state.state);
  return status;
}

function positionOf(record: InstanceRecord): string {
  return encodeContinuationToken({ createdAt: record.createdAt.getTime(), instanceId: record.instanceId });
}

/** Deletes empty entities and releases locks whose orchestration is no longer running. */
export async function cleanEntityStorage(
  context: EntityClientContext,
  options: CleanEntityStorageOptions = {},
): Promise<CleanEntityStorageResult> {
  const removeEmpty = options.removeEmptyEntities ?? true;
  const releaseOrphaned = options.releaseOrphanedLocks ?? true;
  const result: CleanEntityStorageResult = { numberOfEmptyEntitiesRemoved: 0, numberOfOrphanedLocksRemoved: 0 };
  let token: string | undefined;
  do {
    const page = await context.hub.queryInstances({
      instanceIdPrefix: '@',
      pageSize: 1000,
      ...(token !== undefined ? { continuationToken: token } : {}),
    });
    for (const record of page.instances) {
      const state = parseSchedulerState(record.input);
      if (releaseOrphaned && state.lockedBy !== undefined && state.lockId !== undefined) {
        const owner = await context.hub.getInstance(state.lockedBy);
        if (!owner || isTerminalStatus(owner.status)) {
          const release: EntityRelease = { id: state.lockId, parent: state.lockedBy };
          const event = makeEvent(
            { eventType: 'EventRaised', name: ENTITY_RELEASE_EVENT, input: JSON.stringify(release) },
            new Date(),
          );
          await context.hub.sendMessages([{ instanceId: record.instanceId, event }]);
          result.numberOfOrphanedLocksRemoved++;
        }
      }
      // The store refuses to purge an entity that has messages waiting, so a racing signal is never lost.
      if (removeEmpty && isEmptyEntity(state) && isTerminalStatus(record.status)) {
        result.numberOfEmptyEntitiesRemoved += await context.hub.purgeInstances({ instanceId: record.instanceId });
      }
    }
    token = page.continuationToken;
  } while (token !== undefined);
  return result;
}
