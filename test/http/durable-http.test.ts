/**
 * ctx.callHttp against a local HTTP server: 202 + Location polling on durable timers (honouring
 * Retry-After), non-2xx as results, network errors as failures, token sources, content encoding — from generator
 * and from async orchestrators.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { DurableHttpRequest, DurableHttpResponse, HistoryEvent } from '../../src/index.js';
import { HTTP_ACTIVITY_NAME, pollDelayMs, pollRequest } from '../../src/core/durable-http.js';
import { createHttpActivity } from '../../src/runtime/http-activity.js';
import { startTestHost, type TestHost } from './http-fixture.js';
import { useOrchestratorStyle } from '../support/orchestrator-styles.js';

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A server that answers 202 twice (Retry-After: 1, then none) and 200 on the third request of a job. */
async function startRemote(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const polls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', path, headers: req.headers, body });
      const job = path.match(/^\/jobs\/([\w-]+)(\/poll)?$/);
      if (job && !job[2]) {
        res.writeHead(202, { location: `/jobs/${job[1]}/poll`, 'retry-after': '1' }).end();
      } else if (job) {
        const count = (polls.get(job[1]!) ?? 0) + 1;
        polls.set(job[1]!, count);
        if (count === 1) res.writeHead(202, { location: `http://${req.headers.host}/jobs/${job[1]}/poll` }).end();
        else res.writeHead(200, { 'content-type': 'application/json', 'x-job': job[1]! }).end(JSON.stringify({ done: job[1] }));
      } else if (path.startsWith('/status/')) {
        res.writeHead(Number(path.slice(8)), { 'content-type': 'text/plain' }).end(`status ${path.slice(8)}`);
      } else if (path === '/accepted') {
        res.writeHead(202, { location: '/never-polled' }).end('accepted');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, headers: req.headers, body }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const style of ['generator', 'async'] as const) {
  describe(`ctx.callHttp (${style} orchestrators)`, () => {
    useOrchestratorStyle({ style });
    let remote: Awaited<ReturnType<typeof startRemote>>;
    let host: TestHost;
    before(async () => {
      remote = await startRemote();
      host = await startTestHost({
        app: {
          worker: { pollIntervalMs: 50, httpPollDelayMs: 50 },
          tokenProvider: (resource) => {
            if (resource === 'deny') throw new Error('no token for you');
            return `token-for-${resource}`;
          },
        },
        setup(app) {
          app.orchestration('http', function* (ctx) {
            return yield ctx.callHttp(ctx.getInput<DurableHttpRequest>());
          });
          app.orchestration('httpCatch', function* (ctx) {
            try {
              return yield ctx.callHttp(ctx.getInput<DurableHttpRequest>());
            } catch (error) {
              return { caught: (error as Error).name, message: (error as Error).message };
            }
          });
        },
      });
    });
    after(async () => {
      await host.stop();
      await remote.close();
    });

    const run = async (request: unknown, orchestration = 'http') => {
      const id = await host.store.startNew(orchestration, { input: request });
      const status = await host.store.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      return { id, status, output: status.output as DurableHttpResponse };
    };

    test('202 + Location is polled on durable timers until the final answer, honouring Retry-After', async () => {
      const { id, status, output } = await run({
        method: 'POST',
        uri: `${remote.url}/jobs/a1`,
        content: { order: 1 },
        headers: { 'x-trace': 't-1', 'x-functions-key': 'not-forwarded' },
      });
      assert.equal(status.runtimeStatus, 'Completed');
      assert.equal(output.statusCode, 200);
      assert.deepEqual(JSON.parse(output.content), { done: 'a1' });
      assert.equal(output.headers['x-job'], 'a1');

      const requests = remote.seen.filter((s) => s.path.startsWith('/jobs/a1'));
      assert.deepEqual(requests.map((r) => `${r.method} ${r.path}`), ['POST /jobs/a1', 'GET /jobs/a1/poll', 'GET /jobs/a1/poll']);
      assert.equal(requests[0]?.headers['content-type'], 'application/json');
      assert.equal(requests[0]?.body, '{"order":1}');
      for (const poll of requests.slice(1)) {
        assert.equal(poll.headers['x-trace'], 't-1', 'polls keep the original headers');
        assert.equal(poll.headers['x-functions-key'], undefined, 'but not the functions key');
        assert.equal(poll.body, '');
      }

      const history = (await host.store.getStatus(id, { showHistory: true }))?.history ?? [];
      const scheduled = history.filter((e) => e.eventType === 'TaskScheduled');
      assert.equal(scheduled.length, 3);
      assert.ok(scheduled.every((e) => e.eventType === 'TaskScheduled' && e.name === HTTP_ACTIVITY_NAME));
      assert.deepEqual(timerDelays(history), [1000, 50], 'Retry-After: 1 gives 1 s; no Retry-After gives the configured default');
    });

    test('non-2xx answers are results, not failures; asynchronousPatternEnabled=false returns the 202', async () => {
      for (const code of [404, 500]) {
        const { status, output } = await run({ method: 'GET', uri: `${remote.url}/status/${code}` });
        assert.equal(status.runtimeStatus, 'Completed');
        assert.equal(output.statusCode, code);
        assert.equal(output.content, `status ${code}`);
      }
      const { output } = await run({ method: 'GET', uri: `${remote.url}/accepted`, asynchronousPatternEnabled: false });
      assert.equal(output.statusCode, 202);
      assert.equal(output.content, 'accepted');
      assert.ok(!remote.seen.some((s) => s.path === '/never-polled'));
    });

    test('content: strings are sent as text/plain, other values as JSON; explicit content types win', async () => {
      const text = JSON.parse((await run({ method: 'POST', uri: `${remote.url}/echo`, content: 'hello' })).output.content);
      assert.equal(text.body, 'hello');
      assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
      const xml = JSON.parse((await run({ method: 'PUT', uri: `${remote.url}/echo`, content: '<a/>', headers: { 'Content-Type': 'application/xml' } })).output.content);
      assert.equal(xml.method, 'PUT');
      assert.equal(xml.headers['content-type'], 'application/xml');
      const falsy = JSON.parse((await run({ method: 'POST', uri: `${remote.url}/echo`, content: 0 })).output.content);
      assert.equal(falsy.body, '0');
    });

    test('a token source is resolved through the tokenProvider into a bearer token', async () => {
      for (const tokenSource of ['https://api.example', { resource: 'https://api.example' }]) {
        const echoed = JSON.parse((await run({ method: 'GET', uri: `${remote.url}/echo`, tokenSource })).output.content);
        assert.equal(echoed.headers.authorization, 'Bearer token-for-https://api.example');
      }
      const denied = (await run({ method: 'GET', uri: `${remote.url}/echo`, tokenSource: 'deny' }, 'httpCatch')).status.output as { caught: string; message: string };
      assert.equal(denied.caught, 'TaskFailedError');
      assert.match(denied.message, /no token for you/);
    });

    test('network errors fail the task; invalid requests fail the orchestration with a clear message', async () => {
      const closed = await startRemote();
      await closed.close();
      const failed = await run({ method: 'GET', uri: `${closed.url}/gone` }, 'httpCatch');
      assert.equal((failed.status.output as { caught: string }).caught, 'TaskFailedError');
      const unhandled = await run({ method: 'GET', uri: `${closed.url}/gone` });
      assert.equal(unhandled.status.runtimeStatus, 'Failed');
      for (const [request, message] of [
        [{ method: 'GET', uri: 'not a url' }, /absolute http\(s\) URL/],
        [{ method: 'GET', uri: 'ftp://x/y' }, /absolute http\(s\) URL/],
        [{ method: 'G E T', uri: `${remote.url}/echo` }, /method/],
        [{ method: 'GET', uri: `${remote.url}/echo`, content: 'x' }, /cannot have content/],
        [{ method: 'GET', uri: `${remote.url}/echo`, headers: { a: 1 } }, /header 'a'/],
        [{ method: 'GET', uri: `${remote.url}/echo`, tokenSource: { nope: 1 } }, /tokenSource/],
      ] as const) {
        const { status } = await run(request);
        assert.equal(status.runtimeStatus, 'Failed', JSON.stringify(request));
        assert.match(String(status.output), message);
      }
    });
  });

  describe(`ctx.callHttp without the orchestration cache (every episode replays; ${style} orchestrators)`, () => {
    useOrchestratorStyle({ style });
    test('polling replays to the same steps and the same result', async () => {
      const remote = await startRemote();
      const host = await startTestHost({
        app: { worker: { pollIntervalMs: 50, httpPollDelayMs: 20, cacheSize: 0 } },
        setup(app) {
          app.orchestration('http', function* (ctx) {
            const first: DurableHttpResponse = yield ctx.callHttp({ method: 'POST', uri: ctx.getInput<string>() });
            const second: DurableHttpResponse = yield ctx.callHttp({ method: 'GET', uri: `${ctx.getInput<string>()}/poll` });
            return [first.statusCode, JSON.parse(first.content), second.statusCode];
          });
        },
      });
      try {
        const id = await host.store.startNew('http', { input: `${remote.url}/jobs/replayed` });
        const status = await host.store.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
        assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.failureDetails));
        // The job's third request answered 200; the fourth (second call) sees the job done as well.
        assert.deepEqual(status.output, [200, { done: 'replayed' }, 200]);
        const history = (await host.store.getStatus(id, { showHistory: true }))?.history ?? [];
        assert.equal(history.filter((e) => e.eventType === 'TaskScheduled').length, 4);
        assert.deepEqual(timerDelays(history), [1000, 20]);
        assert.equal(remote.seen.length, 4, 'replays never repeat a request');
      } finally {
        await host.stop();
        await remote.close();
      }
    });
  });
}

