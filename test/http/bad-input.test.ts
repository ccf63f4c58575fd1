/**
 * Every kind of bad input to the management API gets a clear 4xx, and none of them writes anything:
 * instance counts stay the same, statuses stay the same, and a waiting orchestration later receives the
 * first *valid* event (events are delivered first-in first-out, so a stray write would arrive first).
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../support/engine-helpers.js';
import { call, postJson, startTestHost, type ApiResponse, type TestHost } from './http-fixture.js';

const LIMIT = 64 * 1024;

/**
 * Streams a chunked body of spaces until the server answers (or `capBytes` were sent). Resolves with the
 * status and whether the request body was still open when the answer came.
 */
function streamUntilAnswered(url: string, capBytes = 64 * 1024 * 1024): Promise<{ status: number; sent: number; bodyStillOpen: boolean; json: any }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let ended = false;
    let answered = false;
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
    req.on('response', (res) => {
      answered = true;
      const bodyStillOpen = !ended;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, sent, bodyStillOpen, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      });
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const pump = () => {
      while (!answered && sent < capBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered && !ended) {
        ended = true;
        req.end();
      }
    };
    pump();
  });
}

describe('bad input to the management API changes nothing', () => {
  let host: TestHost;
  let base: string;
  before(async () => {
    host = await startTestHost({ app: { maxPayloadBytes: LIMIT } });
    base = host.base;
  });
  after(() => host.stop());

  /** Asserts `res` is an error of `status` and that the instance count did not move. */
  const refused = async (what: string, send: () => Promise<ApiResponse>, status: number, type?: string | RegExp) => {
    const before = await host.count();
    const res = await send();
    assert.equal(res.status, status, `${what}: ${res.text}`);
    assert.equal(typeof res.json?.Message, 'string', `${what} has an error message`);
    if (typeof type === 'string') assert.equal(res.json.ExceptionType, type, what);
    else if (type) assert.match(res.json.Message, type, what);
    assert.equal(await host.count(), before, `${what} created nothing`);
    return res;
  };

  test('start: malformed JSON, unknown function, bad instance id, bad wait parameters', async () => {
    await refused('malformed JSON', () => call(`${base}/orchestrators/echo`, { method: 'POST', body: '{"unterminated": ' }), 400, /not valid JSON/);
    await refused('not UTF-8', () => call(`${base}/orchestrators/echo`, { method: 'POST', body: new Uint8Array([0x22, 0xff, 0xfe, 0x22]) }), 400, /UTF-8/);
    const unknown = await refused('unknown function', () => call(`${base}/orchestrators/nope`, { method: 'POST', body: '1' }), 400, 'UnknownFunctionError');
    assert.match(unknown.json.Message, /'nope'/);
    for (const name of ['echo', 'fails', 'hello', 'waiter']) {
      assert.ok(unknown.json.registeredNames.includes(name), `registered names list ${name}`);
      assert.match(unknown.json.Message, new RegExp(`'${name}'`));
    }
    for (const id of ['@reserved', 'a%2Fb', 'a%3Fb', 'x'.repeat(257), 'tab%09id']) {
      await refused(`instance id ${id.slice(0, 12)}`, () => call(`${base}/orchestrators/echo/${id}`, { method: 'POST' }), 400, 'ValidationError');
    }
    for (const query of ['timeout=abc&pollingInterval=1', 'timeout=-1&pollingInterval=1', 'timeout=999999&pollingInterval=1', 'timeout=1&pollingInterval=5']) {
      await refused(`wait ${query}`, () => call(`${base}/orchestrators/echo?${query}`, { method: 'POST', body: '1' }), 400);
    }
    await refused('bad version type', () => call(`${base}/orchestrators/echo?taskHub=bad%20hub`, { method: 'POST', body: '1' }), 400, /taskHub/);
  });

  test('start: a body over the limit is refused with 413 (declared length, and streamed before it is read whole)', async () => {
    const big = JSON.stringify('x'.repeat(LIMIT));
    const declared = await refused('declared oversized body', () => call(`${base}/orchestrators/echo`, { method: 'POST', body: big }), 413, 'PayloadTooLargeError');
    assert.equal(declared.json.limit, LIMIT);
    const before = await host.count();
    const streamed = await streamUntilAnswered(`${base}/orchestrators/echo`);
    assert.equal(streamed.status, 413);
    assert.equal(streamed.json.ExceptionType, 'PayloadTooLargeError');
    assert.ok(streamed.bodyStillOpen, `the answer came while the body was still streaming (after ${streamed.sent} bytes)`);
    assert.equal(await host.count(), before);
    // Just under the limit passes.
    const fits = await call(`${base}/orchestrators/echo`, { method: 'POST', body: JSON.stringify('x'.repeat(LIMIT - 2)) });
    assert.equal(fits.status, 202);
  });

  test('start: an id that is running already is a 409 and leaves the instance as it was', async () => {
    await call(`${base}/orchestrators/waiter/busy-1`, { method: 'POST', body: '"first"' });
    await refused('duplicate start', () => call(`${base}/orchestrators/echo/busy-1`, { method: 'POST', body: '"second"' }), 409, 'InstanceAlreadyExistsError');
    const status = await host.store.getStatus('busy-1');
    assert.equal(status?.name, 'waiter');
    assert.equal(status?.input, 'first');
    await host.store.terminate('busy-1', 'cleanup');
  });

  test('raise event: wrong or missing content type, malformed JSON and oversized data are refused; the first valid event wins', async () => {
    const id = (await call(`${base}/orchestrators/waiter/raise-1`, { method: 'POST' })).json.id;
    const url = `${base}/instances/${id}/raiseEvent/go`;
    await refused('text/plain', () => call(url, { method: 'POST', body: '"x"', headers: { 'content-type': 'text/plain' } }), 400, /application\/json/);
    await refused('no content type', () => call(url, { method: 'POST', body: new Blob(['"x"']) }), 400, /application\/json/);
    await refused('form content type', () => call(url, { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 400);
    await refused('malformed JSON', () => call(url, { method: 'POST', body: '{oops', headers: { 'content-type': 'application/json' } }), 400, /not valid JSON/);
    await refused('oversized', () => postJson(url, 'x'.repeat(LIMIT)), 413, 'PayloadTooLargeError');
    const streamed = await streamUntilAnswered(url);
    assert.equal(streamed.status, 413);
    await refused('unknown instance', () => postJson(`${base}/instances/nobody/raiseEvent/go`, 1), 404, 'InstanceNotFoundError');
    assert.equal((await postJson(url, { valid: true }, { 'content-type': 'application/json; charset=utf-8' })).status, 202);
    const done = await host.store.waitForCompletion(id, { timeoutInMilliseconds: 10_000 });
    assert.deepEqual(done.output, { valid: true }, 'none of the refused events reached the instance');
    await refused('finished instance', () => postJson(url, 1), 410, 'InvalidInstanceStateError');
  });

  test('list: bad dates, unknown statuses, out-of-range top, bad tokens and flags are 400', async () => {
    for (const query of [
      'createdTimeFrom=yesterday',
      'createdTimeFrom=2024-13-45',
      'createdTimeFrom=2024-02-30',
      'createdTimeFrom=2023-02-29',
      'createdTimeFrom=2024-04-31T00:00Z',
      'createdTimeTo=2024-01-01T24:00Z',
      'createdTimeTo=2024-01-01T23:60Z',
      'createdTimeTo=12345',
      'createdTimeFrom=2025-01-02&createdTimeTo=2025-01-01',
      'runtimeStatus=Done',
      'runtimeStatus=Running,Sleeping',
      'top=0',
      'top=1001',
      'top=-5',
      'top=ten',
      'top=1.5',
      'showInput=yes',
      'format=xml',
    ]) {
      const res = await call(`${base}/instances?${query}`);
      assert.equal(res.status, 400, `${query}: ${res.text}`);
      assert.ok(res.json.Message.length > 0);
    }
    const badToken = await call(`${base}/instances`, { headers: { 'x-ms-continuation-token': 'not-a-token' } });
    assert.equal(badToken.status, 400);
    assert.match(badToken.json.Message, /continuation token/);
    assert.equal((await call(`${base}/instances/x?showHistory=maybe`)).status, 400);
  });

  test('malformed escapes, C1 control characters and NUL in ids, and a signal without op, are 400s', async () => {
    for (const id of ['a%zz', 'a%ED%A0%80b', 'a%C2%85b', 'a%00b', '%E0%A4%A']) {
      await refused(`start ${id}`, () => call(`${base}/orchestrators/echo/${id}`, { method: 'POST' }), 400);
      await refused(`raise ${id}`, () => postJson(`${base}/instances/${id}/raiseEvent/go`, 1), id.startsWith('a%C2') || id === 'a%00b' ? 404 : 400);
    }
    const entities = async () => (await host.store.listEntities({ fetchState: true })).entities.length;
    const before = await entities();
    await refused('signal without op', () => call(`${base}/entities/counter/k`, { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } }), 400, /op=/);
    await refused('signal with an empty op', () => call(`${base}/entities/counter/k?op=`, { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } }), 400, /op=/);
    await refused('signal with NUL in the key', () => call(`${base}/entities/counter/k%00?op=add`, { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } }), 400, /NUL/);
    await refused('entity with a malformed escape', () => call(`${base}/entities/counter/k%zz?op=add`, { method: 'POST', body: '1' }), 400);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await entities(), before, 'no entity was created');
  });

  test('operations on unknown instances are 404 and on finished ones 410, leaving them unchanged', async () => {
    const done = await call(`${base}/orchestrators/echo/finished-1?timeout=10&pollingInterval=1`, { method: 'POST', body: '"kept"' });
    assert.equal(done.status, 200);
    const before = await host.store.getStatus('finished-1');
    for (const op of ['terminate', 'suspend', 'resume', 'rewind']) {
      await refused(`${op} unknown`, () => call(`${base}/instances/nobody/${op}`, { method: 'POST' }), 404, 'InstanceNotFoundError');
      await refused(`${op} finished`, () => call(`${base}/instances/finished-1/${op}?reason=x`, { method: 'POST' }), 410, 'InvalidInstanceStateError');
    }
    const after = await host.store.getStatus('finished-1');
    assert.deepEqual(after, before);
    assert.equal((await call(`${base}/instances/nobody`)).status, 404);
    await refused('purge unknown', () => call(`${base}/instances/nobody`, { method: 'DELETE' }), 404);
    await refused('restart with a bad flag', () => call(`${base}/instances/finished-1/restart?restartWithNewInstanceId=nope`, { method: 'POST' }), 400);
  });

  test('purge: a running instance is a 409; a filter with bad values is a 400; nothing is deleted', async () => {
    await call(`${base}/orchestrators/echo/purge-keep?timeout=10&pollingInterval=1`, { method: 'POST', body: '1' });
    await call(`${base}/orchestrators/waiter/purge-running`, { method: 'POST' });
    await eventually('running', async () => (await host.store.getStatus('purge-running'))?.runtimeStatus === 'Running');
    await refused('purge running', () => call(`${base}/instances/purge-running`, { method: 'DELETE' }), 409, 'InvalidInstanceStateError');
    await refused('purge without createdTimeFrom', () => call(`${base}/instances?runtimeStatus=Completed`, { method: 'DELETE' }), 400, /createdTimeFrom/);
    await refused('purge with a bad date', () => call(`${base}/instances?createdTimeFrom=soon`, { method: 'DELETE' }), 400, /createdTimeFrom/);
    await refused('purge with a bad status', () => call(`${base}/instances?createdTimeFrom=2000-01-01&runtimeStatus=Gone`, { method: 'DELETE' }), 400);
    assert.ok(await host.store.getStatus('purge-keep'));
    assert.ok(await host.store.getStatus('purge-running'));
    await host.store.terminate('purge-running', 'cleanup');
  });
});
