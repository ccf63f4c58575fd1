/**
 * `async` orchestrators in the pure executor: tasks are thenables, an episode drains the orchestrator's
 * promise jobs after each event that woke it, `Promise.all/race/allSettled` behave as taskAll/taskAny, the
 * histories match those of generator orchestrators doing the same calls, and awaiting anything that is not a
 * duraflow task fails the instance with a NonDeterministicOrchestrationError instead of hanging.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { OrchestrationExecutor, type EpisodeResult } from '../../src/core/orchestration-executor.js';
import type { HistoryEvent } from '../../src/sdk/history.js';
import { TaskFailedError, type OrchestrationContext, type Task } from '../../src/index.js';
import { T0, ev, executorFor, failureOf, recordActions } from './executor-helpers.js';

type Gen = Generator<Task<any>, any, any>;
type Fn = (ctx: OrchestrationContext, input: any) => unknown;

const start = (name = 'fn', input?: unknown): HistoryEvent[] => [ev.orchestratorStarted(0), ev.started(name, input)];

function asyncExecutor(fn: Fn): OrchestrationExecutor {
  return new OrchestrationExecutor({ resolve: () => fn as never, registeredNames: () => ['fn'] });
}

/**
 * Runs `fn` episode by episode, answering each activity it schedules with `answer(name, input)` (a thrown
 * error is a TaskFailed), and returns the whole history it recorded plus the last result.
 */
async function runToEnd(fn: Fn, answer: (name: string, input: unknown) => unknown, input?: unknown): Promise<{ history: HistoryEvent[]; last: EpisodeResult }> {
  const executor = asyncExecutor(fn);
  const history: HistoryEvent[] = [];
  let news = start('fn', input);
  for (let episode = 1; episode < 50; episode++) {
    const last = await executor.execute([], news);
    history.push(...last.acceptedEvents, ...recordActions(last.actions), ev.orchestratorCompleted(episode));
    if (last.completion) return { history, last };
    news = [ev.orchestratorStarted(episode)];
    for (const action of last.actions) {
      if (action.type !== 'ScheduleTask') continue;
      try {
        news.push(ev.completed(action.id, answer(action.name, action.input === undefined ? undefined : JSON.parse(action.input))));
      } catch (error) {
        news.push(ev.failed(action.id, { errorType: 'Error', message: (error as Error).message }));
      }
    }
  }
  throw new Error('no completion after 50 episodes');
}

const answer = (name: string, input: unknown): unknown => {
  if (name === 'boom') throw new Error('boom!');
  return `${name}(${JSON.stringify(input ?? null)})`;
};

/** The same orchestration in both styles: a sequence, a fan-out, a taskAny, a caught failure. */
const order = {
  *generator(ctx: OrchestrationContext, input: string): Gen {
    const price: string = yield ctx.callActivity('quote', input);
    const [a, b]: string[] = yield ctx.taskAll([ctx.callActivity('x', 1), ctx.callActivity('y', 2)]);
    const d = ctx.callActivity('d');
    const winner = yield ctx.taskAny([d, ctx.callActivity('e')]);
    let caught = '';
    try {
      yield ctx.callActivity('boom');
    } catch (error) {
      caught = error instanceof TaskFailedError ? 'TaskFailedError' : 'other';
    }
    return { price, a, b, dWon: winner === d, caught, now: ctx.currentUtcDateTime.getTime() - T0 };
  },
  async async(ctx: OrchestrationContext, input: string) {
    const price = await ctx.callActivity('quote', input);
    const [a, b] = await Promise.all([ctx.callActivity('x', 1), ctx.callActivity('y', 2)]);
    const d = ctx.callActivity('d');
    const winner = await ctx.taskAny([d, ctx.callActivity('e')]);
    let caught = '';
    try {
      await ctx.callActivity('boom');
    } catch (error) {
      caught = error instanceof TaskFailedError ? 'TaskFailedError' : 'other';
    }
    return { price, a, b, dWon: winner === d, caught, now: ctx.currentUtcDateTime.getTime() - T0 };
  },
};

