/**
 * The dashboard in a real headless Chromium: a host runs orchestrations; the test opens the list and an
 * instance's timeline, raises an event that completes a waiting instance and terminates another through the
 * UI, starts an instance from the UI, and checks that user data with `<script>` never runs (any JS dialog
 * fails the test). It also saves the screenshots in docs/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { DurableClient } from '../../src/index.js';
import type { Host } from '../../src/app/df-app.js';
import { launchBrowser } from '../support/browser.js';
import { sqliteTestStore } from '../support/stores.js';
import { createDashboardApp } from './dashboard-app.js';

const XSS = '<script>alert(1)</script>';
const XSS_ID = `xss-"'<img src=x onerror=alert(2)> é%`;

let host: Host;
let client: DurableClient;
let cleanup: () => Promise<void>;
let pipelineId: string;

async function waitForStatus(id: string, status: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if ((await client.getStatus(id))?.runtimeStatus === status) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`instance ${id} did not reach ${status}`);
}

before(async () => {
  const store = await sqliteTestStore.create();
  cleanup = store.cleanup;
  host = await createDashboardApp(store.url).start({ port: 0 });
  client = host.client;
  pipelineId = await client.startNew('pipeline', { instanceId: 'pipeline-1' });
  await client.startNew('approval', { instanceId: 'approve-me' });
  await client.startNew('approval', { instanceId: 'terminate-me' });
  await client.startNew('echo', { instanceId: XSS_ID, input: XSS });
  await client.startNew('broken', { instanceId: 'broken-1' });
  for (const id of [pipelineId, XSS_ID, 'broken-1']) await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
  await waitForStatus('approve-me', 'Running');
  await waitForStatus('terminate-me', 'Running');
});

after(async () => {
  await host?.stop();
  await cleanup?.();
});

/** Opens a page that fails the test on any JS dialog or uncaught page error. */
async function openPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const problems: string[] = [];
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // A 400 is the answer the test provokes on purpose (a refused start); a missing asset (404) or a CSP violation is not.
    if (message.type() === 'error' && !/status of 400/.test(message.text())) problems.push(`console error: ${message.text()}`);
  });
  return { page, problems };
}

const statusOf = (page: Page) => page.locator('#instance-status [data-status]').getAttribute('data-status');

async function waitForPageStatus(page: Page, status: string): Promise<void> {
  await page.waitForFunction((s) => document.querySelector('#instance-status [data-status]')?.getAttribute('data-status') === s, status, {
    timeout: 20_000,
  });
}

const instanceUrl = (id: string) => `${host.url}/dashboard/instances/${encodeURIComponent(id)}`;

