/**
 * Schedules declared in code (`app.schedule`): a starting worker creates each one, or brings the stored one to
 * the code's definition (keeping its state and runs). Several workers starting at once race through the same
 * compare-and-set as every schedule write: the schedule is created once, and updated once per new definition.
 */
import { serialize } from '../core/payload.js';
import type { RegisteredNames, Registry } from '../sdk/registry.js';
import { checkScheduledOrchestration } from '../sdk/schedule-check.js';
import { changedSchedule, newScheduleRecord, sameDefinition } from '../store/schedule-plan.js';
import type { HubStore } from '../store/store.js';

const MAX_ATTEMPTS = 10;

/**
 * Checks every declared schedule (its orchestration must be served by this app or a worker of the hub, its input
 * must serialize — else a `ValidationError`/`SerializationError` before anything is written), then writes them.
 */
export async function declareSchedules(
  hub: HubStore,
  registry: Registry,
  served: RegisteredNames | undefined,
  options: { maxPayloadBytes: number; clock: () => number },
): Promise<void> {
  const declared = [...registry.schedules].map(([scheduleId, { definition, input }]) => {
    checkScheduledOrchestration(definition.orchestration, registry, served);
    return { scheduleId, definition, input: serialize(input, `input of schedule '${scheduleId}'`, options.maxPayloadBytes) };
  });
  for (const { scheduleId, definition, input } of declared) {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const now = options.clock();
      const current = await hub.schedules.get(scheduleId);
      if (current?.declared && sameDefinition(current, definition, input)) break;
      const outcome = current
        ? await hub.schedules.put(changedSchedule({ ...current, declared: true }, definition, input, now), current.revision)
        : await hub.schedules.put(newScheduleRecord({ scheduleId, definition, input, declared: true }, now), 'absent');
      if (outcome === 'written') break;
    }
  }
}
