/** The entity routes of the management API and the HTTP client's entity methods, against a real host. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, EntityId, type DurableClient } from '../../src/index.js';
import { call, startTestHost, type TestHost } from './http-fixture.js';

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('entity routes', () => {
  let host: TestHost;
  let remote: DurableClient;
  before(async () => {
    host = await startTestHost({
      setup(app) {
        app.entity('Counter', (ctx) => {
          const value = ctx.getState(() => 0) as number;
          if (ctx.operationName === 'add') ctx.setState(value + (ctx.getInput() as number));
          else if (ctx.operationName === 'note') ctx.setState(`${value}:${String(ctx.getInput())}`);
          else if (ctx.operationName === 'delete') ctx.deleteState();
          else ctx.setResult(value);
        });
      },
    });
    remote = await createClient({ url: host.url });
  });
  after(async () => {
    await remote.close();
    await host.stop();
  });

  const entityUrl = (name: string, key: string, query = '') => `${host.base}/entities/${name}/${key}${query}`;

  test('POST signals an operation (202); GET reads the state; unknown entities are 404', async () => {
    const signal = await call(entityUrl('counter', 'a', '?op=add'), { method: 'POST', body: '5', headers: { 'content-type': 'application/json' } });
    assert.equal(signal.status, 202);
    const state = await until(() => call(entityUrl('counter', 'a')), (r) => r.status === 200);
    assert.equal(state.status, 200);
    assert.equal(state.json, 5);
    assert.equal((await call(entityUrl('counter', 'never-signalled'))).status, 404);
  });

  test('a body that is not JSON arrives as a string; the key $ is the empty key', async () => {
    assert.equal((await call(entityUrl('counter', '$', '?op=note'), { method: 'POST', body: 'plain text' })).status, 202);
    const state = await until(() => call(entityUrl('counter', '$')), (r) => r.status === 200);
    assert.equal(state.json, '0:plain text');
    assert.deepEqual(await host.store.readEntityState(new EntityId('counter', '')), { entityExists: true, entityState: '0:plain text' });
  });

  test('GET entities/{name} lists with state on request, paged by x-ms-continuation-token', async () => {
    for (const key of ['p1', 'p2', 'p3']) await call(entityUrl('counter', key, '?op=add'), { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } });
    await until(() => call(`${host.base}/entities/counter?fetchState=true&top=1000`), (r) => (r.json as unknown[]).length >= 5);
    const first = await call(`${host.base}/entities/counter?fetchState=true&top=2`);
    assert.equal(first.status, 200);
    assert.equal(first.json.length, 2);
    assert.ok('state' in first.json[0]);
    const token = first.headers.get('x-ms-continuation-token');
    assert.ok(token);
    const second = await call(`${host.base}/entities/counter?top=2`, { headers: { 'x-ms-continuation-token': token! } });
    assert.equal(second.json.length, 2);
    assert.ok(!('state' in second.json[0]));
    const seen = [...first.json, ...second.json].map((e: { entityId: { key: string } }) => e.entityId.key);
    assert.equal(new Set(seen).size, 4);
  });

  test('DELETE signals delete: the entity disappears', async () => {
    await call(entityUrl('counter', 'gone', '?op=add'), { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } });
    await until(() => call(entityUrl('counter', 'gone')), (r) => r.status === 200);
    assert.equal((await call(entityUrl('counter', 'gone'), { method: 'DELETE' })).status, 202);
    const after = await until(() => call(entityUrl('counter', 'gone')), (r) => r.status === 404);
    assert.equal(after.status, 404);
  });

  test('bad input is refused with 400 and writes nothing', async () => {
    const before = await host.store.listEntities({ includeDeleted: true, pageSize: 1000 });
    const bad = [
      await call(entityUrl('nobody-serves-this', 'k', '?op=x'), { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } }),
      await call(entityUrl('counter', 'k', '?op=add'), { method: 'POST', body: '{oops', headers: { 'content-type': 'application/json' } }),
      await call(entityUrl('counter', 'k', '?op=add&scheduledTime=yesterday'), { method: 'POST', body: '1' }),
      await call(`${host.base}/entities/counter?top=0`),
      await call(`${host.base}/entities/counter?fetchState=maybe`),
    ];
    assert.deepEqual(bad.map((r) => r.status), [400, 400, 400, 400, 400]);
    assert.match(bad[0]!.json.Message, /counter/i);
    const afterwards = await host.store.listEntities({ includeDeleted: true, pageSize: 1000 });
    assert.equal(afterwards.entities.length, before.entities.length);
  });

  test('the HTTP client signals, reads, lists and cleans entities', async () => {
    const id = new EntityId('Counter', 'remote');
    await remote.signalEntity(id, 'add', 7);
    const state = await until(() => remote.readEntityState<number>(id), (s) => s.entityExists);
    assert.deepEqual(state, { entityExists: true, entityState: 7 });
    assert.deepEqual(await remote.readEntityState(new EntityId('Counter', 'absent')), { entityExists: false, entityState: undefined });
    const page = await remote.listEntities({ entityName: 'Counter', fetchState: true, pageSize: 1000 });
    const row = page.entities.find((e) => e.entityId.key === 'remote');
    assert.equal(row?.state, 7);
    assert.ok(row!.lastOperationTime instanceof Date);
    const cleaned = await remote.cleanEntityStorage({ removeEmptyEntities: true, releaseOrphanedLocks: true });
    assert.equal(typeof cleaned.numberOfEmptyEntitiesRemoved, 'number');
    assert.equal(typeof cleaned.numberOfOrphanedLocksRemoved, 'number');
  });
});
