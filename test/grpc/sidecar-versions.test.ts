/**
 * Versions over the gRPC sidecar: a worker receives only the name/version pairs its work-item filters list,
 * starts are stamped with the app's default version and every state carries the version, and patch markers
 * (duraflow's own events) never reach an SDK worker.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startGrpcSidecar, type GrpcSidecarOptions } from '../../src/grpc/sidecar-server.js';
import { RemoteOrchestrationExecutor } from '../../src/grpc/remote-executors.js';
import { patchMarkerEvent } from '../../src/core/patch-markers.js';
import { makeEvent } from '../../src/sdk/history.js';
import { acquireStore } from '../../src/store/open-store.js';
import { testStores } from '../support/stores.js';
import { rawClient, WorkItemInbox } from './grpc-harness.js';

for (const testStore of testStores()) {
  describe(`gRPC sidecar versions on ${testStore.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    });

    async function setup(options: Partial<GrpcSidecarOptions> = {}) {
      const { url, cleanup } = await testStore.create();
      const handle = await acquireStore(url);
      const sidecar = await startGrpcSidecar({ store: handle.store, taskHub: 'default', port: 0, pollIntervalMs: 50, ...options });
      const client = await rawClient(sidecar.address);
      const inboxes: WorkItemInbox[] = [];
      cleanups.push(async () => {
        for (const inbox of inboxes) inbox.cancel();
        client.close();
        await sidecar.stop();
        await handle.release();
        await cleanup();
      });
      const connect = (request: object) => {
        const inbox = new WorkItemInbox(client.stream('GetWorkItems', request));
        inboxes.push(inbox);
        return inbox;
      };
      return { handle, client, connect };
    }

    test('each worker receives only the versions its filters list; the versions are registered and returned', async () => {
      const { handle, client, connect } = await setup();
      const filters = (versions: string[]) => ({ workItemFilters: { orchestrations: [{ name: 'order', versions }], activities: [], entities: [] } });
      const v1 = connect(filters(['1']));
      const v2 = connect(filters(['2', '2.1']));
      const hub = handle.store.hub('default');
      const deadline = Date.now() + 10_000;
      while (JSON.stringify((await hub.getRegisteredNames())?.orchestrationVersions) !== JSON.stringify({ order: ['1', '2', '2.1'] })) {
        if (Date.now() > deadline) throw new Error(`registered: ${JSON.stringify(await hub.getRegisteredNames())}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const start = (instanceId: string, version: string) => client.call('StartInstance', { name: 'order', instanceId, version: { value: version } });
      await start('o2', '2');
      await start('o1', '1');
      await start('o21', '2.1');
      const first = await v1.next(0);
      assert.equal(first.orchestratorRequest.instanceId, 'o1');
      const started = first.orchestratorRequest.newEvents.find((e: any) => e.eventType === 'executionStarted').executionStarted;
      assert.equal(started.version.value, '1');
      const seen = [(await v2.next(0)).orchestratorRequest.instanceId, (await v2.next(1)).orchestratorRequest.instanceId].sort();
      assert.deepEqual(seen, ['o2', 'o21']);
      assert.equal(v1.items.length, 1, 'the v1 worker got nothing else');
      const state = await client.call<any>('GetInstance', { instanceId: 'o21' });
      assert.equal(state.orchestrationState.version.value, '2.1');
    });

    test('a start without a version gets the default version; a bad version is refused', async () => {
      const { client } = await setup({ versioning: { defaultVersion: '3.0' } });
      await client.call('StartInstance', { name: 'any', instanceId: 'd1', version: { value: '' } });
      const state = await client.call<any>('GetInstance', { instanceId: 'd1' });
      assert.equal(state.orchestrationState.version.value, '3.0');
      await assert.rejects(client.call('StartInstance', { name: 'any', instanceId: 'd2', version: { value: ' 1' } }), /INVALID_ARGUMENT|white space/);
    });
  });
}

describe('remote orchestration executor', () => {
  test('patch markers and OrchestratorCompleted markers are left out of the history sent to an SDK worker', async () => {
    let sent: any;
    const executor = new RemoteOrchestrationExecutor(
      { instanceId: 'i', name: 'o', executionId: 'e', status: 'Running', createdAt: new Date(), lastUpdatedAt: new Date(), historyLength: 3 },
      async (request) => {
        sent = request;
        return { actions: [] };
      },
      { now: () => new Date(), maxPayloadBytes: 1 << 20 },
    );
    const now = new Date();
    await executor.execute(
      [
        makeEvent({ eventType: 'OrchestratorStarted' }, now),
        makeEvent({ eventType: 'ExecutionStarted', name: 'o', instanceId: 'i', executionId: 'e' }, now),
        patchMarkerEvent({ patchId: 'p', deprecated: false }, now),
        makeEvent({ eventType: 'GenericEvent', data: 'other' }, now),
        makeEvent({ eventType: 'OrchestratorCompleted' }, now),
      ],
      [makeEvent({ eventType: 'OrchestratorStarted' }, now)],
    );
    assert.deepEqual(
      sent.pastEvents.map((e: any) => Object.keys(e).find((k) => k !== 'eventId' && k !== 'timestamp')),
      ['orchestratorStarted', 'executionStarted', 'genericEvent'],
    );
  });
});