test('the dashboard in Chromium: list, timeline, raise event, terminate, start, escaped user data', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  try {
    const { page, problems } = await openPage(browser);

    await t.test('the list shows every instance with counts per status and a histogram', async () => {
      await page.goto(`${host.url}/dashboard`);
      await page.waitForSelector('html[data-islands="ready"]');
      const all = await client.getStatusAll();
      const rows = await page.locator('table.instances tbody tr[data-instance-id]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-instance-id')));
      assert.deepEqual(new Set(rows), new Set(all.map((s) => s.instanceId)));
      for (const status of ['Completed', 'Failed', 'Running']) {
        const expected = all.filter((s) => s.runtimeStatus === status).length;
        assert.equal(await page.locator(`[data-count="${status}"]`).textContent(), String(expected), `count of ${status}`);
      }
      assert.ok((await page.locator('svg.histogram rect.bar-completed').count()) > 0);
      // The XSS instance id is shown as text.
      assert.equal(await page.locator(`tr[data-instance-id="${XSS_ID.replace(/"/g, '\\"')}"] td a`).textContent(), XSS_ID);
    });

    await t.test('times are shown in UTC, with the local time (the browser zone, here Tokyo) on hover', async () => {
      const tokyo = await browser.newPage({ timezoneId: 'Asia/Tokyo', locale: 'en-US' });
      try {
        await tokyo.goto(`${host.url}/dashboard`);
        await tokyo.waitForSelector('html[data-islands="ready"]');
        const cell = tokyo.locator('table.instances tbody tr[data-instance-id] td:nth-child(5) time').first();
        const iso = (await cell.getAttribute('datetime'))!;
        assert.equal(await cell.textContent(), iso.replace('T', ' ').slice(0, 19), 'the cell shows UTC');
        const local = new Date(Date.parse(iso) + 9 * 3_600_000);
        const pad = (n: number) => String(n).padStart(2, '0');
        const hhmmss = `${pad(local.getUTCHours() % 12 || 12)}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
        const title = (await cell.getAttribute('title'))!;
        assert.ok(title.includes(hhmmss) && /GMT\+9|JST/.test(title) && title.includes('local time'), `local time ${hhmmss} in '${title}'`);
        const axis = (await tokyo.locator('#histogram .axis time').first().getAttribute('title'))!;
        assert.match(axis, /local time/);
      } finally {
        await tokyo.close();
      }
    });

    await t.test('a status chip filters the list', async () => {
      await page.click('a.chip.status-running');
      await page.waitForURL(/status=Running/);
      const statuses = await page.locator('table.instances tbody [data-status]').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
      assert.deepEqual(statuses, ['Running', 'Running']);
    });

    await t.test("an instance's timeline pairs activities, the timer and the child, and links to the child", async () => {
      await page.goto(instanceUrl(pipelineId));
      await page.waitForSelector('html[data-islands="ready"]');
      const spans = await page.locator('.gantt-row').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-kind')}:${r.getAttribute('data-outcome')}`));
      assert.deepEqual(spans, ['orchestration:completed', 'activity:completed', 'activity:completed', 'timer:completed', 'sub-orchestration:completed']);
      const output = await page.locator('#output pre').textContent();
      assert.deepEqual(JSON.parse(output ?? ''), (await client.getStatus(pipelineId))?.output);
      await page.click('a[data-link="child"]');
      await page.waitForSelector('a[data-link="parent"]');
      assert.equal(await page.locator('a[data-link="parent"]').textContent(), pipelineId);
    });

    await t.test('raising an event from the UI completes the waiting instance', async () => {
      await page.goto(instanceUrl('approve-me'));
      await page.waitForSelector('html[data-islands="ready"]');
      assert.equal(await statusOf(page), 'Running');
      await page.click('button[data-action="raise"]');
      await page.fill('#field-eventName', 'Approve');
      await page.fill('#field-data', '"yes"');
      await page.click('button[data-confirm]');
      await waitForPageStatus(page, 'Completed');
      assert.deepEqual((await client.getStatus('approve-me'))?.output, { approved: 'yes' });
    });

    await t.test('terminating from the UI ends the other one', async () => {
      await page.goto(instanceUrl('terminate-me'));
      await page.waitForSelector('html[data-islands="ready"]');
      await page.click('button[data-action="terminate"]');
      await page.fill('#field-reason', 'not needed');
      await page.click('button[data-confirm]');
      await waitForPageStatus(page, 'Terminated');
      const status = await client.getStatus('terminate-me');
      assert.equal(status?.runtimeStatus, 'Terminated');
      assert.equal(status?.output, 'not needed');
    });

    await t.test('buttons follow the status; a failed instance shows its failure chain', async () => {
      await page.goto(instanceUrl('broken-1'));
      await page.waitForSelector('html[data-islands="ready"]');
      assert.equal(await page.locator('button[data-action="terminate"]').isDisabled(), true);
      assert.match((await page.locator('#failure').textContent()) ?? '', /TypeError[\s\S]*the widget exploded/);
    });

    await t.test('starting an instance from the UI opens its page', async () => {
      await page.goto(`${host.url}/dashboard`);
      await page.waitForSelector('html[data-islands="ready"]');
      await page.click('button[data-action="start"]');
      await page.selectOption('#field-name', 'echo');
      await page.fill('#field-input', '{ "hello": [1, 2] ');
      assert.equal(await page.locator('button[data-confirm]').isDisabled(), true, 'invalid JSON cannot be submitted');
      await page.fill('#field-input', '{ "hello": [1, 2] }');
      // A refused action keeps the dialog open with the server's message.
      await page.fill('#field-instanceId', 'bad/id');
      await page.click('button[data-confirm]');
      await page.waitForSelector('.modal [role="alert"]');
      assert.match((await page.locator('.modal [role="alert"]').textContent()) ?? '', /may not contain '\/'/);
      await page.fill('#field-instanceId', '');
      await page.click('button[data-confirm]');
      await page.waitForURL(/\/dashboard\/instances\//);
      await waitForPageStatus(page, 'Completed');
      const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
      assert.deepEqual((await client.getStatus(id))?.output, { hello: [1, 2] });
    });

    await t.test('signalling an entity from the UI shows its state on the entity list and page', async () => {
      await page.goto(`${host.url}/dashboard/entities`);
      await page.waitForSelector('html[data-islands="ready"]');
      await page.click('button[data-action="signal"]');
      await page.fill('#field-name', 'Counter');
      await page.fill('#field-key', 'b-1');
      await page.fill('#field-operation', 'add');
      await page.fill('#field-input', '7');
      await page.click('button[data-confirm]');
      const row = page.locator('tr[data-entity="@counter@b-1"]');
      await row.waitFor({ timeout: 20_000 });
      assert.equal((await row.locator('td.preview').textContent())?.trim(), '7');
      await row.locator('a').click();
      await page.waitForSelector('#entity-state pre');
      assert.equal(await page.locator('#entity-state pre').textContent(), '7');
      assert.match((await page.locator('#entity-lock').textContent()) ?? '', /not locked/);
    });

    await t.test('user data with <script> is shown as text and never runs', async () => {
      await page.goto(instanceUrl(XSS_ID));
      await page.waitForSelector('html[data-islands="ready"]');
      assert.equal(JSON.parse((await page.locator('#input pre').textContent()) ?? ''), XSS);
      assert.equal(await page.locator('#instance-id').textContent(), XSS_ID);
      assert.equal(await page.locator('main script').count(), 0);
      assert.equal(await page.locator('main img').count(), 0);
      // Let the auto-refresh swap the regions once too.
      await page.evaluate(() => document.dispatchEvent(new CustomEvent('duraflow:refresh')));
      await page.waitForTimeout(300);
      assert.equal(await page.locator('main img').count(), 0);
    });

    await t.test('screenshots of the main pages (written to docs/ when missing or with DURAFLOW_UPDATE_SCREENSHOTS=1)', async () => {
      for (const [file, url] of [
        ['dashboard-list.png', `${host.url}/dashboard`],
        ['dashboard-instance.png', instanceUrl(pipelineId)],
      ] as const) {
        await page.goto(url);
        await page.waitForSelector('html[data-islands="ready"]');
        const png = await page.screenshot({ fullPage: true });
        assert.ok(png.length > 10_000, `${file} looks empty`);
        const target = join('docs', file);
        if (process.env['DURAFLOW_UPDATE_SCREENSHOTS'] === '1' || !existsSync(target)) {
          mkdirSync('docs', { recursive: true });
          writeFileSync(target, png);
        }
      }
    });

    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
