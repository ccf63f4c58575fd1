/**
 * The dashboard over plain HTTP against a real host: escaping and security headers, paging with
 * continuation tokens, filters, static files and path traversal, the action endpoints and their errors,
 * entities, and the API-key sign-in.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { EntityId, type DurableClient } from '../../src/index.js';
import type { Host } from '../../src/app/df-app.js';
import { acquireStore } from '../../src/store/open-store.js';
import { sqliteTestStore } from '../support/stores.js';
import { createDashboardApp } from './dashboard-app.js';

const XSS = '<script>alert(1)</script>';

/** The store of the most recently started host. */
let lastStoreUrl = '';

async function startHost(apiKey?: string): Promise<{ host: Host; client: DurableClient; stop: () => Promise<void> }> {
  const store = await sqliteTestStore.create();
  lastStoreUrl = store.url;
  const host = await createDashboardApp(store.url, apiKey).start({ port: 0 });
  return {
    host,
    client: host.client,
    stop: async () => {
      await host.stop();
      await store.cleanup();
    },
  };
}

/** GET with the raw path as given (no URL normalisation by the client). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const action = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/dashboard/api/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-duraflow-dashboard': '1', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const rowIds = (page: string) => [...page.matchAll(/<tr data-instance-id="([^"]*)"/g)].map((m) => m[1]!);

describe('dashboard without an API key', () => {
  let host: Host;
  let client: DurableClient;
  let stop: () => Promise<void>;
  before(async () => {
    ({ host, client, stop } = await startHost());
  });
  after(() => stop());

  test('pages escape user data and send a strict Content-Security-Policy', async () => {
    const id = `x"<b>'${XSS}`.replace(/\//g, '|');
    await client.startNew('echo', { instanceId: id, input: { html: XSS } });
    await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
    for (const path of ['/dashboard', `/dashboard/instances/${encodeURIComponent(id)}`]) {
      const response = await fetch(host.url + path);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self' 'sha256-/);
      const body = await response.text();
      assert.ok(!body.includes('<script>alert'), `${path} contains raw user markup`);
      assert.ok(!body.includes('<b>'), path);
      assert.ok(body.includes('&lt;script&gt;alert(1)&lt;'), path);
    }
  });

  test('the list pages with continuation tokens, newest first, each instance once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(await client.startNew('echo', { instanceId: `page-${i}`, input: i }));
      await new Promise((r) => setTimeout(r, 3)); // distinct created times
    }
    const seen: string[] = [];
    let path: string | undefined = '/dashboard?prefix=page-&size=3';
    let pages = 0;
    while (path) {
      const body: string = await (await fetch(host.url + path)).text();
      seen.push(...rowIds(body));
      const next: string | undefined = /<a class="button" rel="next" href="\?([^"]+)"/.exec(body)?.[1];
      path = next ? `/dashboard?${next.replace(/&amp;/g, '&')}` : undefined;
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...ids].reverse());
    const ascending = rowIds(await (await fetch(`${host.url}/dashboard?prefix=page-&sort=id&dir=asc`)).text());
    assert.deepEqual(ascending, [...ids].sort());
  });

  test('filters by status, name and time; a bad filter is a 400 with a message', async () => {
    const waiting = await client.startNew('approval', { instanceId: 'filter-waiting' });
    for (let i = 0; i < 400 && (await client.getStatus(waiting))?.runtimeStatus !== 'Running'; i++) await new Promise((r) => setTimeout(r, 25));
    const all = await client.getStatusAll();
    const running = rowIds(await (await fetch(`${host.url}/dashboard?status=Running`)).text());
    assert.deepEqual(new Set(running), new Set(all.filter((s) => s.runtimeStatus === 'Running').map((s) => s.instanceId)));
    assert.ok(running.includes(waiting));
    const byName = rowIds(await (await fetch(`${host.url}/dashboard?name=APPROV`)).text());
    assert.deepEqual(byName, ['filter-waiting']);
    const future = rowIds(await (await fetch(`${host.url}/dashboard?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).text());
    assert.deepEqual(future, []);
    const bad = await fetch(`${host.url}/dashboard?status=Sleeping`);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Unknown status &#39;Sleeping&#39;/);
    await client.terminate(waiting, 'done');
  });

  test('static files: own CSS and vendor modules are served, anything else is a 404', async () => {
    const css = await fetch(`${host.url}/dashboard/assets/dashboard.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
    const preact = await fetch(`${host.url}/dashboard/assets/vendor/preact.mjs`);
    assert.equal(preact.status, 200);
    assert.match(preact.headers.get('content-type') ?? '', /javascript/);
    for (const path of [
      '/dashboard/assets/../../package.json',
      '/dashboard/assets/..%2f..%2fpackage.json',
      '/dashboard/assets/%2e%2e/dashboard.ts',
      '/dashboard/assets/%2e%2e%2fdashboard.ts',
      '/dashboard/assets/..%5cdashboard.ts',
      '/dashboard/assets/vendor/../../../package.json',
      '/dashboard/assets/nope.js',
      '/dashboard/assets/dashboard.css%00.js',
    ]) {
      const response = await rawGet(host.url, path);
      assert.equal(response.status, 404, path);
      assert.ok(!response.body.includes('"name": "duraflow"'), path);
    }
  });

  test('unknown instances and pages are 404 pages', async () => {
    const missing = await fetch(`${host.url}/dashboard/instances/${encodeURIComponent('no such <id>')}`);
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /No instance &#39;no such &lt;id&gt;&#39;/);
    assert.equal((await fetch(`${host.url}/dashboard/nothing/here`)).status, 404);
  });

  test('actions: start, raise, suspend, resume, terminate, restart, purge — with typed errors', async () => {
    const noHeader = await fetch(`${host.url}/dashboard/api/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"echo"}' });
    assert.equal(noHeader.status, 403);
    assert.equal((await action(host.url, 'start', 'not json')).status, 400);
    const badInput = await action(host.url, 'start', { name: 'echo', input: '{oops' });
    assert.equal(badInput.status, 400);
    assert.match(((await badInput.json()) as { message: string }).message, /Input is not valid JSON/);
    const unknown = await action(host.url, 'start', { name: 'nope' });
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { message: string }).message, /pipeline/);

    const started = await action(host.url, 'start', { name: 'approval', instanceId: 'act-1', input: '{"n": 1}' });
    assert.equal(started.status, 200);
    assert.deepEqual(await started.json(), { instanceId: 'act-1' });
    assert.deepEqual((await client.getStatus('act-1'))?.input, { n: 1 });
    const running = async () => {
      for (let i = 0; i < 400 && (await client.getStatus('act-1'))?.runtimeStatus !== 'Running'; i++) await new Promise((r) => setTimeout(r, 25));
    };
    await running();
    assert.equal((await action(host.url, 'instances/act-1/suspend', { reason: 'pause' })).status, 200);
    for (let i = 0; i < 400 && (await client.getStatus('act-1'))?.runtimeStatus !== 'Suspended'; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal((await client.getStatus('act-1'))?.runtimeStatus, 'Suspended');
    assert.equal((await action(host.url, 'instances/act-1/resume', {})).status, 200);
    await running();
    assert.equal((await action(host.url, 'instances/act-1/raise', { eventName: 'Approve', data: '42' })).status, 200);
    const done = await client.waitForCompletion('act-1', { timeoutInMilliseconds: 20_000 });
    assert.deepEqual(done.output, { approved: 42 });

    assert.equal((await action(host.url, 'instances/act-1/terminate', {})).status, 410);
    assert.equal((await action(host.url, 'instances/nobody/raise', { eventName: 'x' })).status, 404);
    assert.equal((await action(host.url, 'instances/act-1/raise', {})).status, 400);
    assert.equal((await action(host.url, 'instances/act-1/explode', {})).status, 404);

    const restarted = (await (await action(host.url, 'instances/act-1/restart', { newInstanceId: true })).json()) as { instanceId: string };
    assert.notEqual(restarted.instanceId, 'act-1');
    assert.deepEqual((await client.getStatus(restarted.instanceId))?.input, { n: 1 });
    assert.equal((await action(host.url, `instances/${restarted.instanceId}/terminate`, { reason: 'stop' })).status, 200);
    await client.waitForCompletion(restarted.instanceId, { timeoutInMilliseconds: 20_000 });

    assert.deepEqual(await (await action(host.url, 'instances/act-1/purge', {})).json(), { instancesDeleted: 1 });
    assert.equal(await client.getStatus('act-1'), undefined);
  });

  test('an async orchestrator is started, shown and sent an event from the dashboard like a generator one', async () => {
    assert.equal((await action(host.url, 'start', { name: 'asyncApproval', instanceId: 'async-1' })).status, 200);
    let page = '';
    for (let i = 0; i < 400 && !page.includes('waiting for Approve'); i++) {
      await new Promise((r) => setTimeout(r, 25));
      page = await (await fetch(`${host.url}/dashboard/instances/async-1`)).text();
    }
    assert.match(page, /waiting for Approve/);
    assert.match(page, /TaskScheduled/);
    assert.equal((await action(host.url, 'instances/async-1/raise', { eventName: 'Approve', data: 'true' })).status, 200);
    const done = await client.waitForCompletion('async-1', { timeoutInMilliseconds: 20_000 });
    assert.deepEqual(done.output, { approved: true, greeting: 'Hello async!' });
    page = await (await fetch(`${host.url}/dashboard/instances/async-1`)).text();
    assert.match(page, /Completed/);
    assert.match(page, /EventRaised/);
  });

  test('purge by filter deletes only the finished instances the filter shows', async () => {
    const keep = await client.startNew('approval', { instanceId: 'purge-running' });
    const gone = [await client.startNew('echo', { instanceId: 'purge-a', input: 1 }), await client.startNew('echo', { instanceId: 'purge-b', input: 2 })];
    const other = await client.startNew('echo', { instanceId: 'keep-c', input: 3 });
    for (const id of [...gone, other]) await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
    const response = await action(host.url, 'purge', { filter: { prefix: 'purge-', statuses: [] } });
    assert.deepEqual(await response.json(), { instancesDeleted: 2 });
    assert.equal(await client.getStatus('purge-a'), undefined);
    assert.ok(await client.getStatus(keep));
    assert.ok(await client.getStatus(other));
    assert.equal((await action(host.url, 'purge', { filter: { statuses: ['Sleeping'] } })).status, 400);
    // A filter that cannot be read is a 400, never a wider purge.
    const failed = await client.startNew('broken', { instanceId: 'purge-failed' });
    const alsoDone = await client.startNew('echo', { instanceId: 'purge-done', input: 4 });
    for (const id of [failed, alsoDone]) await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
    for (const filter of [{ prefix: 'purge-', statuses: 'Completed' }, { prefix: 'purge-', status: ['Completed'] }, ['purge-'], 'purge-']) {
      const refused = await action(host.url, 'purge', { filter });
      assert.equal(refused.status, 400, JSON.stringify(filter));
    }
    assert.equal((await client.getStatus(failed))?.runtimeStatus, 'Failed');
    assert.equal((await client.getStatus(alsoDone))?.runtimeStatus, 'Completed');
    // Purge and rewind of a running instance: 409, as the management API answers.
    assert.equal((await action(host.url, `instances/${keep}/purge`, {})).status, 409);
    assert.equal((await action(host.url, `instances/${keep}/rewind`, {})).status, 409);
    await client.terminate(keep, 'done');
  });

  test('entities: signal from the dashboard, then see the state on the list and the entity page', async () => {
    const signal = await action(host.url, 'entities/signal', { name: 'Counter', key: 'k <1>', operation: 'add', input: '5' });
    assert.equal(signal.status, 200);
    const id = new EntityId('Counter', 'k <1>');
    for (let i = 0; i < 400 && (await client.readEntityState(id)).entityState !== 5; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal((await client.readEntityState(id)).entityState, 5);
    const list = await (await fetch(`${host.url}/dashboard/entities`)).text();
    assert.match(list, /<tr data-entity="@counter@k &lt;1&gt;">/);
    const page = await fetch(`${host.url}/dashboard/entities/counter/${encodeURIComponent('k <1>')}`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<section class="card payload" id="entity-state"><h2>State<\/h2><pre class="json">5<\/pre>/);
    assert.equal((await fetch(`${host.url}/dashboard/entities/counter/none`)).status, 404);
    assert.equal((await action(host.url, 'entities/signal', { name: 'Counter', key: 'x' })).status, 400);
  });
});

test("the start picker offers served names, never a gRPC worker's wildcard registration", async () => {
  const own = await startHost();
  try {
    const handle = await acquireStore(lastStoreUrl);
    try {
      await handle.store.hub('default').registerWorker('grpc-worker', { orchestrations: ['*', 'remoteFlow'], activities: ['*'], entities: ['*'] });
    } finally {
      await handle.release();
    }
    const body = await (await fetch(`${own.host.url}/dashboard`)).text();
    const props = /data-island="start-instance" data-props="([^"]*)"/.exec(body)?.[1] ?? '';
    const names = (JSON.parse(props.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as { names: string[] }).names;
    assert.ok(names.includes('echo') && names.includes('remoteFlow'), JSON.stringify(names));
    assert.ok(!names.includes('*'), JSON.stringify(names));
  } finally {
    await own.stop();
  }
});

describe('dashboard with an API key', () => {
  const KEY = 'sekret-key';
  let host: Host;
  let stop: () => Promise<void>;
  before(async () => {
    ({ host, stop } = await startHost(KEY));
  });
  after(() => stop());

  test('without the key: a 401 sign-in page, 401 actions; assets stay public', async () => {
    const page = await fetch(`${host.url}/dashboard`);
    assert.equal(page.status, 401);
    assert.match(await page.text(), /<form method="post" action="\/dashboard\/login">/);
    assert.equal((await fetch(`${host.url}/dashboard/instances/x`)).status, 401);
    assert.equal((await action(host.url, 'start', { name: 'echo' })).status, 401);
    assert.equal((await fetch(`${host.url}/dashboard?code=wrong`)).status, 401);
    assert.equal((await fetch(`${host.url}/dashboard/assets/dashboard.css`)).status, 200);
  });

  test('?code=<key> once gives an HttpOnly session cookie that opens pages and actions', async () => {
    const redirect = await fetch(`${host.url}/dashboard?status=Running&code=${KEY}`, { redirect: 'manual' });
    assert.equal(redirect.status, 303);
    assert.equal(redirect.headers.get('location'), '/dashboard?status=Running');
    const cookie = redirect.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.ok(!cookie.includes(KEY), 'the cookie does not hold the key itself');
    const session = cookie.split(';')[0]!;
    assert.equal((await fetch(`${host.url}/dashboard`, { headers: { cookie: session } })).status, 200);
    const started = await action(host.url, 'start', { name: 'echo', input: '1' }, { cookie: session });
    assert.equal(started.status, 200);
    // The cookie alone is not enough for an action: the header that cross-site forms cannot send is required.
    const forged = await fetch(`${host.url}/dashboard/api/start`, { method: 'POST', headers: { cookie: session, 'content-type': 'application/json' }, body: '{"name":"echo"}' });
    assert.equal(forged.status, 403);
    assert.equal((await fetch(`${host.url}/dashboard`, { headers: { cookie: 'duraflow_dashboard=forged' } })).status, 401);
    assert.equal((await fetch(`${host.url}/dashboard`, { headers: { 'x-functions-key': KEY } })).status, 200);
  });

  test('the sign-in form sets the cookie; a wrong key is refused; sign-out clears it', async () => {
    const wrong = await fetch(`${host.url}/dashboard/login`, { method: 'POST', body: new URLSearchParams({ key: 'nope', next: '/dashboard' }), redirect: 'manual' });
    assert.equal(wrong.status, 401);
    const right = await fetch(`${host.url}/dashboard/login`, {
      method: 'POST',
      body: new URLSearchParams({ key: KEY, next: 'https://evil.example/' }),
      redirect: 'manual',
    });
    assert.equal(right.status, 303);
    assert.equal(right.headers.get('location'), '/dashboard');
    assert.match(right.headers.get('set-cookie') ?? '', /^duraflow_dashboard=[^;]+; Path=\/dashboard; HttpOnly; SameSite=Strict/);
    const out = await fetch(`${host.url}/dashboard/logout`, { method: 'POST', redirect: 'manual' });
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
  });
});
