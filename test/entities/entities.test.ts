/**
 * Durable entities end to end on every store: signals and calls from clients, orchestrations and entities,
 * per-operation rollback, deletion, listing, cleaning, class entities, and the bad-input cases.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EntityId,
  PayloadTooLargeError,
  TaskFailedError,
  UnknownFunctionError,
  ValidationError,
  type DFApp,
  type EntityContext,
} from '../../src/index.js';
import { eventually, eventsOf, finished, historyOf, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

/** A counter: add, get, fail (after changing state and signalling), reset, delete. */
function counter(ctx: EntityContext<number>): unknown {
  const value = ctx.getState(() => 0)!;
  switch (ctx.operationName) {
    case 'add':
      ctx.setState(value + ctx.getInput<number>());
      return undefined;
    case 'addThenFail':
      ctx.setState(value + ctx.getInput<number>());
      ctx.signalEntity(new EntityId('counter', 'audit'), 'add', 1);
      throw new RangeError(`refusing ${ctx.getInput<number>()}`);
    case 'get':
      return value;
    case 'delete':
      ctx.deleteState();
      return undefined;
    default:
      throw new Error(`unknown operation '${ctx.operationName}'`);
  }
}

function register(app: DFApp): void {
  app.entity('Counter', counter);
  app.orchestration('callGet', function* (ctx, key: string) {
    return yield ctx.callEntity(new EntityId('counter', key), 'get');
  });
}

