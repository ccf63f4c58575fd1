/**
 * Requests the Durable Task Scheduler refuses, refused alike by duraflow's sidecar on every store: an id reuse
 * policy that would let a running instance be replaced but not the terminated instance replacing it leaves
 * (with the scheduler's text), unknown statuses in a policy, and entity ids over 100 characters, from clients
 * (durabletask-js) and from orchestrations. Nothing is written by a refused request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EntityInstanceId, OrchestrationStatus, type OrchestrationContext as SdkContext, type TaskHubGrpcClient, type TaskHubGrpcWorker } from '@microsoft/durabletask-js';
import { DFApp } from '../../src/index.js';
import { testStores } from '../support/stores.js';
import { rawClient, sdkClient, startGrpcHost, startSdkWorker, waitForRegistration, type GrpcHost, type RawClient } from './grpc-harness.js';

const INVALID_ARGUMENT = 3;
const ALREADY_EXISTS = 6;
const [RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, PENDING, SUSPENDED] = [0, 1, 3, 4, 5, 6, 7];
const LONG_KEY = 'k'.repeat(100);

function app(url: string): DFApp {
  const df = new DFApp({ store: url });
  df.orchestration('waits', function* (ctx) {
    return yield ctx.waitForExternalEvent('go');
  });
  return df;
}

for (const store of testStores()) {
  describe(`sidecar request checks on ${store.name}`, () => {
    let env: GrpcHost;
    let raw: RawClient;
    let client: TaskHubGrpcClient;
    let worker: TaskHubGrpcWorker;

    before(async () => {
      env = await startGrpcHost(store, app);
      raw = await rawClient(env.address);
      client = sdkClient(env.address);
      worker = await startSdkWorker(
        env.address,
        (w) => {
          w.addNamedOrchestrator('jsLongEntity', async function* (ctx: SdkContext): any {
            ctx.entities.signalEntity(new EntityInstanceId('counter', LONG_KEY), 'add', 1);
            return 'sent';
          });
        },
        { workItemFilters: 'auto' },
      );
      await waitForRegistration(env.storeUrl, ['jsLongEntity']);
    });
    after(async () => {
      raw?.close();
      await client?.stop();
      await worker?.stop();
      await env?.stop();
    });

    const start = (instanceId: string, replaceableStatus?: number[]) =>
      raw.call('StartInstance', { name: 'waits', instanceId, ...(replaceableStatus ? { orchestrationIdReusePolicy: { replaceableStatus } } : {}) });

    test('a reuse policy replacing running instances but not terminated ones is INVALID_ARGUMENT, with the scheduler’s text', async () => {
      for (const replaceable of [[RUNNING], [PENDING, COMPLETED], [SUSPENDED, FAILED, CANCELED], [RUNNING, PENDING, SUSPENDED, COMPLETED]]) {
        await assert.rejects(start(`policy-${replaceable.join('-')}`, replaceable), (error: any) => {
          assert.equal(error.code, INVALID_ARGUMENT, error.message);
          assert.match(error.details, /^Invalid dedupe statuses: cannot include 'Terminated' while also allowing reuse of running instances, because the running instance would be terminated and then immediately conflict with the dedupe check\.$/);
          return true;
        });
        assert.equal(await env.host.client.getStatus(`policy-${replaceable.join('-')}`), undefined, 'nothing was created');
      }
      await assert.rejects(start('policy-unknown', [42]), (error: any) => error.code === INVALID_ARGUMENT && /Invalid orchestration runtime status: '42'/.test(error.details));
      // Valid policies: nothing running replaceable, or running and terminated both replaceable.
      await start('policy-ok', [COMPLETED, FAILED]);
      await assert.rejects(start('policy-ok', [COMPLETED, FAILED]), (error: any) => error.code === ALREADY_EXISTS);
      await start('policy-ok', [RUNNING, PENDING, SUSPENDED, TERMINATED]);
      const state = await raw.call('GetInstance', { instanceId: 'policy-ok' });
      assert.equal(state.exists, true);
    });

    test('entity ids over 100 characters are INVALID_ARGUMENT for clients; 100 are fine', async () => {
      const tooLong = new EntityInstanceId('counter', LONG_KEY); // '@counter@' + 100 characters
      await assert.rejects(client.signalEntity(tooLong, 'add', 1), (error: any) => {
        assert.equal(error.code, INVALID_ARGUMENT, error.message);
        assert.match(error.details, /at most 100 characters \(got 109\)/);
        return true;
      });
      await assert.rejects(raw.call('GetEntity', { instanceId: tooLong.toString() }), (error: any) => error.code === INVALID_ARGUMENT);
      const fits = new EntityInstanceId('counter', 'k'.repeat(100 - '@counter@'.length));
      await client.signalEntity(fits, 'add', 1); // accepted
    });

    test('an orchestration that signals an entity id over 100 characters fails with the reason', async () => {
      const id = await client.scheduleNewOrchestration('jsLongEntity');
      const state = await client.waitForOrchestrationCompletion(id, true, 30);
      assert.equal(state?.runtimeStatus, OrchestrationStatus.FAILED);
      assert.match(state?.failureDetails?.message ?? '', /at most 100 characters/);
    });
  });
}
