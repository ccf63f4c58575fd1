/**
 * Durable entities across the gRPC seam with the real durabletask-js worker and client, on every store and with
 * both forms of entity work item (V1 `EntityBatchRequest`, V2 `EntityRequest`): gRPC-served entities called by
 * TypeScript orchestrations and signalled by clients, TypeScript entities called, signalled and locked by gRPC
 * orchestrations, operation failures, entity queries and storage cleaning.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  EntityInstanceId,
  OrchestrationStatus,
  TaskEntity,
  type OrchestrationContext as SdkContext,
  type TaskHubGrpcClient,
  type TaskHubGrpcWorker,
} from '@microsoft/durabletask-js';
import { DFApp, EntityId, TaskFailedError, type DurableClient } from '../../src/index.js';
import { testStores } from '../support/stores.js';
import { sdkClient, startGrpcHost, startSdkWorker, waitForRegistration, type GrpcHost } from './grpc-harness.js';

const TIMEOUT_S = 30;

class JsCounter extends TaskEntity<number> {
  add(amount: number): number {
    this.state += amount;
    return this.state;
  }
  get(): number {
    return this.state;
  }
  fail(): never {
    throw new Error('js entity says no');
  }
  protected override initializeState(): number {
    return 0;
  }
}

function tsApp(url: string): DFApp {
  const app = new DFApp({ store: url });
  app.entity('tsCounter', (ctx) => {
    switch (ctx.operationName) {
      case 'add': {
        const value = ctx.getState(() => 0)! + ctx.getInput<number>();
        ctx.setState(value);
        ctx.setResult(value);
        break;
      }
      case 'get':
        ctx.setResult(ctx.getState(() => 0));
        break;
      case 'fail':
        throw new Error('ts entity says no');
    }
  });
  app.entity('tsAccount', (ctx) => {
    const balance = ctx.getState(() => 100)!;
    if (ctx.operationName === 'move') ctx.setState(balance + ctx.getInput<number>());
    ctx.setResult(ctx.getState(() => 100));
  });
  // A TypeScript orchestration calling an entity that only the gRPC worker serves.
  app.orchestration('tsCallsJsEntity', function* (ctx) {
    const key = ctx.getInput<string>();
    const first = yield ctx.callEntity(new EntityId('jsCounter', key), 'add', 3);
    const second = yield ctx.callEntity(new EntityId('jsCounter', key), 'add', 4);
    let failure = '';
    try {
      yield ctx.callEntity(new EntityId('jsCounter', key), 'fail');
    } catch (error) {
      failure = error instanceof TaskFailedError ? `TaskFailedError: ${error.message}` : String(error);
    }
    return { first, second, failure };
  });
  return app;
}

function registerJs(worker: TaskHubGrpcWorker): void {
  worker.addNamedEntity('jsCounter', () => new JsCounter());
  worker.addNamedOrchestrator('jsCallsTsEntity', async function* (ctx: SdkContext, key: string): any {
    const id = new EntityInstanceId('tsCounter', key);
    const first = yield ctx.entities.callEntity(id, 'add', 5);
    ctx.entities.signalEntity(id, 'add', 10);
    let failure = '';
    try {
      yield ctx.entities.callEntity(id, 'fail');
    } catch (error) {
      failure = (error as Error).message;
    }
    const js = yield ctx.entities.callEntity(new EntityInstanceId('jsCounter', `from-js-${key}`), 'add', 2);
    return { first, failure, js };
  });
  // Moves money between two TypeScript entities inside a critical section.
  worker.addNamedOrchestrator('jsTransfer', async function* (ctx: SdkContext, input: { from: string; to: string; amount: number }): any {
    const from = new EntityInstanceId('tsAccount', input.from);
    const to = new EntityInstanceId('tsAccount', input.to);
    const lock = yield ctx.entities.lockEntities(from, to);
    const balance: number = yield ctx.entities.callEntity(from, 'balance');
    if (balance >= input.amount) {
      yield ctx.entities.callEntity(from, 'move', -input.amount);
      yield ctx.entities.callEntity(to, 'move', input.amount);
    }
    lock.release();
    return balance;
  });
}

for (const store of testStores()) {
  for (const format of ['v1', 'v2'] as const) {
    describe(`entities over gRPC on ${store.name} (${format} entity work items)`, () => {
      let env: GrpcHost;
      let worker: TaskHubGrpcWorker;
      let client: TaskHubGrpcClient;
      let duraflow: DurableClient;

      before(async () => {
        env = await startGrpcHost(store, tsApp, { grpc: { entityRequestFormat: format } });
        duraflow = env.host.client;
        worker = await startSdkWorker(env.address, registerJs);
        await waitForRegistration(env.storeUrl);
        client = sdkClient(env.address);
      });

      after(async () => {
        await worker?.stop().catch(() => undefined);
        await client?.stop().catch(() => undefined);
        await env?.stop();
      });

      test('client signals to a gRPC-served entity are all applied; the SDK and duraflow clients read the same state', async () => {
        const id = new EntityInstanceId('jsCounter', 'signals');
        await Promise.all(Array.from({ length: 20 }, (_, i) => client.signalEntity(id, 'add', i + 1)));
        const deadline = Date.now() + TIMEOUT_S * 1000;
        let state: number | undefined;
        while ((state = (await client.getEntity<number>(id))?.state) !== 210) {
          if (Date.now() > deadline) throw new Error(`entity state stayed at ${state}`);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        const read = await duraflow.readEntityState(new EntityId('jsCounter', 'signals'));
        assert.deepEqual(read, { entityExists: true, entityState: 210 });
      });

      test('a TypeScript orchestration calls a gRPC-served entity and sees its failures as TaskFailedError', async () => {
        const id = await duraflow.startNew('tsCallsJsEntity', { input: 'ts-caller' });
        const status = await duraflow.waitForCompletion(id, { timeoutInMilliseconds: TIMEOUT_S * 1000 });
        assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.failureDetails));
        const output = status.output as { first: number; second: number; failure: string };
        assert.equal(output.first, 3);
        assert.equal(output.second, 7);
        assert.match(output.failure, /^TaskFailedError: .*js entity says no/);
        const state = await client.getEntity<number>(new EntityInstanceId('jsCounter', 'ts-caller'));
        assert.equal(state?.state, 7, 'the failed operation changed nothing');
      });

      test('a gRPC orchestration calls and signals a TypeScript entity and calls a gRPC entity', async () => {
        const id = await client.scheduleNewOrchestration('jsCallsTsEntity', 'k1');
        const state = await client.waitForOrchestrationCompletion(id, true, TIMEOUT_S);
        assert.equal(state?.runtimeStatus, OrchestrationStatus.COMPLETED, state?.failureDetails?.message);
        const output = JSON.parse(state!.serializedOutput!);
        assert.equal(output.first, 5);
        assert.match(output.failure, /ts entity says no/);
        assert.equal(output.js, 2);
        const deadline = Date.now() + TIMEOUT_S * 1000;
        while ((await duraflow.readEntityState(new EntityId('tsCounter', 'k1'))).entityState !== 15) {
          if (Date.now() > deadline) throw new Error('the signal never arrived');
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      });

      test('critical sections of gRPC orchestrations on TypeScript entities conserve money under concurrency', async () => {
        const transfers = Array.from({ length: 6 }, (_, i) => ({ from: i % 2 ? 'a' : 'b', to: i % 2 ? 'b' : 'a', amount: 30 }));
        const ids = await Promise.all(transfers.map((t) => client.scheduleNewOrchestration('jsTransfer', t)));
        for (const id of ids) {
          const state = await client.waitForOrchestrationCompletion(id, true, TIMEOUT_S);
          assert.equal(state?.runtimeStatus, OrchestrationStatus.COMPLETED, state?.failureDetails?.message);
        }
        const a = (await duraflow.readEntityState<number>(new EntityId('tsAccount', 'a'))).entityState!;
        const b = (await duraflow.readEntityState<number>(new EntityId('tsAccount', 'b'))).entityState!;
        assert.equal(a + b, 200);
        // The last releases are processed by the entities after the orchestrations complete.
        for (const key of ['a', 'b']) {
          const deadline = Date.now() + TIMEOUT_S * 1000;
          while ((await client.getEntity(new EntityInstanceId('tsAccount', key), false))?.lockedBy !== undefined) {
            if (Date.now() > deadline) throw new Error(`tsAccount ${key} was left locked`);
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        }
      });

      test('entity queries and storage cleaning through the SDK client', async () => {
        const id = new EntityInstanceId('jsCounter', 'to-delete');
        await client.signalEntity(id, 'add', 1);
        const deadline = Date.now() + TIMEOUT_S * 1000;
        while ((await client.getEntity(id)) === undefined) {
          if (Date.now() > deadline) throw new Error('entity never appeared');
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        const listed: string[] = [];
        for await (const entity of client.getEntities({ instanceIdStartsWith: '@jscounter@', includeState: true })) listed.push(entity.id.toString());
        assert.ok(listed.includes('@jscounter@to-delete') && listed.includes('@jscounter@signals'), listed.join(', '));
        assert.ok(listed.every((e) => e.startsWith('@jscounter@')));

        await client.signalEntity(id, 'delete');
        while ((await client.getEntity(id)) !== undefined) {
          if (Date.now() > deadline) throw new Error('entity never deleted');
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        const cleaned = await client.cleanEntityStorage();
        assert.ok(cleaned.emptyEntitiesRemoved >= 1, JSON.stringify(cleaned));
      });
    });
  }
}
