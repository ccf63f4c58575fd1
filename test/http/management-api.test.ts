/** The management API against a real host: every route, its status codes, headers and payloads. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../support/engine-helpers.js';
import { call, postJson, rawCall, startTestHost, type TestHost } from './http-fixture.js';

const SECOND_PRECISION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const STATUS_KEYS = ['createdTime', 'customStatus', 'input', 'instanceId', 'lastUpdatedTime', 'name', 'output', 'runtimeStatus'];
const CHECK_STATUS_KEYS = [
  'id',
  'purgeHistoryDeleteUri',
  'restartPostUri',
  'resumePostUri',
  'sendEventPostUri',
  'statusQueryGetUri',
  'suspendPostUri',
  'terminatePostUri',
];

describe('management API', () => {
  let host: TestHost;
  before(async () => {
    const attempts = new Map<string, number>();
    host = await startTestHost({
      // A name the Host check accepts, for the test of management URLs that follow the request's Host.
      app: { allowedHosts: ['public.example'] },
      setup(app) {
        app.activity('flakyStep', (id: string) => {
          const attempt = (attempts.get(id) ?? 0) + 1;
          attempts.set(id, attempt);
          if (attempt === 1) throw new Error('first attempt fails');
          return attempt;
        });
        app.orchestration('flaky', function* (ctx) {
          return { attempt: yield ctx.callActivity('flakyStep', ctx.instanceId) };
        });
      },
    });
  });
  after(() => host.stop());

  const waitStatus = (id: string, status: string) =>
    eventually(`${id} ${status}`, async () => (await host.store.getStatus(id))?.runtimeStatus === status);

  for (const basePath of ['/runtime/webhooks/durabletask', '/durabletask']) {
    test(`start answers 202 with the check-status payload, Location and Retry-After (${basePath})`, async () => {
      const res = await call(`${host.url}${basePath}/orchestrators/hello`, { method: 'POST', body: '"Tokyo"' });
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('retry-after'), '10');
      assert.deepEqual(Object.keys(res.json).sort(), CHECK_STATUS_KEYS);
      const id: string = res.json.id;
      assert.match(id, /^[0-9a-f]{32}$/);
      assert.equal(res.headers.get('location'), res.json.statusQueryGetUri);
      const instanceBase = `${host.url}/runtime/webhooks/durabletask/instances/${id}`;
      assert.equal(res.json.statusQueryGetUri, `${instanceBase}?taskHub=default&connection=Storage`);
      assert.equal(res.json.sendEventPostUri, `${instanceBase}/raiseEvent/{eventName}?taskHub=default&connection=Storage`);
      assert.equal(res.json.terminatePostUri, `${instanceBase}/terminate?reason={text}&taskHub=default&connection=Storage`);
      assert.equal(res.json.purgeHistoryDeleteUri, `${instanceBase}?taskHub=default&connection=Storage`);
      assert.equal(res.json.restartPostUri, `${instanceBase}/restart?taskHub=default&connection=Storage`);
      assert.equal(res.json.suspendPostUri, `${instanceBase}/suspend?reason={text}&taskHub=default&connection=Storage`);
      assert.equal(res.json.resumePostUri, `${instanceBase}/resume?reason={text}&taskHub=default&connection=Storage`);
      // The Location URL works as it is.
      await waitStatus(id, 'Completed');
      const status = await call(res.json.statusQueryGetUri);
      assert.equal(status.status, 200);
      assert.equal(status.json.output, 'Hello Tokyo!');
      assert.equal((await call(`${host.url}${basePath}/instances/${id}`)).json.instanceId, id);
    });
  }

  test('start with an explicit id; the management URLs follow the request Host', async () => {
    const res = await rawCall(`${host.base}/orchestrators/echo/my-id-1`, { method: 'POST', body: '{"a":1}', headers: { host: 'public.example:9999' } });
    assert.equal(res.status, 202);
    assert.equal(res.json.id, 'my-id-1');
    assert.ok(res.json.statusQueryGetUri.startsWith('http://public.example:9999/runtime/webhooks/durabletask/instances/my-id-1?'));
    await waitStatus('my-id-1', 'Completed');
    assert.deepEqual((await host.store.getStatus('my-id-1'))?.output, { a: 1 });
  });

  test('start with timeout and pollingInterval waits: 200 with the output, 500 on failure, 202 when time runs out', async () => {
    const done = await call(`${host.base}/orchestrators/hello?timeout=10&pollingInterval=1`, { method: 'POST', body: '"Lima"' });
    assert.equal(done.status, 200);
    assert.equal(done.json, 'Hello Lima!');
    const failed = await call(`${host.base}/orchestrators/fails?timeout=10&pollingInterval=1`, { method: 'POST' });
    assert.equal(failed.status, 500);
    assert.equal(failed.json.runtimeStatus, 'Failed');
    assert.match(failed.json.output, /boom on purpose/);
    const pending = await call(`${host.base}/orchestrators/waiter?timeout=0.2&pollingInterval=0.1`, { method: 'POST' });
    assert.equal(pending.status, 202);
    assert.deepEqual(Object.keys(pending.json).sort(), CHECK_STATUS_KEYS);
    // Only one of the two parameters: no wait, as in the extension.
    const noWait = await call(`${host.base}/orchestrators/hello?timeout=10`, { method: 'POST', body: '"x"' });
    assert.equal(noWait.status, 202);
    await call(`${host.base}/instances/${pending.json.id}/terminate`, { method: 'POST' });
  });

  test('status: 202 with Location and Retry-After while running, 200 when finished, 404 when unknown; fields as in Durable Functions', async () => {
    const id = (await call(`${host.base}/orchestrators/waiter/status-1`, { method: 'POST', body: '{"in":true}' })).json.id;
    await waitStatus(id, 'Running');
    const url = `${host.base}/instances/${id}?showInput=true`;
    const running = await call(url);
    assert.equal(running.status, 202);
    assert.equal(running.headers.get('location'), url);
    assert.equal(running.headers.get('retry-after'), '5');
    assert.deepEqual(Object.keys(running.json).sort(), STATUS_KEYS);
    assert.equal(running.json.runtimeStatus, 'Running');
    assert.equal(running.json.name, 'waiter');
    assert.deepEqual(running.json.input, { in: true });
    assert.equal(running.json.output, null);
    assert.equal(running.json.customStatus, null);
    assert.match(running.json.createdTime, SECOND_PRECISION);
    assert.match(running.json.lastUpdatedTime, SECOND_PRECISION);

    assert.equal((await postJson(`${host.base}/instances/${id}/raiseEvent/go`, 'went')).status, 202);
    await waitStatus(id, 'Completed');
    const done = await call(`${host.base}/instances/${id}`);
    assert.equal(done.status, 200);
    assert.equal(done.json.output, 'went');
    assert.equal(done.headers.get('location'), null);
    assert.equal((await call(`${host.base}/instances/${id}?showInput=false`)).json.input, null);
    const unknown = await call(`${host.base}/instances/nobody-here`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.ExceptionType, 'InstanceNotFoundError');
  });

  test('status of failed and terminated instances; returnInternalServerErrorOnFailure', async () => {
    const failed = (await call(`${host.base}/orchestrators/fails/failed-1`, { method: 'POST' })).json.id;
    await waitStatus(failed, 'Failed');
    const plain = await call(`${host.base}/instances/${failed}`);
    assert.equal(plain.status, 200);
    assert.match(plain.json.output, /boom on purpose/);
    assert.equal(plain.json.failureDetails.errorType, 'Error');
    assert.equal((await call(`${host.base}/instances/${failed}?returnInternalServerErrorOnFailure=true`)).status, 500);

    const waiting = (await call(`${host.base}/orchestrators/waiter/terminated-1`, { method: 'POST' })).json.id;
    assert.equal((await call(`${host.base}/instances/${waiting}/terminate?reason=${encodeURIComponent('no longer needed')}`, { method: 'POST' })).status, 202);
    await waitStatus(waiting, 'Terminated');
    const terminated = await call(`${host.base}/instances/${waiting}?returnInternalServerErrorOnFailure=true`);
    assert.equal(terminated.status, 200);
    assert.equal(terminated.json.output, 'no longer needed');
  });

  test('showHistory gives the friendly projection; results only with showHistoryOutput', async () => {
    const id = (await call(`${host.base}/orchestrators/hello/history-1?timeout=10&pollingInterval=1`, { method: 'POST', body: '"Oslo"' })).json;
    assert.equal(id, 'Hello Oslo!');
    const res = await call(`${host.base}/instances/history-1?showHistory=true`);
    const events = res.json.historyEvents as Record<string, unknown>[];
    assert.deepEqual(events.map((e) => e['EventType']), ['ExecutionStarted', 'TaskCompleted', 'ExecutionCompleted']);
    assert.equal(events[0]?.['FunctionName'], 'hello');
    assert.equal(events[0]?.['Input'], 'Oslo');
    assert.equal(events[1]?.['FunctionName'], 'greet');
    assert.equal(events[1]?.['Input'], 'Oslo');
    assert.match(String(events[1]?.['ScheduledTime']), SECOND_PRECISION);
    assert.equal(events[1]?.['Result'], undefined);
    assert.equal(events[2]?.['OrchestrationStatus'], 'Completed');
    for (const e of events) assert.ok(!('EventId' in e) && !('IsPlayed' in e));
    const withOutput = await call(`${host.base}/instances/history-1?showHistory=true&showHistoryOutput=true&showInput=false`);
    const rows = withOutput.json.historyEvents as Record<string, unknown>[];
    assert.equal(rows[1]?.['Result'], 'Hello Oslo!');
    assert.equal(rows[2]?.['Result'], 'Hello Oslo!');
    assert.equal(rows[0]?.['Input'], undefined);
    assert.equal(rows[1]?.['Input'], undefined);
    // The remote client's format carries the raw events.
    const raw = await call(`${host.base}/instances/history-1?showHistory=true&format=duraflow`);
    assert.ok((raw.json.historyEvents as { eventType: string }[]).some((e) => e.eventType === 'TaskScheduled'));
  });

  test('list: filters, showInput, and top with x-ms-continuation-token paging', async () => {
    const prefix = `list-${Date.now()}-`;
    for (let i = 0; i < 5; i++) await call(`${host.base}/orchestrators/echo/${prefix}${i}`, { method: 'POST', body: String(i) });
    await call(`${host.base}/orchestrators/waiter/${prefix}w`, { method: 'POST' });
    for (let i = 0; i < 5; i++) await waitStatus(`${prefix}${i}`, 'Completed');
    await waitStatus(`${prefix}w`, 'Running');

    const ids: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const res: Awaited<ReturnType<typeof call>> = await call(`${host.base}/instances?instanceIdPrefix=${prefix}&top=2`, {
        headers: token ? { 'x-ms-continuation-token': token } : {},
      });
      assert.equal(res.status, 200);
      assert.ok(Array.isArray(res.json) && res.json.length <= 2);
      for (const s of res.json) assert.deepEqual(Object.keys(s).sort(), STATUS_KEYS);
      ids.push(...res.json.map((s: { instanceId: string }) => s.instanceId));
      token = res.headers.get('x-ms-continuation-token');
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.equal(new Set(ids).size, 6);

    const completed = await call(`${host.base}/instances?instanceIdPrefix=${prefix}&runtimeStatus=Completed`);
    assert.equal(completed.json.length, 5);
    const both = await call(`${host.base}/instances?instanceIdPrefix=${prefix}&runtimeStatus=completed,running`);
    assert.equal(both.json.length, 6);
    const repeated = await call(`${host.base}/instances?instanceIdPrefix=${prefix}&runtimeStatus=Running&runtimeStatus=Pending`);
    assert.deepEqual(repeated.json.map((s: { instanceId: string }) => s.instanceId), [`${prefix}w`]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal((await call(`${host.base}/instances?instanceIdPrefix=${prefix}&createdTimeFrom=${future}`)).json.length, 0);
    assert.equal((await call(`${host.base}/instances?instanceIdPrefix=${prefix}&createdTimeTo=${future}`)).json.length, 6);
    const noInput = await call(`${host.base}/instances?instanceIdPrefix=${prefix}&showInput=false`);
    assert.ok(noInput.json.every((s: { input: unknown }) => s.input === null));
    await call(`${host.base}/instances/${prefix}w/terminate`, { method: 'POST' });
  });

  test('suspend and resume answer 202 and change the status; rewind re-runs a failed instance', async () => {
    const id = (await call(`${host.base}/orchestrators/waiter/suspend-1`, { method: 'POST' })).json.id;
    await waitStatus(id, 'Running');
    assert.equal((await call(`${host.base}/instances/${id}/suspend?reason=pause`, { method: 'POST' })).status, 202);
    await waitStatus(id, 'Suspended');
    const suspended = await call(`${host.base}/instances/${id}`);
    assert.equal(suspended.status, 202, 'a suspended instance is not finished');
    assert.equal(suspended.json.runtimeStatus, 'Suspended');
    assert.equal((await call(`${host.base}/instances/${id}/resume?reason=go`, { method: 'POST' })).status, 202);
    await waitStatus(id, 'Running');
    await postJson(`${host.base}/instances/${id}/raiseEvent/go`, 1);
    await waitStatus(id, 'Completed');

    const failed = (await call(`${host.base}/orchestrators/flaky/rewind-1`, { method: 'POST' })).json.id;
    await waitStatus(failed, 'Failed');
    assert.equal((await call(`${host.base}/instances/${failed}/rewind?reason=retry`, { method: 'POST' })).status, 202);
    await waitStatus(failed, 'Completed');
    assert.deepEqual((await host.store.getStatus(failed))?.output, { attempt: 2 });
    const rewindCompleted = await call(`${host.base}/instances/${failed}/rewind`, { method: 'POST' });
    assert.equal(rewindCompleted.status, 410, 'only failed instances can be rewound');
  });

  test('restart: 202 with the new instance, or the same id; 400 for an unknown instance', async () => {
    const first = await call(`${host.base}/orchestrators/hello/restart-1?timeout=10&pollingInterval=1`, { method: 'POST', body: '"Rome"' });
    assert.equal(first.status, 200);
    const fresh = await call(`${host.base}/instances/restart-1/restart`, { method: 'POST' });
    assert.equal(fresh.status, 202);
    assert.deepEqual(Object.keys(fresh.json).sort(), CHECK_STATUS_KEYS);
    assert.notEqual(fresh.json.id, 'restart-1');
    await waitStatus(fresh.json.id, 'Completed');
    assert.equal((await host.store.getStatus(fresh.json.id))?.output, 'Hello Rome!');
    const same = await call(`${host.base}/instances/restart-1/restart?restartWithNewInstanceId=false&timeout=10&pollingInterval=1`, { method: 'POST' });
    assert.equal(same.status, 200);
    assert.equal(same.json, 'Hello Rome!');
    const unknown = await call(`${host.base}/instances/no-such/restart`, { method: 'POST' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.ExceptionType, 'InstanceNotFoundError');
  });

  test('purge by id (200, then 404) and by filter (200, 404 when nothing matched, createdTimeFrom required)', async () => {
    await call(`${host.base}/orchestrators/echo/purge-1?timeout=10&pollingInterval=1`, { method: 'POST', body: '1' });
    const purged = await call(`${host.base}/instances/purge-1`, { method: 'DELETE' });
    assert.equal(purged.status, 200);
    assert.deepEqual(purged.json, { instancesDeleted: 1 });
    assert.equal((await call(`${host.base}/instances/purge-1`, { method: 'DELETE' })).status, 404);

    const from = new Date(Date.now() - 1000).toISOString();
    await call(`${host.base}/orchestrators/echo/purge-2?timeout=10&pollingInterval=1`, { method: 'POST', body: '2' });
    await call(`${host.base}/orchestrators/fails/purge-3?timeout=10&pollingInterval=1`, { method: 'POST' });
    const running = (await call(`${host.base}/orchestrators/waiter/purge-4`, { method: 'POST' })).json.id;
    const byFilter = await call(`${host.base}/instances?createdTimeFrom=${from}&runtimeStatus=Completed,Failed`, { method: 'DELETE' });
    assert.equal(byFilter.status, 200);
    assert.ok(byFilter.json.instancesDeleted >= 2);
    assert.equal(await host.store.getStatus('purge-2'), undefined);
    assert.equal(await host.store.getStatus('purge-3'), undefined);
    assert.ok(await host.store.getStatus(running), 'running instances are not purged');
    const none = await call(`${host.base}/instances?createdTimeFrom=${from}&runtimeStatus=Completed`, { method: 'DELETE' });
    assert.equal(none.status, 404);
    assert.equal((await call(`${host.base}/instances?runtimeStatus=Completed`, { method: 'DELETE' })).status, 400);
    await call(`${host.base}/instances/${running}/terminate`, { method: 'POST' });
  });

  test('taskHub selects another task hub', async () => {
    const res = await call(`${host.base}/orchestrators/echo/other-hub-1?taskHub=other`, { method: 'POST', body: '1' });
    assert.equal(res.status, 202);
    assert.match(res.json.statusQueryGetUri, /taskHub=other/);
    assert.equal(await host.store.getStatus('other-hub-1'), undefined, 'not in the default hub');
    const status = await call(`${host.base}/instances/other-hub-1?taskHub=other`);
    assert.equal(status.json.instanceId, 'other-hub-1');
    assert.equal(status.json.runtimeStatus, 'Pending', 'no worker serves that hub');
  });

  test('entity routes of an app with no entities: reads 404, lists empty, signals 400 naming the served entities; makeprimary 200; unknown routes 404', async () => {
    assert.equal((await call(`${host.base}/entities/counter/one`)).status, 404);
    for (const path of ['/entities/counter', '/entities']) {
      const list = await call(`${host.base}${path}`);
      assert.equal(list.status, 200, path);
      assert.deepEqual(list.json, []);
    }
    for (const [method, path] of [
      ['POST', '/entities/counter/one?op=add'],
      ['DELETE', '/entities/counter/one'],
    ] as const) {
      const res = await call(`${host.base}${path}`, { method });
      assert.equal(res.status, 400, `${method} ${path}`);
      assert.match(res.json.Message, /counter/);
    }
    assert.equal((await call(`${host.base}/makeprimary`, { method: 'POST' })).status, 200);
    // The Python SDK lists with a trailing slash (`instances/`).
    assert.equal((await call(`${host.url}/durabletask/instances/?top=1`)).status, 200);
    assert.equal((await call(`${host.base}/nothing-here`)).status, 404);
    assert.equal((await call(`${host.base}/instances/x/explode`, { method: 'POST' })).status, 404);
  });
});
