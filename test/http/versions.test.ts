/**
 * Versions in the management API and the remote client: `version` on start (default version, explicit, none,
 * unserved), in the status JSON of both formats, as a list and purge filter, and on restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, UnknownFunctionError, type DurableClient } from '../../src/index.js';
import { call, startTestHost, type TestHost } from './http-fixture.js';

describe('versions over HTTP', () => {
  let host: TestHost;
  let remote: DurableClient;
  before(async () => {
    host = await startTestHost({
      app: { versioning: { defaultVersion: '2.0' } },
      setup: (app) => app.orchestration('pinned', (ctx) => ctx.version, { version: '1' }),
    });
    remote = await createClient({ url: host.url });
  });
  after(async () => {
    await remote.close();
    await host.stop();
  });

  const start = (name: string, query = '') => call(`${host.base}/orchestrators/${name}?timeout=10&pollingInterval=1${query}`, { method: 'POST' });

  test('a start gets the default version, an explicit one, or none with version=; the status shows it', async () => {
    assert.equal((await start('echo')).status, 200);
    const [stamped] = (await call(`${host.base}/instances?version=2.0`)).json;
    assert.equal(stamped.version, '2.0');
    assert.equal((await call(`${host.base}/instances/${stamped.instanceId}`)).json.version, '2.0');
    assert.equal((await call(`${host.base}/instances/${stamped.instanceId}?format=duraflow`)).json.version, '2.0');
    const explicit = await call(`${host.base}/orchestrators/echo/explicit-v?version=1.5`, { method: 'POST' });
    assert.equal(explicit.status, 202);
    assert.equal((await host.store.waitForCompletion('explicit-v')).version, '1.5');
    await call(`${host.base}/orchestrators/echo/no-version?version=`, { method: 'POST' });
    const none = await call(`${host.base}/instances/no-version`);
    assert.equal('version' in none.json, false);
    assert.deepEqual((await call(`${host.base}/instances?version=`)).json.map((s: any) => s.instanceId), ['no-version']);
  });

  test('a version no worker serves is a 400 naming the registered versions; a bad one a 400', async () => {
    const refused = await call(`${host.base}/orchestrators/pinned?version=7`, { method: 'POST' });
    assert.equal(refused.status, 400);
    assert.equal(refused.json.ExceptionType, 'UnknownFunctionError');
    assert.deepEqual(refused.json.registeredVersions, ['1']);
    const error = await remote.startNew('pinned', { version: '7' }).catch((e: unknown) => e);
    assert.ok(error instanceof UnknownFunctionError);
    assert.equal(error.version, '7');
    assert.deepEqual(error.registeredVersions, ['1']);
    assert.equal((await call(`${host.base}/orchestrators/echo?version=%201`, { method: 'POST' })).status, 400);
  });

  test('the remote client passes versions both ways; restart stamps the default version', async () => {
    const id = await remote.startNew('echo', { version: '3', input: 1 });
    const done = await remote.waitForCompletion(id);
    assert.equal(done.version, '3');
    assert.deepEqual((await remote.listInstances({ version: '3' })).instances.map((s) => s.instanceId), [id]);
    const restarted = await remote.restart(id);
    assert.equal((await remote.waitForCompletion(restarted)).version, '2.0');
    const purge = await call(`${host.base}/instances?createdTimeFrom=2000-01-01T00:00:00Z&version=3`, { method: 'DELETE' });
    assert.deepEqual(purge.json, { instancesDeleted: 1 });
  });
});
