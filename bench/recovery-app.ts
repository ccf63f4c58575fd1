/**
 * The app and the worker-process messages of the recovery benchmark (`bench/recovery.ts`). Three orchestrations,
 * one per way an instance can be in flight on a worker when it is killed:
 *
 * - `midActivity` runs `hold`, which in the victim process never returns (its lease is held and renewed);
 * - `midTimer` waits for a durable timer due after the kill (no lease is held while it waits);
 * - `midEpisode` completes in its first episode, but the victim never commits it (its instance lease is held).
 *
 * Each completes with the first history event after the kill, so that event's time is the instance's
 * `lastUpdatedTime`.
 */
import { DFApp } from '../src/index.js';

/** What a worker process of the recovery benchmark tells its parent. */
export type RecoveryMessage =
  | { type: 'ready'; workerId: string }
  | { type: 'held'; kind: 'activity' | 'episode'; instanceId: string }
  | { type: 'error'; message: string };

/** The kinds of in-flight instances, with the orchestration that puts an instance in that state. */
export const IN_FLIGHT_KINDS = ['activity', 'timer', 'episode'] as const;
/** One kind of in-flight instance. */
export type InFlightKind = (typeof IN_FLIGHT_KINDS)[number];

/** Builds the app; in the victim, `hold` reports through `onHeld` and then never returns. */
export function recoveryApp(url: string, victim: { onHeld(instanceId: string): void } | undefined): DFApp {
  const app = new DFApp({ store: url });
  app.activity('hold', async (_: unknown, ctx) => {
    if (!victim) return 'done';
    victim.onHeld(ctx.instanceId);
    return new Promise<never>(() => undefined);
  });
  app.orchestration('midActivity', function* (ctx) {
    return yield ctx.callActivity('hold');
  });
  app.orchestration('midTimer', function* (ctx, fireAt: number) {
    yield ctx.createTimer(new Date(fireAt));
    return 'fired';
  });
  app.orchestration('midEpisode', function* () {
    return 'done';
  });
  return app;
}

/** Instance id prefix of the `midEpisode` instances, whose first commit the victim withholds. */
export const EPISODE_PREFIX = 'ep-';
