/**
 * The Origin rule against cross-site request forgery, with a real host: what a web page on another origin
 * can send without a CORS preflight (a form, a no-cors fetch with a text/plain body) is refused and changes
 * nothing in the store; same-origin pages and clients that are not browsers (curl, a Durable Functions SDK
 * client, duraflow's HttpClient and CLI) keep working; `cors.origins` opens the API to listed pages only.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { createClient, DFApp, EntityId, ValidationError } from '../../src/index.js';
import { main } from '../../src/app/cli.js';
import { isSameOrigin, normalizeCorsOrigins } from '../../src/http/cross-origin.js';
import { eventually } from '../support/engine-helpers.js';
import { sqliteTestStore } from '../support/stores.js';
import { rawCall, startTestHost, type ApiResponse, type TestHost } from './http-fixture.js';

const EVIL = 'http://evil.example';

/** The standard functions plus a counter entity and two anonymous routes (a POST and a GET that start). */
function setup(app: DFApp): void {
  app.entity('Counter', (ctx) => {
    const value = ctx.getState(() => 0) as number;
    if (ctx.operationName === 'add') ctx.setState(value + Number(ctx.getInput()));
  });
  app.route('start/{name}', async (req, client, params) => client.createCheckStatusResponse(req, await client.startNew(params.name!, { input: 'route' })), {
    methods: ['POST'],
    authLevel: 'anonymous',
  });
  app.route('kick/{name}', async (_req, client, params) => ({ id: await client.startNew(params.name!) }), { methods: ['GET'], authLevel: 'anonymous' });
}

/** What a page on another origin can send without a preflight, against instance `victim`. */
function attacks(victim: string): { method: string; path: string; body?: string }[] {
  return [
    { method: 'POST', path: `/runtime/webhooks/durabletask/instances/${victim}/terminate?reason=csrf` },
    { method: 'POST', path: `/runtime/webhooks/durabletask/instances/${victim}/suspend?reason=csrf` },
    { method: 'POST', path: `/runtime/webhooks/durabletask/instances/${victim}/raiseEvent/go`, body: '"evil"' },
    { method: 'POST', path: '/runtime/webhooks/durabletask/orchestrators/echo/csrf-start', body: '"evil"' },
    { method: 'POST', path: '/durabletask/orchestrators/echo/csrf-start-2', body: '"evil"' },
    { method: 'POST', path: '/runtime/webhooks/durabletask/entities/Counter/k?op=add', body: '100' },
    { method: 'DELETE', path: `/runtime/webhooks/durabletask/instances/${victim}` },
    { method: 'POST', path: '/api/start/echo' },
    { method: 'GET', path: '/api/kick/echo' },
    { method: 'POST', path: '/dashboard/api/start', body: '{"name":"echo"}' },
  ];
}