describe('executor: async orchestrators', () => {
  test('an async orchestrator records the same history and output as its generator twin', async () => {
    const gen = await runToEnd(order.generator, answer, 'tea');
    const asy = await runToEnd(order.async, answer, 'tea');
    assert.deepEqual(asy.history, gen.history);
    assert.equal(asy.last.completion?.status, 'Completed');
    assert.deepEqual(JSON.parse(asy.last.completion!.result!), {
      price: 'quote("tea")',
      a: 'x(1)',
      b: 'y(2)',
      dWon: true,
      caught: 'TaskFailedError',
      now: 4,
    });
  });

  test('a fresh executor replays the recorded history of an async orchestrator to the same end, with no new actions', async () => {
    const { history, last } = await runToEnd(order.async, answer, 'tea');
    const replayed = await asyncExecutor(order.async).execute(history, []);
    assert.deepEqual(replayed.completion, last.completion);
    // Replaying a history before its end gives only the actions the next episode had, with no non-determinism.
    const cut = history.findIndex((e) => e.eventType === 'TaskScheduled' && e.name === 'd');
    const partial = await asyncExecutor(order.async).execute(history.slice(0, cut), []);
    assert.equal(partial.completion, undefined);
    assert.deepEqual(
      partial.actions.map((a) => a.type === 'ScheduleTask' && a.name),
      ['d', 'e'],
    );
  });

  test('helpers, deep promise chains and concurrent branches resume in a deterministic order on replay', async () => {
    const chain = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await null;
    };
    const branch = async (ctx: OrchestrationContext, name: string, hops: number): Promise<string> => {
      const first = await ctx.callActivity(`${name}1`);
      await chain(hops);
      const second = await ctx.callActivity(`${name}2`, first);
      return second;
    };
    const fn = async (ctx: OrchestrationContext) => {
      await chain(200);
      const results = await Promise.all([branch(ctx, 'a', 50), branch(ctx, 'b', 3)]);
      return results;
    };
    const { history, last } = await runToEnd(fn, answer);
    assert.equal(last.completion?.status, 'Completed');
    assert.deepEqual(JSON.parse(last.completion!.result!), ['a2("a1(null)")', 'b2("b1(null)")']);
    const replayed = await asyncExecutor(fn).execute(history, []);
    assert.deepEqual(replayed.completion, last.completion);
    assert.equal(replayed.actions.length, 1, 'only the completion');
  });

  test('Promise.race gives the winner value, taskAny the winner task, allSettled the outcomes', async () => {
    const fn = async (ctx: OrchestrationContext) => {
      const fast = ctx.callActivity('fast');
      const slow = ctx.callActivity('boom');
      const raced = await Promise.race([fast, slow]);
      const anyWinner = await ctx.taskAny([fast, slow]);
      const settled = await Promise.allSettled([fast, slow]);
      return {
        raced,
        anyIsTask: anyWinner === fast,
        anyResult: anyWinner.result,
        settled: settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).constructor.name)),
      };
    };
    const { last } = await runToEnd(fn, answer);
    assert.deepEqual(JSON.parse(last.completion!.result!), {
      raced: 'fast(null)',
      anyIsTask: true,
      anyResult: 'fast(null)',
      settled: ['fast(null)', 'TaskFailedError'],
    });
  });

  test('a task failure that is not caught fails the instance with that error; a throw before any await too', async () => {
    const uncaught = await runToEnd(async (ctx) => {
      await ctx.callActivity('boom');
    }, answer);
    assert.equal(failureOf(uncaught.last)?.errorType, 'TaskFailedError');
    assert.match(failureOf(uncaught.last)?.message ?? '', /Activity 'boom' \(task #0\) failed: boom!/);

    const early = await asyncExecutor(async () => {
      throw new RangeError('early');
    }).execute([], start());
    assert.equal(failureOf(early)?.errorType, 'RangeError');
  });

  test('continueAsNew ends an async execution at its next await', async () => {
    const executor = asyncExecutor(async (ctx, n: number) => {
      await ctx.callActivity('step', n);
      ctx.continueAsNew(n + 1);
      await ctx.callActivity('never');
    });
    await executor.execute([], start('fn', 1));
    const result = await executor.execute([], [ev.orchestratorStarted(1), ev.completed(0, 'ok')]);
    assert.equal(result.completion?.status, 'ContinuedAsNew');
    assert.equal(result.completion?.result, '2');
    assert.deepEqual(result.actions.map((a) => a.type), ['CompleteOrchestration']);
  });

  test('a plain function returning a task is awaited; an async generator is refused', async () => {
    const viaTask = await runToEnd((ctx) => ctx.callActivity('only'), answer);
    assert.equal(viaTask.last.completion?.result, JSON.stringify('only(null)'));

    const asyncGenerator = await asyncExecutor(async function* () {
      yield 1;
    } as never).execute([], start());
    assert.equal(failureOf(asyncGenerator)?.errorType, 'TypeError');
    assert.match(failureOf(asyncGenerator)?.message ?? '', /returned an async generator/);
  });

  test('a task passed on without await (as an input or in the output) is refused with a message naming the slip', async () => {
    const result = await asyncExecutor(async (ctx) => {
      await ctx.callActivity('b', ctx.callActivity('a'));
    }).execute([], start());
    assert.equal(failureOf(result)?.errorType, 'SerializationError');
    assert.match(failureOf(result)?.message ?? '', /input of activity 'b': a duraflow task \(await or yield it for its value\)/);
  });

  test('episodes of generator orchestrators stay synchronous', () => {
    const result = executorFor({
      fn: function* (ctx: OrchestrationContext): Gen {
        yield ctx.callActivity('a');
      },
    }).execute([], start());
    assert.equal(result.actions[0]?.type, 'ScheduleTask');
  });
});