for (const store of engineStores()) {
  describe(`entities on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('many concurrent signals to one entity are all applied', { timeout: 60_000 }, async () => {
      await withApp(store, register, async ({ client }) => {
        const id = new EntityId('Counter', 'hot');
        const signals = 400;
        await Promise.all(Array.from({ length: signals }, (_, i) => client.signalEntity(id, 'add', 1 + (i % 3))));
        const expected = Array.from({ length: signals }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0);
        // The call is queued behind every signal already in the inbox, so it sees all of them.
        const status = await finished(client, await client.startNew('callGet', { input: 'hot' }), 30_000);
        assert.equal(status.output, expected);
        assert.deepEqual(await client.readEntityState(id), { entityExists: true, entityState: expected });
      });
    });

    test('an operation that throws is rolled back on its own; the caller gets the error; the entity goes on', async () => {
      await withApp(
        store,
        (app) => {
          register(app);
          app.orchestration('rollback', function* (ctx) {
            const id = new EntityId('counter', 'r');
            yield ctx.callEntity(id, 'add', 5);
            let error: unknown;
            try {
              yield ctx.callEntity(id, 'addThenFail', 100);
            } catch (e) {
              error = e;
            }
            const after: number = yield ctx.callEntity(id, 'get');
            const failure = error instanceof TaskFailedError ? error.failureDetails : undefined;
            return { after, name: (error as Error).name, message: (error as Error).message, failure };
          });
        },
        async ({ client }) => {
          const status = await finished(client, await client.startNew('rollback'));
          assert.equal(status.runtimeStatus, 'Completed');
          const out = status.output as {
            after: number;
            name: string;
            message: string;
            failure: { errorType: string; message: string };
          };
          assert.equal(out.after, 5, 'the failed operation’s +100 was rolled back');
          assert.equal(out.name, 'TaskFailedError');
          assert.match(out.message, /Operation 'addThenFail' of entity '@counter@r' failed: refusing 100/);
          assert.equal(out.failure.errorType, 'RangeError');
          // The failed operation's signal was dropped with it.
          assert.deepEqual(await client.readEntityState(new EntityId('counter', 'audit')), {
            entityExists: false,
            entityState: undefined,
          });
        },
      );
    });

    test('calls and signals consume sequence ids (EventSent) and replay without the cache', async () => {
      await withApp(
        store,
        (app) => {
          register(app);
          app.orchestration('mixedCalls', function* (ctx) {
            const id = new EntityId('counter', 'replayed');
            ctx.signalEntity(id, 'add', 2);
            const first: number = yield ctx.callEntity(id, 'get');
            yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 10));
            ctx.signalEntity(id, 'add', 3);
            const second: number = yield ctx.callEntity(id, 'get');
            return [first, second, ctx.newUuid()];
          });
        },
        async ({ client }) => {
          const id = await client.startNew('mixedCalls');
          const status = await finished(client, id);
          assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.failureDetails));
          const [first, second] = status.output as [number, number, string];
          assert.deepEqual([first, second], [2, 5]);
          const sent = eventsOf(await historyOf(client, id), 'EventSent');
          assert.deepEqual(
            sent.map((e) => [e.eventId, e.instanceId, e.name]),
            [
              [0, '@counter@replayed', 'op'],
              [1, '@counter@replayed', 'op'],
              [3, '@counter@replayed', 'op'],
              [4, '@counter@replayed', 'op'],
            ],
          );
        },
        { worker: { cacheSize: 0 } }, // every episode replays the whole history
      );
    });

    test('deleteState removes the entity from listings and reads; cleanEntityStorage purges the empty row', async () => {
      await withApp(store, register, async ({ client }) => {
        const keep = new EntityId('counter', 'keep');
        const gone = new EntityId('counter', 'gone');
        await client.signalEntity(keep, 'add', 1);
        await client.signalEntity(gone, 'add', 1);
        await eventually('both entities', async () => (await client.listEntities()).entities.length === 2);
        await client.signalEntity(gone, 'delete');
        await eventually(
          'the deleted entity to disappear',
          async () => (await client.readEntityState(gone)).entityExists === false,
        );
        const listed = await client.listEntities({ fetchState: true });
        assert.deepEqual(
          listed.entities.map((e) => [e.entityId.toString(), e.state]),
          [['@counter@keep', 1]],
        );
        const withDeleted = await client.listEntities({ includeDeleted: true });
        assert.equal(withDeleted.entities.length, 2, 'until cleaned, the empty row still exists');
        assert.deepEqual(await client.cleanEntityStorage(), {
          numberOfEmptyEntitiesRemoved: 1,
          numberOfOrphanedLocksRemoved: 0,
        });
        assert.equal((await client.listEntities({ includeDeleted: true })).entities.length, 1);
        // A cleaned entity comes back with its next signal.
        await client.signalEntity(gone, 'add', 7);
        await eventually('the re-created entity', async () => (await client.readEntityState(gone)).entityState === 7);
      });
    });

    test('listEntities filters by name, name prefix and last operation time, and pages', async () => {
      await withApp(
        store,
        (app) => {
          register(app);
          app.entity('Color', (ctx: EntityContext<string>) => ctx.setState(ctx.getInput<string>()));
        },
        async ({ client }) => {
          for (let i = 0; i < 7; i++) await client.signalEntity(new EntityId('counter', `k${i}`), 'add', i + 1);
          await client.signalEntity(new EntityId('color', 'sky'), 'set', 'blue');
          await eventually(
            'all eight entities',
            async () => (await client.listEntities({ pageSize: 100 })).entities.length === 8,
          );

          const counters = await client.listEntities({ entityName: 'COUNTER', fetchState: true });
          assert.deepEqual(
            counters.entities.map((e) => [e.entityId.name, e.entityId.key, e.state]).sort(),
            Array.from({ length: 7 }, (_, i) => ['counter', `k${i}`, i + 1]),
          );
          assert.equal(counters.entities[0]!.lastOperationTime instanceof Date, true);
          assert.deepEqual(
            (await client.listEntities({ entityNamePrefix: 'Col' })).entities.map((e) => e.entityId.key),
            ['sky'],
          );
          assert.equal(
            (await client.listEntities({ entityName: 'color' })).entities[0]!.state,
            undefined,
            'no state without fetchState',
          );

          const seen: string[] = [];
          let token: string | undefined;
          let pages = 0;
          do {
            const page = await client.listEntities({ pageSize: 3, ...(token ? { continuationToken: token } : {}) });
            assert.ok(page.entities.length <= 3);
            seen.push(...page.entities.map((e) => e.entityId.toString()));
            token = page.continuationToken;
            pages++;
          } while (token);
          assert.equal(pages, 3);
          assert.equal(new Set(seen).size, 8);

          const times = counters.entities.map((e) => e.lastOperationTime.getTime());
          const latest = Math.max(...times);
          const recent = await client.listEntities({ entityName: 'counter', lastOperationTimeFrom: new Date(latest) });
          assert.deepEqual(
            recent.entities.map((e) => e.entityId.key).sort(),
            counters.entities
              .filter((e) => e.lastOperationTime.getTime() >= latest)
              .map((e) => e.entityId.key)
              .sort(),
          );
          assert.equal(
            (await client.listEntities({ lastOperationTimeTo: new Date(Math.min(...times) - 1) })).entities.length,
            0,
          );
          await assert.rejects(client.listEntities({ continuationToken: 'garbage' }), ValidationError);
          await assert.rejects(client.listEntities({ pageSize: 0 }), ValidationError);
        },
      );
    });

    test('class entities: public methods are operations, fields are the state, `delete` deletes', async () => {
      class Account {
        balance = 0;
        history: number[] = [];
        deposit(amount: number): number {
          this.balance += amount;
          this.history.push(amount);
          return this.balance;
        }
        withdraw(amount: number): number {
          if (amount > this.balance) throw new Error(`insufficient funds for ${amount}`);
          this.balance -= amount;
          this.history.push(-amount);
          return this.balance;
        }
      }
      await withApp(
        store,
        (app) => {
          app.entity('Account', Account);
          app.orchestration('bank', function* (ctx) {
            const id = new EntityId('account', 'a1');
            const results: unknown[] = [];
            results.push(yield ctx.callEntity(id, 'deposit', 30));
            try {
              yield ctx.callEntity(id, 'withdraw', 50);
            } catch (e) {
              results.push((e as TaskFailedError).failureDetails.message);
            }
            results.push(yield ctx.callEntity(id, 'Withdraw', 10));
            return results;
          });
        },
        async ({ client }) => {
          const status = await finished(client, await client.startNew('bank'));
          assert.deepEqual(status.output, [30, 'insufficient funds for 50', 20]);
          const id = new EntityId('account', 'a1');
          assert.deepEqual(await client.readEntityState(id), {
            entityExists: true,
            entityState: { balance: 20, history: [30, -10] },
          });
          await client.signalEntity(id, 'delete');
          await eventually('the account to be deleted', async () => !(await client.readEntityState(id)).entityExists);
        },
      );
    });

    test('entities signal entities (also scheduled) and start orchestrations', async () => {
      await withApp(
        store,
        (app) => {
          register(app);
          app.entity('Relay', (ctx: EntityContext) => {
            const input = ctx.getInput<{ to: string; at?: string }>();
            if (ctx.operationName === 'relay') {
              ctx.signalEntity(
                new EntityId('counter', input.to),
                'add',
                10,
                input.at ? { scheduledTime: new Date(input.at) } : {},
              );
            } else if (ctx.operationName === 'start') {
              ctx.setResult(ctx.startNewOrchestration('callGet', input.to, `started-by-${ctx.entityKey}`));
            }
          });
          app.orchestration('relayAndStart', function* (ctx) {
            return yield ctx.callEntity(new EntityId('relay', 'r1'), 'start', { to: 'target' });
          });
        },
        async ({ client }) => {
          await client.signalEntity(new EntityId('relay', 'r1'), 'relay', { to: 'target' });
          await eventually(
            'the relayed signal',
            async () => (await client.readEntityState(new EntityId('counter', 'target'))).entityState === 10,
          );

          const startedId = (await finished(client, await client.startNew('relayAndStart'))).output as string;
          assert.equal(startedId, 'started-by-r1');
          assert.equal((await finished(client, startedId)).output, 10);

          const at = new Date(Date.now() + 400);
          await client.signalEntity(new EntityId('relay', 'r1'), 'relay', { to: 'later', at: at.toISOString() });
          await eventually(
            'the scheduled signal',
            async () => (await client.readEntityState(new EntityId('counter', 'later'))).entityExists,
            10_000,
          );
          assert.ok(Date.now() >= at.getTime(), 'a scheduled signal is not delivered before its time');
        },
      );
    });

    test('a client signal scheduled for later is delivered then, not before', async () => {
      await withApp(store, register, async ({ client }) => {
        const id = new EntityId('counter', 'scheduled');
        const at = new Date(Date.now() + 500);
        await client.signalEntity(id, 'add', 4, { scheduledTime: at });
        await client.signalEntity(new EntityId('counter', 'now'), 'add', 1);
        await eventually(
          'the immediate signal',
          async () => (await client.readEntityState(new EntityId('counter', 'now'))).entityExists,
        );
        await eventually('the scheduled signal', async () => (await client.readEntityState(id)).entityState === 4);
        assert.ok(Date.now() >= at.getTime());
      });
    });

    test('calls to entities no worker serves fail at once; clients may not signal them; bad arguments are refused', async () => {
      await withApp(
        store,
        (app) => {
          register(app);
          app.orchestration('callUnknown', function* (ctx) {
            return yield ctx.callEntity(new EntityId('nobody', 'x'), 'get');
          });
          app.orchestration('badEntityArgs', function* (ctx) {
            const errors: string[] = [];
            for (const attempt of [
              () => ctx.callEntity('counter' as never, 'get'),
              () => ctx.signalEntity(new EntityId('counter', 'k'), 42 as never),
              () => ctx.signalEntity(new EntityId('counter', 'k'), 'add', 10n),
            ]) {
              try {
                attempt();
              } catch (e) {
                errors.push((e as Error).name);
              }
            }
            yield ctx.createTimer(ctx.currentUtcDateTime);
            return errors;
          });
        },
        async ({ client }) => {
          const failed = await finished(client, await client.startNew('callUnknown'));
          assert.equal(failed.runtimeStatus, 'Failed');
          assert.equal(failed.failureDetails?.inner?.errorType, 'UnknownFunctionError');
          assert.match(failed.failureDetails!.inner!.message, /entity function 'nobody'.*'counter'/);

          await assert.rejects(client.signalEntity(new EntityId('nobody', 'x'), 'add', 1), UnknownFunctionError);
          await assert.rejects(client.signalEntity({ name: 'counter' } as never, 'add', 1), ValidationError);
          await assert.rejects(
            client.signalEntity(new EntityId('counter', 'x'), 'add', 1, { scheduledTime: new Date('nope') }),
            ValidationError,
          );
          await assert.rejects(
            client.signalEntity(new EntityId('counter', 'x'), 'add', 'x'.repeat(2 * 1024 * 1024)),
            PayloadTooLargeError,
          );
          assert.throws(() => new EntityId('a@b', 'k'), ValidationError);
          assert.deepEqual(await client.readEntityState(new EntityId('counter', 'x')), {
            entityExists: false,
            entityState: undefined,
          });

          const bad = await finished(client, await client.startNew('badEntityArgs'));
          assert.deepEqual(bad.output, ['ValidationError', 'ValidationError', 'SerializationError']);
        },
      );
    });

    test('entity instances stay out of instance listings and orchestration ids may not start with @', async () => {
      await withApp(store, register, async ({ client }) => {
        await client.signalEntity(new EntityId('counter', 'hidden'), 'add', 1);
        await eventually(
          'the entity',
          async () => (await client.readEntityState(new EntityId('counter', 'hidden'))).entityExists,
        );
        assert.equal((await client.getStatusAll()).filter((s) => s.instanceId.startsWith('@')).length, 0);
        await assert.rejects(client.startNew('callGet', { instanceId: '@counter@hidden' }), ValidationError);
      });
    });
  });
}
