/**
 * Orchestrator code that breaks the rules — throws anything, yields a Promise that rejects or never settles (or,
 * written as an async function, awaits one), yields something that cannot even be looked at — fails its own
 * instance with a message that says what was yielded and why it is not allowed; the worker goes on and no refused
 * Promise becomes an unhandled rejection.
 * (A Promise an orchestrator leaks without yielding it is caught by the CLI's process guards:
 * test/cli/poison-host.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { run, withApp } from '../support/engine-helpers.js';
import { sqliteTestStore } from '../support/stores.js';
import { lateRejection, watchUnhandledRejections } from '../support/rejection-watch.js';

/** A Proxy that throws from every trap a probe could touch. */
function hostileProxy(): object {
  const trap = () => {
    throw new Error('trap');
  };
  return new Proxy({}, { get: trap, has: trap, getPrototypeOf: trap, ownKeys: trap, getOwnPropertyDescriptor: trap });
}

describe('poison orchestrators', () => {
  test('a yielded Promise that rejects fails the instance with what was yielded and why, without an unhandled rejection', async () => {
    const watch = watchUnhandledRejections();
    try {
      await withApp(
        sqliteTestStore,
        (app) => {
          app.activity('hello', (name: string) => `Hello ${name}`);
          app.orchestration('fetches', function* () {
            yield fetch('http://127.0.0.1:1/') as never;
          });
          app.orchestration('rejectsLater', function* (ctx) {
            yield lateRejection(Number(ctx.getInput())).promise as never;
          });
          app.orchestration('hello', function* (ctx) {
            return yield ctx.callActivity('hello', ctx.getInput());
          });
        },
        async ({ client }) => {
          const fetched = await run(client, 'fetches');
          assert.equal(fetched.runtimeStatus, 'Failed');
          assert.equal(fetched.failureDetails?.errorType, 'TypeError');
          assert.match(fetched.failureDetails?.message ?? '', /'fetches' yielded a Promise, which is not allowed/);
          assert.match(fetched.failureDetails?.message ?? '', /only their results are recorded in history/);
          assert.match(fetched.failureDetails?.message ?? '', /in an activity, or use ctx\.callHttp/);

          const lateId = await client.startNew('rejectsLater', { input: 30 });
          assert.equal((await run(client, 'rejectsLater', 0)).runtimeStatus, 'Failed');
          assert.equal((await client.waitForCompletion(lateId, { timeoutInMilliseconds: 10_000 })).runtimeStatus, 'Failed');
          // The worker is fine: a normal orchestration completes.
          const hello = await run(client, 'hello', 'Tokyo');
          assert.equal(hello.output, 'Hello Tokyo');
        },
      );
      // Wait until a Promise the orchestrator yielded has surely rejected, then look.
      const witness = lateRejection(40);
      void witness.promise.catch(() => undefined);
      await witness.rejected;
      assert.deepEqual(watch.seen, []);
    } finally {
      watch.stop();
    }
  });

  test('an async orchestrator awaiting an outside Promise fails with NonDeterministicOrchestrationError, never an unhandled rejection', async () => {
    const watch = watchUnhandledRejections();
    try {
      await withApp(
        sqliteTestStore,
        (app) => {
          app.activity('hello', (name: string) => `Hello ${name}`);
          app.orchestration('awaitsLateRejection', async (ctx) => {
            await ctx.callActivity('hello', 'first');
            await lateRejection(Number(ctx.getInput())).promise;
          });
          // Blocked on a task and on an outside Promise at once: the Promise resumes it between episodes.
          app.orchestration('racesOutside', async (ctx) => {
            const event = ctx.waitForExternalEvent('go');
            await Promise.race([event, lateRejection(10).promise.catch(() => 'outside')]);
            return await ctx.callActivity('hello', 'after');
          });
          app.orchestration('hello', async (ctx) => ctx.callActivity('hello', ctx.getInput()));
        },
        async ({ client }) => {
          const late = await run(client, 'awaitsLateRejection', 30);
          assert.equal(late.runtimeStatus, 'Failed');
          assert.equal(late.failureDetails?.errorType, 'NonDeterministicOrchestrationError');
          assert.match(late.failureDetails?.message ?? '', /'awaitsLateRejection' is waiting for something that is not a duraflow task/);

          const racing = await client.startNew('racesOutside');
          await new Promise((resolve) => setTimeout(resolve, 100)); // the outside Promise settles, between episodes
          await client.raiseEvent(racing, 'go', 1);
          const raced = await client.waitForCompletion(racing, { timeoutInMilliseconds: 10_000 });
          assert.equal(raced.runtimeStatus, 'Failed');
          assert.equal(raced.failureDetails?.errorType, 'NonDeterministicOrchestrationError');
          assert.match(raced.failureDetails?.message ?? '', /'racesOutside' ran outside its episode \(it called ctx\.callActivity/);
          const history = (await client.getStatus(racing, { showHistory: true }))?.history ?? [];
          assert.equal(history.filter((e) => e.eventType === 'TaskScheduled').length, 0, 'the call made outside scheduled nothing');

          assert.equal((await run(client, 'hello', 'Tokyo')).output, 'Hello Tokyo');
        },
      );
      const witness = lateRejection(40);
      void witness.promise.catch(() => undefined);
      await witness.rejected;
      assert.deepEqual(watch.seen, []);
    } finally {
      watch.stop();
    }
  });

  test('a yielded Promise that never settles fails the instance at once (nothing waits on it)', async () => {
    await withApp(
      sqliteTestStore,
      (app) => {
        app.orchestration('hangs', function* () {
          yield new Promise(() => {}) as never;
          return 'never';
        });
        app.orchestration('ok', () => 'ok');
      },
      async ({ client }) => {
        const status = await run(client, 'hangs');
        assert.equal(status.runtimeStatus, 'Failed');
        assert.match(status.failureDetails?.message ?? '', /'hangs' yielded a Promise, which is not allowed/);
        assert.equal((await run(client, 'ok')).output, 'ok');
      },
    );
  });

  test('Promises handed to taskAll or put in a payload are refused with a message, and never reject unhandled', async () => {
    const watch = watchUnhandledRejections();
    // Made by the orchestrators, so they reject only after the engine has seen them.
    const late: ReturnType<typeof lateRejection>[] = [];
    const rejecting = () => {
      const made = lateRejection(30);
      late.push(made);
      return made.promise;
    };
    try {
      await withApp(
        sqliteTestStore,
        (app) => {
          app.activity('echo', (value: unknown) => value);
          app.orchestration('allOfPromises', function* (ctx) {
            yield ctx.taskAll([ctx.callActivity('echo', 1), rejecting() as never]);
          });
          app.orchestration('promiseInput', function* (ctx) {
            yield ctx.callActivity('echo', { pending: rejecting() });
          });
        },
        async ({ client }) => {
          const all = await run(client, 'allOfPromises');
          assert.equal(all.runtimeStatus, 'Failed');
          assert.match(all.failureDetails?.message ?? '', /taskAll accepts only tasks from the context; item 1 is a Promise/);
          const input = await run(client, 'promiseInput');
          assert.equal(input.runtimeStatus, 'Failed');
          assert.equal(input.failureDetails?.errorType, 'SerializationError');
          assert.match(input.failureDetails?.message ?? '', /input of activity 'echo': a Promise \(at 'pending'\) cannot be serialized/);
        },
      );
      assert.ok(late.length >= 2);
      await Promise.all(late.map((l) => l.rejected));
      assert.deepEqual(watch.seen, []);
    } finally {
      watch.stop();
    }
  });

  test('throwing anything, yielding a non-task, and getters or Proxy traps that throw fail only their instance', async () => {
    await withApp(
      sqliteTestStore,
      (app) => {
        app.orchestration('throwsNull', function* () {
          throw null;
        });
        app.orchestration('throwsNoPrototype', function* () {
          throw Object.create(null);
        });
        app.orchestration('throwsHostileError', function* () {
          const error = new Error('hidden');
          Object.defineProperty(error, 'message', {
            get() {
              throw new Error('getter');
            },
          });
          Object.defineProperty(error, 'stack', {
            get() {
              throw new Error('getter');
            },
          });
          throw error;
        });
        app.orchestration('yieldsThrowingThen', function* () {
          yield {
            get then() {
              throw new Error('then getter');
            },
          } as never;
        });
        app.orchestration('yieldsProxy', function* () {
          yield hostileProxy() as never;
        });
        app.orchestration('returnsProxy', () => hostileProxy());
        app.orchestration('returnsThrowingGetter', () => ({
          get total() {
            throw new Error('total getter');
          },
        }));
        app.orchestration('yieldsNumber', function* () {
          yield 42 as never;
        });
        app.orchestration('yieldsResponse', function* () {
          yield new Response('x') as never;
        });
        app.orchestration('ok', () => 'ok');
      },
      async ({ client }) => {
        const failed = async (name: string) => {
          const status = await run(client, name);
          assert.equal(status.runtimeStatus, 'Failed', `${name} should fail`);
          return status.failureDetails!;
        };
        assert.deepEqual(await failed('throwsNull'), { errorType: 'object', message: 'null' });
        assert.match((await failed('throwsNoPrototype')).message, /could not be read|\[object\]/);
        assert.equal((await failed('throwsHostileError')).errorType, 'Error');
        assert.match((await failed('yieldsThrowingThen')).message, /'yieldsThrowingThen' yielded an object, which is not a task/);
        assert.match((await failed('yieldsProxy')).message, /'yieldsProxy' yielded an object, which is not a task/);
        assert.equal((await failed('returnsProxy')).errorType, 'SerializationError');
        const getter = await failed('returnsThrowingGetter');
        assert.equal(getter.errorType, 'SerializationError');
        assert.match(getter.message, /output of orchestration 'returnsThrowingGetter': total getter/);
        assert.match((await failed('yieldsNumber')).message, /'yieldsNumber' yielded number, which is not a task/);
        assert.match((await failed('yieldsResponse')).message, /yielded an object \(Response\), which is not a task/);
        assert.equal((await run(client, 'ok')).output, 'ok');
      },
    );
  });
});
