/**
 * Entity operations of the HTTP client, over the entity routes of the management API (reference §3):
 * `POST /entities/{name}/{key}?op=` (signal), `GET /entities/{name}/{key}` (state, 404 when it does not exist),
 * `GET /entities[/{name}]` (listing, `x-ms-continuation-token` paging), and duraflow's own
 * `POST /entities/clean` (cleanEntityStorage). An empty key travels as `$`.
 */
import { serialize } from '../core/payload.js';
import { EntityId } from '../sdk/entity-id.js';
import type { SignalEntityOptions } from '../sdk/entity-context.js';
import type {
  CleanEntityStorageOptions,
  CleanEntityStorageResult,
  DurableEntityStatus,
  EntityPage,
  EntityStateResponse,
  ListEntitiesQuery,
} from '../sdk/durable-client.js';
import { checkOperationName, checkScheduledTime, toEntityId } from '../sdk/entity-id.js';

/** The HTTP client's request function. */
export type EntityHttpRequest = (
  method: string,
  path: string,
  init: { query?: Record<string, string | undefined>; headers?: Record<string, string>; body?: string; ok: number[] },
) => Promise<Response>;

function entityPath(entityId: EntityId): string {
  const id = toEntityId(entityId);
  return `/entities/${encodeURIComponent(id.name)}/${id.key === '' ? '$' : encodeURIComponent(id.key)}`;
}

/** `POST /entities/{name}/{key}?op=`. */
export async function httpSignalEntity(
  request: EntityHttpRequest,
  entityId: EntityId,
  operationName: string,
  input: unknown,
  options: SignalEntityOptions = {},
): Promise<void> {
  checkOperationName(operationName);
  const scheduledTime = checkScheduledTime(options?.scheduledTime);
  const body = serialize(
    input,
    `input of operation '${operationName}' on entity '${toEntityId(entityId)}'`,
    Number.POSITIVE_INFINITY,
  );
  const response = await request('POST', entityPath(entityId), {
    query: { op: operationName, ...(scheduledTime !== undefined ? { scheduledTime } : {}) },
    ...(body !== undefined ? { body } : {}),
    ok: [202],
  });
  await response.body?.cancel();
}

/** `GET /entities/{name}/{key}`. */
export async function httpReadEntityState<T>(
  request: EntityHttpRequest,
  entityId: EntityId,
): Promise<EntityStateResponse<T>> {
  const response = await request('GET', entityPath(entityId), { ok: [200, 404] });
  if (response.status === 404) {
    await response.body?.cancel();
    return { entityExists: false, entityState: undefined };
  }
  const text = await response.text();
  return { entityExists: true, entityState: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** `GET /entities[/{name}]`. */
export async function httpListEntities(request: EntityHttpRequest, query: ListEntitiesQuery = {}): Promise<EntityPage> {
  const path =
    query.entityName !== undefined
      ? `/entities/${encodeURIComponent(new EntityId(query.entityName, '').name)}`
      : '/entities';
  const response = await request('GET', path, {
    query: {
      ...(query.entityNamePrefix !== undefined ? { entityNamePrefix: query.entityNamePrefix } : {}),
      ...(query.lastOperationTimeFrom ? { lastOperationTimeFrom: query.lastOperationTimeFrom.toISOString() } : {}),
      ...(query.lastOperationTimeTo ? { lastOperationTimeTo: query.lastOperationTimeTo.toISOString() } : {}),
      ...(query.fetchState !== undefined ? { fetchState: String(query.fetchState) } : {}),
      ...(query.includeDeleted !== undefined ? { includeDeleted: String(query.includeDeleted) } : {}),
      ...(query.pageSize !== undefined ? { top: String(query.pageSize) } : {}),
    },
    headers: query.continuationToken ? { 'x-ms-continuation-token': query.continuationToken } : {},
    ok: [200],
  });
  const rows = (await response.json()) as {
    entityId: { name: string; key: string };
    lastOperationTime: string;
    state?: unknown;
  }[];
  const entities = rows.map((row) => {
    const status: DurableEntityStatus = {
      entityId: new EntityId(row.entityId.name, row.entityId.key),
      lastOperationTime: new Date(row.lastOperationTime),
    };
    if ('state' in row) status.state = row.state;
    return status;
  });
  const token = response.headers.get('x-ms-continuation-token');
  return token && token !== 'null' ? { entities, continuationToken: token } : { entities };
}

/** `POST /entities/clean`. */
export async function httpCleanEntityStorage(
  request: EntityHttpRequest,
  options: CleanEntityStorageOptions = {},
): Promise<CleanEntityStorageResult> {
  const response = await request('POST', '/entities/clean', {
    query: {
      removeEmptyEntities: String(options.removeEmptyEntities ?? true),
      releaseOrphanedLocks: String(options.releaseOrphanedLocks ?? true),
    },
    ok: [200],
  });
  return (await response.json()) as CleanEntityStorageResult;
}
