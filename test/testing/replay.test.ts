import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DFApp, NonDeterministicOrchestrationError, type HistoryEvent } from '../../src/index.js';
import { assertReplayable, captureHistory, createTestHost, readHistoryFile, replayHistory, ReplayError } from '../../src/testing/index.js';
import { run, withApp } from '../support/engine-helpers.js';
import { sqliteTestStore } from '../support/stores.js';

type Variant = 'original' | 'renamed' | 'timer' | 'fewer' | 'more' | 'throws' | 'refactored';

/** The shipping orchestration, and variants of it as a later commit might change it. */
function shippingApp(variant: Variant = 'original', store?: string): DFApp {
  const app = new DFApp(store ? { store } : {});
  app.activity('pack', (item: string) => `packed ${item}`);
  app.activity('ship', (parcel: string) => `${parcel}, shipped`);
  app.activity('shipExpress', (parcel: string) => `${parcel}, shipped express`);
  app.activity('notify', (text: string) => text.length);
  app.orchestration('shipping', function* (ctx, item: string) {
    const parcel: string = yield ctx.callActivity('pack', item);
    if (variant === 'refactored') {
      // Same actions in the same order, written differently: still replays.
      const shipped = (yield ctx.callActivity('ship', parcel)) as string;
      return { shipped, notified: (yield ctx.callActivity('notify', shipped)) as number };
    }
    if (variant === 'throws') throw new Error('validation added later rejects every parcel');
    let shipped: string;
    if (variant === 'renamed') shipped = yield ctx.callActivity('shipExpress', parcel);
    else if (variant === 'timer') {
      yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 1000));
      shipped = 'later';
    } else shipped = yield ctx.callActivity('ship', parcel);
    if (variant === 'fewer') return { shipped };
    const notified: number = yield ctx.callActivity('notify', shipped);
    if (variant === 'more') yield ctx.callActivity('notify', 'again');
    return { shipped, notified };
  });
  return app;
}

