/**
 * Recursive termination through the store's children index, on every store: it reaches the sub-orchestrations of
 * executions a continue-as-new replaced (their history is gone), their own children, and the children of a child
 * that already finished; without the flag only the instance itself ends.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DurableClient } from '../../src/index.js';
import type { DFApp } from '../../src/index.js';
import { makeEvent } from '../../src/sdk/history.js';
import { acquireStore } from '../../src/store/open-store.js';
import { eventsOf, finished, historyOf, statusWhere, withApp } from '../support/engine-helpers.js';
import { testStores } from '../support/stores.js';

/** The store client's terminate, which takes the recursive flag (the gRPC sidecar's TerminateInstance uses it). */
type RecursiveTerminate = (instanceId: string, reason?: string, options?: { recursive?: boolean }) => Promise<void>;
const terminate = (client: DurableClient) => (client.terminate as RecursiveTerminate).bind(client);

/**
 * `generations`: its first execution starts `middle` (which starts a `leaf`), waits for 'next' and continues as new;
 * the second starts `hopper` (which starts a `leaf`, continues as new and completes, leaving that leaf running)
 * and waits forever. Children are started without being awaited, so they outlive the execution that started them.
 */
function setup(app: DFApp): void {
  app.activity('noop', () => null);
  app.orchestration('leaf', function* (ctx) {
    return yield ctx.waitForExternalEvent('never');
  });
  app.orchestration('middle', function* (ctx) {
    return yield ctx.callSubOrchestrator('leaf', undefined, `${ctx.instanceId}-g`);
  });
  app.orchestration('hopper', function* (ctx) {
    if (ctx.getInput<number>() === 1) return 'done';
    ctx.callSubOrchestrator('leaf', undefined, `${ctx.instanceId}-g`);
    // A step of its own, so the child's start is committed before the continue-as-new.
    yield ctx.callActivity('noop');
    ctx.continueAsNew(1);
    return undefined;
  });
  app.orchestration('generations', function* (ctx) {
    if (ctx.getInput<number>() === 1) {
      ctx.callSubOrchestrator('hopper', 0, `${ctx.instanceId}-c1`);
      return yield ctx.waitForExternalEvent('never');
    }
    ctx.callSubOrchestrator('middle', undefined, `${ctx.instanceId}-c0`);
    yield ctx.waitForExternalEvent('next');
    ctx.continueAsNew(1);
    return undefined;
  });
}

/** Starts `generations` as `id` and waits until the tree stands: the ids of its running descendants. */
async function startTree(client: DurableClient, id: string): Promise<{ running: string[]; finishedChild: string }> {
  await client.startNew('generations', { instanceId: id, input: 0 });
  await statusWhere(client, `${id}-c0-g`, (s) => s.runtimeStatus === 'Running');
  await client.raiseEvent(id, 'next', null);
  await statusWhere(client, `${id}-c1`, (s) => s.runtimeStatus === 'Completed');
  await statusWhere(client, `${id}-c1-g`, (s) => s.runtimeStatus === 'Running');
  // The current execution's history names its own child only: the first one's is gone.
  const created = eventsOf(await historyOf(client, id), 'SubOrchestrationInstanceCreated').map((e) => e.instanceId);
  assert.deepEqual(created, [`${id}-c1`]);
  return { running: [id, `${id}-c0`, `${id}-c0-g`, `${id}-c1-g`], finishedChild: `${id}-c1` };
}

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
