/**
 * Entity operations that throw anything, reject, or never settle: each fails on its own (rolled back, the
 * caller gets the error) and the entity goes on. A hanging operation fails with `EntityOperationTimeoutError`
 * once its batch's time runs out; what it does with its ctx afterwards reaches no later operation.
 * (A Promise an operation leaks: test/cli/poison-host.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EntityId, TaskFailedError, type EntityContext } from '../../src/index.js';
import { eventually, finished, withApp } from '../support/engine-helpers.js';
import { sqliteTestStore } from '../support/stores.js';

describe('entity faults', () => {
  test('operations that throw a non-Error, reject, or hang fail alone; the entity keeps its state and goes on', async () => {
    const late: { error?: unknown } = {};
    let releaseHang: (() => void) | undefined;
    await withApp(
      sqliteTestStore,
      (app) => {
        app.entity('Box', async (ctx: EntityContext<number>) => {
          const value = ctx.getState(() => 0)!;
          switch (ctx.operationName) {
            case 'add':
              ctx.setState(value + ctx.getInput<number>());
              return undefined;
            case 'get':
              return value;
            case 'throwString':
              ctx.setState(-1);
              throw 'not a number';
            case 'reject':
              ctx.setState(-1);
              return Promise.reject(new RangeError('rejected'));
            case 'hang':
              ctx.setState(-1);
              // Waits until after its timeout, then tries to write: that must not land anywhere.
              await new Promise<void>((resolve) => (releaseHang = resolve));
              try {
                ctx.setState(1000);
              } catch (error) {
                late.error = error;
              }
              return 'late';
            default:
              throw new Error(`no operation ${ctx.operationName}`);
          }
        });
        app.orchestration('callAll', function* (ctx) {
          const box = new EntityId('Box', 'b');
          yield ctx.callEntity(box, 'add', 5);
          const outcomes: unknown[] = [];
          for (const op of ['throwString', 'reject', 'hang']) {
            try {
              outcomes.push(yield ctx.callEntity(box, op));
            } catch (error) {
              const details = (error as TaskFailedError).failureDetails;
              outcomes.push([op, details.inner?.errorType ?? details.errorType, details.inner?.message ?? details.message]);
            }
          }
          yield ctx.callEntity(box, 'add', 1);
          outcomes.push(yield ctx.callEntity(box, 'get'));
          return outcomes;
        });
      },
      async ({ client }) => {
        const id = await client.startNew('callAll');
        const status = await finished(client, id, 30_000);
        assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.failureDetails));
        const [thrown, rejected, hung, total] = status.output as unknown[];
        assert.deepEqual((thrown as string[]).slice(0, 2), ['throwString', 'string']);
        assert.deepEqual(rejected, ['reject', 'RangeError', 'rejected']);
        const [op, type, message] = hung as string[];
        assert.equal(op, 'hang');
        assert.equal(type, 'EntityOperationTimeoutError');
        assert.match(message!, /Operation 'hang' of entity '@box@b' did not finish within 300 ms/);
        // Every failed operation was rolled back: 5 + 1.
        assert.equal(total, 6);
        // The abandoned operation finally writes: refused, and the state stays.
        releaseHang?.();
        await eventually('the late write to be refused', () => late.error !== undefined);
        assert.match(String((late.error as Error).message), /has ended/);
        assert.deepEqual(await client.readEntityState(new EntityId('Box', 'b')), { entityExists: true, entityState: 6 });
      },
      { worker: { entityOperationTimeoutMs: 300 } },
    );
  });

  test('a hanging operation holds up no other work for longer than its time limit', async () => {
    await withApp(
      sqliteTestStore,
      (app) => {
        app.entity('Stuck', () => new Promise(() => {}));
        app.activity('hello', (name: string) => `Hello ${name}`);
        app.orchestration('hello', function* (ctx) {
          return yield ctx.callActivity('hello', ctx.getInput());
        });
      },
      async ({ client }) => {
        for (let i = 0; i < 3; i++) await client.signalEntity(new EntityId('Stuck', `s${i}`), 'wait');
        const status = await finished(client, await client.startNew('hello', { input: 'Oslo' }), 30_000);
        assert.equal(status.output, 'Hello Oslo');
      },
      { worker: { entityOperationTimeoutMs: 500 } },
    );
  });
});
