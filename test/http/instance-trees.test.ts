/**
 * Recursive terminate and purge through the real HTTP API (`?recursive=true`, a duraflow extension) and the HTTP
 * client, on every store: a root with a child from before a continue-as-new, a grandchild, and a finished child
 * whose own child still runs. Bad values are refused before anything changes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, InvalidInstanceStateError, ValidationError, type DurableClient } from '../../src/index.js';
import { finished } from '../support/engine-helpers.js';
import { registerTreeFunctions, startTree } from '../support/instance-tree-app.js';
import { testStores } from '../support/stores.js';
import { call, startTestHost, type TestHost } from './http-fixture.js';

const statusOf = async (client: DurableClient, id: string) => (await client.getStatus(id))?.runtimeStatus;

for (const store of testStores()) {
  describe(`instance trees over HTTP on ${store.name}`, () => {
    let host: TestHost;
    let http: DurableClient;
    before(async () => {
      host = await startTestHost({ store, setup: registerTreeFunctions });
      http = await createClient({ url: host.url });
    });
    after(async () => {
      await http?.close();
      await host?.stop();
    });

    test('POST terminate?recursive=true ends the whole tree; DELETE ?recursive=true purges it and counts', async () => {
      const { running, finishedChild } = await startTree(host.store, 'web');
      const all = [...running, finishedChild];

      const badTerminate = await call(`${host.base}/instances/web/terminate?reason=x&recursive=maybe`, { method: 'POST' });
      assert.equal(badTerminate.status, 400);
      assert.equal(badTerminate.json.ExceptionType, 'ValidationError');
      assert.equal(badTerminate.json.Message, "Query parameter 'recursive' must be 'true' or 'false', got 'maybe'.");
      const badPurge = await call(`${host.base}/instances/web?recursive=maybe`, { method: 'DELETE' });
      assert.equal(badPurge.status, 400);
      assert.match(badPurge.json.Message, /'recursive' must be 'true' or 'false'/);
      // A running root is refused as by a plain purge: 409, nothing deleted.
      const runningPurge = await call(`${host.base}/instances/web?recursive=true`, { method: 'DELETE' });
      assert.equal(runningPurge.status, 409);
      assert.equal(runningPurge.json.ExceptionType, 'InvalidInstanceStateError');
      for (const id of running) assert.equal(await statusOf(host.store, id), 'Running', id);
      assert.equal(await statusOf(host.store, finishedChild), 'Completed');

      assert.equal((await call(`${host.base}/instances/web/terminate?reason=stop+all&recursive=true`, { method: 'POST' })).status, 202);
      for (const id of running) {
        const status = await finished(host.store, id);
        assert.equal(status.runtimeStatus, 'Terminated', id);
        assert.equal(status.output, 'stop all', id);
      }
      assert.equal(await statusOf(host.store, finishedChild), 'Completed', 'a finished child stays as it was');

      assert.equal((await call(`${host.base}/instances/web?recursive=1`, { method: 'DELETE' })).status, 400);
      for (const id of all) assert.ok(await host.store.getStatus(id), `${id} is still there after a refused purge`);
      const purged = await call(`${host.base}/instances/web?recursive=true`, { method: 'DELETE' });
      assert.equal(purged.status, 200);
      assert.deepEqual(purged.json, { instancesDeleted: all.length });
      for (const id of all) assert.equal(await host.store.getStatus(id), undefined, id);
      assert.equal((await call(`${host.base}/instances/web?recursive=true`, { method: 'DELETE' })).status, 404);
    });

    test('the HTTP client: without recursive only the root ends; a recursive purge keeps the running children', async () => {
      const { running, finishedChild } = await startTree(host.store, 'cli');
      const [root, ...children] = running;
      await assert.rejects(http.terminate(root!, 'x', { recursive: 'yes' as never }), ValidationError);
      await assert.rejects(host.store.terminate(root!, 'x', { recursive: 1 as never }), ValidationError);
      await assert.rejects(http.purgeInstanceHistory(root!, { recursive: true }), InvalidInstanceStateError);
      await assert.rejects(host.store.purgeInstanceHistory(root!, { recursive: true }), InvalidInstanceStateError);

      await http.terminate(root!, 'only the root');
      assert.equal((await finished(host.store, root!)).runtimeStatus, 'Terminated');
      // The root's termination is committed; a recursive one would have sent its messages in that commit.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const id of children) assert.equal(await statusOf(host.store, id), 'Running', id);

      await assert.rejects(http.purgeInstanceHistory(root!, { recursive: 'true' as never }), ValidationError);
      assert.ok(await host.store.getStatus(root!), 'a refused purge deletes nothing');
      // The root and the finished child go; the running ones (also the one below the finished child) stay.
      assert.deepEqual(await http.purgeInstanceHistory(root!, { recursive: true }), { instancesDeleted: 2 });
      assert.equal(await host.store.getStatus(root!), undefined);
      assert.equal(await host.store.getStatus(finishedChild), undefined);
      for (const id of children) assert.equal(await statusOf(host.store, id), 'Running', id);

      await http.terminate(`${root}-c0`, 'clean up', { recursive: true });
      await http.terminate(`${root}-c1-g`, 'clean up');
      for (const id of children) assert.equal((await finished(host.store, id)).runtimeStatus, 'Terminated', id);
      assert.deepEqual(await host.store.purgeInstanceHistory(`${root}-c0`, { recursive: true }), { instancesDeleted: 2 });
    });
  });
}
