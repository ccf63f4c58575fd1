/**
 * Instance listings through Microsoft's durabletask-js client, on every store, as the Durable Task Scheduler
 * answers them: `listInstanceIds` filters (statuses, completed-time range) select before the page is cut and
 * `lastInstanceKey` is the last id of a page, from which the next page continues; `getAllInstances` pages by
 * its filters and lists nothing for other task hubs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OrchestrationStatus, type TaskHubGrpcClient } from '@microsoft/durabletask-js';
import { DFApp } from '../../src/index.js';
import { testStores } from '../support/stores.js';
import { sdkClient, startGrpcHost, type GrpcHost } from './grpc-harness.js';

const TIMEOUT_S = 30;

function app(url: string): DFApp {
  const df = new DFApp({ store: url });
  df.orchestration('quick', function* () {
    return 'done';
  });
  df.orchestration('waits', function* (ctx) {
    return yield ctx.waitForExternalEvent('never');
  });
  return df;
}

for (const store of testStores()) {
  describe(`instance listings through the durabletask-js client on ${store.name}`, () => {
    let env: GrpcHost;
    let client: TaskHubGrpcClient;
    let from: Date;
    let to: Date;

    before(async () => {
      env = await startGrpcHost(store, app);
      client = sdkClient(env.address);
      // Finished and running instances interleave in id order (and in creation order).
      from = new Date(Date.now() - 1000);
      for (let n = 0; n < 6; n++) await client.scheduleNewOrchestration(n % 2 === 0 ? 'quick' : 'waits', undefined, `a${n}`);
      for (const id of ['a0', 'a2', 'a4']) await client.waitForOrchestrationCompletion(id, false, TIMEOUT_S);
      for (const id of ['a1', 'a3', 'a5']) await client.waitForOrchestrationStart(id, false, TIMEOUT_S);
      to = new Date(Date.now() + 1000);
    });
    after(async () => {
      await client?.stop();
      await env?.stop();
    });

    test('listInstanceIds: a completed-time range selects before paging; lastInstanceKey is the last id returned', async () => {
      const first = await client.listInstanceIds({ completedTimeFrom: from, completedTimeTo: to, pageSize: 2 });
      assert.deepEqual(first.values, ['a0', 'a2']);
      assert.equal(first.continuationToken, 'a2');
      const second = await client.listInstanceIds({ completedTimeFrom: from, completedTimeTo: to, pageSize: 2, lastInstanceKey: first.continuationToken! });
      assert.deepEqual(second.values, ['a4']);
      assert.equal(second.hasMoreResults, false);
      // A range that ends before anything finished lists nothing.
      const none = await client.listInstanceIds({ completedTimeTo: new Date(from.getTime() - 1), pageSize: 2 });
      assert.deepEqual(none.values, []);
      assert.equal(none.hasMoreResults, false);
    });

    test('listInstanceIds: statuses select before paging; a page continues after any key it is given', async () => {
      const running = await client.listInstanceIds({ runtimeStatus: [OrchestrationStatus.RUNNING], pageSize: 2 });
      assert.deepEqual(running.values, ['a1', 'a3']);
      assert.equal(running.continuationToken, 'a3');
      const rest = await client.listInstanceIds({ runtimeStatus: [OrchestrationStatus.RUNNING], pageSize: 2, lastInstanceKey: 'a3' });
      assert.deepEqual(rest.values, ['a5']);
      const afterA0 = await client.listInstanceIds({ pageSize: 2, lastInstanceKey: 'a0' });
      assert.deepEqual(afterA0.values, ['a1', 'a2']);
      assert.equal(afterA0.continuationToken, 'a2');
    });

    test('getAllInstances pages by its filters; a query for other task hubs lists nothing', async () => {
      const completed: string[] = [];
      for await (const state of client.getAllInstances({ statuses: [OrchestrationStatus.COMPLETED], pageSize: 1 })) completed.push(state.instanceId);
      assert.deepEqual(completed.sort(), ['a0', 'a2', 'a4']);
      const elsewhere: string[] = [];
      for await (const state of client.getAllInstances({ taskHubNames: ['some-other-hub'] })) elsewhere.push(state.instanceId);
      assert.deepEqual(elsewhere, []);
      const here: string[] = [];
      for await (const state of client.getAllInstances({ taskHubNames: ['default'], instanceIdPrefix: 'a' })) here.push(state.instanceId);
      assert.equal(here.length, 6);
    });
  });
}
