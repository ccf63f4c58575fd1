/**
 * The pure executor's task semantics over hand-built histories: completion rule (§6.2), timers, events,
 * compound tasks, retries, continue-as-new, failures and payload rules.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FailureDetails, HistoryEvent } from '../../src/sdk/history.js';
import { RetryOptions, TaskFailedError, type OrchestrationContext, type Task } from '../../src/index.js';
import { T0, at, ev, executorFor, failureOf } from './executor-helpers.js';

type Gen = Generator<Task<any>, any, any>;
const start = (name = 'fn', input?: unknown, extra?: Parameters<typeof ev.started>[2]): HistoryEvent[] => [
  ev.orchestratorStarted(0),
  ev.started(name, input, extra),
];

describe('executor: completion rule (§6.2)', () => {
  test('returning while an activity is open completes only when it finishes', () => {
    const fn = function* (ctx: OrchestrationContext): Gen {
      const fast = ctx.callActivity('fast');
      ctx.callActivity('slow');
      yield ctx.taskAny([fast]);
      return 'returned';
    };
    const executor = executorFor({ fn });
    executor.execute([], start());
    const afterFast = executor.execute([], [ev.orchestratorStarted(10), ev.completed(0)]);
    assert.equal(afterFast.completion, undefined);
    const afterSlow = executor.execute([], [ev.orchestratorStarted(20), ev.completed(1)]);
    assert.deepEqual(afterSlow.completion, { type: 'CompleteOrchestration', id: 2, status: 'Completed', result: '"returned"' });
  });

  test('an uncancelled timer holds completion; a cancelled one does not, and its late fire is dropped', () => {
    const holds = executorFor({
      fn: function* (ctx: OrchestrationContext): Gen {
        ctx.createTimer(new Date(T0 + 1000));
        return 'r';
      },
    });
    const first = holds.execute([], start());
    assert.deepEqual(first.actions, [{ type: 'CreateTimer', id: 0, fireAt: at(1000) }]);
    assert.equal(first.completion, undefined);
    assert.equal(holds.execute([], [ev.orchestratorStarted(1000), ev.timerFired(0, 1000)]).completion?.status, 'Completed');

    const cancelledAtOnce = executorFor({
      fn: function* (ctx: OrchestrationContext): Gen {
        ctx.createTimer(new Date(T0 + 1000)).cancel();
        return 'r';
      },
    }).execute([], start());
    assert.deepEqual(cancelledAtOnce.actions[0], { type: 'CreateTimer', id: 0, fireAt: at(1000), isCanceled: true });
    assert.equal(cancelledAtOnce.completion?.status, 'Completed');

    const cancelledLater = executorFor({
      fn: function* (ctx: OrchestrationContext): Gen {
        const timer = ctx.createTimer(new Date(T0 + 1000));
        yield ctx.waitForExternalEvent('stop');
        timer.cancel();
        yield ctx.waitForExternalEvent('end');
        return timer.isCanceled;
      },
    });
    cancelledLater.execute([], start());
    cancelledLater.execute([], [ev.orchestratorStarted(10), ev.raised('stop')]);
    const lateFire = ev.timerFired(0, 1000);
    const late = cancelledLater.execute([], [ev.orchestratorStarted(1000), lateFire]);
    assert.equal(late.acceptedEvents.includes(lateFire), false);
    assert.equal(cancelledLater.execute([], [ev.orchestratorStarted(1100), ev.raised('end')]).completion?.result, 'true');
  });

  test('a pending external-event wait does not hold completion', () => {
    const result = executorFor({
      fn: function* (ctx: OrchestrationContext): Gen {
        ctx.waitForExternalEvent('never');
        return 'done';
      },
    }).execute([], start());
    assert.equal(result.completion?.status, 'Completed');
  });
});

describe('executor: external events', () => {
  test('early events are buffered first-in first-out per name and each is consumed once', () => {
    const fn = function* (ctx: OrchestrationContext): Gen {
      yield ctx.callActivity('hold');
      const values = [];
      for (let i = 0; i < 3; i++) values.push(yield ctx.waitForExternalEvent('x'));
      values.push(yield ctx.waitForExternalEvent('Y')); // names match case-insensitively
      const pending = ctx.waitForExternalEvent('x');
      return { values, pendingDone: pending.isCompleted };
    };
    const executor = executorFor({ fn });
    executor.execute([], start());
    executor.execute([], [ev.orchestratorStarted(1), ev.raised('x', 1), ev.raised('y', 'why'), ev.raised('x', 2)]);
    executor.execute([], [ev.orchestratorStarted(2), ev.raised('x', 3)]);
    const done = executor.execute([], [ev.orchestratorStarted(3), ev.completed(0)]);
    assert.deepEqual(JSON.parse(done.completion!.result!), { values: [1, 2, 3, 'why'], pendingDone: false });
  });

  test('two pending waits on one name form a stack: the newest gets the next event', () => {
    const fn = function* (ctx: OrchestrationContext): Gen {
      const first = ctx.waitForExternalEvent('x');
      const second = ctx.waitForExternalEvent('x');
      return yield ctx.taskAll([first, second]);
    };
    const result = executorFor({ fn }).execute([], [...start(), ev.raised('x', 'one'), ev.raised('x', 'two')]);
    assert.equal(result.completion?.result, '["two","one"]');
  });

  test('events delivered before ExecutionStarted (left in the inbox across continue-as-new) are buffered in order', () => {
    const fn = function* (ctx: OrchestrationContext): Gen {
      return [yield ctx.waitForExternalEvent('x'), yield ctx.waitForExternalEvent('x')];
    };
    const result = executorFor({ fn }).execute([], [ev.orchestratorStarted(0), ev.raised('x', 1), ev.raised('x', 2), ev.started('fn')]);
    assert.equal(result.completion?.result, '[1,2]');
  });
});

describe('executor: compound tasks', () => {
  test('taskAll fails with the first failure; taskAny completes with the winning task, even a failed one', () => {
    const boom = { errorType: 'Error', message: 'boom' };
    const fn = function* (ctx: OrchestrationContext): Gen {
      const a = ctx.callActivity('a');
      const b = ctx.callActivity('b');
      let allError = '';
      try {
        yield ctx.taskAll([a, b]);
      } catch (error) {
        allError = (error as TaskFailedError).failureDetails.message;
      }
      const winner = yield ctx.taskAny([ctx.callActivity('c'), ctx.callActivity('d')]);
      return { allError, aDone: a.isCompleted, winnerFaulted: winner.isFaulted, winnerMessage: winner.error?.failureDetails.message };
    };
    const executor = executorFor({ fn });
    executor.execute([], start());
    executor.execute([], [ev.orchestratorStarted(1), ev.failed(1, boom)]);
    const result = executor.execute([], [ev.orchestratorStarted(2), ev.failed(3, { errorType: 'E', message: 'd failed' }), ev.completed(2), ev.completed(0)]);
    assert.deepEqual(JSON.parse(result.completion!.result!), { allError: 'boom', aDone: false, winnerFaulted: true, winnerMessage: 'd failed' });
  });

  test('nested compounds: an all inside an any, an any inside an all', () => {
    const fn = function* (ctx: OrchestrationContext): Gen {
      const pair = ctx.taskAll([ctx.callActivity('a'), ctx.callActivity('b')]);
      const winner = yield ctx.taskAny([ctx.callActivity('slow'), pair]);
      const races = yield ctx.taskAll([ctx.taskAny([ctx.callActivity('c'), ctx.callActivity('d')])]);
      return { pairWon: winner === pair, pair: winner.result, inner: races[0].result };
    };
    const executor = executorFor({ fn });
    executor.execute([], start());
    const mid = executor.execute([], [ev.orchestratorStarted(1), ev.completed(1, 'B'), ev.completed(0, 'A')]);
    assert.deepEqual(mid.actions.map((a) => a.type === 'ScheduleTask' && a.name), ['c', 'd']);
    const end = executor.execute([], [ev.orchestratorStarted(2), ev.completed(4, 'D'), ev.completed(2, 'S'), ev.completed(3, 'C')]);
    assert.deepEqual(JSON.parse(end.completion!.result!), { pairWon: true, pair: ['A', 'B'], inner: 'D' });
  });
});

describe('executor: retries on durable timers', () => {
  const failure: FailureDetails = { errorType: 'Flaky', message: 'try again' };

  test('a failed attempt schedules a timer of the backoff delay, then a new attempt', () => {
    const fn = function* (ctx: OrchestrationContext): Gen {
      const options = new RetryOptions(1000, 4);
      options.backoffCoefficient = 3;
      options.maxRetryIntervalInMilliseconds = 5000;
      return yield ctx.callActivityWithRetry('flaky', options, 'in');
    };
    const executor = executorFor({ fn });
    assert.deepEqual(executor.execute([], start()).actions, [{ type: 'ScheduleTask', id: 0, name: 'flaky', input: '"in"' }]);
    assert.deepEqual(executor.execute([], [ev.orchestratorStarted(100), ev.failed(0, failure)]).actions, [
      { type: 'CreateTimer', id: 1, fireAt: at(1100) },
    ]);
    assert.deepEqual(executor.execute([], [ev.orchestratorStarted(1100), ev.timerFired(1, 1100)]).actions, [
      { type: 'ScheduleTask', id: 2, name: 'flaky', input: '"in"' },
    ]);
    assert.deepEqual(executor.execute([], [ev.orchestratorStarted(1200), ev.failed(2, failure)]).actions, [
      { type: 'CreateTimer', id: 3, fireAt: at(4200) },
    ]);
    executor.execute([], [ev.orchestratorStarted(4200), ev.timerFired(3, 4200)]);
    // Third delay: 1000 * 3^2 = 9000, capped at 5000.
    assert.deepEqual(executor.execute([], [ev.orchestratorStarted(4300), ev.failed(4, failure)]).actions, [
      { type: 'CreateTimer', id: 5, fireAt: at(9300) },
    ]);
    executor.execute([], [ev.orchestratorStarted(9300), ev.timerFired(5, 9300)]);
    const last = executor.execute([], [ev.orchestratorStarted(9400), ev.failed(6, failure)]);
    assert.equal(last.completion?.status, 'Failed');
    assert.equal(failureOf(last)?.inner?.errorType, 'Flaky');
  });

  test('retry timeout, handle predicate and non-retriable failures stop the retries', () => {
    const run = (configure: (o: RetryOptions) => void, failedAtMs: number, details = failure) => {
      const fn = function* (ctx: OrchestrationContext): Gen {
        const options = new RetryOptions(100, 10);
        configure(options);
        return yield ctx.callActivityWithRetry('flaky', options);
      };
      const executor = executorFor({ fn });
      executor.execute([], start());
      return executor.execute([], [ev.orchestratorStarted(failedAtMs), ev.failed(0, details)]);
    };
    const withinTimeout = run((o) => (o.retryTimeoutInMilliseconds = 500), 499);
    assert.equal(withinTimeout.actions[0]?.type, 'CreateTimer');
    assert.equal(run((o) => (o.retryTimeoutInMilliseconds = 500), 500).completion?.status, 'Failed');

    const seen: unknown[] = [];
    const handled = run((o) => (o.handle = (e) => (seen.push(e instanceof TaskFailedError && e.failureDetails.errorType), false)), 1);
    assert.equal(handled.completion?.status, 'Failed');
    assert.deepEqual(seen, ['Flaky']);

    assert.equal(run(() => {}, 1, { ...failure, isNonRetriable: true }).completion?.status, 'Failed');
    assert.equal(run(() => {}, 1).actions[0]?.type, 'CreateTimer');
  });
});

describe('executor: continue-as-new', () => {
  test('ends the execution with the new input, dropping later actions and carrying unconsumed events over', () => {
    const fn = function* (ctx: OrchestrationContext): Gen {
      const n = ctx.getInput<number>();
      yield ctx.callActivity('work');
      const first = yield ctx.waitForExternalEvent('e');
      ctx.continueAsNew(n + first);
      ctx.callActivity('afterContinue');
      yield ctx.callActivity('afterContinue');
    };
    const executor = executorFor({ fn });
    executor.execute([], start('fn', 1));
    // 'e'=10 is buffered early; 'other' is never awaited; 'e'=20 arrives after the decision.
    executor.execute([], [ev.orchestratorStarted(1), ev.raised('e', 10), ev.raised('other', 'o')]);
    const late = ev.raised('e', 20);
    const result = executor.execute([], [ev.orchestratorStarted(2), ev.completed(0), late]);
    assert.deepEqual(result.actions.map((a) => a.type), ['CompleteOrchestration']);
    const completion = result.completion!;
    assert.equal(completion.status, 'ContinuedAsNew');
    assert.equal(completion.result, '11');
    assert.deepEqual(
      completion.carryoverEvents?.map((e) => e.eventType === 'EventRaised' && [e.name, e.input]),
      [['other', '"o"'], ['e', '20']],
    );
    assert.equal(result.acceptedEvents.includes(late), false);
  });
});

describe('executor: sub-orchestrations, failures, status and payloads', () => {
  test('default child ids come from the instance id, the generation and the sequence id', () => {
    const fn = function* (ctx: OrchestrationContext): Gen {
      yield ctx.taskAll([ctx.callSubOrchestrator('child', 1), ctx.callSubOrchestrator('child', 2, 'explicit')]);
    };
    const first = executorFor({ fn }).execute([], start());
    assert.deepEqual(first.actions.map((a) => a.type === 'CreateSubOrchestration' && a.instanceId), ['inst:0', 'explicit']);
    const later = executorFor({ fn }).execute([], start('fn', undefined, { generation: 2 }));
    assert.deepEqual(later.actions.map((a) => a.type === 'CreateSubOrchestration' && a.instanceId), ['inst:2:0', 'explicit']);
  });

  test('a TaskFailed event throws a TaskFailedError carrying the recorded failure into the orchestrator', () => {
    const details = { errorType: 'InventoryError', message: 'out of stock', stack: 'InventoryError: out of stock\n    at reserve' };
    let caught: TaskFailedError | undefined;
    const fn = function* (ctx: OrchestrationContext): Gen {
      try {
        yield ctx.callActivity('reserve');
      } catch (error) {
        caught = error as TaskFailedError;
        throw error;
      }
    };
    const result = executorFor({ fn }).execute(
      [...start(), ev.scheduled(0, 'reserve'), ev.orchestratorCompleted(0)],
      [ev.orchestratorStarted(1), ev.failed(0, details)],
    );
    assert.ok(caught instanceof TaskFailedError);
    assert.deepEqual(caught.failureDetails, details);
    assert.equal(caught.taskId, 0);
    assert.match(caught.message, /Activity 'reserve' \(task #0\) failed: out of stock/);
    assert.equal(failureOf(result)?.errorType, 'TaskFailedError');
    assert.deepEqual(failureOf(result)?.inner, details);
  });

  test('custom status is reported as JSON text; payloads over the limit fail with PayloadTooLargeError', () => {
    const status = executorFor({
      fn: function* (ctx: OrchestrationContext): Gen {
        ctx.setCustomStatus({ step: 1 });
        yield ctx.waitForExternalEvent('x');
      },
    }).execute([], start());
    assert.equal(status.customStatus, '{"step":1}');

    const big = executorFor({ fn: () => 'x'.repeat(200) }, 100).execute([], start());
    assert.equal(failureOf(big)?.errorType, 'PayloadTooLargeError');
    assert.match(failureOf(big)?.message ?? '', /output of orchestration 'fn'.*202 bytes.*100/);
    const ok = executorFor({ fn: () => 'x'.repeat(98) }, 100).execute([], start());
    assert.equal(ok.completion?.status, 'Completed');

    const bigInput = executorFor(
      {
        fn: function* (ctx: OrchestrationContext): Gen {
          yield ctx.callActivity('a', 'y'.repeat(100));
        },
      },
      100,
    ).execute([], start());
    assert.match(failureOf(bigInput)?.message ?? '', /input of activity 'a'/);

    const unserializable = executorFor({ fn: () => ({ n: 1n }) }).execute([], start());
    assert.equal(failureOf(unserializable)?.errorType, 'SerializationError');
    assert.match(failureOf(unserializable)?.message ?? '', /output of orchestration 'fn'.*BigInt/);
  });
});
