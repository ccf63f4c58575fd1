/**
 * The pure executor over hand-built histories: episodes, replay, the context per step, and the
 * non-determinism checks of reference §6.1. No store, no worker.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HistoryEvent } from '../../src/sdk/history.js';
import { OrchestrationExecutor } from '../../src/core/orchestration-executor.js';
import type { OrchestrationContext, Task } from '../../src/index.js';
import { HistoryRecorder, T0, ev, executorFor, failureOf } from './executor-helpers.js';

/** Calls 'double' twice in sequence and returns the sum. */
function* twoSteps(ctx: OrchestrationContext): Generator<Task<any>, number, any> {
  const a: number = yield ctx.callActivity('double', ctx.getInput<number>());
  const b: number = yield ctx.callActivity('double', a);
  return a + b;
}

describe('executor: episodes and replay', () => {
  test('the first episode schedules the first activity with a sequence id and JSON input', () => {
    const executor = executorFor({ twoSteps });
    const start = [ev.orchestratorStarted(0), ev.started('twoSteps', 5)];
    const result = executor.execute([], start);
    assert.deepEqual(result.actions, [{ type: 'ScheduleTask', id: 0, name: 'double', input: '5' }]);
    assert.equal(result.completion, undefined);
    assert.deepEqual(result.acceptedEvents, start);
  });

  test('a cached executor continues with new events only; a fresh one replays to the same state', () => {
    const recorder = new HistoryRecorder();
    const cached = executorFor({ twoSteps });
    recorder.record(cached.execute([], [ev.orchestratorStarted(0), ev.started('twoSteps', 5)]), 0);
    const second = cached.execute([], [ev.orchestratorStarted(10), ev.completed(0, 10)]);
    assert.deepEqual(second.actions, [{ type: 'ScheduleTask', id: 1, name: 'double', input: '10' }]);
    recorder.record(second, 10);

    const fresh = executorFor({ twoSteps });
    const last = [ev.orchestratorStarted(20), ev.completed(1, 20)];
    const replayed = fresh.execute(recorder.history, last);
    assert.deepEqual(replayed.actions, [{ type: 'CompleteOrchestration', id: 2, status: 'Completed', result: '30' }]);
    assert.deepEqual(cached.execute([], last).actions, replayed.actions);
  });

  test('a plain function orchestrator completes at once with its return value', () => {
    const result = executorFor({ plain: (_ctx: unknown, input: number) => ({ doubled: input * 2 }) }).execute([], [
      ev.orchestratorStarted(0),
      ev.started('plain', 21),
    ]);
    assert.deepEqual(result.completion, { type: 'CompleteOrchestration', id: 0, status: 'Completed', result: '{"doubled":42}' });
  });

  test('isReplaying, currentUtcDateTime and newUuid are right at every step', () => {
    const seen: { replaying: boolean; now: number; uuid: string }[] = [];
    const fn = function* (ctx: OrchestrationContext): Generator<Task<any>, void, any> {
      for (let i = 0; i < 3; i++) {
        seen.push({ replaying: ctx.isReplaying, now: ctx.currentUtcDateTime.getTime() - T0, uuid: ctx.newUuid() });
        if (i < 2) yield ctx.callActivity('step', i);
      }
    };
    const history = [
      ev.orchestratorStarted(0), ev.started('fn'), ev.scheduled(0, 'step', 0), ev.orchestratorCompleted(0),
      ev.orchestratorStarted(100), ev.completed(0), ev.scheduled(1, 'step', 1), ev.orchestratorCompleted(100),
      // An out-of-order (earlier) episode start must not move time backwards.
      ev.orchestratorStarted(50),
    ];
    const result = executorFor({ fn }).execute(history, [ev.completed(1)]);
    assert.equal(result.completion?.status, 'Completed');
    assert.deepEqual(seen.map((s) => [s.replaying, s.now]), [[true, 0], [true, 100], [false, 100]]);
    assert.equal(new Set(seen.map((s) => s.uuid)).size, 3);

    // Replaying the same history again gives the same ids.
    const again: string[] = [];
    const fn2 = function* (ctx: OrchestrationContext): Generator<Task<any>, void, any> {
      for (let i = 0; i < 3; i++) {
        again.push(ctx.newUuid());
        if (i < 2) yield ctx.callActivity('step', i);
      }
    };
    executorFor({ fn: fn2 }).execute(history, [ev.completed(1)]);
    assert.deepEqual(again, seen.map((s) => s.uuid));

    // Another instance id gives other ids.
    const other: string[] = [];
    executorFor({ fn: (ctx: OrchestrationContext) => other.push(ctx.newUuid()) }).execute([], [
      ev.orchestratorStarted(0),
      ev.started('fn', undefined, { instanceId: 'other' }),
    ]);
    assert.notEqual(other[0], seen[0]!.uuid);
  });

  test('the context exposes input, ids, version and the replay-safe logger', () => {
    const lines: string[] = [];
    const logger = { debug: () => {}, info: (m: string) => void lines.push(m), warn: () => {}, error: () => {} };
    let facts: unknown;
    const fn = function* (ctx: OrchestrationContext): Generator<Task<any>, void, any> {
      ctx.log.info(`start replaying=${ctx.isReplaying}`);
      yield ctx.callActivity('a');
      ctx.log.info(`after replaying=${ctx.isReplaying}`);
      facts = { id: ctx.instanceId, parent: ctx.parentInstanceId, version: ctx.version, input: ctx.getInput(), name: ctx.name };
    };
    const executor = new OrchestrationExecutor({ resolve: () => fn, logger });
    executor.execute(
      [ev.orchestratorStarted(0), ev.started('fn', { k: 1 }, { version: '3' }), ev.scheduled(0, 'a'), ev.orchestratorCompleted(0)],
      [ev.orchestratorStarted(5), ev.completed(0)],
    );
    assert.deepEqual(lines, ['after replaying=false']);
    assert.deepEqual(facts, { id: 'inst', parent: undefined, version: '3', input: { k: 1 }, name: 'fn' });
  });

  test('an unknown orchestration name fails with UnknownFunctionError listing the registered names', () => {
    const result = executorFor({ alpha: () => 1, beta: () => 2 }).execute([], [ev.orchestratorStarted(0), ev.started('gamma')]);
    assert.equal(result.completion?.status, 'Failed');
    assert.equal(failureOf(result)?.errorType, 'UnknownFunctionError');
    assert.match(failureOf(result)?.message ?? '', /'gamma'.*'alpha', 'beta'/);
  });
});

