/**
 * Mocks of `duraflow/testing` that throw or reject behave as the real function failing would: the task fails,
 * the orchestration under test sees the error, and the test host goes on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DFApp, EntityId, TaskFailedError, type DurableHttpRequest } from '../../src/index.js';
import { createTestHost } from '../../src/testing/index.js';

const WAIT = { timeoutInMilliseconds: 10_000 };

function app(): DFApp {
  const app = new DFApp();
  app.activity('charge', () => 'charged');
  app.orchestration('child', () => 'child done');
  app.entity('Cart', (ctx) => ctx.getState(() => 0));
  app.orchestration('everything', function* (ctx) {
    const errors: string[] = [];
    const attempt = function* (task: unknown) {
      try {
        yield task as never;
        errors.push('ok');
      } catch (error) {
        const details = (error as TaskFailedError).failureDetails;
        errors.push(`${details.inner?.errorType ?? details.errorType}: ${details.inner?.message ?? details.message}`);
      }
    };
    for (let i = 0; i < 2; i++) yield* attempt(ctx.callActivity('charge'));
    for (let i = 0; i < 2; i++) yield* attempt(ctx.callSubOrchestrator('child'));
    for (let i = 0; i < 2; i++) yield* attempt(ctx.callEntity(new EntityId('Cart', 'c'), 'get'));
    for (let i = 0; i < 2; i++) yield* attempt(ctx.callHttp({ method: 'GET', uri: 'https://api.example/x' }));
    return errors;
  });
  return app;
}

test('mocks that throw or reject fail their task like the real function would, and the host goes on', async () => {
  const env = await createTestHost(app());
  try {
    let calls = 0;
    const throwOrReject = (what: string) => {
      calls++;
      if (calls % 2 === 1) throw new RangeError(`${what} thrown`);
      return Promise.reject(new TypeError(`${what} rejected`));
    };
    env.mockActivity('charge', () => throwOrReject('activity'));
    env.mockOrchestration('child', function* () {
      calls++;
      if (calls % 2 === 1) throw new RangeError('orchestration thrown');
      yield Promise.reject(new TypeError('orchestration rejected')) as never;
    });
    env.mockEntity('Cart', () => throwOrReject('entity'));
    env.mockHttp((_: DurableHttpRequest) => throwOrReject('http'));
    const id = await env.client.startNew('everything');
    const status = await env.client.waitForCompletion(id, WAIT);
    assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.failureDetails));
    const errors = status.output as string[];
    assert.deepEqual(errors.slice(0, 2), ['RangeError: activity thrown', 'TypeError: activity rejected']);
    assert.equal(errors[2], 'RangeError: orchestration thrown');
    assert.match(errors[3]!, /^TypeError: Orchestrator 'child' yielded a Promise, which is not allowed/);
    assert.deepEqual(errors.slice(4), ['RangeError: entity thrown', 'TypeError: entity rejected', 'RangeError: http thrown', 'TypeError: http rejected']);
    // The host still runs the real functions once the mocks are gone.
    env.mockActivity('charge', () => 'charged again');
    const again = await env.client.startNew('everything');
    assert.equal(((await env.client.waitForCompletion(again, WAIT)).output as string[])[0], 'ok');
  } finally {
    await env.stop();
  }
});
