import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RetryOptions, TaskFailedError, ValidationError } from '../../src/index.js';
import { eventsOf, historyOf, run, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

class TransientError extends Error {
  override name = 'TransientError';
}
class FatalError extends Error {
  override name = 'FatalError';
}

/** Delay of each retry timer: its fireAt minus the time of the episode that created it. */
function timerDelays(history: Awaited<ReturnType<typeof historyOf>>): number[] {
  return eventsOf(history, 'TimerCreated').map((e) => Date.parse(e.fireAt) - Date.parse(e.timestamp));
}

for (const store of engineStores()) {
  describe(`retries on ${store.label}`, () => {
    useOrchestratorStyle(store);
    for (const cacheSize of [undefined, 0]) {
      test(`backoff coefficient and max interval shape the durable retry timers${cacheSize === 0 ? ' (replaying)' : ''}`, async () => {
        let calls = 0;
        await withApp(
          store,
          (app) => {
            app.activity('flaky', () => {
              calls++;
              throw new TransientError(`attempt ${calls} failed`);
            });
            app.orchestration('retrying', function* (ctx) {
              const options = new RetryOptions(40, 5);
              options.backoffCoefficient = 2;
              options.maxRetryIntervalInMilliseconds = 100;
              yield ctx.callActivityWithRetry('flaky', options, 'x');
            });
          },
          async ({ client }) => {
            const status = await run(client, 'retrying');
            assert.equal(status.runtimeStatus, 'Failed');
            assert.equal(calls, 5);
            assert.equal(status.failureDetails?.inner?.errorType, 'TransientError');
            assert.equal(status.failureDetails?.inner?.message, 'attempt 5 failed');
            const history = await historyOf(client, status.instanceId);
            // 40, 80, then capped at 100: first * 2^(attempt-1), at most the max interval.
            assert.deepEqual(timerDelays(history), [40, 80, 100, 100]);
            assert.equal(eventsOf(history, 'TimerFired').length, 4);
            // Attempt, timer, attempt, … each with its own sequence id.
            assert.deepEqual(eventsOf(history, 'TaskScheduled').map((e) => e.eventId), [0, 2, 4, 6, 8]);
            assert.deepEqual(eventsOf(history, 'TimerCreated').map((e) => e.eventId), [1, 3, 5, 7]);
          },
          cacheSize === 0 ? { worker: { cacheSize: 0 } } : {},
        );
      });
    }

    test('a retried activity that succeeds gives its value', async () => {
      let calls = 0;
      await withApp(
        store,
        (app) => {
          app.activity('thirdTime', (n: number) => {
            calls++;
            if (calls < 3) throw new TransientError('not yet');
            return n * 10;
          });
          app.orchestration('eventually', function* (ctx) {
            return yield ctx.callActivityWithRetry('thirdTime', new RetryOptions(10, 4), 4);
          });
        },
        async ({ client }) => {
          const status = await run(client, 'eventually');
          assert.equal(status.runtimeStatus, 'Completed');
          assert.equal(status.output, 40);
          assert.equal(calls, 3);
          const history = await historyOf(client, status.instanceId);
          assert.equal(eventsOf(history, 'TaskFailed').length, 2);
          assert.deepEqual(timerDelays(history), [10, 10]);
        },
      );
    });

    test('no retry starts once the retry timeout has passed since the first attempt', async () => {
      let calls = 0;
      await withApp(
        store,
        (app) => {
          app.activity('alwaysFails', () => {
            calls++;
            throw new TransientError('nope');
          });
          app.orchestration('timeBoxed', function* (ctx) {
            const options = new RetryOptions(50, 1000);
            options.retryTimeoutInMilliseconds = 400;
            yield ctx.callActivityWithRetry('alwaysFails', options);
          });
        },
        async ({ client }) => {
          const status = await run(client, 'timeBoxed');
          assert.equal(status.runtimeStatus, 'Failed');
          assert.ok(calls >= 2 && calls < 1000, `attempts: ${calls}`);
          const history = await historyOf(client, status.instanceId);
          const firstAttempt = Date.parse(eventsOf(history, 'TaskScheduled')[0]!.timestamp);
          // Every retry timer was created inside the window; the attempt that ended it failed after it.
          for (const timer of eventsOf(history, 'TimerCreated')) assert.ok(Date.parse(timer.timestamp) - firstAttempt < 400);
          const end = eventsOf(history, 'ExecutionCompleted')[0]!;
          assert.ok(Date.parse(end.timestamp) - firstAttempt >= 400);
          assert.equal(eventsOf(history, 'TaskScheduled').length, calls);
        },
      );
    });

    test('the handle predicate stops retries for errors it rejects', async () => {
      let calls = 0;
      const seen: unknown[] = [];
      await withApp(
        store,
        (app) => {
          app.activity('thenFatal', () => {
            calls++;
            if (calls < 3) throw new TransientError('try again');
            throw new FatalError('give up');
          });
          app.orchestration('selective', function* (ctx) {
            const options = new RetryOptions(10, 10);
            options.handle = (error) => {
              if (!ctx.isReplaying) seen.push(error instanceof TaskFailedError ? error.failureDetails.errorType : error);
              return error instanceof TaskFailedError && error.failureDetails.errorType !== 'FatalError';
            };
            yield ctx.callActivityWithRetry('thenFatal', options);
          });
        },
        async ({ client }) => {
          const status = await run(client, 'selective');
          assert.equal(status.runtimeStatus, 'Failed');
          assert.equal(status.failureDetails?.inner?.errorType, 'FatalError');
          assert.equal(calls, 3);
          assert.deepEqual(seen, ['TransientError', 'TransientError', 'FatalError']);
          assert.equal(eventsOf(await historyOf(client, status.instanceId), 'TimerCreated').length, 2);
        },
      );
    });

    test('a non-retriable failure is not retried', async () => {
      let calls = 0;
      await withApp(
        store,
        (app) => {
          app.activity('refuses', () => {
            calls++;
            throw Object.assign(new Error('invalid order'), { isNonRetriable: true });
          });
          app.orchestration('noRetry', function* (ctx) {
            yield ctx.callActivityWithRetry('refuses', new RetryOptions(10, 5));
          });
        },
        async ({ client }) => {
          const status = await run(client, 'noRetry');
          assert.equal(status.runtimeStatus, 'Failed');
          assert.equal(status.failureDetails?.inner?.isNonRetriable, true);
          assert.equal(calls, 1);
          assert.equal(eventsOf(await historyOf(client, status.instanceId), 'TimerCreated').length, 0);
        },
      );
    });

    test('callSubOrchestratorWithRetry retries a failed child, with default and with explicit child ids', async () => {
      const attempts = new Map<string, number>();
      await withApp(
        store,
        (app) => {
          app.activity('failTwice', (key: string) => {
            const n = (attempts.get(key) ?? 0) + 1;
            attempts.set(key, n);
            if (n < 3) throw new TransientError(`${key} attempt ${n}`);
            return `${key} ok`;
          });
          app.orchestration('fragileChild', function* (ctx) {
            const result = yield ctx.callActivity('failTwice', ctx.getInput<string>());
            return { result, id: ctx.instanceId, parent: ctx.parentInstanceId };
          });
          app.orchestration('retryingParent', function* (ctx) {
            const explicit = ctx.getInput<boolean>();
            return yield ctx.callSubOrchestratorWithRetry(
              'fragileChild',
              new RetryOptions(10, 3),
              explicit ? 'explicit' : 'default',
              explicit ? 'the-child' : undefined,
            );
          });
        },
        async ({ client }) => {
          const byDefault = await run(client, 'retryingParent', false, { instanceId: 'rp' });
          assert.equal(byDefault.runtimeStatus, 'Completed');
          // Each attempt is a new child whose id is the parent's id and the attempt's sequence id.
          assert.deepEqual(byDefault.output, { result: 'default ok', id: 'rp:4', parent: 'rp' });
          const history = await historyOf(client, 'rp');
          assert.deepEqual(eventsOf(history, 'SubOrchestrationInstanceCreated').map((e) => e.instanceId), ['rp:0', 'rp:2', 'rp:4']);
          assert.equal((await client.getStatus('rp:0'))?.runtimeStatus, 'Failed');
          assert.equal((await client.getStatus('rp:4'))?.runtimeStatus, 'Completed');

          const explicit = await run(client, 'retryingParent', true, { instanceId: 'rp2' });
          assert.equal(explicit.runtimeStatus, 'Completed');
          // The same child id is reused: the failed child is replaced by the next attempt.
          assert.deepEqual(explicit.output, { result: 'explicit ok', id: 'the-child', parent: 'rp2' });
          const explicitHistory = await historyOf(client, 'rp2');
          assert.deepEqual(eventsOf(explicitHistory, 'SubOrchestrationInstanceCreated').map((e) => e.instanceId), [
            'the-child',
            'the-child',
            'the-child',
          ]);
          assert.equal((await client.getStatus('the-child'))?.runtimeStatus, 'Completed');
        },
      );
    });

    test('retry options are validated', () => {
      assert.throws(() => new RetryOptions(0, 3), ValidationError);
      assert.throws(() => new RetryOptions(10, 0), ValidationError);
      assert.throws(() => new RetryOptions(Number.NaN, 3), ValidationError);
      assert.throws(() => new RetryOptions(10, 1.5), ValidationError);
    });
  });
}
