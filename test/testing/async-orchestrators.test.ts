/**
 * `async` orchestrators in duraflow/testing: the test host's virtual time, mocks of activities and
 * `ctx.callHttp`, entities and locks, `isPatched`, custom status; `replayHistoryAsync` over the history of an
 * async run; and a generator and an async orchestrator doing the same calls write histories of the same shape.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DFApp, NonDeterministicOrchestrationError, ValidationError, type EntityContext, type HistoryEvent, type OrchestrationContext, type Task } from '../../src/index.js';
import { createTestHost, HTTP_ACTIVITY_NAME, replayHistory, replayHistoryAsync, captureHistory } from '../../src/testing/index.js';

const DAY = 24 * 3_600_000;
const START = new Date('2025-03-01T09:00:00.000Z');
const WAIT = { timeoutInMilliseconds: 10_000 };

/** The order flow of issue 22, in one style or the other. */
function orderApp(style: 'generator' | 'async', quoteName = 'quote'): DFApp {
  const app = new DFApp();
  const quote = app.activity(quoteName, (item: string) => item.length * 10);
  app.activity('x', () => 'X');
  app.activity('y', () => 'Y');
  const counterRef = app.entity('Counter', (ctx: EntityContext<number>) => {
    if (ctx.operationName === 'add') ctx.setState((ctx.getState(() => 0) ?? 0) + ctx.getInput<number>());
    return ctx.getState(() => 0);
  });
  const counter = counterRef.id('orders');
  if (style === 'async') {
    app.orchestration('order', async (ctx: OrchestrationContext, item: string) => {
      const price = await ctx.callActivity(quote, item);
      const [a, b] = await Promise.all([ctx.callActivity('x'), ctx.callActivity('y')]);
      ctx.setCustomStatus({ price });
      const deadline = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 7 * DAY));
      const approval = ctx.waitForExternalEvent<string>('approval');
      const winner = await ctx.taskAny([approval, deadline]);
      if (winner === approval) deadline.cancel();
      const http = await ctx.callHttp({ method: 'GET', uri: 'https://rates.example/eur' });
      const lock = await ctx.lock([counter]);
      const count = await ctx.callEntity(counter, 'add', 1);
      lock.release();
      const patched = ctx.isPatched('v2');
      return { price, a, b, approved: winner === approval ? approval.result : 'timed out', rate: http.content, count, patched };
    });
  } else {
    app.orchestration('order', function* (ctx: OrchestrationContext, item: string): Generator<Task<any>, unknown, any> {
      const price = yield* ctx.callActivity(quote, item);
      const [a, b]: string[] = yield ctx.taskAll([ctx.callActivity('x'), ctx.callActivity('y')]);
      ctx.setCustomStatus({ price });
      const deadline = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 7 * DAY));
      const approval = ctx.waitForExternalEvent<string>('approval');
      const winner = yield ctx.taskAny([approval, deadline]);
      if (winner === approval) deadline.cancel();
      const http = yield ctx.callHttp({ method: 'GET', uri: 'https://rates.example/eur' });
      const lock = yield ctx.lock([counter]);
      const count = yield ctx.callEntity(counter, 'add', 1);
      lock.release();
      const patched = ctx.isPatched('v2');
      return { price, a, b, approved: winner === approval ? approval.result : 'timed out', rate: http.content, count, patched };
    });
  }
  return app;
}

/** What a history says regardless of ids and times (an entity's answer is an event named by a request UUID). */
const shape = (history: readonly HistoryEvent[]) =>
  history.map((e) => {
    const name = 'name' in e && e.name ? (/^[0-9a-f]{8}-[0-9a-f-]{27}$/.test(e.name) ? ':<entity response>' : `:${e.name}`) : '';
    return `${e.eventType}${name}${'eventId' in e && e.eventId >= 0 ? `#${e.eventId}` : ''}`;
  });

async function runOrder(style: 'generator' | 'async'): Promise<{ output: unknown; customStatus: unknown; history: HistoryEvent[]; httpCalls: number; elapsed: number }> {
  const env = await createTestHost(orderApp(style), { startTime: START });
  try {
    env.mockHttp(() => ({ statusCode: 200, headers: {}, content: '1.08' }));
    env.mockActivity('x', () => 'mocked X');
    const id = await env.client.startNew('order', { input: 'tea' });
    const status = await env.client.waitForCompletion(id, WAIT); // the 7-day deadline passes in virtual time
    assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.failureDetails));
    return {
      output: status.output,
      customStatus: status.customStatus,
      history: await captureHistory(env.client, id),
      httpCalls: env.calls(HTTP_ACTIVITY_NAME).length,
      elapsed: env.now().getTime() - START.getTime(),
    };
  } finally {
    await env.stop();
  }
}

describe('async orchestrators in duraflow/testing', () => {
  test('the test host runs an async orchestrator with virtual time, mocks, callHttp, an entity lock and isPatched', async () => {
    const run = await runOrder('async');
    assert.deepEqual(run.output, { price: 30, a: 'mocked X', b: 'Y', approved: 'timed out', rate: '1.08', count: 1, patched: true });
    assert.deepEqual(run.customStatus, { price: 30 });
    assert.equal(run.httpCalls, 1);
    assert.ok(run.elapsed >= 7 * DAY, 'the deadline timer was skipped to');
  });

  test('a generator and an async orchestrator doing the same calls write histories of the same shape', async () => {
    const [generator, async] = [await runOrder('generator'), await runOrder('async')];
    assert.deepEqual(async.output, generator.output);
    assert.deepEqual(shape(async.history), shape(generator.history));
  });

  test('replayHistoryAsync replays an async history, and finds a change of code; replayHistory points to it', async () => {
    const { history } = await runOrder('async');
    assert.deepEqual(await replayHistoryAsync(orderApp('async'), history), {
      ok: true,
      status: 'Completed',
      output: { price: 30, a: 'mocked X', b: 'Y', approved: 'timed out', rate: '1.08', count: 1, patched: true },
    });
    // The generator twin replays the async history too: same calls, same history.
    assert.equal((await replayHistoryAsync(orderApp('generator'), history)).ok, true);
    const changed = await replayHistoryAsync(orderApp('async', 'estimate'), history);
    assert.equal(changed.ok, false);
    assert.ok(!changed.ok && changed.error instanceof NonDeterministicOrchestrationError);
    assert.match(changed.ok ? '' : changed.error.message, /history recorded callActivity\('quote'\) #0, but the orchestrator code now schedules callActivity\('estimate'\) #0/);
    assert.throws(() => replayHistory(orderApp('async'), history), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /'order' is an async function.*replayHistoryAsync/);
      return true;
    });
  });
});
