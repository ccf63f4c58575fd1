/**
 * Tags in the dashboard, on every store: the Tags column of the list (chips that add their tag to the filter),
 * the `tag=key=value` filter (repeatable, every one must match, kept in the form), purge by filter with tags,
 * the tags on the instance page, user data escaped, and a bad tag filter as a 400 banner.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DFApp, type Host } from '../../src/index.js';
import { testStores } from '../support/stores.js';

const rowIds = (page: string) => [...page.matchAll(/<tr data-instance-id="([^"]*)"/g)].map((m) => m[1]!).sort();

for (const store of testStores()) {
  describe(`tags in the dashboard on ${store.name}`, () => {
    let host: Host;
    let cleanup: () => Promise<void>;
    before(async () => {
      const created = await store.create();
      cleanup = created.cleanup;
      const app = new DFApp({ store: created.url, httpAuthLevel: 'anonymous' });
      app.orchestration('echo', (ctx) => ctx.getInput() ?? null);
      host = await app.start({ port: 0 });
      const tagged: [string, Record<string, string>][] = [
        ['a', { tenant: 'acme', env: 'prod' }],
        ['b', { tenant: 'acme', env: 'dev' }],
        ['c', { tenant: 'other' }],
        ['x', { '<b>k</b>': '<script>alert(1)</script>' }],
        ['plain', {}],
      ];
      for (const [id, tags] of tagged) {
        await host.client.startNew('echo', { instanceId: id, tags });
        await host.client.waitForCompletion(id, { timeoutInMilliseconds: 10_000 });
      }
    });
    after(async () => {
      await host?.stop();
      await cleanup?.();
    });
    const page = async (query: string) => (await fetch(`${host.url}/dashboard${query}`)).text();

    test('the list shows tags as chips that link to the list filtered by them too', async () => {
      const list = await page('');
      assert.match(list, /<th>Tags<\/th><th>Custom status<\/th>/);
      const row = list.match(/<tr data-instance-id="a">[\s\S]*?<\/tr>/)![0];
      assert.match(row, /<td class="tags"><a class="tag" href="\?tag=tenant%3Dacme" data-tag="tenant"[^>]*>tenant=acme<\/a> <a class="tag" href="\?tag=env%3Dprod"/);
      const filtered = await page('?tag=tenant%3Dacme');
      const chip = filtered.match(/<tr data-instance-id="a">[\s\S]*?data-tag="env"/)![0];
      assert.match(chip, /href="\?tag=tenant%3Dacme&amp;tag=env%3Dprod" data-tag="env"/, 'a chip adds its tag to the current filter');
    });

    test('tag=key=value filters (every one must match), and the form keeps the filters with a spare input', async () => {
      assert.deepEqual(rowIds(await page('?tag=tenant=acme')), ['a', 'b']);
      const both = await page('?tag=tenant=acme&tag=env=dev');
      assert.deepEqual(rowIds(both), ['b']);
      assert.match(both, /<input name="tag" value="tenant=acme"[^>]*><input name="tag" value="env=dev"[^>]*>\s*<input name="tag" value="" placeholder="key=value"/);
      assert.deepEqual(rowIds(await page('?tag=&tag=tenant=other')), ['c'], "the form's empty input is ignored");
      assert.deepEqual(rowIds(await page('?tag=tenant=nobody')), []);
    });

    test('tags are escaped on the list and the instance page', async () => {
      for (const body of [await page(''), await page('/instances/x')]) {
        assert.ok(!body.includes('<script>alert(1)'), 'no markup from user data');
        assert.match(body, /&lt;b&gt;k&lt;\/b&gt;=&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
      }
    });

    test('the instance page shows the tags, each linking to the list filtered by it', async () => {
      const instance = await page('/instances/a');
      assert.match(instance, /<dt>Tags<\/dt><dd id="instance-tags"><a class="tag" href="\/dashboard\?tag=tenant%3Dacme"[^>]*>tenant=acme<\/a> <a class="tag" href="\/dashboard\?tag=env%3Dprod"/);
      assert.doesNotMatch(await page('/instances/plain'), /instance-tags/);
    });

    test('a bad tag filter is a 400 banner', async () => {
      for (const query of ['?tag=novalue', `?tag=k=${'v'.repeat(1025)}`, '?tag==v']) {
        const response = await fetch(`${host.url}/dashboard${query}`);
        assert.equal(response.status, 400, query);
        assert.match(await response.text(), /class="banner error" role="alert">[^<]*tag/i);
      }
    });

    test('purge by filter honours the tags, and refuses a bad tags filter', async () => {
      const purge = (filter: unknown) =>
        fetch(`${host.url}/dashboard/api/purge`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-duraflow-dashboard': '1' },
          body: JSON.stringify({ filter }),
        });
      assert.equal((await purge({ tags: { tenant: 1 } })).status, 400);
      assert.deepEqual(await (await purge({ tags: { tenant: 'other' } })).json(), { instancesDeleted: 1 });
      assert.equal(await host.client.getStatus('c'), undefined);
      assert.ok(await host.client.getStatus('a'));
    });
  });
}
