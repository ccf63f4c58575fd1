/** User routes under /api/: params, methods, return values, errors, body limit, task hubs. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Blueprint, InstanceNotFoundError } from '../../src/index.js';
import { userRoutePath } from '../../src/http/user-routes.js';
import { call, postJson, startTestHost, type TestHost } from './http-fixture.js';

// The global Response before any server runs: @hono/node-server replaces the global once it serves.
const OriginalResponse = globalThis.Response;

describe('user routes', () => {
  let host: TestHost;
  before(async () => {
    host = await startTestHost({
      app: { maxPayloadBytes: 1024, httpAuthLevel: 'anonymous' },
      setup(app) {
        app.route('start/{name}', async (req, client, params) => {
          const input = req.headers.get('content-type') === 'application/json' ? await req.json() : undefined;
          return client.createCheckStatusResponse(req, await client.startNew(params['name']!, { input }));
        }, { methods: ['POST'] });
        app.route('run/{name}', async (req, client, params) => {
          const id = await client.startNew(params['name']!, { input: new URL(req.url).searchParams.get('input') });
          return client.waitForCompletionOrCreateCheckStatusResponse(req, id, { timeoutInMilliseconds: 10_000, retryIntervalInMilliseconds: 50 });
        });
        app.route('orders/{orderId}/items/{itemId}', (req, _client, params) => ({ method: req.method, params }), { methods: ['get', 'PUT'] });
        app.route('files/{*path}', (_req, _client, params) => ({ path: params['path'] }));
        app.route('nothing', () => undefined);
        app.route('falsy', () => 0);
        app.route('text', () => new Response('plain', { status: 201, headers: { 'content-type': 'text/plain' } }));
        app.route('json-response', () => OriginalResponse.json({ made: 'with Response.json' }, { status: 201 }));
        app.route('json-response-later', () => Response.json({ made: 'later' }, { status: 202 }));
        app.route('missing', async (_req, client) => client.terminate('no-such-instance', 'x'));
        app.route('crash', () => {
          throw new Error('secret internal detail');
        });
        app.route('upload', async (req) => ({ bytes: (await req.arrayBuffer()).byteLength }), { methods: ['POST'] });
        app.route('other-hub', async (_req, client) => ({ hub: client.taskHub, id: await client.startNew('echo', { input: 'x' }) }), { taskHub: 'elsewhere' });
        const bp = new Blueprint();
        bp.route('from-blueprint', () => ({ from: 'blueprint' }), { authLevel: 'anonymous' });
        app.registerFunctions(bp);
      },
    });
  });
  after(() => host.stop());

  test('a route gets the Request, a client and its params; the check-status response uses the request origin', async () => {
    const res = await postJson(`${host.url}/api/start/hello`, 'Kyoto');
    assert.equal(res.status, 202);
    assert.ok(res.json.statusQueryGetUri.startsWith(`${host.url}/runtime/webhooks/durabletask/instances/${res.json.id}?`));
    const status = await host.store.waitForCompletion(res.json.id, { timeoutInMilliseconds: 10_000 });
    assert.equal(status.output, 'Hello Kyoto!');
    const ran = await call(`${host.url}/api/run/hello?input=Nara`);
    assert.equal(ran.status, 200);
    assert.equal(ran.json, 'Hello Nara!');
    const unknown = await call(`${host.url}/api/start/nope`, { method: 'POST' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.ExceptionType, 'UnknownFunctionError');
  });

  test('path parameters are decoded; methods are honoured; {*rest} takes the rest of the path', async () => {
    const res = await call(`${host.url}/api/orders/${encodeURIComponent('ä b/c')}/items/7`);
    assert.deepEqual(res.json, { method: 'GET', params: { orderId: 'ä b/c', itemId: '7' } });
    assert.equal((await call(`${host.url}/api/orders/1/items/2`, { method: 'PUT' })).json.method, 'PUT');
    assert.equal((await call(`${host.url}/api/orders/1/items/2`, { method: 'DELETE' })).status, 404);
    assert.equal((await call(`${host.url}/api/start/hello`)).status, 404, 'GET is not among its methods');
    assert.deepEqual((await call(`${host.url}/api/files/a/b/c.txt`)).json, { path: 'a/b/c.txt' });
  });

  test('plain values are sent as JSON, undefined as 204, Responses as they are', async () => {
    const nothing = await call(`${host.url}/api/nothing`);
    assert.equal(nothing.status, 204);
    assert.equal(nothing.text, '');
    const falsy = await call(`${host.url}/api/falsy`);
    assert.equal(falsy.status, 200);
    assert.equal(falsy.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(falsy.json, 0);
    const text = await call(`${host.url}/api/text`);
    assert.equal(text.status, 201);
    assert.equal(text.text, 'plain');
    const json = await call(`${host.url}/api/json-response`);
    assert.equal(json.status, 201);
    assert.deepEqual(json.json, { made: 'with Response.json' });
    const later = await call(`${host.url}/api/json-response-later`);
    assert.equal(later.status, 202);
    assert.deepEqual(later.json, { made: 'later' });
    assert.deepEqual((await call(`${host.url}/api/from-blueprint`)).json, { from: 'blueprint' });
  });

  test('typed errors map to their status; other errors are a 500 that reveals nothing', async () => {
    const missing = await call(`${host.url}/api/missing`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.ExceptionType, new InstanceNotFoundError('x').name);
    const crash = await call(`${host.url}/api/crash`);
    assert.equal(crash.status, 500);
    assert.ok(!crash.text.includes('secret'), crash.text);
  });

  test('request bodies over the limit are refused with 413', async () => {
    assert.deepEqual((await call(`${host.url}/api/upload`, { method: 'POST', body: 'x'.repeat(1024) })).json, { bytes: 1024 });
    const big = await call(`${host.url}/api/upload`, { method: 'POST', body: 'x'.repeat(1025) });
    assert.equal(big.status, 413);
    assert.equal(big.json.ExceptionType, 'PayloadTooLargeError');
    const stream = new ReadableStream({
      pull(controller) {
        controller.enqueue(new Uint8Array(512));
      },
    });
    const streamed = await call(`${host.url}/api/upload`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    assert.equal(streamed.status, 413);
  });

  test('{ taskHub } gives the handler a client for another task hub', async () => {
    const res = await call(`${host.url}/api/other-hub`);
    assert.equal(res.json.hub, 'elsewhere');
    assert.equal(await host.store.getStatus(res.json.id), undefined, 'not in the app hub');
    const there = await call(`${host.base}/instances/${res.json.id}?taskHub=elsewhere`);
    assert.equal(there.json.name, 'echo');
  });

  test('route paths translate to hono patterns and reject stray braces', () => {
    assert.equal(userRoutePath('orders/{id}'), '/api/orders/:id');
    assert.equal(userRoutePath('/files/{*rest}'), '/api/files/:rest{.+}');
    assert.throws(() => userRoutePath('bad/{id'), /Invalid route path/);
  });
});
