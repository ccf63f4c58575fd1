/**
 * The dashboard's schedule pages against a real host: the list and schedule page over HTTP (next runs, last runs
 * with links, escaped user data, 404s, the action endpoints and their errors), then pause, resume and "Run now"
 * clicked in a real headless Chromium.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DurableClient } from '../../src/index.js';
import type { Host } from '../../src/app/df-app.js';
import { launchBrowser } from '../support/browser.js';
import { sqliteTestStore } from '../support/stores.js';
import { createDashboardApp } from './dashboard-app.js';

const XSS = '<script>alert(1)</script>';

let host: Host;
let client: DurableClient;
let cleanup: () => Promise<void>;

before(async () => {
  const store = await sqliteTestStore.create();
  cleanup = store.cleanup;
  host = await createDashboardApp(store.url, undefined, { worker: { pollIntervalMs: 50 } }).start({ port: 0 });
  client = host.client;
});
after(async () => {
  await host?.stop();
  await cleanup?.();
});

const action = (path: string, body: unknown) =>
  fetch(`${host.url}/dashboard/api/schedules/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-duraflow-dashboard': '1' },
    body: JSON.stringify(body),
  });

describe('schedule pages over HTTP', () => {
  test('the list shows timing, state, the next runs and the last run with a link; user data is escaped', async () => {
    await client.createSchedule({ scheduleId: 'berlin', orchestration: 'echo', cron: '0 2 * * *', timeZone: 'Europe/Berlin', startAt: new Date('2031-01-01T00:00:00Z'), input: XSS });
    const runId = await client.triggerSchedule('berlin');
    await client.pauseSchedule('berlin', XSS);
    await client.resumeSchedule('berlin');
    await client.pauseSchedule('berlin', XSS);
    await client.createSchedule({ scheduleId: 'tick', orchestration: 'echo', every: 3_600_000, startAt: new Date('2031-01-01T00:00:00Z') });
    const list = await (await fetch(`${host.url}/dashboard/schedules`)).text();
    assert.match(list, /<a href="\/dashboard\/schedules\/berlin">berlin<\/a>/);
    assert.match(list, /data-schedule-state="Paused"/);
    assert.ok(list.includes(`href="/dashboard/instances/${encodeURIComponent(runId)}"`), 'the last run links to its instance');
    assert.ok(!list.includes(XSS) && list.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the pause reason is escaped');
    const tickRow = list.slice(list.indexOf('data-schedule="tick"'));
    const at = (hour: string) => `<time datetime="2031-01-01T${hour}:00:00.000Z" title="2031-01-01 ${hour}:00:00 UTC">2031-01-01 ${hour}:00:00</time>`;
    assert.ok(tickRow.includes(`<td class="nowrap" data-next-runs>${at('00')}<br>${at('01')}<br>${at('02')}</td>`), tickRow);
    const page = await fetch(`${host.url}/dashboard/schedules/berlin`);
    const text = await page.text();
    assert.equal(page.status, 200);
    assert.match(text, /Paused: no runs until resumed\./);
    assert.match(text, /data-outcome="triggered"/);
    assert.ok(!text.includes(XSS), 'input and reason are escaped on the schedule page');
    const next = await (await fetch(`${host.url}/dashboard/schedules/tick`)).text();
    assert.match(next, /<li class="mono"><time datetime="2031-01-01T04:00:00.000Z" [^>]*>2031-01-01 04:00:00<\/time><\/li>/, 'five next runs');
    assert.equal((await fetch(`${host.url}/dashboard/schedules/nope`)).status, 404);
    assert.equal((await fetch(`${host.url}/dashboard/schedules/${encodeURIComponent('a:b')}`)).status, 404);
    await client.deleteSchedule('berlin');
    await client.deleteSchedule('tick');
  });

  test('actions: pause with a reason, resume, trigger; unknown schedules and actions are 404, bad bodies 400', async () => {
    await client.createSchedule({ scheduleId: 'act', orchestration: 'echo', every: 3_600_000 });
    const paused = await action('act/pause', { reason: 'lunch' });
    assert.equal(paused.status, 200);
    assert.equal(((await paused.json()) as { state: string }).state, 'Paused');
    assert.equal((await client.getSchedule('act'))?.pausedReason, 'lunch');
    assert.equal((await action('act/resume', {})).status, 200);
    const triggered = (await (await action('act/trigger', {})).json()) as { instanceId: string };
    assert.match(triggered.instanceId, /^act:/);
    assert.equal((await action('nope/pause', {})).status, 404);
    assert.equal((await action('act/explode', {})).status, 404);
    assert.equal((await action('act/pause', { reason: 5 })).status, 400);
    const forged = await fetch(`${host.url}/dashboard/api/schedules/act/trigger`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(forged.status, 403, 'without the dashboard header');
    await client.deleteSchedule('act');
  });
});

test('in Chromium: pause, resume and Run now from the schedule list', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  try {
    await client.createSchedule({ scheduleId: 'ui', orchestration: 'echo', every: 3_600_000, input: XSS });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(`${host.url}/dashboard/schedules`);
    await page.waitForFunction(() => document.documentElement.dataset['islands'] === 'ready');
    const row = page.locator('tr[data-schedule="ui"]');
    await row.locator('button[data-action="pause"]').click();
    await page.fill('#field-reason', 'from the browser');
    await page.locator('dialog button[type="submit"], .dialog button[type="submit"], form button.primary').last().click();
    await page.waitForFunction(() => document.querySelector('tr[data-schedule="ui"] [data-schedule-state]')?.getAttribute('data-schedule-state') === 'Paused', undefined, { timeout: 10_000 });
    assert.equal((await client.getSchedule('ui'))?.pausedReason, 'from the browser');
    await row.locator('button[data-action="resume"]').click();
    await page.waitForFunction(() => document.querySelector('tr[data-schedule="ui"] [data-schedule-state]')?.getAttribute('data-schedule-state') === 'Active', undefined, { timeout: 10_000 });
    await row.locator('button[data-action="trigger"]').click();
    await page.waitForFunction(() => document.querySelector('tr[data-schedule="ui"] a[href^="/dashboard/instances/ui%3A"]') !== null, undefined, { timeout: 10_000 });
    const link = row.locator('a[href^="/dashboard/instances/ui%3A"]');
    const runId = (await link.textContent())!;
    assert.equal((await client.waitForCompletion(runId, { timeoutInMilliseconds: 10_000 })).output, XSS);
    await link.click();
    await page.waitForURL(/\/dashboard\/instances\/ui%3A/);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