describe('durable HTTP helpers', () => {
  test('pollDelayMs honours integer Retry-After seconds only', () => {
    const response = (value?: string): DurableHttpResponse => ({ statusCode: 202, headers: value === undefined ? {} : { 'Retry-After': value }, content: '' });
    assert.equal(pollDelayMs(response('3'), 777), 3000);
    assert.equal(pollDelayMs(response('0'), 777), 0);
    assert.equal(pollDelayMs(response(), 777), 777);
    assert.equal(pollDelayMs(response('1.5'), 777), 777);
    assert.equal(pollDelayMs(response('Wed, 21 Oct 2015 07:28:00 GMT'), 777), 777);
  });

  test('pollRequest resolves relative locations and drops credentials set by hand on another origin', () => {
    const previous: DurableHttpRequest = {
      method: 'POST',
      uri: 'https://a.example/start',
      content: 'x',
      headers: { authorization: 'Bearer manual', 'x-functions-key': 'k', 'content-type': 'text/plain', 'x-keep': '1' },
      tokenSource: 'res',
    };
    assert.deepEqual(pollRequest(previous, '/status/1'), {
      method: 'GET',
      uri: 'https://a.example/status/1',
      headers: { authorization: 'Bearer manual', 'x-keep': '1' },
      tokenSource: 'res',
    });
    assert.deepEqual(pollRequest(previous, 'https://b.example/status/1').headers, { 'x-keep': '1' });
  });

  test('the activity refuses a token source when no tokenProvider is configured', async () => {
    const activity = createHttpActivity();
    await assert.rejects(
      Promise.resolve(activity({ method: 'GET', uri: 'http://127.0.0.1:9/', tokenSource: 'res' }, { instanceId: 'i', name: HTTP_ACTIVITY_NAME, taskId: 0, dequeueCount: 1, signal: new AbortController().signal })),
      /no tokenProvider is configured/,
    );
  });
});

/** For each TimerCreated: fireAt minus the start time of the episode that created it. */
function timerDelays(history: readonly HistoryEvent[]): number[] {
  const delays: number[] = [];
  let episodeStart = 0;
  for (const event of history) {
    if (event.eventType === 'OrchestratorStarted') episodeStart = Date.parse(event.timestamp);
    if (event.eventType === 'TimerCreated') delays.push(Date.parse(event.fireAt) - episodeStart);
  }
  return delays;
}
