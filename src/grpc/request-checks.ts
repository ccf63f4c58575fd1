/**
 * Checks of client requests that the Durable Task Scheduler makes and duraflow's own API does not: the id reuse
 * policy of a start, and the length of entity ids. Both refuse with a {@link ValidationError} (INVALID_ARGUMENT).
 */
import type { RuntimeStatus } from '../sdk/history.js';
import { ValidationError } from '../sdk/errors.js';
import { EntityId } from '../sdk/entity-id.js';
import { fromPbStatus } from './history-mapping.js';

/** The longest entity instance id (`@name@key`) the scheduler accepts. */
export const MAX_ENTITY_ID_LENGTH = 100;

const RUNNING_STATUSES: readonly RuntimeStatus[] = ['Running', 'Pending', 'Suspended'];

/**
 * The statuses a reuse policy lets a start replace. An unknown status is refused, and so is a policy that lets a
 * running instance be replaced but not a terminated one: replacing terminates the running instance first, and the
 * terminated instance would then conflict with the start (the SDKs express this as dedupe statuses, the
 * statuses not listed here, and refuse it with the same text).
 */
export function replaceableStatuses(values: readonly number[]): RuntimeStatus[] {
  const statuses = values.map((value) => {
    const status = fromPbStatus(value);
    if (!status) throw new ValidationError(`Invalid orchestration runtime status: '${value}' for deduplication.`);
    return status;
  });
  if (!statuses.includes('Terminated') && RUNNING_STATUSES.some((s) => statuses.includes(s))) {
    throw new ValidationError(
      "Invalid dedupe statuses: cannot include 'Terminated' while also allowing reuse of running instances, " +
        'because the running instance would be terminated and then immediately conflict with the dedupe check.',
    );
  }
  return statuses;
}

/** An entity instance id (`@name@key`, or `name@key`) from a request, checked and parsed. */
export function requestEntityId(instanceId: string | undefined): EntityId {
  const id = instanceId ?? '';
  const entityId = EntityId.fromInstanceId(id.startsWith('@') ? id : `@${id}`);
  if (!entityId) throw new ValidationError(`'${id}' is not an entity instance id (@name@key).`);
  checkEntityIdLength(entityId.toString());
  return entityId;
}

/** Refuses an entity instance id longer than {@link MAX_ENTITY_ID_LENGTH}. */
export function checkEntityIdLength(instanceId: string): void {
  if (instanceId.length > MAX_ENTITY_ID_LENGTH) {
    throw new ValidationError(`An entity id may be at most ${MAX_ENTITY_ID_LENGTH} characters (got ${instanceId.length}): '${instanceId.slice(0, 40)}…'.`);
  }
}
