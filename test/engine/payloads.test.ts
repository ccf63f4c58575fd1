import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PayloadTooLargeError, SerializationError, TaskFailedError } from '../../src/index.js';
import { eventsOf, finished, historyOf, historyWhere, run, statusWhere, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

const LIMIT = 1000;
/** A string whose JSON text is exactly `bytes` bytes (two of them are the quotes). */
const jsonOfSize = (bytes: number) => 'x'.repeat(bytes - 2);

function isTooLarge(error: unknown): boolean {
  assert.ok(error instanceof PayloadTooLargeError, `expected PayloadTooLargeError, got ${String(error)}`);
  assert.equal(error.limit, LIMIT);
  assert.ok(error.size > LIMIT);
  return true;
}

for (const store of engineStores()) {
  describe(`payloads on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('start inputs at and below the limit are accepted; above it PayloadTooLargeError and nothing is written', async () => {
      await withApp(
        store,
        (app) => app.orchestration('length', (ctx) => ctx.getInput<string>().length),
        async ({ client }) => {
          assert.equal((await run(client, 'length', jsonOfSize(LIMIT))).output, LIMIT - 2);
          assert.equal((await run(client, 'length', jsonOfSize(LIMIT - 1))).output, LIMIT - 3);
          // Multi-byte characters count in UTF-8 bytes: 499 × 'é' = 998 bytes + quotes = 1000 bytes.
          assert.equal((await run(client, 'length', 'é'.repeat(499))).output, 499);
          await assert.rejects(client.startNew('length', { instanceId: 'too-big', input: jsonOfSize(LIMIT + 1) }), isTooLarge);
          await assert.rejects(client.startNew('length', { instanceId: 'too-big', input: 'é'.repeat(500) }), isTooLarge);
          assert.equal(await client.getStatus('too-big'), undefined);
          assert.equal((await client.getStatusAll()).length, 3);
        },
        { app: { maxPayloadBytes: LIMIT } },
      );
    });

    test('event data over the limit is refused and not delivered; at the limit it is delivered', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('listen', function* (ctx) {
            const value: string = yield ctx.waitForExternalEvent('data');
            return value.length;
          });
        },
        async ({ client }) => {
          const id = await client.startNew('listen');
          await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'OrchestratorCompleted'));
          await assert.rejects(client.raiseEvent(id, 'data', jsonOfSize(LIMIT + 1)), isTooLarge);
          await client.raiseEvent(id, 'data', jsonOfSize(LIMIT));
          const status = await finished(client, id);
          assert.equal(status.output, LIMIT - 2);
          assert.equal(eventsOf(await historyOf(client, id), 'EventRaised').length, 1);
        },
        { app: { maxPayloadBytes: LIMIT } },
      );
    });

    test('activity inputs and outputs, orchestration outputs and custom status over the limit fail with PayloadTooLargeError', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('produce', (bytes: number) => jsonOfSize(bytes));
          app.activity('consume', (s: string) => s.length);
          app.orchestration('bigActivityOutput', function* (ctx) {
            const atLimit: string = yield ctx.callActivity('produce', LIMIT);
            try {
              yield ctx.callActivity('produce', LIMIT + 1);
              return 'not reached';
            } catch (error) {
              assert.ok(error instanceof TaskFailedError);
              return { atLimit: atLimit.length, errorType: error.failureDetails.errorType, message: error.failureDetails.message };
            }
          });
          app.orchestration('bigActivityInput', function* (ctx) {
            const ok = yield ctx.callActivity('consume', jsonOfSize(LIMIT));
            try {
              ctx.callActivity('consume', jsonOfSize(LIMIT + 1));
              return 'not reached';
            } catch (error) {
              return { ok, errorType: (error as Error).name, message: (error as Error).message };
            }
          });
          app.orchestration('bigOutput', () => jsonOfSize(LIMIT + 1));
          app.orchestration('outputAtLimit', () => jsonOfSize(LIMIT));
          app.orchestration('bigStatus', function* (ctx) {
            ctx.setCustomStatus(jsonOfSize(LIMIT + 1));
          });
        },
        async ({ client }) => {
          const output = (await run(client, 'bigActivityOutput')).output as { atLimit: number; errorType: string; message: string };
          assert.equal(output.atLimit, LIMIT - 2);
          assert.equal(output.errorType, 'PayloadTooLargeError');
          assert.match(output.message, /output of activity 'produce'/);

          const input = (await run(client, 'bigActivityInput')).output as { ok: number; errorType: string; message: string };
          assert.equal(input.ok, LIMIT - 2);
          assert.equal(input.errorType, 'PayloadTooLargeError');
          assert.match(input.message, /input of activity 'consume'/);

          const big = await run(client, 'bigOutput');
          assert.equal(big.runtimeStatus, 'Failed');
          assert.equal(big.failureDetails?.errorType, 'PayloadTooLargeError');
          assert.match(big.failureDetails?.message ?? '', /output of orchestration 'bigOutput'/);
          assert.equal((await run(client, 'outputAtLimit')).runtimeStatus, 'Completed');

          const status = await run(client, 'bigStatus');
          assert.equal(status.runtimeStatus, 'Failed');
          assert.equal(status.failureDetails?.errorType, 'PayloadTooLargeError');
          assert.equal(status.customStatus, undefined);
        },
        { app: { maxPayloadBytes: LIMIT } },
      );
    });

    test('values JSON cannot carry fail with a SerializationError naming the function', async () => {
      const cyclic: Record<string, unknown> = { name: 'loop' };
      cyclic['self'] = cyclic;
      await withApp(
        store,
        (app) => {
          app.activity('returnsBigInt', () => 10n);
          app.activity('returnsFunction', () => ({ callback: () => 1 }));
          app.activity('echo', (v: unknown) => v);
          app.orchestration('activityValues', function* (ctx) {
            const errors: Record<string, string> = {};
            for (const name of ['returnsBigInt', 'returnsFunction']) {
              try {
                yield ctx.callActivity(name);
              } catch (error) {
                const details = (error as TaskFailedError).failureDetails;
                errors[name] = `${details.errorType}: ${details.message}`;
              }
            }
            try {
              ctx.callActivity('echo', { when: new Map([[1, 2]]) });
            } catch (error) {
              errors['map'] = `${(error as Error).name}: ${(error as Error).message}`;
            }
            return errors;
          });
          app.orchestration('returnsCycle', () => cyclic);
          app.orchestration('waitsForData', function* (ctx) {
            return yield ctx.waitForExternalEvent('data');
          });
        },
        async ({ client }) => {
          for (const [input, pattern] of [
            [{ amount: 1n }, /BigInt/],
            [cyclic, /circular|cycl/i],
            [{ fn: () => 1 }, /function/],
            [Symbol('s'), /symbol/],
            [Number.NaN, /NaN/],
          ] as const) {
            await assert.rejects(client.startNew('waitsForData', { instanceId: 'ser', input }), (error: unknown) => {
              assert.ok(error instanceof SerializationError, String(error));
              assert.match(error.message, /input of orchestration 'waitsForData'/);
              assert.match(error.message, pattern);
              return true;
            });
          }
          assert.equal(await client.getStatus('ser'), undefined);

          const errors = (await run(client, 'activityValues')).output as Record<string, string>;
          assert.match(errors['returnsBigInt']!, /^SerializationError: output of activity 'returnsBigInt'.*BigInt/);
          assert.match(errors['returnsFunction']!, /^SerializationError: output of activity 'returnsFunction'.*function.*callback/);
          assert.match(errors['map']!, /^SerializationError: input of activity 'echo'.*Map/);

          const cycle = await run(client, 'returnsCycle');
          assert.equal(cycle.runtimeStatus, 'Failed');
          assert.equal(cycle.failureDetails?.errorType, 'SerializationError');
          assert.match(cycle.failureDetails?.message ?? '', /output of orchestration 'returnsCycle'/);

          const id = await client.startNew('waitsForData');
          await statusWhere(client, id, (s) => s.runtimeStatus === 'Running');
          await assert.rejects(client.raiseEvent(id, 'data', { big: 2n }), { name: 'SerializationError', message: /event 'data'.*BigInt/ });
          await client.raiseEvent(id, 'data', 'fine');
          assert.equal((await finished(client, id)).output, 'fine');
        },
      );
    });

    for (const value of [0, '', false, null]) {
      test(`the falsy value ${JSON.stringify(value)} round-trips through input, activity, event, custom status and output`, async () => {
        const seenByActivity: unknown[] = [];
        await withApp(
          store,
          (app) => {
            app.activity('echo', (v: unknown) => {
              seenByActivity.push(v);
              return v;
            });
            app.orchestration('falsy', function* (ctx) {
              const input = ctx.getInput();
              const fromActivity = yield ctx.callActivity('echo', input);
              const fromEvent = yield ctx.waitForExternalEvent('v');
              ctx.setCustomStatus(fromEvent);
              return [input, fromActivity, fromEvent].every((v) => v === input) ? fromActivity : 'mismatch';
            });
          },
          async ({ client }) => {
            const id = await client.startNew('falsy', { input: value });
            await historyWhere(client, id, (h) => h.some((e) => e.eventType === 'TaskCompleted'));
            await client.raiseEvent(id, 'v', value);
            const status = await finished(client, id);
            assert.equal(status.runtimeStatus, 'Completed');
            assert.deepEqual(seenByActivity, [value]);
            assert.equal(status.input, value);
            assert.equal(status.output, value);
            assert.equal(status.customStatus, value);
          },
        );
      });
    }
  });
}
