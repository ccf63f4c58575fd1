/** The client suite on the store-backed client (createClient({ store })), on every test store. */
import { createClient } from '../../src/index.js';
import { testStores } from '../support/stores.js';
import { SUITE_PAYLOAD_LIMIT, clientSuite, suiteApp } from './client-suite.js';

for (const store of testStores()) {
  clientSuite(`store client on ${store.name}`, async () => {
    const { url, cleanup } = await store.create();
    const worker = await suiteApp(url).startWorker({ pollIntervalMs: 50 });
    const client = await createClient({ store: url, maxPayloadBytes: SUITE_PAYLOAD_LIMIT });
    return {
      client,
      origin: 'http://127.0.0.1:7071',
      async stop() {
        await client.close();
        await worker.stop();
        await cleanup();
      },
    };
  });
}
