/**
 * Tags in the management API and the remote client, on every store: `tags` (JSON) and `tag=key=value` on start,
 * `tags` in both status formats and the history projection, the list and purge filters, and bad tags refused
 * with a 400 before anything is written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, ValidationError, type DurableClient } from '../../src/index.js';
import { testStores } from '../support/stores.js';
import { call, startTestHost, type TestHost } from './http-fixture.js';

const q = (tags: Record<string, string>) => `tags=${encodeURIComponent(JSON.stringify(tags))}`;

for (const store of testStores()) {
  describe(`tags over HTTP on ${store.name}`, () => {
    let host: TestHost;
    let remote: DurableClient;
    before(async () => {
      host = await startTestHost({ store });
      remote = await createClient({ url: host.url });
    });
    after(async () => {
      await remote.close();
      await host.stop();
    });
    const ids = (json: any[]) => json.map((s) => s.instanceId).sort();

    test('a start takes tags as JSON and as tag=key=value pairs; both status formats and the history show them', async () => {
      const started = await call(`${host.base}/orchestrators/echo/json-tags?${q({ env: 'prod', 'a=b': 'x&y' })}`, { method: 'POST' });
      assert.equal(started.status, 202);
      const paired = await call(`${host.base}/orchestrators/echo/pair-tags?tag=env=prod&tag=team=blue=green&timeout=10&pollingInterval=1`, { method: 'POST' });
      assert.equal(paired.status, 200);
      await host.store.waitForCompletion('json-tags');
      assert.deepEqual((await call(`${host.base}/instances/json-tags`)).json.tags, { env: 'prod', 'a=b': 'x&y' });
      const status = (await call(`${host.base}/instances/pair-tags?format=duraflow`)).json;
      assert.deepEqual(status.tags, { env: 'prod', team: 'blue=green' }, 'the key ends at the first =');
      const projected = (await call(`${host.base}/instances/pair-tags?showHistory=true`)).json.historyEvents;
      assert.deepEqual(projected.find((e: any) => e.EventType === 'ExecutionStarted').Tags, { env: 'prod', team: 'blue=green' });
      await call(`${host.base}/orchestrators/echo/untagged?timeout=10&pollingInterval=1`, { method: 'POST' });
      assert.equal('tags' in (await call(`${host.base}/instances/untagged`)).json, false, 'no tags: no field');
    });

    test('the list filters by tags (every pair must match), in either form, and so does a purge by filter', async () => {
      for (const [id, tags] of [['l1', { list: 'a', k: '1' }], ['l2', { list: 'a', k: '2' }], ['l3', { list: 'b' }]] as const) {
        assert.equal((await call(`${host.base}/orchestrators/echo/${id}?${q(tags)}&timeout=10&pollingInterval=1`, { method: 'POST' })).status, 200);
      }
      assert.deepEqual(ids((await call(`${host.base}/instances?tag=list=a`)).json), ['l1', 'l2']);
      assert.deepEqual(ids((await call(`${host.base}/instances?${q({ list: 'a', k: '2' })}`)).json), ['l2']);
      assert.deepEqual(ids((await call(`${host.base}/instances?tag=list=a&tag=k=1`)).json), ['l1']);
      assert.deepEqual((await call(`${host.base}/instances?tag=list=c`)).json, []);
      const purged = await call(`${host.base}/instances?createdTimeFrom=2000-01-01T00:00:00Z&tag=list=b`, { method: 'DELETE' });
      assert.deepEqual(purged.json, { instancesDeleted: 1 });
      assert.equal((await call(`${host.base}/instances/l3`)).status, 404);
      assert.equal((await call(`${host.base}/instances/l1`)).status, 200);
    });

    test('bad tags are a 400 naming the problem, and nothing is started', async () => {
      const before = await host.count();
      const bad = [
        'tags=not-json',
        'tags=%5B%5D',
        `tags=${encodeURIComponent('{"k":1}')}`,
        `tags=${encodeURIComponent('{"k":null}')}`,
        'tag=novalue',
        'tag==v',
        `tag=k=${'v'.repeat(1025)}`,
        `tag=${'k'.repeat(129)}=v`,
        `tags=${encodeURIComponent(JSON.stringify(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']))))}`,
        'tag=k=%00',
      ];
      for (const query of bad) {
        const refused = await call(`${host.base}/orchestrators/echo/refused?${query}`, { method: 'POST' });
        assert.equal(refused.status, 400, query);
        assert.match(refused.json.Message, /tag/i, query);
        assert.equal((await call(`${host.base}/instances?${query}`)).status, 400, `list ${query}`);
        assert.equal((await call(`${host.base}/instances?createdTimeFrom=2000-01-01T00:00:00Z&${query}`, { method: 'DELETE' })).status, 400, `purge ${query}`);
      }
      assert.equal(await host.count(), before);
      assert.equal((await call(`${host.base}/instances/refused`)).status, 404);
    });

    test('the remote client sends and reads tags (any key), filters by them, and refuses bad ones locally', async () => {
      const tags = { 'odd=key': 'v', tenant: 'ü' };
      const id = await remote.startNew('echo', { tags, input: 1 });
      assert.deepEqual((await remote.waitForCompletion(id)).tags, tags);
      assert.deepEqual((await remote.listInstances({ tags: { 'odd=key': 'v' } })).instances.map((s) => s.instanceId), [id]);
      assert.deepEqual((await remote.getStatus(id))?.tags, tags);
      await assert.rejects(remote.startNew('echo', { tags: { k: 5 as unknown as string } }), ValidationError);
      await assert.rejects(remote.listInstances({ tags: { k: 5 as unknown as string } }), ValidationError);
    });
  });
}
