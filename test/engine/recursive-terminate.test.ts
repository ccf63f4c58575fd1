/**
 * Recursive termination through the store's children index, on every store: it reaches the sub-orchestrations of
 * executions a continue-as-new replaced (their history is gone), their own children, and the children of a child
 * that already finished; without the flag only the instance itself ends.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DurableClient } from '../../src/index.js';
import { makeEvent } from '../../src/sdk/history.js';
import { acquireStore } from '../../src/store/open-store.js';
import { finished, withApp } from '../support/engine-helpers.js';
import { registerTreeFunctions, startTree } from '../support/instance-tree-app.js';
import { testStores } from '../support/stores.js';

const terminate = (client: DurableClient) => client.terminate.bind(client);
const setup = registerTreeFunctions;

for (const store of testStores()) {
  describe(`recursive terminate on ${store.name}`, () => {
    test('reaches the children of an earlier execution, their children, and the children of a finished child', async () => {
      await withApp(store, setup, async ({ client }) => {
        const { running, finishedChild } = await startTree(client, 'root');
        await terminate(client)('root', 'stop all', { recursive: true });
        for (const id of running) {
          const status = await finished(client, id);
          assert.equal(status.runtimeStatus, 'Terminated', id);
          assert.equal(status.output, 'stop all', id);
        }
        assert.equal((await client.getStatus(finishedChild))?.runtimeStatus, 'Completed', 'a finished child stays as it was');
      });
    });

    test('a recursive termination that reaches an instance after it finished still goes on to its running children', async () => {
      await withApp(store, setup, async ({ client, url }) => {
        const { running, finishedChild } = await startTree(client, 'late');
        // As if the child had completed between its parent's read of its children and the delivery.
        const handle = await acquireStore(url);
        try {
          const event = makeEvent({ eventType: 'ExecutionTerminated', input: JSON.stringify('late'), recurse: true }, new Date());
          await handle.store.hub('default').sendMessages([{ instanceId: finishedChild, event }]);
        } finally {
          await handle.release();
        }
        const grandchild = `${finishedChild}-g`;
        assert.equal((await finished(client, grandchild)).runtimeStatus, 'Terminated');
        assert.equal((await client.getStatus(finishedChild))?.runtimeStatus, 'Completed');
        for (const id of running.filter((r) => r !== grandchild)) assert.equal((await client.getStatus(id))?.runtimeStatus, 'Running', id);
        await terminate(client)('late', 'clean up', { recursive: true });
        for (const id of running) await finished(client, id);
      });
    });

    test('without the flag only the instance ends', async () => {
      await withApp(store, setup, async ({ client }) => {
        const { running } = await startTree(client, 'lone');
        await terminate(client)('lone', 'only the root');
        assert.equal((await finished(client, 'lone')).runtimeStatus, 'Terminated');
        // The root's termination is committed; a recursive one would have sent its messages in that commit.
        await new Promise((resolve) => setTimeout(resolve, 300));
        for (const id of running.slice(1)) assert.equal((await client.getStatus(id))?.runtimeStatus, 'Running', id);
        for (const id of running.slice(1)) await terminate(client)(id, 'clean up');
      });
    });
  });
}
