/**
 * Activities that throw anything, reject, or never settle: every one is a failed attempt (a TaskFailed the
 * orchestration can catch or retry); a hanging attempt times out (`ActivityTimeoutError`), aborts its
 * `ctx.signal` and frees its slot and lease. (A Promise an activity leaks: test/cli/poison-host.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DFApp, RetryOptions, TaskFailedError, type ActivityContext } from '../../src/index.js';
import { eventsOf, historyOf, run, withApp } from '../support/engine-helpers.js';
import { sqliteTestStore } from '../support/stores.js';

describe('activity faults', () => {
  test('an activity that throws a non-Error or rejects fails its task; the orchestration sees the details', async () => {
    await withApp(
      sqliteTestStore,
      (app) => {
        app.activity('throwsString', () => {
          throw 'no stock';
        });
        app.activity('throwsNoPrototype', () => {
          throw Object.create(null);
        });
        app.activity('rejects', async () => Promise.reject(new RangeError('too far')));
        app.activity('returnsRejectingThenable', () => ({
          then(_: unknown, reject: (e: unknown) => void) {
            reject(new Error('thenable rejected'));
          },
        }));
        app.orchestration('tryAll', function* (ctx) {
          const seen: unknown[] = [];
          for (const name of ['throwsString', 'throwsNoPrototype', 'rejects', 'returnsRejectingThenable']) {
            try {
              yield ctx.callActivity(name);
            } catch (error) {
              const details = (error as TaskFailedError).failureDetails;
              seen.push([name, details.errorType, details.message]);
            }
          }
          return seen;
        });
      },
      async ({ client }) => {
        const status = await run(client, 'tryAll');
        assert.equal(status.runtimeStatus, 'Completed');
        const [s, p, r, t] = status.output as [string, string, string][];
        assert.deepEqual(s, ['throwsString', 'string', 'no stock']);
        assert.equal(p![0], 'throwsNoPrototype');
        assert.deepEqual(r, ['rejects', 'RangeError', 'too far']);
        assert.deepEqual(t, ['returnsRejectingThenable', 'Error', 'thenable rejected']);
      },
    );
  });

  test('a hanging attempt times out with ActivityTimeoutError, aborts ctx.signal, and the retry policy runs it again', async () => {
    const signals: AbortSignal[] = [];
    let attempts = 0;
    await withApp(
      sqliteTestStore,
      (app) => {
        app.activity(
          'flaky',
          (_: unknown, ctx: ActivityContext) => {
            attempts++;
            signals.push(ctx.signal);
            if (attempts === 1) return new Promise(() => {}); // never settles
            return 'second attempt';
          },
          { timeoutMs: 200 },
        );
        app.orchestration('retries', function* (ctx) {
          return yield ctx.callActivityWithRetry('flaky', new RetryOptions(10, 3));
        });
      },
      async ({ client }) => {
        const status = await run(client, 'retries');
        assert.equal(status.runtimeStatus, 'Completed');
        assert.equal(status.output, 'second attempt');
        assert.equal(attempts, 2);
        const [failed] = eventsOf(await historyOf(client, status.instanceId), 'TaskFailed');
        assert.equal(failed?.failureDetails.errorType, 'ActivityTimeoutError');
        assert.match(failed?.failureDetails.message ?? '', /Activity 'flaky' \(task #0\) did not finish within its timeout of 200 ms/);
        assert.equal(signals[0]?.aborted, true);
        assert.equal((signals[0]?.reason as Error).name, 'ActivityTimeoutError');
        assert.equal(signals[1]?.aborted, false);
      },
    );
  });

  test("a hanging activity gives its slot back: with one slot, the next activity still runs (worker's activityTimeoutMs)", async () => {
    await withApp(
      sqliteTestStore,
      (app) => {
        app.activity('hangs', () => new Promise(() => {}));
        app.activity('works', () => 'worked');
        app.orchestration('oneSlot', function* (ctx) {
          let first: string;
          try {
            yield ctx.callActivity('hangs');
            first = 'returned';
          } catch (error) {
            first = (error as TaskFailedError).failureDetails.errorType;
          }
          return [first, yield ctx.callActivity('works')];
        });
      },
      async ({ client }) => {
        const status = await run(client, 'oneSlot');
        assert.deepEqual(status.output, ['ActivityTimeoutError', 'worked']);
      },
      { worker: { maxConcurrentActivities: 1, activityTimeoutMs: 200 } },
    );
  });

  test('timeout settings are checked: a timeout must be a positive number of ms or Infinity', async () => {
    const app = new DFApp({ store: 'sqlite::memory:' });
    assert.throws(() => app.activity('a', () => 1, { timeoutMs: 0 }), { name: 'ValidationError', message: /timeoutMs of activity 'a'/ });
    assert.throws(() => app.activity('b', () => 1, { timeoutMs: Number.NaN }), { name: 'ValidationError' });
    assert.throws(() => app.activity('c', () => 1, { timeoutMs: '5' as never }), { name: 'ValidationError' });
    app.activity('d', () => 1, { timeoutMs: Infinity });
    await assert.rejects(app.startWorker({ activityTimeoutMs: -1 }), { name: 'ValidationError', message: /activityTimeoutMs/ });
    await assert.rejects(app.startWorker({ entityOperationTimeoutMs: 0 }), { name: 'ValidationError', message: /entityOperationTimeoutMs/ });
  });
});
