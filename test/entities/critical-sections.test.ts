/**
 * Critical sections (`ctx.lock`): mutual exclusion under many concurrent orchestrations (a bank transfer
 * written as unprotected read-modify-write conserves money only if locks work), the .NET locking rules,
 * release at the end of the orchestration, and orphaned locks released by `cleanEntityStorage`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EntityId,
  LockingRulesViolationError,
  type DFApp,
  type EntityContext,
  type EntityLock,
} from '../../src/index.js';
import { eventually, finished, statusWhere, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

/** An account with get/set only, so a transfer is a read-modify-write that needs the lock to be safe. */
function account(ctx: EntityContext<number>): unknown {
  switch (ctx.operationName) {
    case 'get':
      return ctx.getState(() => 0);
    case 'set':
      ctx.setState(ctx.getInput<number>());
      return undefined;
    case 'add':
      ctx.setState(ctx.getState(() => 0)! + ctx.getInput<number>());
      return undefined;
    default:
      throw new Error(`unknown operation '${ctx.operationName}'`);
  }
}

const A = new EntityId('account', 'A');
const B = new EntityId('account', 'B');

function register(app: DFApp): void {
  app.entity('account', account);
  app.activity('pause', async (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));

  /** Moves money back and forth under the lock; checks the total inside every critical section. */
  app.orchestration('transfer', function* (ctx, input: { seed: number; rounds: number; total: number }) {
    const seen: number[] = [];
    for (let round = 0; round < input.rounds; round++) {
      const [from, to] = (input.seed + round) % 2 === 0 ? [A, B] : [B, A];
      const lock: EntityLock = yield ctx.lock([to, from]);
      const fromBalance: number = yield ctx.callEntity(from, 'get');
      // Let other orchestrations run between the read and the write (staggered, so they do not move in
      // lockstep): without the lock this loses or creates money.
      yield ctx.callActivity('pause', (input.seed * 5 + round * 3) % 17);
      const toBalance: number = yield ctx.callEntity(to, 'get');
      seen.push(fromBalance + toBalance);
      const amount = Math.min(fromBalance, 1 + ((input.seed * 7 + round) % 13));
      yield ctx.taskAll([
        ctx.callEntity(from, 'set', fromBalance - amount),
        ctx.callEntity(to, 'set', toBalance + amount),
      ]);
      lock.release();
    }
    return seen.every((total) => total === input.total);
  });

  app.orchestration('lockAndWait', function* (ctx) {
    yield ctx.lock([A]);
    yield ctx.callEntity(A, 'add', 1);
    return yield ctx.waitForExternalEvent('go');
  });
  app.orchestration('lockAndEnd', function* (ctx, how: 'return' | 'throw' | 'continue') {
    yield ctx.lock([A, B]);
    yield ctx.callEntity(A, 'add', 1);
    if (how === 'throw') throw new Error('ending inside a critical section');
    if (how === 'continue' && ctx.getInput() === 'continue') ctx.continueAsNew('return');
    return 'done';
  });
  app.orchestration('sub', function* () {
    return 1;
  });
  app.orchestration('violation', function* (ctx, rule: string) {
    const lock: EntityLock = yield ctx.lock([A]);
    try {
      switch (rule) {
        case 'nested':
          yield ctx.lock([B]);
          break;
        case 'callUnlocked':
          yield ctx.callEntity(B, 'get');
          break;
        case 'signalLocked':
          ctx.signalEntity(A, 'add', 1);
          break;
        case 'subOrchestration':
          yield ctx.callSubOrchestrator('sub');
          break;
        case 'twoCalls':
          yield ctx.taskAll([ctx.callEntity(A, 'get'), ctx.callEntity(A, 'get')]);
          break;
      }
      return 'no violation';
    } catch (error) {
      return {
        name: (error as Error).name,
        isTyped: error instanceof LockingRulesViolationError,
        message: (error as Error).message,
      };
    } finally {
      lock.release();
    }
  });
  app.orchestration('afterRelease', function* (ctx) {
    const lock: EntityLock = yield ctx.lock([A]);
    lock.release();
    lock.release(); // a second release is a no-op
    ctx.signalEntity(A, 'add', 1); // allowed again once released
    yield ctx.callSubOrchestrator('sub'); // allowed again once released
    return yield ctx.callEntity(B, 'get');
  });
}

