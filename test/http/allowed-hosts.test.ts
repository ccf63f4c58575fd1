/**
 * The Host allowlist against DNS rebinding, with a real host and raw node:http requests (fetch cannot set
 * `Host`): a foreign name gets 421 before any route runs and nothing changes; loopback names, IP addresses,
 * the bound name and `allowedHosts` entries are served; probes pass; the CLI flags configure it; and the gRPC
 * sidecar, which speaks only HTTP/2, answers no HTTP/1.1 request a browser could send.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { DFApp, ValidationError } from '../../src/index.js';
import { hostnameOf, isAllowedHost, normalizeAllowedHosts } from '../../src/http/allowed-hosts.js';
import { eventually } from '../support/engine-helpers.js';
import { sqliteTestStore } from '../support/stores.js';
import { rawCall, startTestHost, type TestHost } from './http-fixture.js';

const CLI = new URL('../../bin/duraflow.js', import.meta.url).pathname;

describe('the Host check, on a loopback host without an API key', () => {
  let host: TestHost;
  let port: string;
  before(async () => {
    host = await startTestHost();
    port = new URL(host.url).port;
  });
  after(() => host.stop());

  test('a rebound name gets 421 with what to configure, for reads, writes and the dashboard; nothing changes', async () => {
    const victim = await host.store.startNew('waiter', { instanceId: 'victim' });
    await eventually('victim running', async () => (await host.store.getStatus(victim))?.runtimeStatus === 'Running');
    const before = await host.count();
    for (const name of ['rebind.evil.example', '127.0.0.1.nip.io', 'localhost.evil.example', 'evil-localhost', 'xn--80ak6aa92e.com']) {
      const hostHeader = `${name}:${port}`;
      const requests = [
        { method: 'GET', path: '/runtime/webhooks/durabletask/instances' },
        { method: 'GET', path: `/runtime/webhooks/durabletask/instances/${victim}?showHistory=true` },
        { method: 'POST', path: `/runtime/webhooks/durabletask/instances/${victim}/terminate?reason=rebind` },
        { method: 'POST', path: '/runtime/webhooks/durabletask/orchestrators/echo/rebound', body: '1' },
        { method: 'GET', path: '/dashboard' },
        { method: 'GET', path: '/dashboard/assets/dashboard.css' },
        { method: 'POST', path: '/healthz' },
      ];
      for (const r of requests) {
        const res = await rawCall(`${host.url}${r.path}`, { method: r.method, headers: { host: hostHeader, 'content-type': 'application/json' }, ...(r.body ? { body: r.body } : {}) });
        assert.equal(res.status, 421, `${r.method} ${r.path} with Host ${hostHeader}: ${res.text}`);
        assert.equal(res.json.ExceptionType, 'HostNotAllowedError');
        assert.equal(res.json.host, name);
        assert.ok(res.json.Message.includes(`allowedHosts: ['${name}']`), res.json.Message);
        assert.ok(res.json.Message.includes(`--allowed-host ${name}`), res.json.Message);
        assert.ok(!res.text.includes(victim), 'no data in the answer');
      }
    }
    assert.equal((await host.store.getStatus(victim))?.runtimeStatus, 'Running');
    assert.equal(await host.count(), before);
    await host.store.raiseEvent(victim, 'go', 'legit');
    assert.equal((await host.store.waitForCompletion(victim, { timeoutInMilliseconds: 20_000 })).output, 'legit', 'no terminate was queued');
  });

  test('loopback names and IP addresses are served, whatever the port, with a trailing dot', async () => {
    for (const hostHeader of [`127.0.0.1:${port}`, `localhost:${port}`, `localhost.:${port}`, 'localhost', `127.9.8.7:${port}`, `[::1]:${port}`, `10.20.30.40:${port}`, `[fd00::5]:${port}`]) {
      const res = await rawCall(`${host.url}/runtime/webhooks/durabletask/instances`, { headers: { host: hostHeader } });
      assert.equal(res.status, 200, `Host ${hostHeader}: ${res.text}`);
    }
  });

  test('an absolute request target naming another host is refused like its Host header', async () => {
    const { hostname } = new URL(host.url);
    const res = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ hostname, port, path: `http://rebind.evil.example:${port}/runtime/webhooks/durabletask/instances`, headers: { host: `127.0.0.1:${port}` } }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res, 421);
  });

  test('GET /healthz and /readyz skip the check (probes send Host: <pod-ip> or anything); other paths do not', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const res = await rawCall(`${host.url}${path}`, { headers: { host: `probe.internal:${port}` } });
      assert.notEqual(res.status, 421, path);
    }
    assert.equal((await rawCall(`${host.url}/healthzz`, { headers: { host: `probe.internal:${port}` } })).status, 421);
  });
});

describe('allowedHosts', () => {
  let host: TestHost;
  let port: string;
  before(async () => {
    host = await startTestHost({ app: { allowedHosts: ['Duraflow.Internal', '.corp.example'] } });
    port = new URL(host.url).port;
  });
  after(() => host.stop());

  test('exact names and domains with their subdomains are served; lookalikes are not', async () => {
    const status = async (name: string) => (await rawCall(`${host.base}/instances`, { headers: { host: `${name}:${port}` } })).status;
    // (@hono/node-server answers 400 to a Host in upper case before any middleware runs.)
    for (const name of ['duraflow.internal', 'corp.example', 'a.corp.example', 'a.b.corp.example']) assert.equal(await status(name), 200, name);
    for (const name of ['evilcorp.example', 'corp.example.evil', 'duraflow.internal.evil', 'x.duraflow.internal']) assert.equal(await status(name), 421, name);
    const refused = await rawCall(`${host.base}/instances`, { headers: { host: `other:${port}` } });
    assert.match(refused.json.Message, /duraflow\.internal, \.corp\.example/, 'the answer lists what the host answers to');
  });

  test("'*' turns the check off; malformed entries refuse to start, naming the entry", async () => {
    const { url, cleanup } = await sqliteTestStore.create();
    try {
      const open = await new DFApp({ store: url, allowedHosts: ['*'] }).start({ port: 0 });
      try {
        const res = await rawCall(`${open.url}/runtime/webhooks/durabletask/instances`, { headers: { host: 'anything.example' } });
        assert.equal(res.status, 200);
      } finally {
        await open.stop();
      }
      for (const entry of ['http://box.example', 'box.example:7071', 'box.example/app', '', '*.example.com', 'a b']) {
        await assert.rejects(new DFApp({ store: url, allowedHosts: [entry] }).start({ port: 0 }), (error: unknown) => {
          assert.ok(error instanceof ValidationError, String(error));
          assert.ok(error.message.includes(`'${entry}'`), error.message);
          return true;
        });
      }
    } finally {
      await cleanup();
    }
  });

  test('bound to 0.0.0.0 (with a key): addresses and allowedHosts are served, other names get 421', async () => {
    const { url, cleanup } = await sqliteTestStore.create();
    const key = 'wildcard-key';
    const app = new DFApp({ store: url, apiKey: key, allowedHosts: ['duraflow.svc.cluster.local'] });
    const wide = await app.start({ port: 0, hostname: '0.0.0.0' });
    try {
      const { port: wildPort } = new URL(wide.url);
      const local = `http://127.0.0.1:${wildPort}/runtime/webhooks/durabletask/instances`;
      const as = (hostHeader: string) => rawCall(local, { headers: { host: hostHeader, 'x-functions-key': key } });
      assert.equal((await as(`10.244.1.17:${wildPort}`)).status, 200, 'a pod IP');
      assert.equal((await as(`[fd00:10:244::17]:${wildPort}`)).status, 200);
      assert.equal((await as(`duraflow.svc.cluster.local:${wildPort}`)).status, 200);
      assert.equal((await as(`localhost:${wildPort}`)).status, 200);
      assert.equal((await as(`rebind.evil.example:${wildPort}`)).status, 421);
      assert.equal((await rawCall(local, { headers: { host: `rebind.evil.example:${wildPort}` } })).status, 421, 'the Host check comes before the key');
    } finally {
      await wide.stop();
      await cleanup();
    }
  });
});

describe('Host helpers', () => {
  test('hostnameOf takes the name of a Host value', () => {
    assert.equal(hostnameOf('Example.COM:7071'), 'example.com');
    assert.equal(hostnameOf('[::1]:80'), '::1');
    assert.equal(hostnameOf('localhost.'), 'localhost');
    assert.equal(hostnameOf('bücher.example'), 'xn--bcher-kva.example');
    for (const bad of ['', 'a b', 'a/b', 'user@host', 'host?x', '[::1']) assert.equal(hostnameOf(bad), undefined, bad);
  });

  test('isAllowedHost: loopback, addresses, the bound name, entries', () => {
    const rule = { boundHostname: 'box.lan', allowedHosts: normalizeAllowedHosts(['api.example', '.corp.example', 'Bücher.Example']) };
    for (const name of ['localhost', '127.0.0.1', '127.255.0.1', '::1', '192.168.1.5', 'fe80::1', 'box.lan', 'api.example', 'corp.example', 'x.corp.example', 'xn--bcher-kva.example']) {
      assert.equal(isAllowedHost(name, rule), true, name);
    }
    for (const name of ['box.lan.evil', 'evil.example', 'x.api.example', 'xcorp.example', 'localhost.evil', '127.0.0.1.nip.io']) assert.equal(isAllowedHost(name, rule), false, name);
    assert.equal(isAllowedHost('box.lan', { allowedHosts: [] }), false);
    assert.equal(isAllowedHost('anything', { allowedHosts: ['*'] }), true);
  });
});

test('duraflow start --allowed-host and --cors-origin configure the guards', async () => {
  const { url: store, cleanup } = await sqliteTestStore.create();
  const child = spawn(
    process.execPath,
    [CLI, 'start', 'samples/app.ts', '--port', '0', '--store', store, '--allowed-host', 'box.test', '--allowed-host', '.corp.test', '--cors-origin', 'http://ops.test:3000'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const base = await eventually('the host to listen', () => /listening on (\S+)/.exec(out)?.[1], 60_000);
    const port = new URL(base).port;
    const list = `${base}/runtime/webhooks/durabletask/instances`;
    assert.equal((await rawCall(list, { headers: { host: `box.test:${port}` } })).status, 200);
    assert.equal((await rawCall(list, { headers: { host: `a.corp.test:${port}` } })).status, 200);
    assert.equal((await rawCall(list, { headers: { host: `other.test:${port}` } })).status, 421);
    const preflight = await rawCall(list, { method: 'OPTIONS', headers: { origin: 'http://ops.test:3000', 'access-control-request-method': 'DELETE' } });
    assert.equal(preflight.status, 204);
    assert.equal((await rawCall(list, { headers: { origin: 'http://evil.test' } })).status, 403);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
    await cleanup();
  }
});

test('the gRPC sidecar speaks only HTTP/2: an HTTP/1.1 request (all a browser can send to it) gets no answer and starts nothing', async () => {
  const { url, cleanup } = await sqliteTestStore.create();
  const app = new DFApp({ store: url });
  app.orchestration('echo', (ctx) => ctx.getInput());
  const host = await app.start({ port: 0, grpcPort: 0 });
  try {
    const [hostname, port] = host.grpcAddress!.split(/:(?=\d+$)/) as [string, string];
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest(
        { hostname, port, method: 'POST', path: '/TaskHubSidecarService/StartInstance', headers: { origin: 'http://evil.example', 'content-type': 'text/plain' } },
        (res) => resolve(`status ${res.statusCode}`),
      );
      req.on('error', (error) => resolve(`error ${(error as NodeJS.ErrnoException).code ?? error.message}`));
      req.end('\u0000\u0000\u0000\u0000\u0004\n\u0002hi');
    });
    assert.match(outcome, /^error /, outcome);
    assert.deepEqual(await host.client.getStatusAll(), []);
  } finally {
    await host.stop();
    await cleanup();
  }
});
