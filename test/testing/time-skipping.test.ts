import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DFApp, RetryOptions, type HistoryEvent, type OrchestrationContext, type Task } from '../../src/index.js';
import { createTestHost } from '../../src/testing/index.js';
import { eventsOf, historyOf, run, withApp } from '../support/engine-helpers.js';
import { sqliteTestStore } from '../support/stores.js';
import { assertAtOrJustAfter } from '../support/virtual-time.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = new Date('2025-03-01T09:00:00.000Z');
const WAIT = { timeoutInMilliseconds: 10_000 };

/** Event types in order: the "shape" of a history, which real and virtual time must share. */
const shape = (history: readonly HistoryEvent[]) => history.map((e) => e.eventType);

/** Delay of each timer: its fireAt minus the time of the episode that created it. */
const timerDelays = (history: readonly HistoryEvent[]) =>
  eventsOf(history, 'TimerCreated').map((e) => Date.parse(e.fireAt) - Date.parse(e.timestamp));

/** An app whose orchestration sleeps `input` ms on a durable timer between two activities. */
function sleeperApp(store?: string): DFApp {
  const app = new DFApp(store ? { store } : {});
  app.activity('stamp', (label: string) => label.toUpperCase());
  app.orchestration('sleeper', function* (ctx, ms: number) {
    const before = yield ctx.callActivity('stamp', 'before');
    const startedAt = ctx.currentUtcDateTime.getTime();
    yield ctx.createTimer(new Date(startedAt + ms));
    const after = yield ctx.callActivity('stamp', 'after');
    return { before, after, slept: ctx.currentUtcDateTime.getTime() - startedAt };
  });
  return app;
}

/** An app that retries a failing activity with a back-off starting at `input` ms (coefficient 2, 4 attempts). */
function retryApp(store?: string, failures = 3): DFApp {
  const app = new DFApp(store ? { store } : {});
  let calls = 0;
  app.activity('flaky', () => {
    calls++;
    if (calls <= failures) throw new Error(`attempt ${calls} failed`);
    return `succeeded on attempt ${calls}`;
  });
  app.orchestration('retrying', function* (ctx, firstRetryMs: number) {
    const retry = new RetryOptions(firstRetryMs, 4);
    retry.backoffCoefficient = 2;
    return yield ctx.callActivityWithRetry('flaky', retry, 'payload');
  });
  return app;
}

/** An approval that times out after `input` ms unless the 'Approval' event comes first. */
function approvalApp(): DFApp {
  const app = new DFApp();
  app.orchestration('approval', function* (ctx: OrchestrationContext, timeoutMs: number) {
    const deadline = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + timeoutMs));
    const approval: Task<string> = ctx.waitForExternalEvent<string>('Approval');
    const winner = yield ctx.taskAny([approval, deadline]);
    if (winner === approval) {
      deadline.cancel();
      return { outcome: `approved by ${approval.result}`, at: ctx.currentUtcDateTime.toISOString() };
    }
    return { outcome: 'timed out', at: ctx.currentUtcDateTime.toISOString() };
  });
  return app;
}

