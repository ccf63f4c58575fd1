/**
 * The pure entity executor: operations run in order on the state, a failing operation is rolled back on its
 * own (state, signals, orchestration starts), results are serialized, and class entities map methods to
 * operations and fields to state.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EntityExecutor, type EntityOperation } from '../../src/core/entity-executor.js';
import { EntityId, type EntityContext } from '../../src/index.js';

const counterId = new EntityId('Counter', 'c1');

function executor(
  entities: Record<string, unknown>,
  extra: Partial<ConstructorParameters<typeof EntityExecutor>[0]> = {},
): EntityExecutor {
  let next = 0;
  return new EntityExecutor({
    resolve: (name) => entities[name] as never,
    registeredNames: () => Object.keys(entities),
    newId: () => `id-${next++}`,
    ...extra,
  });
}

const op = (name: string, input?: unknown): EntityOperation => ({
  name,
  ...(input !== undefined ? { input: JSON.stringify(input) } : {}),
});

function counter(ctx: EntityContext<number>): unknown {
  const value = ctx.getState(() => 0)!;
  switch (ctx.operationName) {
    case 'add':
      ctx.setState(value + ctx.getInput<number>());
      return undefined;
    case 'addThenFail':
      ctx.setState(value + ctx.getInput<number>());
      ctx.signalEntity(new EntityId('audit', 'a'), 'record', 'lost');
      ctx.startNewOrchestration('never', undefined, 'never-started');
      throw new RangeError('nope');
    case 'get':
      return value;
    case 'notify':
      ctx.signalEntity(new EntityId('audit', 'a'), 'record', value, { scheduledTime: new Date(Date.UTC(2030, 0, 1)) });
      return undefined;
    case 'delete':
      ctx.deleteState();
      return undefined;
    case 'isNew':
      return ctx.isNewlyConstructed;
    default:
      throw new Error(`unknown operation ${ctx.operationName}`);
  }
}

describe('entity executor', () => {
  test('operations apply in order and each caller gets its own result', async () => {
    const result = await executor({ counter }).executeBatch(counterId, { exists: false }, [
      op('add', 2),
      op('get'),
      op('add', 3),
      op('get'),
    ]);
    assert.deepEqual(result.results, [{}, { result: '2' }, {}, { result: '5' }]);
    assert.deepEqual({ exists: result.exists, state: result.state }, { exists: true, state: '5' });
  });

  test('a failing operation rolls back its state, signals and starts; later operations see the state before it', async () => {
    const result = await executor({ counter }).executeBatch(counterId, { exists: true, state: '10' }, [
      op('add', 1),
      op('addThenFail', 100),
      op('get'),
      op('notify'),
    ]);
    assert.equal(result.results[1]!.failureDetails?.errorType, 'RangeError');
    assert.equal(result.results[1]!.failureDetails?.message, 'nope');
    assert.equal(result.results[2]!.result, '11');
    assert.equal(result.state, '11');
    // Only the signal of the successful 'notify' remains; the failed operation's signal and start are gone.
    assert.deepEqual(result.actions, [
      {
        type: 'SignalEntity',
        operation: 3,
        target: '@audit@a',
        name: 'record',
        input: '11',
        scheduledTime: '2030-01-01T00:00:00.000Z',
      },
    ]);
  });

  test('in-place changes to the state object are kept, and rolled back when the operation fails', async () => {
    const list = (ctx: EntityContext<string[]>) => {
      const items = ctx.getState(() => [])!;
      items.push(ctx.getInput<string>());
      if (ctx.operationName === 'pushThenFail') throw new Error('fail after push');
      return items.length;
    };
    const result = await executor({ list }).executeBatch(new EntityId('list', 'l'), { exists: false }, [
      op('push', 'a'),
      op('pushThenFail', 'b'),
      op('push', 'c'),
    ]);
    assert.deepEqual(
      result.results.map((r) => r.result ?? r.failureDetails?.message),
      ['1', 'fail after push', '2'],
    );
    assert.deepEqual(JSON.parse(result.state!), ['a', 'c']);
  });

  test('deleteState makes the entity not exist; isNewlyConstructed tells whether state existed before the operation', async () => {
    const result = await executor({ counter }).executeBatch(counterId, { exists: false }, [
      op('isNew'),
      op('isNew'),
      op('delete'),
      op('isNew'),
    ]);
    // isNew's getState(() => 0) creates the state, so only the first and the one after delete see no state.
    assert.deepEqual(
      result.results.map((r) => r.result),
      ['true', 'false', undefined, 'true'],
    );
    const deleted = await executor({ counter }).executeBatch(counterId, { exists: true, state: '4' }, [op('delete')]);
    assert.deepEqual({ exists: deleted.exists, state: deleted.state }, { exists: false, state: undefined });
  });

  test('unserializable state or result fails only that operation', async () => {
    const bad = (ctx: EntityContext) => {
      if (ctx.operationName === 'badState') ctx.setState({ n: 1n });
      else if (ctx.operationName === 'badResult') return () => 1;
      else ctx.setState({ ok: ctx.getInput() });
      return undefined;
    };
    const result = await executor({ bad }).executeBatch(new EntityId('bad', 'k'), { exists: false }, [
      op('set', 1),
      op('badState'),
      op('badResult'),
    ]);
    assert.equal(result.results[0]!.failureDetails, undefined);
    assert.equal(result.results[1]!.failureDetails?.errorType, 'SerializationError');
    assert.equal(result.results[2]!.failureDetails?.errorType, 'SerializationError');
    assert.deepEqual(JSON.parse(result.state!), { ok: 1 });
  });

  test('state over the payload limit fails the operation with PayloadTooLargeError', async () => {
    const big = (ctx: EntityContext) => ctx.setState('x'.repeat(ctx.getInput<number>()));
    const result = await executor({ big }, { maxPayloadBytes: 1000 }).executeBatch(
      new EntityId('big', 'k'),
      { exists: false },
      [op('set', 10), op('set', 5000)],
    );
    assert.equal(result.results[1]!.failureDetails?.errorType, 'PayloadTooLargeError');
    assert.equal(JSON.parse(result.state!), 'x'.repeat(10));
  });

  test('async operations are awaited in order', async () => {
    const slow = async (ctx: EntityContext<number[]>) => {
      await new Promise((resolve) => setTimeout(resolve, ctx.getInput<number>()));
      ctx.getState<number[]>(() => [])!.push(ctx.getInput<number>());
    };
    const result = await executor({ slow }).executeBatch(new EntityId('slow', 'k'), { exists: false }, [
      op('a', 20),
      op('b', 1),
      op('c', 5),
    ]);
    assert.deepEqual(JSON.parse(result.state!), [20, 1, 5]);
  });

  test('startNewOrchestration gives the new id, refuses unknown names and bad ids', async () => {
    const starter = (ctx: EntityContext) => ctx.startNewOrchestration(ctx.getInput<string>(), { from: ctx.entityKey });
    const ex = executor(
      { starter },
      { isKnownOrchestration: (n) => n === 'known', knownOrchestrations: () => ['known'] },
    );
    const result = await ex.executeBatch(new EntityId('starter', 'k'), { exists: false }, [
      op('go', 'known'),
      op('go', 'unknown'),
    ]);
    assert.equal(result.results[0]!.result, JSON.stringify('id-0'));
    assert.equal(result.results[1]!.failureDetails?.errorType, 'UnknownFunctionError');
    assert.deepEqual(result.actions, [
      { type: 'StartOrchestration', operation: 0, name: 'known', instanceId: 'id-0', input: '{"from":"k"}' },
    ]);
    const withId = (ctx: EntityContext) => ctx.startNewOrchestration('known', undefined, '@bad');
    const refused = await executor({ withid: withId }).executeBatch(new EntityId('withId', 'k'), { exists: false }, [
      op('go'),
    ]);
    assert.equal(refused.results[0]!.failureDetails?.errorType, 'ValidationError');
  });

  test('an unregistered entity fails every operation with UnknownFunctionError listing the registered ones', async () => {
    const result = await executor({ counter }).executeBatch(new EntityId('nobody', 'k'), { exists: false }, [
      op('x'),
      op('y'),
    ]);
    for (const r of result.results) {
      assert.equal(r.failureDetails?.errorType, 'UnknownFunctionError');
      assert.match(r.failureDetails!.message, /'counter'/);
    }
    assert.equal(result.exists, false);
  });

  describe('class entities', () => {
    class Account {
      balance = 0;
      owner: string | undefined;
      deposit(amount: number): number {
        this.balance += amount;
        return this.balance;
      }
      withdraw(amount: number): number {
        this.balance -= amount;
        if (this.balance < 0) throw new Error(`insufficient funds: ${this.balance + amount} < ${amount}`);
        return this.balance;
      }
      rename(owner: string, ctx: EntityContext): string {
        this.owner = owner;
        return `${ctx.entityKey}:${owner}`;
      }
      get(): number {
        return this.balance;
      }
    }

    test('methods are operations (case-insensitive), fields are the state, a throwing method rolls back', async () => {
      const ex = executor({ account: Account });
      const result = await ex.executeBatch(new EntityId('Account', 'acc'), { exists: false }, [
        op('deposit', 50),
        op('Withdraw', 80),
        op('rename', 'ann'),
        op('get'),
      ]);
      assert.equal(result.results[0]!.result, '50');
      assert.match(result.results[1]!.failureDetails!.message, /insufficient funds/);
      assert.equal(result.results[2]!.result, JSON.stringify('acc:ann'));
      assert.equal(result.results[3]!.result, '50');
      assert.deepEqual(JSON.parse(result.state!), { balance: 50, owner: 'ann' });
    });

    test('stored fields are loaded into a fresh instance; `delete` without a method deletes; unknown operations list the methods', async () => {
      const ex = executor({ account: Account });
      const loaded = await ex.executeBatch(new EntityId('account', 'a'), { exists: true, state: '{"balance":7}' }, [
        op('deposit', 1),
        op('nope'),
      ]);
      assert.equal(loaded.results[0]!.result, '8');
      assert.match(loaded.results[1]!.failureDetails!.message, /no operation 'nope'.*deposit, withdraw, rename, get/);
      const deleted = await ex.executeBatch(new EntityId('account', 'a'), { exists: true, state: '{"balance":7}' }, [
        op('delete'),
      ]);
      assert.equal(deleted.exists, false);
    });
  });
});
