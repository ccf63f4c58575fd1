/**
 * Cross-site request forgery in a real headless Chromium: a page on another site (served from
 * `http://localhost:<port>`, while the host is `http://127.0.0.1:<port>`) tries what needs no CORS preflight
 * — a no-cors fetch with a text/plain body and an auto-submitted form — to terminate a running instance,
 * start one and sign the dashboard out. The host refuses each (the instance stays Running, nothing starts,
 * the session survives), the page cannot read the API, and the dashboard's own sign-out still works.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Host } from '../../src/app/df-app.js';
import { EntityId } from '../../src/index.js';
import { launchBrowser } from '../support/browser.js';
import { eventually } from '../support/engine-helpers.js';
import { sqliteTestStore } from '../support/stores.js';
import { createDashboardApp } from './dashboard-app.js';

const KEY = 'browser-csrf-key';

let host: Host;
let cleanup: () => Promise<void>;
let attacker: Server;
let attackerUrl: string;

/** The attacker's page: its script fires at `target` (the host's URL) when asked to. */
function attackerPage(target: string): string {
  const base = `${target}/runtime/webhooks/durabletask`;
  return `<!doctype html><html><body>
<form id="terminate" method="post" enctype="text/plain" action="${base}/instances/victim/terminate?reason=csrf&code=${KEY}"><input name="a" value="b"></form>
<form id="logout" method="post" action="${target}/dashboard/logout"></form>
<script>
window.attack = async () => {
  const simple = { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '"evil"' };
  await fetch('${base}/instances/victim/terminate?reason=csrf&code=${KEY}', simple);
  await fetch('${base}/orchestrators/echo/csrf-start?code=${KEY}', simple);
  await fetch('${base}/entities/Counter/csrf?op=add&code=${KEY}', simple);
  let read;
  try { read = await (await fetch('${base}/instances?code=${KEY}')).text(); } catch (error) { read = 'blocked: ' + error.name; }
  return read;
};
</script></body></html>`;
}

before(async () => {
  const store = await sqliteTestStore.create();
  cleanup = store.cleanup;
  host = await createDashboardApp(store.url, KEY).start({ port: 0 });
  await host.client.startNew('approval', { instanceId: 'victim' });
  await eventually('victim running', async () => (await host.client.getStatus('victim'))?.runtimeStatus === 'Running', 20_000);
  attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(attackerPage(host.url)));
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}/`;
});

after(async () => {
  await new Promise((resolve) => attacker?.close(resolve));
  await host?.stop();
  await cleanup?.();
});

test('a page on another site cannot terminate, start, signal or sign out; the dashboard itself can sign out', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Signed in to the dashboard, as the victim would be.
    await page.goto(`${host.url}/dashboard?code=${KEY}`);
    await page.waitForSelector('form.logout button');
    const before = (await host.client.getStatusAll()).length;

    await page.goto(attackerUrl);
    const read = await page.evaluate(() => (window as unknown as { attack: () => Promise<string> }).attack());
    assert.match(read, /^blocked: TypeError/, 'the page cannot read the API');

    // The form posts navigate to the host's refusal.
    await Promise.all([page.waitForURL(/\/terminate/), page.evaluate(() => (document.getElementById('terminate') as HTMLFormElement).submit())]);
    assert.match((await page.textContent('body')) ?? '', /CrossOriginRequestError/);
    await page.goto(attackerUrl);
    await Promise.all([page.waitForURL(/\/dashboard\/logout/), page.evaluate(() => (document.getElementById('logout') as HTMLFormElement).submit())]);
    assert.match((await page.textContent('body')) ?? '', /CrossOriginRequestError/);

    assert.equal((await host.client.getStatus('victim'))?.runtimeStatus, 'Running');
    assert.equal((await host.client.getStatusAll()).length, before, 'nothing started');
    assert.equal(await host.client.getStatus('csrf-start'), undefined);
    // Nothing was queued: the instance ends with the legitimate event that follows, not a terminate.
    await host.client.raiseEvent('victim', 'Approve', 'yes');
    assert.deepEqual((await host.client.waitForCompletion('victim', { timeoutInMilliseconds: 20_000 })).output, { approved: 'yes' });
    await host.client.signalEntity(new EntityId('Counter', 'csrf'), 'add', 1);
    assert.equal(await eventually('counter', async () => (await host.client.readEntityState(new EntityId('Counter', 'csrf'))).entityState, 20_000), 1);

    // Still signed in; the dashboard's own sign-out works.
    await page.goto(`${host.url}/dashboard`);
    await page.click('form.logout button');
    await page.waitForURL(/\/dashboard\/login$/);
    await page.goto(`${host.url}/dashboard`);
    assert.ok(await page.isVisible('input[name="key"]'), 'signed out: the sign-in form');
    await context.close();
  } finally {
    await browser.close();
  }
});
