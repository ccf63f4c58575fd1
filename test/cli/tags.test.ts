/**
 * Tags in the CLI, as real child processes over each test store: `instances start --tag k=v` (repeatable), the
 * TAGS column and `--tag` filter of `instances list` (every one must match), the tags in `instances get` and
 * `--json`, `instances purge --tag`, and bad tags as one-line errors that start nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, DFApp, type DurableClient, type Worker } from '../../src/index.js';
import { testStores } from '../support/stores.js';
import { cli } from './cli-support.js';

for (const store of testStores()) {
  describe(`tags in the CLI on ${store.name}`, () => {
    let url: string;
    let cleanup: () => Promise<void>;
    let worker: Worker;
    let client: DurableClient;
    before(async () => {
      ({ url, cleanup } = await store.create());
      const app = new DFApp({ store: url });
      app.orchestration('echo', (ctx) => ctx.getInput() ?? null);
      worker = await app.startWorker({ pollIntervalMs: 50 });
      client = await createClient({ store: url });
    });
    after(async () => {
      await client.close();
      await worker.stop();
      await cleanup();
    });

    test('start --tag stores the tags; list shows and filters them; get and --json show them; purge --tag', async () => {
      const tagged = await cli(['instances', 'start', 'echo', '--id', 't1', '--tag', 'tenant=acme', '--tag', 'expr=a=b', '--wait', '--store', url]);
      assert.equal(tagged.code, 0, tagged.stderr);
      assert.deepEqual((await client.getStatus('t1'))?.tags, { tenant: 'acme', expr: 'a=b' });
      assert.equal((await cli(['instances', 'start', 'echo', '--id', 't2', '--tag', 'tenant=other', '--wait', '--store', url])).code, 0);
      assert.equal((await cli(['instances', 'start', 'echo', '--id', 'plain', '--wait', '--store', url])).code, 0);

      const list = await cli(['instances', 'list', '--store', url]);
      assert.equal(list.code, 0, list.stderr);
      const [header, ...rows] = list.stdout.trim().split('\n');
      assert.match(header!, /DURATION +TAGS +CUSTOM STATUS$/);
      assert.ok(rows.some((r) => /^t1 .* tenant=acme, expr=a=b/.test(r)), list.stdout);
      const filtered = await cli(['instances', 'list', '--tag', 'tenant=acme', '--json', '--store', url]);
      assert.deepEqual((JSON.parse(filtered.stdout) as { instanceId: string; tags: unknown }[]).map((s) => [s.instanceId, s.tags]), [
        ['t1', { tenant: 'acme', expr: 'a=b' }],
      ]);
      const both = await cli(['instances', 'list', '--tag', 'tenant=acme', '--tag', 'expr=nope', '--json', '--store', url]);
      assert.deepEqual(JSON.parse(both.stdout), [], 'every --tag must match');

      const get = await cli(['instances', 'get', 't1', '--store', url]);
      assert.match(get.stdout, /^Tags: +tenant=acme, expr=a=b$/m);
      assert.doesNotMatch((await cli(['instances', 'get', 'plain', '--store', url])).stdout, /^Tags:/m);

      const purge = await cli(['instances', 'purge', '--tag', 'tenant=other', '--store', url]);
      assert.equal(purge.code, 0, purge.stderr);
      assert.match(purge.stdout, /Purged 1 instance\./);
      assert.equal(await client.getStatus('t2'), undefined);
      assert.ok(await client.getStatus('t1'));
    });

    test('bad tags are one-line errors and start nothing', async () => {
      const before = (await client.getStatusAll()).length;
      for (const [args, message] of [
        [['--tag', 'novalue'], /^duraflow: --tag takes key=value/],
        [['--tag', '=v'], /^duraflow: --tag takes key=value/],
        [['--tag', `k=${'v'.repeat(1025)}`], /^duraflow: --tag: the value of tag 'k' may be at most 1024 characters/],
        [['--tag', `${'k'.repeat(129)}=v`], /^duraflow: --tag: a tag key may be at most 128 characters/],
      ] as const) {
        const run = await cli(['instances', 'start', 'echo', '--id', 'refused', ...args, '--store', url]);
        assert.equal(run.code, 1, args.join(' '));
        assert.match(run.stderr.trim(), message);
        const listed = await cli(['instances', 'list', ...args, '--store', url]);
        assert.equal(listed.code, 1);
        assert.match(listed.stderr.trim(), message);
      }
      assert.equal((await client.getStatusAll()).length, before);
    });
  });
}