for (const store of engineStores()) {
  describe(`critical sections on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test(
      'bank transfers by many concurrent orchestrations under locks conserve the money',
      { timeout: 120_000 },
      async () => {
        await withApp(store, register, async ({ client }) => {
          await client.signalEntity(A, 'set', 1000);
          await client.signalEntity(B, 'set', 1000);
          await eventually('both accounts funded', async () => (await client.readEntityState(B)).entityState === 1000);
          const ids = await Promise.all(
            Array.from({ length: 12 }, (_, seed) =>
              client.startNew('transfer', { input: { seed, rounds: 4, total: 2000 } }),
            ),
          );
          const statuses = await Promise.all(ids.map((id) => finished(client, id, 90_000)));
          for (const status of statuses) {
            assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.failureDetails));
            assert.equal(status.output, true, 'every critical section saw the whole 2000');
          }
          const a = (await client.readEntityState<number>(A)).entityState!;
          const b = (await client.readEntityState<number>(B)).entityState!;
          assert.equal(a + b, 2000);
          assert.notEqual(a, 1000, 'money actually moved');
        });
      },
    );

    for (const [rule, pattern] of [
      ['nested', /Cannot acquire locks while holding/],
      ['callUnlocked', /Cannot call entity '@account@B' inside a critical section that has not locked it/],
      ['signalLocked', /Cannot signal entity '@account@A' while holding its lock/],
      ['subOrchestration', /Cannot call a sub-orchestration while holding/],
      ['twoCalls', /Cannot call entity '@account@A' again while a call to it/],
    ] as const) {
      test(`locking rule: ${rule} throws LockingRulesViolationError`, async () => {
        await withApp(store, register, async ({ client }) => {
          const status = await finished(client, await client.startNew('violation', { input: rule }));
          const out = status.output as { name: string; isTyped: boolean; message: string };
          assert.equal(out.name, 'LockingRulesViolationError');
          assert.equal(out.isTyped, true);
          assert.match(out.message, pattern);
          // The section was released: another orchestration can lock the same entity.
          const next = await finished(client, await client.startNew('lockAndEnd', { input: 'return' }));
          assert.equal(next.output, 'done');
        });
      });
    }

    test('after release the rules no longer apply; release twice is harmless', async () => {
      await withApp(store, register, async ({ client }) => {
        const status = await finished(client, await client.startNew('afterRelease'));
        assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.failureDetails));
        await eventually('the signal after release', async () => (await client.readEntityState(A)).entityState === 1);
      });
    });

    for (const how of ['return', 'throw', 'continue'] as const) {
      test(`locks are released when the orchestration ends (${how})`, async () => {
        await withApp(store, register, async ({ client }) => {
          const first = await finished(client, await client.startNew('lockAndEnd', { input: how }));
          assert.equal(first.runtimeStatus, how === 'throw' ? 'Failed' : 'Completed');
          // Only possible if both entities were unlocked at the end of the first orchestration.
          const second = await finished(client, await client.startNew('lockAndEnd', { input: 'return' }));
          assert.equal(second.output, 'done');
          assert.equal((await client.readEntityState(A)).entityState, how === 'continue' ? 3 : 2);
        });
      });
    }

    test('while locked, others wait; a lock left by a terminated orchestration is released by cleanEntityStorage', async () => {
      await withApp(store, register, async ({ client }) => {
        const owner = await client.startNew('lockAndWait');
        await eventually('the locked call', async () => (await client.readEntityState(A)).entityState === 1);
        await client.signalEntity(A, 'add', 100);
        const locked = await client.listEntities({ fetchState: true });
        assert.equal(locked.entities.find((e) => e.entityId.key === 'A')?.state, 1, 'the signal waits for the lock');

        // The owner still runs: nothing is orphaned yet.
        assert.deepEqual(await client.cleanEntityStorage(), {
          numberOfEmptyEntitiesRemoved: 0,
          numberOfOrphanedLocksRemoved: 0,
        });
        await client.terminate(owner, 'stop');
        await statusWhere(client, owner, (s) => s.runtimeStatus === 'Terminated');
        assert.equal((await client.readEntityState(A)).entityState, 1, 'termination does not release the lock');
        assert.deepEqual(await client.cleanEntityStorage(), {
          numberOfEmptyEntitiesRemoved: 0,
          numberOfOrphanedLocksRemoved: 1,
        });
        await eventually(
          'the waiting signal to run',
          async () => (await client.readEntityState(A)).entityState === 101,
        );
      });
    });

    test('a lock on an entity that no worker serves fails the lock task', async () => {
      await withApp(
        store,
        (app) => {
          register(app);
          app.orchestration('lockUnknown', function* (ctx) {
            try {
              yield ctx.lock([A, new EntityId('ghost', 'g')]);
              return 'locked';
            } catch (error) {
              // Nothing is held after a failed lock: a new one may be requested.
              yield ctx.lock([A]);
              return (error as Error).message;
            }
          });
        },
        async ({ client }) => {
          const status = await finished(client, await client.startNew('lockUnknown'));
          assert.match(String(status.output), /entity function 'ghost' is not registered/);
        },
      );
    });
  });
}