describe('executor: non-determinism checks (reference §6.1)', () => {
  const recordedA: HistoryEvent[] = [ev.orchestratorStarted(0), ev.started('fn'), ev.scheduled(0, 'A', 1), ev.orchestratorCompleted(0)];
  const next = [ev.orchestratorStarted(10), ev.completed(0, 'a')];

  const cases: { name: string; fn: (ctx: OrchestrationContext) => Generator<Task<any>, unknown, any>; history?: HistoryEvent[]; expect: RegExp[] }[] = [
    {
      name: 'another activity name',
      fn: function* (ctx) {
        yield ctx.callActivity('B', 1);
      },
      expect: [/history recorded callActivity\('A'\) #0/, /now schedules callActivity\('B'\) #0/, /'fn'.*'inst'/],
    },
    {
      name: 'a timer instead of an activity',
      fn: function* (ctx) {
        yield ctx.createTimer(new Date(T0));
      },
      expect: [/recorded callActivity\('A'\) #0/, /now schedules createTimer\(.*\) #0/],
    },
    {
      name: 'an activity instead of a timer',
      history: [ev.orchestratorStarted(0), ev.started('fn'), ev.timerCreated(0, 10), ev.orchestratorCompleted(0)],
      fn: function* (ctx) {
        yield ctx.callActivity('A');
      },
      expect: [/recorded createTimer\(.*\) #0/, /now schedules callActivity\('A'\) #0/],
    },
    {
      name: 'a sub-orchestration of another name',
      history: [ev.orchestratorStarted(0), ev.started('fn'), ev.subCreated(0, 'childA', 'inst:0'), ev.orchestratorCompleted(0)],
      fn: function* (ctx) {
        yield ctx.callSubOrchestrator('childB');
      },
      expect: [/recorded callSubOrchestrator\('childA'\) #0/, /now schedules callSubOrchestrator\('childB'\) #0/],
    },
    {
      name: 'fewer actions',
      history: [ev.orchestratorStarted(0), ev.started('fn'), ev.scheduled(0, 'A'), ev.scheduled(1, 'B'), ev.orchestratorCompleted(0)],
      fn: function* (ctx) {
        yield ctx.callActivity('A');
      },
      expect: [/recorded callActivity\('B'\) #1/, /did not schedule it/],
    },
    {
      name: 'more actions',
      fn: function* (ctx) {
        yield ctx.taskAll([ctx.callActivity('A', 1), ctx.callActivity('C')]);
      },
      expect: [/now schedules callActivity\('C'\) #1/, /history recorded no such action/],
    },
    {
      name: 'a return before recorded actions',
      history: [ev.orchestratorStarted(0), ev.started('fn'), ev.scheduled(0, 'A'), ev.orchestratorCompleted(0)],
      fn: function* () {
        return 'early';
      },
      expect: [/recorded callActivity\('A'\) #0/],
    },
  ];

  for (const c of cases) {
    test(`replaying code that now has ${c.name} fails with NonDeterministicOrchestrationError`, () => {
      const result = executorFor({ fn: c.fn }).execute(c.history ?? recordedA, next);
      assert.equal(result.completion?.status, 'Failed');
      assert.equal(failureOf(result)?.errorType, 'NonDeterministicOrchestrationError');
      for (const pattern of c.expect) assert.match(failureOf(result)?.message ?? '', pattern);
      // Nothing new is scheduled by a failed episode.
      assert.deepEqual(result.actions.filter((a) => a.type !== 'CompleteOrchestration'), []);
    });
  }

  test('names compare case-insensitively and inputs are not compared (as in DTFx)', () => {
    const fn = function* (ctx: OrchestrationContext): Generator<Task<any>, unknown, any> {
      return yield ctx.callActivity('a', 999);
    };
    const result = executorFor({ fn }).execute(recordedA, next);
    assert.deepEqual(result.completion, { type: 'CompleteOrchestration', id: 1, status: 'Completed', result: '"a"' });
  });

  test('a completion of an unknown or already completed task is dropped, not recorded', () => {
    const fn = function* (ctx: OrchestrationContext): Generator<Task<any>, unknown, any> {
      const first = yield ctx.callActivity('A', 1);
      yield ctx.waitForExternalEvent('go');
      return first;
    };
    const executor = executorFor({ fn });
    const duplicate = ev.completed(0, 'dup');
    const unknown = ev.completed(42, 'who');
    const result = executor.execute(recordedA, [ev.orchestratorStarted(10), ev.completed(0, 'a'), duplicate, unknown]);
    assert.equal(result.acceptedEvents.includes(duplicate), false);
    assert.equal(result.acceptedEvents.includes(unknown), false);
    const end = executor.execute([], [ev.orchestratorStarted(20), ev.raised('go')]);
    assert.equal(end.completion?.result, '"a"');
  });
});

describe('executor: bad orchestrator code', () => {
  for (const [what, value, pattern] of [
    ['a number', 42, /yielded number, which is not a task/],
    ['a promise', Promise.resolve(1), /yielded a Promise/],
    ['an array', [], /an array \(use ctx\.taskAll\)/],
    ['null', null, /yielded null/],
  ] as const) {
    test(`yielding ${what} fails the instance with a TypeError`, () => {
      const fn = function* (): Generator<unknown, void, unknown> {
        yield value;
      };
      const result = executorFor({ fn: fn as never }).execute([], [ev.orchestratorStarted(0), ev.started('fn')]);
      assert.equal(failureOf(result)?.errorType, 'TypeError');
      assert.match(failureOf(result)?.message ?? '', pattern);
    });
  }

  test('a throwing orchestrator fails with its error; actions of the failing episode are dropped', () => {
    const fn = function* (ctx: OrchestrationContext): Generator<Task<any>, void, any> {
      ctx.callActivity('scheduledThenThrown');
      throw new RangeError('bad');
    };
    const result = executorFor({ fn }).execute([], [ev.orchestratorStarted(0), ev.started('fn')]);
    assert.deepEqual(result.actions.map((a) => a.type), ['CompleteOrchestration']);
    assert.equal(result.completion?.status, 'Failed');
    assert.equal(failureOf(result)?.errorType, 'RangeError');
    assert.match(failureOf(result)?.stack ?? '', /RangeError: bad/);
  });
});
