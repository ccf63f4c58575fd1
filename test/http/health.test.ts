/**
 * The health probes on both stores: `/healthz` (alive) and `/readyz` (store answers, worker runs) need no API
 * key; `/readyz` answers 503 with a JSON reason when the worker has stopped or the store cannot be reached.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DFApp } from '../../src/index.js';
import { startHttpHost } from '../../src/http/host.js';
import { startWorker } from '../../src/runtime/worker.js';
import { acquireStore } from '../../src/store/open-store.js';
import { testStores } from '../support/stores.js';

const KEY = 'health-key';

function app(store: string): DFApp {
  const a = new DFApp({ store, apiKey: KEY });
  a.orchestration('noop', function* () {
    return 1;
  });
  return a;
}

async function probe(url: string): Promise<{ status: number; body: Record<string, unknown>; cache: string | null }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, cache: response.headers.get('cache-control') };
}

for (const store of testStores()) {
  describe(`health probes on ${store.name}`, () => {
    test('healthz and readyz answer 200 without the API key, which the management API still needs', async () => {
      const created = await store.create();
      const host = await app(created.url).start({ port: 0 });
      try {
        assert.deepEqual(await probe(`${host.url}/healthz`), { status: 200, body: { status: 'ok' }, cache: 'no-store' });
        assert.deepEqual(await probe(`${host.url}/readyz`), { status: 200, body: { status: 'ready' }, cache: 'no-store' });
        assert.equal((await fetch(`${host.url}/runtime/webhooks/durabletask/instances`)).status, 401);
      } finally {
        await host.stop();
        await created.cleanup();
      }
    });

    test('readyz answers 503 once the worker has stopped; healthz stays 200', async () => {
      const created = await store.create();
      const handle = await acquireStore(created.url);
      const a = app(created.url);
      const worker = await startWorker(handle.store, a.taskHub, a.registry);
      const http = await startHttpHost(a, handle.store, { port: 0, notReadyReason: () => (worker.stopping ? 'worker stopped' : undefined) });
      try {
        assert.equal((await probe(`${http.url}/readyz`)).status, 200);
        await worker.stop();
        assert.deepEqual((await probe(`${http.url}/readyz`)).body, { status: 'unavailable', reason: 'worker stopped' });
        assert.equal((await probe(`${http.url}/readyz`)).status, 503);
        assert.equal((await probe(`${http.url}/healthz`)).status, 200);
      } finally {
        await http.close();
        await handle.release();
        await created.cleanup();
      }
    });

    test('readyz answers 503 when the store cannot be reached (closed under the host)', async () => {
      const created = await store.create();
      const host = await app(created.url).start({ port: 0 });
      const handle = await acquireStore(created.url); // the same store object as the host's
      try {
        assert.equal((await probe(`${host.url}/readyz`)).status, 200);
        await handle.store.close();
        const ready = await probe(`${host.url}/readyz`);
        assert.equal(ready.status, 503);
        assert.equal(ready.body['status'], 'unavailable');
        assert.match(String(ready.body['reason']), /^store unreachable/);
        assert.equal((await probe(`${host.url}/healthz`)).status, 200);
      } finally {
        await host.stop().catch(() => undefined);
        await handle.release().catch(() => undefined);
        await created.cleanup();
      }
    });
  });
}
