/**
 * The schedule routes of the management API over real HTTP: status codes, bodies and bad input (each refused
 * request writes nothing), and the API key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, startTestHost, type TestHost } from './http-fixture.js';

describe('schedule routes', () => {
  let host: TestHost;
  const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  before(async () => {
    host = await startTestHost();
  });
  after(() => host.stop());

  test('create 201, read 200, list, pause/resume 200, trigger 202 with the run, update, delete 204', async () => {
    const created = await call(`${host.base}/schedules`, json({ scheduleId: 'api', orchestration: 'echo', input: 7, cron: '*/5 * * * *', startAt: '2031-05-01T00:00:00Z' }));
    assert.equal(created.status, 201);
    assert.deepEqual([created.json.scheduleId, created.json.state, created.json.nextRunAt, created.json.input], ['api', 'Active', '2031-05-01T00:00:00.000Z', 7]);
    assert.equal((await call(`${host.base}/schedules/api`)).json.cron, '*/5 * * * *');
    assert.deepEqual((await call(`${host.base}/schedules`)).json.map((s: { scheduleId: string }) => s.scheduleId), ['api']);
    const paused = await call(`${host.base}/schedules/api/pause?reason=${encodeURIComponent('<b>why</b>')}`, { method: 'POST' });
    assert.deepEqual([paused.status, paused.json.state, paused.json.pausedReason], [200, 'Paused', '<b>why</b>']);
    assert.equal((await call(`${host.base}/schedules/api/resume`, { method: 'POST' })).json.state, 'Active');
    const triggered = await call(`${host.base}/schedules/api/trigger`, { method: 'POST' });
    assert.equal(triggered.status, 202);
    assert.match(triggered.json.id, /^api:/);
    assert.equal(triggered.headers.get('location'), triggered.json.statusQueryGetUri);
    const patched = await call(`${host.base}/schedules/api`, { ...json({ every: 60_000, input: null }), method: 'PATCH' });
    assert.deepEqual([patched.status, patched.json.every, patched.json.cron, patched.json.input], [200, 60_000, undefined, null]);
    assert.equal((await call(`${host.base}/schedules/api`, { method: 'DELETE' })).status, 204);
    assert.equal((await call(`${host.base}/schedules/api`)).status, 404);
  });

  test('bad input: 400 for a bad body or schedule, 404 unknown, 409 taken; nothing is written', async () => {
    const cases: [RequestInit, number, RegExp][] = [
      [{ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"scheduleId":' }, 400, /not valid JSON/],
      [{ method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }, 400, /application\/json/],
      [json([1, 2]), 400, /JSON object/],
      [json({ scheduleId: 'x', orchestration: 'echo', every: 1000, colour: 'red' }), 400, /Unknown schedule field 'colour'/],
      [json({ scheduleId: 'x', orchestration: 'echo', every: 1000, startAt: 'soon' }), 400, /ISO 8601/],
      [json({ scheduleId: 'x', orchestration: 'echo', cron: '0 2 * * *', timeZone: 'Nowhere/Land' }), 400, /Unknown time zone/],
      [json({ scheduleId: 'x', orchestration: 'echo', every: 10 }), 400, /at least 1000/],
      [json({ scheduleId: 'x', orchestration: 'ghost', every: 1000 }), 400, /not registered.*'echo'/],
      [json({ scheduleId: 'a:b', orchestration: 'echo', every: 1000 }), 400, /schedule id/],
    ];
    for (const [init, status, message] of cases) {
      const response = await call(`${host.base}/schedules`, init);
      assert.equal(response.status, status, `${String(init.body)} → ${response.text}`);
      assert.equal(response.json.ExceptionType, 'ValidationError');
      assert.match(response.json.Message, message);
    }
    assert.deepEqual((await call(`${host.base}/schedules`)).json, []);
    const missing = await call(`${host.base}/schedules/none/pause`, { method: 'POST' });
    assert.deepEqual([missing.status, missing.json.ExceptionType, missing.json.scheduleId], [404, 'ScheduleNotFoundError', 'none']);
    assert.equal((await call(`${host.base}/schedules/none`, { method: 'DELETE' })).status, 404);
    assert.equal((await call(`${host.base}/schedules/none/trigger`, { method: 'POST' })).status, 404);
    await call(`${host.base}/schedules`, json({ scheduleId: 'taken', orchestration: 'echo', every: 1000 }));
    const taken = await call(`${host.base}/schedules`, json({ scheduleId: 'taken', orchestration: 'echo', every: 1000 }));
    assert.deepEqual([taken.status, taken.json.ExceptionType], [409, 'ScheduleAlreadyExistsError']);
    const badPatch = await call(`${host.base}/schedules/taken`, { ...json({ scheduleId: 'other' }), method: 'PATCH' });
    assert.equal(badPatch.status, 400, 'the id cannot be changed');
    await call(`${host.base}/schedules/taken`, { method: 'DELETE' });
  });
});

describe('schedule routes with an API key', () => {
  let host: TestHost;
  before(async () => {
    host = await startTestHost({ app: { apiKey: 'sched-key' } });
  });
  after(() => host.stop());

  test('need the key', async () => {
    assert.equal((await call(`${host.base}/schedules`)).status, 401);
    assert.equal((await call(`${host.base}/schedules/x/trigger`, { method: 'POST' })).status, 401);
    assert.equal((await call(`${host.base}/schedules`, { headers: { 'x-functions-key': 'sched-key' } })).status, 200);
  });
});
