/**
 * `duraflow instances terminate|purge --recursive` as real child processes, through the host's API (`--url`) and
 * straight to the store (`--store`), on every store: the tree of test/support/instance-tree-app.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { finished } from '../support/engine-helpers.js';
import { registerTreeFunctions, startTree } from '../support/instance-tree-app.js';
import { testStores } from '../support/stores.js';
import { startTestHost, type TestHost } from '../http/http-fixture.js';
import { assertOneLineError, cli } from './cli-support.js';

for (const store of testStores()) {
  describe(`duraflow instances on a tree (${store.name})`, () => {
    let host: TestHost;
    let U: string[];
    let S: string[];
    before(async () => {
      host = await startTestHost({ store, setup: registerTreeFunctions });
      U = ['--url', host.url];
      S = ['--store', host.storeUrl];
    });
    after(() => host?.stop());

    test('terminate --recursive ends the tree, purge --recursive deletes it and counts', async () => {
      const { running, finishedChild } = await startTree(host.store, 'k1');
      const run = await cli(['instances', 'terminate', 'k1', '--recursive', '--reason', 'all of it', '--json', ...U]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), { instanceId: 'k1', requested: 'terminate', recursive: true });
      for (const id of running) {
        const status = await finished(host.store, id);
        assert.equal(status.runtimeStatus, 'Terminated', id);
        assert.equal(status.output, 'all of it', id);
      }
      const purged = await cli(['instances', 'purge', 'k1', '--recursive', '--json', ...S]);
      assert.equal(purged.code, 0, purged.stderr);
      assert.deepEqual(JSON.parse(purged.stdout), { instancesDeleted: running.length + 1 });
      for (const id of [...running, finishedChild]) assert.equal(await host.store.getStatus(id), undefined, id);
    });

    test('terminate without --recursive ends the root only; purge --recursive keeps running children; a running root is refused', async () => {
      const { running, finishedChild } = await startTree(host.store, 'k2');
      const [root, ...children] = running;
      assertOneLineError(
        await cli(['instances', 'purge', root!, '--recursive', ...U]),
        /^duraflow: Cannot purge instance 'k2' while it is Running; terminate it first\.$/,
      );
      assert.ok(await host.store.getStatus(finishedChild), 'a refused purge deletes nothing');

      const run = await cli(['instances', 'terminate', root!, ...S]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.trim(), 'Termination requested for k2.');
      assert.equal((await finished(host.store, root!)).runtimeStatus, 'Terminated');
      // The root's termination is committed; a recursive one would have sent its messages in that commit.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const id of children) assert.equal((await host.store.getStatus(id))?.runtimeStatus, 'Running', id);

      const purged = await cli(['instances', 'purge', root!, '--recursive', ...U]);
      assert.equal(purged.code, 0, purged.stderr);
      assert.equal(purged.stdout.trim(), 'Purged 2 instances.');
      for (const id of children) assert.equal((await host.store.getStatus(id))?.runtimeStatus, 'Running', id);

      const rest = await cli(['instances', 'terminate', `${root}-c0`, '--recursive', ...U]);
      assert.equal(rest.stdout.trim(), 'Termination requested for k2-c0 and its sub-orchestrations.');
      await host.store.terminate(`${root}-c1-g`, 'clean up');
      for (const id of children) await finished(host.store, id);
    });

    test('purge by filter with --recursive counts each instance once, also when it was listed and purged with its parent', async () => {
      const { running, finishedChild } = await startTree(host.store, 'k3');
      await host.store.terminate('k3', 'done', { recursive: true });
      for (const id of running) await finished(host.store, id);
      const purged = await cli(['instances', 'purge', '--prefix', 'k3', '--recursive', '--json', ...S]);
      assert.equal(purged.code, 0, purged.stderr);
      assert.deepEqual(JSON.parse(purged.stdout), { instancesDeleted: running.length + 1 });
      for (const id of [...running, finishedChild]) assert.equal(await host.store.getStatus(id), undefined, id);
    });
  });
}
