/**
 * The seed's monitor pattern under the test host (issue 15 §5): a loop that checks, then waits only
 * `if next_check < expiry`, so its last stretch before the expiry has no timer and ends only because time
 * passes while it works. With Temporal's time-skipping semantics it completes under test, skipping its timers,
 * with a history of the same shape as in real time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DFApp, type HistoryEvent } from '../../src/index.js';
import { createTestHost } from '../../src/testing/index.js';
import { eventsOf, historyOf, run, withApp } from '../support/engine-helpers.js';
import { sqliteTestStore } from '../support/stores.js';
import { assertAtOrJustAfter } from '../support/virtual-time.js';

const START = new Date('2025-03-01T09:00:00.000Z');
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The config of the seed: hours until expiry, minutes between checks. */
interface MonitorConfig {
  duration_hours: number;
  polling_interval: number;
}

/** `monitor_workflow` of the seed (the Python SDK reference), line by line in TypeScript. */
function seedMonitorApp(store?: string): DFApp {
  const app = new DFApp(store ? { store } : {});
  app.activity('check_condition', () => ({ met: false }));
  app.activity('condition_met', () => 'notified');
  app.orchestration('monitor_workflow', function* (ctx) {
    const config = ctx.getInput<MonitorConfig>();
    const expiryTime = ctx.currentUtcDateTime.getTime() + config.duration_hours * HOUR;
    while (ctx.currentUtcDateTime.getTime() < expiryTime) {
      // Check condition
      const result = yield ctx.callActivity('check_condition', config);
      if (result.met) {
        yield ctx.callActivity('condition_met', result);
        return 'Condition met';
      }
      // Wait before next check
      const nextCheck = ctx.currentUtcDateTime.getTime() + config.polling_interval * MINUTE;
      if (nextCheck < expiryTime) yield ctx.createTimer(new Date(nextCheck));
    }
    return 'Expired';
  });
  return app;
}

/** The scheduling events as letters: C a check, T a timer. */
const steps = (history: readonly HistoryEvent[]) =>
  history
    .filter((e) => e.eventType === 'TaskScheduled' || e.eventType === 'TimerCreated')
    .map((e) => (e.eventType === 'TimerCreated' ? 'T' : 'C'))
    .join('');

/**
 * The shape of a monitor's run: checks with timers, then checks without one until the expiry — none when the
 * last timer fired at or after it (in real time as under test, how many depends on how long the work took).
 */
const RUN_SHAPE = /^(CT)+C*$/;

/** The distinct episodes of a history, with what resumed and what was scheduled named alike. */
const episodeShapes = (history: readonly HistoryEvent[]) => {
  const shapes = new Set<string>();
  let episode: string[] = [];
  for (const e of history) {
    if (e.eventType === 'OrchestratorStarted' && episode.length) {
      shapes.add(episode.join(' '));
      episode = [];
    }
    const kind = { TaskCompleted: 'Resumed', TimerFired: 'Resumed', TaskScheduled: 'Scheduled', TimerCreated: 'Scheduled' }[e.eventType as string];
    episode.push(kind ?? e.eventType);
  }
  shapes.add(episode.join(' '));
  return [...shapes].sort();
};

const delays = (history: readonly HistoryEvent[]) =>
  eventsOf(history, 'TimerCreated').map((e) => Date.parse(e.fireAt) - Date.parse(e.timestamp));

test("the seed's monitor pattern completes under the test host, with the history shape of a real run", async () => {
  // A minute of checks every second: 59 timers to skip, then the last second without a timer.
  const config: MonitorConfig = { duration_hours: 1 / 60, polling_interval: 1 / 60 };
  const env = await createTestHost(seedMonitorApp(), { startTime: START });
  let virtual: HistoryEvent[];
  try {
    const id = await env.client.startNew('monitor_workflow', { input: config });
    const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 60_000 });
    assert.equal(status.runtimeStatus, 'Completed');
    assert.equal(status.output, 'Expired');
    assertAtOrJustAfter(env.now(), START.getTime() + MINUTE, 'now');
    virtual = await historyOf(env.client, id);
  } finally {
    await env.stop();
  }
  // The same code in real time, scaled down (600 ms, a check every 100 ms).
  const real = await withApp(
    sqliteTestStore,
    () => {},
    async ({ url }) => {
      const worker = await seedMonitorApp(url).startWorker({ pollIntervalMs: 50 });
      try {
        const status = await run(worker.client, 'monitor_workflow', { duration_hours: 0.6 / 3600, polling_interval: 0.1 / 60 });
        assert.equal(status.output, 'Expired');
        return historyOf(worker.client, status.instanceId);
      } finally {
        await worker.stop();
      }
    },
  );
  assert.match(steps(virtual), RUN_SHAPE);
  assert.match(steps(real), RUN_SHAPE);
  assert.deepEqual(episodeShapes(virtual), episodeShapes(real));
  // Timers were skipped, not waited for: (nearly) all 59 of them, each exactly one interval after its check.
  assert.ok(delays(virtual).length >= 50, `only ${delays(virtual).length} timers`);
  assert.ok(delays(virtual).every((d) => d === 1000));
  assert.ok(delays(real).every((d) => d === 100));
  // The same event types, in the same order, up to the first timer's firing.
  const types = (history: readonly HistoryEvent[]) => history.map((e) => e.eventType);
  const firstTimer = (history: readonly HistoryEvent[]) => types(history).indexOf('TimerFired') + 1;
  assert.deepEqual(types(virtual).slice(0, firstTimer(virtual)), types(real).slice(0, firstTimer(real)));
});