describe('executor: async orchestrators that await something else', () => {
  let server: Server;
  let url = '';
  before(async () => {
    server = createServer((_request, response) => void setTimeout(() => response.end('late'), 20));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  for (const [what, wait] of [
    ['setTimeout', () => new Promise((resolve) => setTimeout(resolve, 0))],
    ['a promise that never settles', () => new Promise(() => {})],
    ['fetch of a real HTTP server', () => fetch(url).then((r) => r.text())],
  ] as const) {
    test(`awaiting ${what} fails the instance with NonDeterministicOrchestrationError, not a hang`, async () => {
      const executor = asyncExecutor(async (ctx) => {
        await ctx.callActivity('first');
        await wait();
        await ctx.callActivity('second');
      });
      await executor.execute([], start());
      const result = await executor.execute([], [ev.orchestratorStarted(1), ev.completed(0, 1)]);
      assert.equal(failureOf(result)?.errorType, 'NonDeterministicOrchestrationError');
      assert.match(failureOf(result)?.message ?? '', /'fn' is waiting for something that is not a duraflow task \(a Promise from outside the context, fetch, setTimeout/);
      assert.deepEqual(result.actions.map((a) => a.type), ['CompleteOrchestration']);
    });
  }

  test('code an outside promise resumes between episodes schedules nothing, and fails the instance at its next episode', async () => {
    let resumedOutside = false;
    const executor = asyncExecutor(async (ctx) => {
      // Blocked on a task and on a timer at once: only the timer can resume it, outside any episode.
      await Promise.race([ctx.waitForExternalEvent('go'), new Promise((resolve) => setTimeout(resolve, 5))]);
      resumedOutside = true;
      await ctx.callActivity('afterTimer');
    });
    const first = await executor.execute([], start());
    assert.equal(first.completion, undefined);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(resumedOutside, true);
    const next = await executor.execute([], [ev.orchestratorStarted(1), ev.raised('go')]);
    assert.equal(failureOf(next)?.errorType, 'NonDeterministicOrchestrationError');
    assert.match(failureOf(next)?.message ?? '', /ran outside its episode \(it called ctx\.callActivity/);
    assert.deepEqual(next.actions.map((a) => a.type), ['CompleteOrchestration'], 'the activity called outside was not scheduled');
  });

  test('a rejected task nobody listens to never becomes an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { last } = await runToEnd(async (ctx) => {
        void ctx.callActivity('boom').then((v) => v); // no rejection handler
        await ctx.callActivity('ok');
        return 'done';
      }, answer);
      await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(last.completion?.status, 'Completed');
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
