/** Refusal of entity calls that no worker of the task hub can ever answer (the caller fails fast instead of waiting). */
import { makeEvent } from '../sdk/history.js';
import type { SendEventAction } from '../core/actions.js';
import { ENTITY_REQUEST_EVENT, decodeEntityMessage, type EntityResponse } from '../core/entity-messages.js';
import { EntityId } from '../sdk/entity-id.js';
import { UnknownFunctionError, toFailureDetails } from '../sdk/errors.js';
import type { NewMessage } from '../store/store.js';
import type { KnownNames } from './known-names.js';

/**
 * For an orchestration's call or lock request to an entity whose name no worker of the hub serves: the error
 * response to raise on the caller instead of sending the request. Signals are sent anyway (a worker serving
 * the entity may come later); everything else gives `undefined`.
 */
export function refuseUnservedEntityCall(
  action: SendEventAction,
  known: KnownNames,
  now: Date,
): NewMessage | undefined {
  if (action.name !== ENTITY_REQUEST_EVENT || action.input === undefined) return undefined;
  const message = decodeEntityMessage(
    makeEvent({ eventType: 'EventRaised', name: action.name, input: action.input }, now),
  );
  if (message.kind !== 'request' || message.request.signal || message.request.parent === undefined) return undefined;
  const { request } = message;
  // A lock request is refused when any entity of its lockset is unserved (it would never be granted).
  const unserved = (request.lockset ?? [action.instanceId])
    .map(entityNameOrUndefined)
    .find((name) => name !== undefined && !known.has('entity', name));
  if (unserved === undefined) return undefined;
  const response: EntityResponse = {
    failureDetails: toFailureDetails(new UnknownFunctionError('entity', unserved, known.list('entity'))),
  };
  return {
    instanceId: request.parent!,
    ...(request.parentExecution !== undefined ? { executionId: request.parentExecution } : {}),
    event: makeEvent({ eventType: 'EventRaised', name: request.id, input: JSON.stringify(response) }, now),
  };
}

function entityNameOrUndefined(instanceId: string): string | undefined {
  try {
    return EntityId.fromInstanceId(instanceId)?.name;
  } catch {
    return undefined;
  }
}