describe('test host time skipping', () => {
  test('a 30-day timer is skipped: it fires at its fireAt, not before, with the history a real run writes', async () => {
    const env = await createTestHost(sleeperApp(), { startTime: START });
    let virtual: HistoryEvent[];
    try {
      const id = await env.client.startNew('sleeper', { input: 30 * DAY });
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.equal(status.runtimeStatus, 'Completed');
      const output = status.output as { before: string; after: string; slept: number };
      assert.deepEqual([output.before, output.after], ['BEFORE', 'AFTER']);
      // 30 days skipped, plus the real milliseconds the episode and activity after the timer took.
      assertAtOrJustAfter(output.slept, 30 * DAY, 'slept');
      assertAtOrJustAfter(env.now(), START.getTime() + 30 * DAY, 'now');
      virtual = await historyOf(env.client, id);
      const [created] = eventsOf(virtual, 'TimerCreated');
      assert.equal(Date.parse(created!.fireAt) - Date.parse(created!.timestamp), 30 * DAY);
      assertAtOrJustAfter(created?.fireAt, START.getTime() + 30 * DAY, 'fireAt');
      // The episode that saw the timer fire ran at the timer's time, not a moment later.
      const fired = virtual.findIndex((e) => e.eventType === 'TimerFired');
      assert.equal(virtual[fired - 1]?.eventType, 'OrchestratorStarted');
      assertAtOrJustAfter(virtual[fired - 1]?.timestamp, created!.fireAt, 'the TimerFired episode');
      assert.equal(status.createdTime.getTime(), START.getTime());
    } finally {
      await env.stop();
    }
    // The same orchestration in real time (with a short timer) writes a history of the same shape.
    const real = await withApp(
      sqliteTestStore,
      () => {},
      async ({ url }) => {
        const app = sleeperApp(url);
        const worker = await app.startWorker({ pollIntervalMs: 50 });
        try {
          const status = await run(worker.client, 'sleeper', 30);
          assert.equal(status.runtimeStatus, 'Completed');
          return historyOf(worker.client, status.instanceId);
        } finally {
          await worker.stop();
        }
      },
    );
    assert.deepEqual(shape(virtual), shape(real));
    assert.deepEqual(timerDelays(real), [30]);
    assert.deepEqual(timerDelays(virtual), [30 * DAY]);
  });

  test('an hour-long retry back-off is skipped with the TimerCreated fireAt values real time gives', async () => {
    const env = await createTestHost(retryApp(), { startTime: START });
    let virtual: HistoryEvent[];
    try {
      const id = await env.client.startNew('retrying', { input: HOUR });
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.equal(status.runtimeStatus, 'Completed');
      assert.equal(status.output, 'succeeded on attempt 4');
      virtual = await historyOf(env.client, id);
      // Back-off 1 h, 2 h, 4 h, each counted from the episode that saw the failure.
      assert.deepEqual(timerDelays(virtual), [HOUR, 2 * HOUR, 4 * HOUR]);
      eventsOf(virtual, 'TimerCreated').forEach((e, i) => assertAtOrJustAfter(e.fireAt, START.getTime() + [1, 3, 7][i]! * HOUR, `fireAt ${i}`));
      assertAtOrJustAfter(env.now(), START.getTime() + 7 * HOUR, 'now');
      assert.deepEqual(
        env.calls('flaky').map((c) => c.input),
        ['payload', 'payload', 'payload', 'payload'],
      );
    } finally {
      await env.stop();
    }
    const real = await withApp(
      sqliteTestStore,
      () => {},
      async ({ url }) => {
        const worker = await retryApp(url).startWorker({ pollIntervalMs: 50 });
        try {
          const status = await run(worker.client, 'retrying', 20);
          assert.equal(status.output, 'succeeded on attempt 4');
          return historyOf(worker.client, status.instanceId);
        } finally {
          await worker.stop();
        }
      },
    );
    // Real time follows the same rule (fireAt = time of the failing episode + back-off) and shape.
    assert.deepEqual(timerDelays(real), [20, 40, 80]);
    assert.deepEqual(shape(virtual), shape(real));
  });

  test('a 30-day wait for an event: the timeout wins when nobody raises it', async () => {
    const env = await createTestHost(approvalApp(), { startTime: START });
    try {
      const id = await env.client.startNew('approval', { input: 30 * DAY });
      const status = await env.client.waitForCompletion(id, WAIT);
      const output = status.output as { outcome: string; at: string };
      assert.equal(output.outcome, 'timed out');
      assertAtOrJustAfter(output.at, START.getTime() + 30 * DAY, 'at');
    } finally {
      await env.stop();
    }
  });

  test('a 30-day wait for an event: an event raised before waiting wins, and the clock does not skip', async () => {
    const env = await createTestHost(approvalApp(), { startTime: START });
    try {
      const id = await env.client.startNew('approval', { input: 30 * DAY });
      await env.waitForIdle();
      await env.client.raiseEvent(id, 'Approval', 'alice');
      const status = await env.client.waitForCompletion(id, WAIT);
      const output = status.output as { outcome: string; at: string };
      assert.equal(output.outcome, 'approved by alice');
      // No skip: only the real milliseconds of the work.
      assertAtOrJustAfter(output.at, START, 'at');
      assertAtOrJustAfter(env.now(), START, 'now');
      const history = await historyOf(env.client, id);
      assert.equal(eventsOf(history, 'TimerFired').length, 0);
    } finally {
      await env.stop();
    }
  });

  test('with automatic skipping off, time moves only by advanceTime, and an event can beat the deadline', async () => {
    const env = await createTestHost(approvalApp(), { startTime: START, autoSkipTime: false });
    try {
      const id = await env.client.startNew('approval', { input: 30 * DAY });
      await env.advanceTime(29 * DAY);
      // A bounded wait returns the status at its timeout: the 30-day timer has not fired on day 29.
      const waiting = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 100 });
      assert.equal(waiting.runtimeStatus, 'Running');
      assertAtOrJustAfter(env.now(), START.getTime() + 29 * DAY, 'now');
      const day29 = env.now().getTime();
      await env.client.raiseEvent(id, 'Approval', 'bob');
      const status = await env.client.waitForCompletion(id, WAIT);
      const output = status.output as { outcome: string; at: string };
      assert.equal(output.outcome, 'approved by bob');
      assertAtOrJustAfter(output.at, day29, 'at');
    } finally {
      await env.stop();
    }
  });

  test('advanceTime fires each timer due on the way at its own time, and stops at the target', async () => {
    const app = new DFApp();
    app.orchestration('ticks', function* (ctx) {
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + HOUR));
        seen.push(ctx.currentUtcDateTime.toISOString());
        ctx.setCustomStatus(seen.length);
      }
      return seen;
    });
    const env = await createTestHost(app, { startTime: START, autoSkipTime: false });
    try {
      const id = await env.client.startNew('ticks');
      await env.advanceTime(2.5 * HOUR);
      assertAtOrJustAfter(env.now(), START.getTime() + 2.5 * HOUR, 'now');
      const midway = await env.client.getStatus(id);
      assert.equal(midway?.runtimeStatus, 'Running');
      assert.equal(midway?.customStatus, 2);
      await env.advanceTime(HOUR);
      const done = await env.client.getStatus(id);
      assert.equal(done?.runtimeStatus, 'Completed');
      (done?.output as string[]).forEach((at, i) => assertAtOrJustAfter(at, START.getTime() + (i + 1) * HOUR, `tick ${i + 1}`));
    } finally {
      await env.stop();
    }
  });

  test('time does not skip while an activity is still running', async () => {
    const app = new DFApp();
    app.activity('slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return 'activity';
    });
    app.orchestration('race', function* (ctx) {
      const timer = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + HOUR));
      const work = ctx.callActivity('slow');
      const winner = yield ctx.taskAny([work, timer]);
      if (winner === work) timer.cancel();
      return winner === work ? work.result : 'timer';
    });
    const env = await createTestHost(app, { startTime: START });
    try {
      const id = await env.client.startNew('race');
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.equal(status.output, 'activity');
      // The clock ran with the activity's real 50 ms, and skipped nothing.
      assertAtOrJustAfter(env.now(), START.getTime() + 50, 'now');
    } finally {
      await env.stop();
    }
  });

  test('a sub-orchestration with its own long timer is skipped too', async () => {
    const app = new DFApp();
    app.orchestration('child', function* (ctx, days: number) {
      yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + days * DAY));
      return `child slept ${days} days`;
    });
    app.orchestration('parent', function* (ctx) {
      const results = yield ctx.taskAll([ctx.callSubOrchestrator('child', 7), ctx.callSubOrchestrator('child', 3)]);
      return { results, at: ctx.currentUtcDateTime.toISOString() };
    });
    const env = await createTestHost(app, { startTime: START });
    try {
      const id = await env.client.startNew('parent');
      const status = await env.client.waitForCompletion(id, WAIT);
      const output = status.output as { results: string[]; at: string };
      assert.deepEqual(output.results, ['child slept 7 days', 'child slept 3 days']);
      assertAtOrJustAfter(output.at, START.getTime() + 7 * DAY, 'at');
    } finally {
      await env.stop();
    }
  });

  test('advanceTime rejects a negative or non-finite duration', async () => {
    const env = await createTestHost(new DFApp());
    try {
      await assert.rejects(env.advanceTime(-1), { name: 'ValidationError' });
      await assert.rejects(env.advanceTime(Number.NaN), { name: 'ValidationError' });
    } finally {
      await env.stop();
    }
    await assert.rejects(env.advanceTime(1), { name: 'ValidationError', message: /stopped/ });
  });
});
