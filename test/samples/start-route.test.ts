/**
 * The sample app's route `POST /api/start/{name}` (samples/app.ts), as the demo's hint uses it: no body at all
 * (`curl -X POST …/api/start/helloCities` sends no Content-Length), a JSON body as the input, a body that is not JSON.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Host } from '../../src/index.js';
import { createSampleApp } from '../../samples/app.js';
import { postWithoutBody } from '../support/raw-http.js';
import { sqliteTestStore } from '../support/stores.js';

let host: Host;
let cleanup: () => Promise<void>;

before(async () => {
  const store = await sqliteTestStore.create();
  cleanup = store.cleanup;
  host = await createSampleApp(store.url).start({ port: 0 });
});

after(async () => {
  await host?.stop();
  await cleanup?.();
});

test('no body (the demo hint, as curl sends it) starts the orchestration without input', async () => {
  const response = await postWithoutBody(`${host.url}/api/start/helloCities`);
  assert.equal(response.status, 202, response.body);
  const { id } = JSON.parse(response.body) as { id: string };
  const status = await host.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
  assert.deepEqual(status.output, ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
  assert.equal((await host.client.getStatus(id, { showInput: true }))?.input, undefined);
});

test('a JSON body is the input', async () => {
  const response = await fetch(`${host.url}/api/start/totalBytes`, { method: 'POST', body: '3' });
  assert.equal(response.status, 202);
  const { id } = (await response.json()) as { id: string };
  const status = await host.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
  assert.equal(status.runtimeStatus, 'Completed');
  assert.equal((await host.client.getStatus(id, { showInput: true }))?.input, 3);
});

test('a body that is not JSON is a 400 that says so, and starts nothing', async () => {
  const before = (await host.client.getStatusAll()).length;
  const response = await fetch(`${host.url}/api/start/helloCities`, { method: 'POST', body: '{oops' });
  assert.equal(response.status, 400);
  assert.match(((await response.json()) as { error: string }).error, /not JSON/);
  assert.equal((await host.client.getStatusAll()).length, before);
});
