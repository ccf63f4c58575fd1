/**
 * Flow control in the dashboard, on every store: an instance held back by its key's concurrency limit shows as
 * Pending with its limits and why it waits; one that started shows its limits and priority only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DFApp, type Host } from '../../src/index.js';
import { testStores } from '../support/stores.js';

for (const store of testStores()) {
  describe(`flow control in the dashboard on ${store.name}`, () => {
    let host: Host;
    let cleanup: () => Promise<void>;
    before(async () => {
      const created = await store.create();
      cleanup = created.cleanup;
      const app = new DFApp({ store: created.url, httpAuthLevel: 'anonymous' });
      app.orchestration('slow', function* (ctx) {
        yield ctx.waitForExternalEvent('go');
        return 'done';
      });
      app.orchestration('keyed', (ctx) => ctx.getInput() ?? null, { concurrency: { limit: 1, key: (input: { tenant: string }) => input.tenant } });
      app.orchestration('rated', () => 'sent', { rateLimit: { limit: 1, periodMs: 60_000 } });
      host = await app.start({ port: 0 });
    });
    after(async () => {
      await host?.stop();
      await cleanup?.();
    });
    const page = async (query: string) => (await fetch(`${host.url}/dashboard${query}`)).text();

    test('a Pending instance shows its limits and that it waits; a finished one its limits and priority', async () => {
      await host.client.startNew('keyed', { instanceId: 'done-1', input: { tenant: '<acme>' }, priority: 3 });
      await host.client.waitForCompletion('done-1', { timeoutInMilliseconds: 10_000 });
      const done = await page('/instances/done-1');
      assert.match(done, /<dt>Flow control<\/dt><dd id="instance-flow">at most 1 at once for key &#39;&lt;acme&gt;&#39;<\/dd>/);
      assert.match(done, /<dt>Priority<\/dt><dd id="instance-priority">3<\/dd>/);
      const status = await host.client.getStatus('done-1');
      assert.deepEqual(status?.flowControl, { concurrency: { key: '<acme>', limit: 1 } });
      // The second start within the rate's period waits, Pending, and says so.
      await host.client.startNew('rated', { instanceId: 'r1' });
      await host.client.waitForCompletion('r1', { timeoutInMilliseconds: 10_000 });
      await host.client.startNew('rated', { instanceId: 'r2' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await host.client.getStatus('r2'))?.runtimeStatus, 'Pending');
      assert.match(await page('/instances/r2'), /id="instance-flow">at most 1 starts per 60000 ms for key &#39;&#39; — Pending: waits for its turn within these limits<\/dd>/);
      await host.client.startNew('slow', { instanceId: 'plain' });
      assert.doesNotMatch(await page('/instances/plain'), /instance-flow/);
    });
  });
}
