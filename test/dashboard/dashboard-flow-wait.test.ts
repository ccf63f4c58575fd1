/**
 * The instance page's "Waiting for" card names the flow-control limit that holds an activity back, on every store
 * (HTTP) and in a real Chromium (SQLite): two instances call an activity limited to 1 per tenant key; while the
 * first one's call is held (it waits on a promise the test releases), the second's page says its activity waits
 * for the key; after the release both complete. A rate-limited activity's second call names its rate.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DFApp, type Host } from '../../src/index.js';
import { launchBrowser } from '../support/browser.js';
import { eventually } from '../support/engine-helpers.js';
import { testStores } from '../support/stores.js';

for (const store of testStores()) {
  describe(`activities waiting on flow control in the "Waiting for" card on ${store.name}`, () => {
    let host: Host;
    let cleanup: () => Promise<void>;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    before(async () => {
      const created = await store.create();
      cleanup = created.cleanup;
      const app = new DFApp({ store: created.url, httpAuthLevel: 'anonymous' });
      app.activity(
        'tenantWork',
        async (input: { tenant: string; id: string }) => {
          if (input.id === 'first') {
            firstStarted();
            await gate;
          }
          return input.id;
        },
        { concurrency: { limit: 1, key: (input: { tenant: string }) => input.tenant } },
      );
      app.activity('notify', async () => 'sent', { rateLimit: { limit: 1, periodMs: 600_000, key: () => 'mail' } });
      app.orchestration('perTenant', function* (ctx) {
        return yield ctx.callActivity('tenantWork', ctx.getInput());
      });
      app.orchestration('notifier', function* (ctx) {
        return yield ctx.callActivity('notify');
      });
      host = await app.start({ port: 0 });
    });
    after(async () => {
      release?.();
      await host?.stop();
      await cleanup?.();
    });
    const page = async (id: string) => (await fetch(`${host.url}/dashboard/instances/${id}`)).text();
    const HELD = /data-wait="activity">activity <code>tenantWork<\/code>.*? — <span class="flow-wait" data-flow-wait>waiting for concurrency key <code>tenant-a<\/code> \(limit 1, 1 running\)<\/span>/;

    test('the second instance of a key shows its activity waiting for the key; after the release both complete', async (t) => {
      await host.client.startNew('perTenant', { instanceId: 'first', input: { tenant: 'tenant-a', id: 'first' } });
      await started;
      await host.client.startNew('perTenant', { instanceId: 'second', input: { tenant: 'tenant-a', id: 'second' } });
      // Once the second's episode scheduled its call, the call waits on the key the first one holds.
      const html = await eventually('the second page names the key', async () => {
        const text = await page('second');
        return HELD.test(text) ? text : undefined;
      });
      assert.match(html, /id="waiting-for"/);
      // The holder's own activity is running (leased), not held back.
      assert.doesNotMatch(await page('first'), /data-flow-wait/);
      if (store.name === 'sqlite') {
        const browser = await launchBrowser(t);
        if (browser) {
          try {
            const tab = await browser.newPage();
            await tab.goto(`${host.url}/dashboard/instances/second`);
            const card = await tab.locator('#waiting-for').innerText();
            assert.match(card, /activity tenantWork #\d+, scheduled .* ago — waiting for concurrency key tenant-a \(limit 1, 1 running\)/);
          } finally {
            await browser.close();
          }
        }
      }
      release();
      assert.equal((await host.client.waitForCompletion('first', { timeoutInMilliseconds: 20_000 }))?.output, 'first');
      assert.equal((await host.client.waitForCompletion('second', { timeoutInMilliseconds: 20_000 }))?.output, 'second');
      assert.doesNotMatch(await page('second'), /data-flow-wait|id="waiting-for"/);
    });

    test("a rate-limited activity's call past the rate shows the rate it waits for", async () => {
      await host.client.startNew('notifier', { instanceId: 'n1' });
      await host.client.waitForCompletion('n1', { timeoutInMilliseconds: 20_000 });
      await host.client.startNew('notifier', { instanceId: 'n2' });
      await eventually('the n2 page names the rate', async () =>
        /data-flow-wait>waiting for rate limit key <code>mail<\/code> \(1 per 10 m 0 s\)<\/span>/.test(await page('n2')) || undefined,
      );
    });
  });
}
