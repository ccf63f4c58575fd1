/** API keys, auth levels and the loopback rule of the HTTP host. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DFApp, ValidationError } from '../../src/index.js';
import { sqliteTestStore } from '../support/stores.js';
import { call, startTestHost, type TestHost } from './http-fixture.js';
import { assertSafeBinding, isLoopbackHost, keysMatch, presentedKey, resolveApiKey } from '../../src/sdk/api-key.js';

const KEY = 'correct horse battery staple';

describe('with an API key', () => {
  let host: TestHost;
  before(async () => {
    host = await startTestHost({
      app: { apiKey: KEY },
      setup(app) {
        app.route('open', () => ({ open: true }), { authLevel: 'anonymous' });
        app.route('default', () => ({ level: 'default' }));
        app.route('fn', () => ({ level: 'function' }), { authLevel: 'function' });
        app.route('admin', () => ({ level: 'admin' }), { authLevel: 'admin' });
        app.route('starter', async (req, client) => client.createCheckStatusResponse(req, await client.startNew('echo', { input: 1 })), {
          authLevel: 'anonymous',
          methods: ['POST'],
        });
      },
    });
  });
  after(() => host.stop());

  test('management routes answer 401 without the key or with a wrong one, and write nothing', async () => {
    const attempts: [string, RequestInit][] = [
      [`${host.base}/orchestrators/echo`, { method: 'POST', body: '1' }],
      [`${host.base}/orchestrators/echo?code=wrong`, { method: 'POST', body: '1' }],
      [`${host.base}/orchestrators/echo`, { method: 'POST', body: '1', headers: { 'x-functions-key': 'wrong' } }],
      [`${host.base}/orchestrators/echo`, { method: 'POST', body: '1', headers: { 'x-functions-key': `${KEY}x` } }],
      [`${host.base}/orchestrators/echo`, { method: 'POST', body: '1', headers: { authorization: 'Bearer wrong' } }],
      [`${host.base}/orchestrators/echo`, { method: 'POST', body: '1', headers: { authorization: `Basic ${KEY}` } }],
      [`${host.url}/durabletask/orchestrators/echo`, { method: 'POST', body: '1' }],
      [`${host.base}/instances`, {}],
      [`${host.base}/instances?createdTimeFrom=2000-01-01`, { method: 'DELETE' }],
      [`${host.base}/entities/counter/one`, {}],
    ];
    for (const [url, init] of attempts) {
      const before = await host.count();
      const res = await call(url, init);
      assert.equal(res.status, 401, `${init.method ?? 'GET'} ${url} ${JSON.stringify(init.headers ?? {})}`);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      assert.match(res.json.Message, /API key/);
      assert.equal(await host.count(), before);
    }
  });

  test('the key is accepted as x-functions-key, Bearer token or code parameter', async () => {
    const ways: [string, Record<string, string>][] = [
      [`${host.base}/orchestrators/echo`, { 'x-functions-key': KEY }],
      [`${host.base}/orchestrators/echo`, { authorization: `Bearer ${KEY}` }],
      [`${host.base}/orchestrators/echo?code=${encodeURIComponent(KEY)}`, {}],
      [`${host.url}/durabletask/orchestrators/echo`, { 'x-functions-key': KEY }],
    ];
    for (const [url, headers] of ways) {
      const res = await call(url, { method: 'POST', body: '1', headers });
      assert.equal(res.status, 202, `${url} ${JSON.stringify(headers)}`);
    }
  });

  test('management URLs carry the key only back to a caller who sent it in the URL', async () => {
    const viaCode = await call(`${host.base}/orchestrators/echo?code=${encodeURIComponent(KEY)}`, { method: 'POST', body: '1' });
    assert.ok(viaCode.json.statusQueryGetUri.endsWith(`&code=${encodeURIComponent(KEY)}`));
    const status = await call(viaCode.json.statusQueryGetUri);
    assert.ok([200, 202].includes(status.status), 'the URL works as given');
    const viaHeader = await call(`${host.base}/orchestrators/echo`, { method: 'POST', body: '1', headers: { 'x-functions-key': KEY } });
    assert.ok(!viaHeader.text.includes(encodeURIComponent(KEY)) && !viaHeader.text.includes(KEY));
    assert.ok(!viaHeader.json.statusQueryGetUri.includes('code='));
    const anonymous = await call(`${host.url}/api/starter`, { method: 'POST' });
    assert.equal(anonymous.status, 202);
    assert.ok(!anonymous.text.includes(KEY), 'an anonymous route never leaks the key');
  });

  test('user routes: anonymous is open; function (the default) and admin need the key', async () => {
    assert.equal((await call(`${host.url}/api/open`)).status, 200);
    for (const path of ['default', 'fn', 'admin']) {
      assert.equal((await call(`${host.url}/api/${path}`)).status, 401, path);
      assert.equal((await call(`${host.url}/api/${path}?code=wrong`)).status, 401, path);
      const ok = await call(`${host.url}/api/${path}`, { headers: { 'x-functions-key': KEY } });
      assert.equal(ok.status, 200, path);
    }
  });
});

describe('without an API key', () => {
  test('everything is open on loopback, whatever the auth level', async () => {
    const saved = process.env['DURAFLOW_API_KEY'];
    delete process.env['DURAFLOW_API_KEY'];
    const host = await startTestHost({ setup: (app) => app.route('admin', () => 'ok', { authLevel: 'admin' }) });
    try {
      assert.equal((await call(`${host.base}/instances`)).status, 200);
      assert.equal((await call(`${host.url}/api/admin`)).status, 200);
    } finally {
      await host.stop();
      if (saved !== undefined) process.env['DURAFLOW_API_KEY'] = saved;
    }
  });

  test('DURAFLOW_API_KEY in the environment turns the key on', async () => {
    const saved = process.env['DURAFLOW_API_KEY'];
    process.env['DURAFLOW_API_KEY'] = 'from-env';
    const host = await startTestHost();
    try {
      assert.equal((await call(`${host.base}/instances`)).status, 401);
      assert.equal((await call(`${host.base}/instances`, { headers: { 'x-functions-key': 'from-env' } })).status, 200);
    } finally {
      await host.stop();
      if (saved === undefined) delete process.env['DURAFLOW_API_KEY'];
      else process.env['DURAFLOW_API_KEY'] = saved;
    }
  });

  test('listening on a non-loopback address without a key refuses to start, with a clear message', async () => {
    const saved = process.env['DURAFLOW_API_KEY'];
    delete process.env['DURAFLOW_API_KEY'];
    const { url, cleanup } = await sqliteTestStore.create();
    try {
      for (const hostname of ['0.0.0.0', '::']) {
        const app = new DFApp({ store: url });
        await assert.rejects(app.start({ port: 0, hostname }), (error: unknown) => {
          assert.ok(error instanceof ValidationError);
          assert.match(error.message, /without an API key/);
          assert.match(error.message, /DURAFLOW_API_KEY/);
          return true;
        });
      }
    } finally {
      await cleanup();
      if (saved !== undefined) process.env['DURAFLOW_API_KEY'] = saved;
    }
  });
});

describe('auth helpers', () => {
  test('keysMatch compares exactly, in constant time over digests', () => {
    assert.equal(keysMatch(KEY, KEY), true);
    assert.equal(keysMatch(`${KEY} `, KEY), false);
    assert.equal(keysMatch('', KEY), false);
    assert.equal(keysMatch(undefined, KEY), false);
    assert.equal(keysMatch('x'.repeat(10_000), KEY), false);
  });

  test('presentedKey reads the header, then a bearer token, then code', () => {
    assert.equal(presentedKey(new Request('http://h/?code=c', { headers: { 'x-functions-key': 'h' } })), 'h');
    assert.equal(presentedKey(new Request('http://h/?code=c', { headers: { authorization: 'bearer  t ' } })), 't');
    assert.equal(presentedKey(new Request('http://h/?code=c')), 'c');
    assert.equal(presentedKey(new Request('http://h/')), undefined);
  });

  test('loopback detection and the binding rule', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
    assert.doesNotThrow(() => assertSafeBinding('0.0.0.0', 'a key'));
    assert.throws(() => assertSafeBinding('0.0.0.0', undefined), ValidationError);
    assert.equal(resolveApiKey(undefined, { DURAFLOW_API_KEY: '' }), undefined);
    assert.equal(resolveApiKey(undefined, { DURAFLOW_API_KEY: 'k' }), 'k');
    assert.equal(resolveApiKey('opt', { DURAFLOW_API_KEY: 'k' }), 'opt');
  });
});
