/**
 * Checks of the ids orchestrator code hands the executor (what it yields or awaits is checked by the drivers,
 * orchestrator-drivers.ts).
 */
import { ValidationError } from '../sdk/errors.js';
import { validateInstanceId } from '../sdk/instance-id.js';

/** Refuses an invalid child id, or the parent's own. */
export function validateChildId(instanceId: string, ownId: string | undefined): void {
  validateInstanceId(instanceId);
  if (instanceId === ownId) throw new ValidationError(`A sub-orchestration cannot use its parent's instance id '${instanceId}'.`);
}
