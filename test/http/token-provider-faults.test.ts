/**
 * A `tokenProvider` (the app's code behind `ctx.callHttp({ tokenSource })`) that throws, rejects or never
 * answers fails that one HTTP task; a hanging one is bounded by the HTTP timeout, like the request itself.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TaskFailedError, type ActivityContext, type DurableHttpRequest } from '../../src/index.js';
import { HTTP_ACTIVITY_NAME } from '../../src/core/durable-http.js';
import { createHttpActivity, type TokenProvider } from '../../src/runtime/http-activity.js';
import { run, withApp } from '../support/engine-helpers.js';
import { sqliteTestStore } from '../support/stores.js';

const REQUEST: DurableHttpRequest = { method: 'GET', uri: 'http://127.0.0.1:9/never-reached', tokenSource: 'https://api.example' };
const context = (signal = new AbortController().signal): ActivityContext => ({ instanceId: 'i', name: HTTP_ACTIVITY_NAME, taskId: 0, dequeueCount: 1, signal });

describe('tokenProvider faults', () => {
  test('a provider that throws, rejects or never answers fails the request with its error or a TimeoutError', async () => {
    const cases: [string, TokenProvider, RegExp][] = [
      ['throws', () => { throw new Error('vault is down'); }, /vault is down/],
      ['rejects', async () => Promise.reject(new Error('token expired')), /token expired/],
      ['returns nothing', () => '' as string, /returned no token/],
      ['hangs', () => new Promise<string>(() => {}), /tokenProvider gave no token for 'https:\/\/api\.example' within 200 ms/],
    ];
    for (const [what, tokenProvider, message] of cases) {
      const activity = createHttpActivity({ tokenProvider, httpTimeoutMs: 200 });
      await assert.rejects(Promise.resolve(activity(REQUEST, context())), message, what);
    }
  });

  test("a hanging provider ends when the attempt's signal aborts (the activity timed out, the worker stops)", async () => {
    const attempt = new AbortController();
    const activity = createHttpActivity({ tokenProvider: () => new Promise<string>(() => {}) });
    const pending = Promise.resolve(activity(REQUEST, context(attempt.signal)));
    attempt.abort(new Error('attempt abandoned'));
    await assert.rejects(pending, /attempt abandoned/);
  });

  test('end to end: the orchestration catches the failed HTTP task and the worker goes on', async () => {
    await withApp(
      sqliteTestStore,
      (app) => {
        app.options.tokenProvider = () => new Promise<string>(() => {});
        app.orchestration('callsApi', function* (ctx) {
          try {
            return yield ctx.callHttp(REQUEST);
          } catch (error) {
            return (error as TaskFailedError).failureDetails.errorType;
          }
        });
        app.orchestration('ok', () => 'ok');
      },
      async ({ client }) => {
        assert.equal((await run(client, 'callsApi')).output, 'TimeoutError');
        assert.equal((await run(client, 'ok')).output, 'ok');
      },
      { worker: { httpTimeoutMs: 200 } },
    );
  });
});
