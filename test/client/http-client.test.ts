/** The client suite on the HTTP client (createClient({ url, apiKey })) against a real host, on every test store. */
import { createClient } from '../../src/index.js';
import { testStores } from '../support/stores.js';
import { clientSuite, suiteApp } from './client-suite.js';

for (const store of testStores()) {
  clientSuite(`HTTP client on ${store.name}`, async () => {
    const { url, cleanup } = await store.create();
    const app = suiteApp(url);
    app.options.apiKey = 'suite-key';
    app.options.worker = { pollIntervalMs: 50 };
    const host = await app.start({ port: 0 });
    const client = await createClient({ url: host.url, apiKey: 'suite-key' });
    return {
      client,
      origin: host.url,
      async stop() {
        await client.close();
        await host.stop();
        await cleanup();
      },
    };
  });
}
