/** The check that a schedule's orchestration is served, shared by clients and starting workers. */
import { ValidationError } from './errors.js';
import type { RegisteredNames, Registry } from './registry.js';
import { servedVersions } from './registered-names.js';

/**
 * Refuses a schedule of an orchestration that neither `local` (the app's own functions) nor any worker of the hub
 * (`served`) serves — with a `ValidationError` that lists the registered names. While no worker has ever
 * registered and the app does not know the name either, the schedule is accepted (its runs wait for a worker).
 */
export function checkScheduledOrchestration(name: string, local: Registry | undefined, served: RegisteredNames | undefined): void {
  if (local?.hasOrchestration(name)) return;
  if (!served && !local?.orchestrationNames().length) return;
  if (served && servedVersions(served, name) !== undefined) return;
  const names = [...new Set([...(served?.orchestrations ?? []), ...(local?.orchestrationNames() ?? [])])].sort();
  throw new ValidationError(
    `The orchestration '${name}' of the schedule is not registered. Registered orchestrations: ${names.length ? names.map((n) => `'${n}'`).join(', ') : '(none)'}.`,
  );
}
