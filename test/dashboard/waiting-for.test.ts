/**
 * The instance page says what a running instance waits for (events by name, timers with their due time, open
 * activities, children, entity calls and locks), draws a cancelled timer as cancelled, and offers the history as
 * a download; plus `waitingFor` alone on histories whose orchestrator is not registered here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DFApp, EntityId, parseExport, type Host } from '../../src/index.js';
import { waitingFor } from '../../src/dashboard/waiting-for.js';
import { sqliteTestStore } from '../support/stores.js';
import { eventually } from '../support/engine-helpers.js';

const DAY = 86_400_000;

describe('dashboard: what an instance waits for', () => {
  let host: Host;
  let cleanup: () => Promise<void>;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  before(async () => {
    const store = await sqliteTestStore.create();
    cleanup = store.cleanup;
    const app = new DFApp({ store: store.url, worker: { pollIntervalMs: 20 } });
    app.activity('slow', async () => {
      await gate;
      return 1;
    });
    app.entity('Account', (ctx) => ctx.setResult(ctx.getState(() => 0)));
    app.activity('charge', async () => {
      throw new RangeError('card declined');
    });
    app.orchestration('fails', function* (ctx) {
      return yield ctx.callActivity('charge');
    });
    app.orchestration('child', function* (ctx) {
      return yield ctx.waitForExternalEvent('never');
    });
    app.orchestration('waits', function* (ctx) {
      const deadline = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + DAY));
      const cancelled = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 2 * DAY));
      cancelled.cancel();
      const approval = ctx.waitForExternalEvent('Approval');
      const work = ctx.callActivity('slow');
      const child = ctx.callSubOrchestrator('child', undefined, 'waits-child');
      yield ctx.taskAny([deadline, approval, ctx.taskAll([work, child])]);
      return 'done';
    });
    app.orchestration('locks', function* (ctx) {
      const lock = yield ctx.lock([new EntityId('Account', 'alice')]);
      void lock;
      return yield ctx.waitForExternalEvent('go');
    });
    host = await app.start({ port: 0 });
  });
  after(async () => {
    release();
    await host.stop();
    await cleanup();
  });

  const page = async (id: string) => {
    const response = await fetch(`${host.url}/dashboard/instances/${encodeURIComponent(id)}`);
    assert.equal(response.status, 200);
    return response.text();
  };
  const section = (body: string) => {
    const start = body.indexOf('id="waiting-for"');
    return start < 0 ? '' : body.slice(start, body.indexOf('</section>', start));
  };

  test('events by name, the timer with its full due date, the activity and the child; the cancelled timer is drawn cancelled', async () => {
    await host.client.startNew('waits', { instanceId: 'w1' });
    const body = await eventually('the instance page to show the open work', async () => {
      const text = await page('w1');
      return section(text).includes('data-wait="sub-orchestration"') && section(text).includes('data-wait="activity"') ? text : undefined;
    });
    const waits = section(body);
    assert.match(waits, /data-wait="event">event <code>Approval<\/code>/);
    const history = (await host.client.getStatus('w1', { showHistory: true }))!.history!;
    const timers = history.filter((e) => e.eventType === 'TimerCreated') as { eventId: number; fireAt: string }[];
    const due = timers[0]!.fireAt.replace('T', ' ').slice(0, 19);
    const iso = new Date(timers[0]!.fireAt).toISOString();
    assert.ok(waits.includes(`fires at <time datetime="${iso}" title="${due} UTC">${due} UTC</time>`), `the due date ${due} in ${waits}`);
    assert.equal((waits.match(/data-wait="timer"/g) ?? []).length, 1, 'the cancelled timer is not waited for');
    assert.match(waits, /activity <code>slow<\/code>/);
    assert.match(waits, /sub-orchestration <a class="mono" href="\/dashboard\/instances\/waits-child">waits-child<\/a> \(child\)/);
    assert.match(body, new RegExp(`data-kind="timer" data-outcome="cancelled"`));
    // The compact view: one row per task with its outcome.
    const tasks = body.slice(body.indexOf('id="tasks"'), body.indexOf('</section>', body.indexOf('id="tasks"')));
    assert.deepEqual([...tasks.matchAll(/<tr data-task="(\d+)" data-outcome="(\w+)">/g)].map((m) => [Number(m[1]), m[2]]), [[0, 'open'], [1, 'cancelled'], [2, 'open'], [3, 'open']]);
    assert.equal((body.match(/data-kind="timer" data-outcome="open"/g) ?? []).length, 1);
  });

  test('a lock it holds reads as the entity, not as "event sent op #0"', async () => {
    await host.client.startNew('locks', { instanceId: 'l1' });
    const waits = await eventually('the lock to be held', async () => {
      const s = section(await page('l1'));
      return s.includes('its lock on') ? s : undefined;
    });
    assert.match(waits, /its lock on <code>account@alice<\/code>/);
    assert.match(waits, /event <code>go<\/code>/);
    // The timeline and the history table name the entity message, and its answer after the request.
    const body = await page('l1');
    assert.match(body, /<span class="kind">sent<\/span> lock account@alice/);
    assert.match(body, /<span class="kind">event received<\/span> answer: lock account@alice/);
    assert.match(body, /<td>EventSent<\/td>\s*<td class="nowrap">#0<\/td>\s*<td>lock account@alice<\/td>/);
  });

  test('a finished instance has no "Waiting for"; its history downloads in the export format', async () => {
    await host.client.startNew('child', { instanceId: 'c1' });
    await host.client.raiseEvent('c1', 'never', 5);
    await host.client.waitForCompletion('c1', { timeoutInMilliseconds: 10_000 });
    const body = await page('c1');
    assert.equal(section(body), '');
    assert.match(body, /<a class="button" id="download-history" href="\/dashboard\/instances\/c1\/history.jsonl" download>Download history \(JSON\)<\/a>/);
    const download = await fetch(`${host.url}/dashboard/instances/c1/history.jsonl`);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-disposition'), 'attachment; filename="c1.history.jsonl"');
    const [record] = parseExport(await download.text());
    assert.equal(record!.output, 5);
    assert.equal((await fetch(`${host.url}/dashboard/instances/nope/history.jsonl`)).status, 404);
  });

  test("the failure panel opens the user's error and its stack first", async () => {
    await host.client.startNew('fails', { instanceId: 'f1' });
    await host.client.waitForCompletion('f1', { timeoutInMilliseconds: 10_000 });
    const body = await page('f1');
    const panel = body.slice(body.indexOf('id="failure"'), body.indexOf('</section>', body.indexOf('id="failure"')));
    const items = [...panel.matchAll(/<div class="failure-item" data-depth="(\d)">\s*(?:<div class="muted">reported as<\/div>)?\s*<p><strong>([^<]+)<\/strong>/g)].map((m) => m[2]);
    assert.deepEqual(items, ['RangeError', 'TaskFailedError']);
    assert.match(panel, /<details open><summary>Stack trace<\/summary><pre class="stack">RangeError: card declined/);
  });

  test('without the orchestrator registered, open work comes from the history and events are unknown', async () => {
    const t = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
    const history = [
      { eventType: 'OrchestratorStarted', eventId: -1, timestamp: t(0) },
      { eventType: 'ExecutionStarted', eventId: -1, timestamp: t(0), name: 'elsewhere', instanceId: 'x', executionId: 'e' },
      { eventType: 'TaskScheduled', eventId: 0, timestamp: t(0), name: 'a' },
      { eventType: 'TimerCreated', eventId: 1, timestamp: t(0), fireAt: t(DAY) },
      { eventType: 'TaskScheduled', eventId: 2, timestamp: t(0), name: 'b' },
      { eventType: 'OrchestratorCompleted', eventId: -1, timestamp: t(0) },
      { eventType: 'TaskCompleted', eventId: -1, timestamp: t(5), taskScheduledId: 0, result: '1' },
    ] as const;
    const result = await waitingFor(history as never, undefined);
    assert.equal(result.replayed, false);
    assert.deepEqual(result.items.map((i) => i.kind), ['timer', 'activity']);
  });
});