describe('replayHistory', () => {
  let dir: string;
  let fixture: string;
  let history: HistoryEvent[];

  before(async () => {
    // A history captured from a real run (a real worker on a SQLite file), saved as a JSON fixture.
    dir = mkdtempSync(join(tmpdir(), 'duraflow-replay-'));
    fixture = join(dir, 'shipping.history.json');
    await withApp(
      sqliteTestStore,
      () => {},
      async ({ url }) => {
        const worker = await shippingApp('original', url).startWorker({ pollIntervalMs: 50 });
        try {
          const status = await run(worker.client, 'shipping', 'lamp');
          assert.deepEqual(status.output, { shipped: 'packed lamp, shipped', notified: 20 });
          writeFileSync(fixture, JSON.stringify(await captureHistory(worker.client, status.instanceId), null, 2));
          writeFileSync(
            join(dir, 'status.json'),
            JSON.stringify(await worker.client.getStatus(status.instanceId, { showHistory: true, showHistoryOutput: true })),
          );
          writeFileSync(
            join(dir, 'no-output.json'),
            JSON.stringify(await worker.client.getStatus(status.instanceId, { showHistory: true })),
          );
        } finally {
          await worker.stop();
        }
      },
    );
    history = readHistoryFile(fixture);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the unchanged orchestrator replays its saved history', () => {
    const result = replayHistory(shippingApp(), history);
    assert.deepEqual(result, { ok: true, status: 'Completed', output: { shipped: 'packed lamp, shipped', notified: 20 } });
    assert.doesNotThrow(() => assertReplayable(shippingApp(), history));
  });

  test('a whole status object, or its JSON text, is accepted too', () => {
    const status = readHistoryFile(join(dir, 'status.json'));
    assert.deepEqual(status, history);
    assert.equal(replayHistory(shippingApp(), JSON.stringify({ history })).ok, true);
  });

  test('a refactoring that keeps the same actions still replays', () => {
    assert.equal(replayHistory(shippingApp('refactored'), history).ok, true);
  });

  test('a renamed activity is reported as non-determinism naming both actions', () => {
    const result = replayHistory(shippingApp('renamed'), history);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.error instanceof NonDeterministicOrchestrationError);
    assert.match(result.error.message, /'ship'/);
    assert.match(result.error.message, /'shipExpress'/);
    assert.throws(() => assertReplayable(shippingApp('renamed'), history), { name: 'NonDeterministicOrchestrationError' });
  });

  test('a timer where history has an activity is reported', () => {
    const result = replayHistory(shippingApp('timer'), history);
    assert.ok(!result.ok && result.error instanceof NonDeterministicOrchestrationError);
    assert.match(result.error.message, /timer/i);
  });

  test('fewer and more actions than history recorded are reported', () => {
    const fewer = replayHistory(shippingApp('fewer'), history);
    assert.ok(!fewer.ok && fewer.error instanceof NonDeterministicOrchestrationError);
    assert.match(fewer.error.message, /'notify'/);
    const more = replayHistory(shippingApp('more'), history);
    assert.ok(!more.ok && more.error instanceof NonDeterministicOrchestrationError);
    assert.match(more.error.message, /more actions/);
  });

  test('an orchestrator that now fails where history completed is reported with its failure', () => {
    const result = replayHistory(shippingApp('throws'), history);
    assert.ok(!result.ok && result.error instanceof ReplayError);
    assert.match(result.error.message, /ended Completed/);
    assert.match(result.error.message, /validation added later rejects every parcel/);
    assert.equal(result.error.failureDetails?.errorType, 'Error');
  });

  test('a history saved without showHistoryOutput gets a hint when replay goes wrong', () => {
    const withoutResults = readHistoryFile(join(dir, 'no-output.json'));
    const app = new DFApp();
    app.orchestration('shipping', function* (ctx) {
      const parcel: string = yield ctx.callActivity('pack', 'x');
      yield ctx.callActivity('ship', parcel.toUpperCase());
      yield ctx.callActivity('notify', 'x');
      return 'done';
    });
    const result = replayHistory(app, withoutResults);
    assert.ok(!result.ok);
    assert.match(result.error.message, /showHistoryOutput: true/);
  });

  test('a history of a running instance replays to Running; a recorded failure replays to the same failure', async () => {
    const app = new DFApp();
    app.activity('check', (n: number) => {
      if (n < 0) throw new RangeError('negative');
      return n;
    });
    app.orchestration('gate', function* (ctx, n: number) {
      yield ctx.callActivity('check', n);
      return yield ctx.waitForExternalEvent('open');
    });
    const env = await createTestHost(app);
    try {
      const waiting = await env.client.startNew('gate', { input: 1 });
      const failing = await env.client.startNew('gate', { input: -1 });
      assert.equal((await env.client.waitForCompletion(failing, { timeoutInMilliseconds: 10_000 })).runtimeStatus, 'Failed');
      await env.waitForIdle();
      assert.deepEqual(replayHistory(app, await captureHistory(env.client, waiting)), { ok: true, status: 'Running' });
      assert.deepEqual(replayHistory(app, await captureHistory(env.client, failing)), { ok: true, status: 'Failed' });
    } finally {
      await env.stop();
    }
  });

  test('input that is not a history is refused with a ValidationError', () => {
    const app = shippingApp();
    assert.throws(() => replayHistory(app, '{not json'), { name: 'ValidationError', message: /not valid JSON/ });
    assert.throws(() => replayHistory(app, { history: undefined }), { name: 'ValidationError' });
    assert.throws(() => replayHistory(app, [{ nope: 1 } as never]), { name: 'ValidationError', message: /#0/ });
    assert.throws(() => replayHistory(app, history.filter((e) => e.eventType !== 'ExecutionStarted')), {
      name: 'ValidationError',
      message: /ExecutionStarted/,
    });
  });

  test('an orchestration the app no longer has is reported', () => {
    const result = replayHistory(new DFApp(), history);
    assert.ok(!result.ok && result.error instanceof ReplayError);
    assert.match(result.error.message, /not registered/);
  });
});