/** Browser-like headers of a page on another origin (or site). */
const FOREIGN: Record<string, Record<string, string>> = {
  'a cross-site Origin': { origin: EVIL, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
  'a cross-site Origin (no fetch metadata: older browsers)': { origin: EVIL },
  'Origin: null (sandboxed frame, file://)': { origin: 'null' },
  'Sec-Fetch-Site: cross-site without Origin': { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
  'a form POST navigation from another site': { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
};

async function assertRefused(res: ApiResponse, what: string): Promise<void> {
  assert.equal(res.status, 403, `${what}: ${res.text}`);
  assert.equal(res.json?.ExceptionType, 'CrossOriginRequestError', what);
  assert.match(res.json.Message, /cross-site request forgery/, what);
}

describe('the Origin rule, without an API key', () => {
  let host: TestHost;
  let port: string;
  before(async () => {
    host = await startTestHost({ setup });
    port = new URL(host.url).port;
  });
  after(() => host.stop());

  test('cross-origin requests that need no preflight are refused with 403 and change nothing in the store', async () => {
    const victim = await host.store.startNew('waiter', { instanceId: 'victim' });
    await eventually('victim running', async () => (await host.store.getStatus(victim))?.runtimeStatus === 'Running');
    const before = await host.count();
    const sameSiteOtherPort = `http://127.0.0.1:${Number(port) === 65535 ? 1 : Number(port) + 1}`;
    const variants: Record<string, Record<string, string>> = { ...FOREIGN, 'another port of this machine (same site, other origin)': { origin: sameSiteOtherPort, 'sec-fetch-site': 'same-site' } };
    for (const [name, headers] of Object.entries(variants)) {
      for (const attack of attacks(victim)) {
        // A GET navigation (a link) cannot be told from the user's own click: GET routes must not change state.
        if (headers['sec-fetch-mode'] === 'navigate' && attack.method === 'GET') continue;
        const res = await rawCall(`${host.url}${attack.path}`, {
          method: attack.method,
          headers: { 'content-type': 'text/plain', 'x-duraflow-dashboard': '1', ...headers },
          ...(attack.body !== undefined ? { body: attack.body } : {}),
        });
        await assertRefused(res, `${attack.method} ${attack.path} with ${name}`);
      }
    }
    const refused = await rawCall(`${host.url}/runtime/webhooks/durabletask/instances/${victim}/terminate?reason=csrf`, { method: 'POST', headers: { origin: EVIL } });
    assert.match(refused.json.Message, /cors: \{ origins: \['http:\/\/evil\.example'\] \}/, 'the answer says what to configure');
    assert.equal(refused.json.origin, EVIL);

    assert.equal((await host.store.getStatus(victim))?.runtimeStatus, 'Running');
    assert.equal(await host.count(), before, 'no instance was started');
    assert.equal(await host.store.getStatus('csrf-start'), undefined);
    // Nothing was queued either: the instance and the entity see only the legitimate messages that follow.
    await host.store.raiseEvent(victim, 'go', 'legit');
    assert.equal((await host.store.waitForCompletion(victim, { timeoutInMilliseconds: 20_000 })).output, 'legit');
    await host.store.signalEntity(new EntityId('Counter', 'k'), 'add', 1);
    const state = await eventually('counter updated', async () => (await host.store.readEntityState(new EntityId('Counter', 'k'))).entityState);
    assert.equal(state, 1);
  });

  test('a cross-origin read gets 403 too; following a link from another site (a navigation) still works', async () => {
    const id = await host.store.startNew('echo', { input: 'read me' });
    await host.store.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
    await assertRefused(await rawCall(`${host.url}/runtime/webhooks/durabletask/instances`, { headers: { origin: EVIL } }), 'CORS read');
    await assertRefused(await rawCall(`${host.url}/dashboard`, { headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' } }), 'embedded');
    const link = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
    const status = await rawCall(`${host.url}/runtime/webhooks/durabletask/instances/${id}`, { headers: link });
    assert.equal(status.status, 200);
    assert.equal(status.json.output, 'read me');
    assert.equal((await rawCall(`${host.url}/dashboard`, { headers: link })).status, 200);
  });

  test('same-origin pages keep working (the dashboard, or a page served by a route of the app)', async () => {
    const id = await host.store.startNew('waiter');
    const own = { origin: host.url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' };
    const res = await rawCall(`${host.url}/runtime/webhooks/durabletask/instances/${id}/terminate?reason=mine`, { method: 'POST', headers: own });
    assert.equal(res.status, 202);
    const viaLocalhost = await rawCall(`${host.url}/dashboard/api/start`, {
      method: 'POST',
      headers: { ...own, origin: `http://localhost:${port}`, host: `localhost:${port}`, 'x-duraflow-dashboard': '1' },
      body: '{"name":"echo"}',
    });
    assert.equal(viaLocalhost.status, 200, viaLocalhost.text);
    assert.equal((await host.store.waitForCompletion(id, { timeoutInMilliseconds: 20_000 })).runtimeStatus, 'Terminated');
  });

  test('curl, with no Origin, starts, terminates and signals as before', async () => {
    const curl = (...args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...args], { timeout: 30_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
      );
    assert.equal(await curl('-X', 'POST', '-H', 'content-type: application/json', '-d', '"x"', `${host.base}/orchestrators/waiter/curl-1`), '202');
    assert.equal(await curl('-X', 'POST', '-H', 'content-type: text/plain', `${host.base}/instances/curl-1/terminate?reason=curl`), '202');
    assert.equal(await curl('-X', 'POST', '-d', '2', `${host.base}/entities/Counter/curl?op=add`), '202');
    assert.equal(await curl(`${host.base}/instances`), '200');
    assert.equal((await host.store.waitForCompletion('curl-1', { timeoutInMilliseconds: 20_000 })).runtimeStatus, 'Terminated');
  });

  test("a Durable Functions SDK client's requests (JSON over HTTP, no Origin) work on both bases", async () => {
    // What durable-functions' DurableClient sends: rpcBaseUrl `/durabletask/`, JSON bodies, its own user agent.
    const headers = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'durable-functions-js/3.1.0 node' };
    const started = await rawCall(`${host.url}/durabletask/orchestrators/waiter/df-client-1`, { method: 'POST', headers, body: '"df"' });
    assert.equal(started.status, 202, started.text);
    const raised = await rawCall(started.json.sendEventPostUri.replace('{eventName}', 'go'), { method: 'POST', headers, body: '"done"' });
    assert.equal(raised.status, 202);
    assert.equal((await host.store.waitForCompletion('df-client-1', { timeoutInMilliseconds: 20_000 })).output, 'done');
    const status = await rawCall(started.json.statusQueryGetUri, { headers });
    assert.equal(status.json.runtimeStatus, 'Completed');
  });

  test("duraflow's HttpClient and CLI (fetch: no Origin, Sec-Fetch-Mode: cors) work unchanged", async () => {
    const remote = await createClient({ url: host.url });
    try {
      const id = await remote.startNew('waiter', { instanceId: 'remote-1' });
      await remote.suspend(id, 'pause');
      await remote.resume(id, 'go on');
      await remote.raiseEvent(id, 'go', 'remote');
      assert.equal((await remote.waitForCompletion(id, { timeoutInMilliseconds: 20_000 })).output, 'remote');
      await remote.signalEntity(new EntityId('Counter', 'remote'), 'add', 3);
      await eventually('signal applied', async () => (await remote.readEntityState(new EntityId('Counter', 'remote'))).entityState === 3);
    } finally {
      await remote.close();
    }
    const id = await host.store.startNew('waiter', { instanceId: 'cli-1' });
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['node', 'duraflow', 'instances', 'terminate', id, '--reason', 'from the CLI', '--url', host.url]);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(code, 0, out.join(''));
    assert.equal((await host.store.waitForCompletion(id, { timeoutInMilliseconds: 20_000 })).output, 'from the CLI');
  });
});

describe('the Origin rule with an API key', () => {
  test('a key in the URL does not make a cross-origin request acceptable', async () => {
    const key = 'csrf-test-key';
    const host = await startTestHost({ app: { apiKey: key } });
    try {
      const id = await host.store.startNew('waiter');
      const url = `${host.base}/instances/${id}/terminate?reason=csrf&code=${key}`;
      await assertRefused(await rawCall(url, { method: 'POST', headers: { origin: EVIL } }), 'with code');
      assert.equal((await rawCall(url, { method: 'POST' })).status, 202, 'the same request without Origin');
      assert.equal((await rawCall(`${host.base}/instances`, { headers: { origin: EVIL, 'x-functions-key': key } })).status, 403);
    } finally {
      await host.stop();
    }
  });
});

describe('cors', () => {
  const OPS = 'http://ops.example:8080';
  let host: TestHost;
  before(async () => {
    host = await startTestHost({ app: { cors: { origins: [`${OPS}/`, 'https://other.example'] } }, setup });
  });
  after(() => host.stop());

  test('a listed origin gets its preflight granted, and its requests are served with CORS headers', async () => {
    const preflight = await rawCall(`${host.base}/orchestrators/echo`, {
      method: 'OPTIONS',
      headers: { origin: OPS, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-functions-key' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), OPS);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /DELETE/);
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type,x-functions-key');
    assert.equal(preflight.headers.get('access-control-max-age'), '600');
    assert.match(preflight.headers.get('vary') ?? '', /Origin/);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), null, 'no cookies cross-origin');

    const started = await rawCall(`${host.base}/orchestrators/waiter/cors-1`, { method: 'POST', headers: { origin: OPS, 'content-type': 'application/json' }, body: '1' });
    assert.equal(started.status, 202);
    assert.equal(started.headers.get('access-control-allow-origin'), OPS);
    assert.match(started.headers.get('access-control-expose-headers') ?? '', /Location/);
    assert.match(started.headers.get('vary') ?? '', /Origin/);
    const terminated = await rawCall(`${host.base}/instances/cors-1/terminate?reason=ops`, { method: 'POST', headers: { origin: OPS, 'sec-fetch-site': 'cross-site' } });
    assert.equal(terminated.status, 202);
    assert.equal((await host.store.waitForCompletion('cors-1', { timeoutInMilliseconds: 20_000 })).runtimeStatus, 'Terminated');
    const list = await rawCall(`${host.base}/instances`, { headers: { origin: 'https://other.example' } });
    assert.equal(list.status, 200);
    assert.equal(list.headers.get('access-control-allow-origin'), 'https://other.example');
    const route = await rawCall(`${host.url}/api/start/echo`, { method: 'POST', headers: { origin: OPS } });
    assert.equal(route.status, 202);
    assert.equal(route.headers.get('access-control-allow-origin'), OPS);
  });

  test('any other origin: preflight and request refused, no CORS headers; the dashboard never opens to cors origins', async () => {
    const preflight = await rawCall(`${host.base}/orchestrators/echo`, { method: 'OPTIONS', headers: { origin: EVIL, 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    for (const origin of [EVIL, 'http://ops.example:8081', 'https://ops.example:8080', 'http://ops.example']) {
      const res = await rawCall(`${host.base}/orchestrators/echo`, { method: 'POST', headers: { origin }, body: '1' });
      await assertRefused(res, origin);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    }
    const dashboardPreflight = await rawCall(`${host.url}/dashboard/api/start`, { method: 'OPTIONS', headers: { origin: OPS, 'access-control-request-method': 'POST' } });
    assert.equal(dashboardPreflight.status, 403);
    const action = await rawCall(`${host.url}/dashboard/api/start`, {
      method: 'POST',
      headers: { origin: OPS, 'content-type': 'application/json', 'x-duraflow-dashboard': '1' },
      body: '{"name":"echo","instanceId":"from-ops"}',
    });
    await assertRefused(action, 'dashboard action from a cors origin');
    assert.match(action.json.Message, /dashboard takes requests only from its own pages/);
    assert.equal(await host.store.getStatus('from-ops'), undefined);
  });

  test('malformed cors origins refuse to start, naming the entry', async () => {
    const { url, cleanup } = await sqliteTestStore.create();
    try {
      for (const origin of ['*', 'null', 'ops.example', 'https://ops.example/app', 'ftp://ops.example', 'https://ops.example?x=1']) {
        const app = new DFApp({ store: url, cors: { origins: [origin] } });
        await assert.rejects(app.start({ port: 0 }), (error: unknown) => {
          assert.ok(error instanceof ValidationError, String(error));
          assert.ok(error.message.includes(`'${origin}'`), error.message);
          return true;
        });
      }
    } finally {
      await cleanup();
    }
  });
});

describe('Origin helpers', () => {
  test('isSameOrigin compares the Origin host:port with Host, folding default ports', () => {
    assert.equal(isSameOrigin('http://127.0.0.1:7071', '127.0.0.1:7071'), true);
    assert.equal(isSameOrigin('http://LOCALHOST:7071', 'localhost:7071'), true);
    assert.equal(isSameOrigin('https://duraflow.example.com', 'duraflow.example.com'), true);
    assert.equal(isSameOrigin('https://duraflow.example.com', 'duraflow.example.com:443'), true);
    assert.equal(isSameOrigin('http://[::1]:7071', '[::1]:7071'), true);
    assert.equal(isSameOrigin('http://127.0.0.1:7072', '127.0.0.1:7071'), false);
    assert.equal(isSameOrigin('http://localhost:7071', '127.0.0.1:7071'), false);
    assert.equal(isSameOrigin('null', '127.0.0.1:7071'), false);
    assert.equal(isSameOrigin('chrome-extension://abc', 'abc'), false);
    assert.equal(isSameOrigin('http://127.0.0.1:7071', undefined), false);
  });

  test('normalizeCorsOrigins keeps origins as browsers send them', () => {
    assert.deepEqual(normalizeCorsOrigins({ origins: ['HTTPS://Ops.Example.com/', 'http://localhost:5173', 'https://x.example:443'] }), [
      'https://ops.example.com',
      'http://localhost:5173',
      'https://x.example',
    ]);
    assert.deepEqual(normalizeCorsOrigins(undefined), []);
    assert.throws(() => normalizeCorsOrigins({ origins: 'https://x' as unknown as string[] }), ValidationError);
  });
});
