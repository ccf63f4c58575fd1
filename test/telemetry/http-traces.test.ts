/**
 * Trace context over HTTP: an incoming `traceparent` on the HTTP API's start parents the instance (a malformed
 * one is ignored), the HTTP client sends its caller's context, and `ctx.callHttp` makes an HTTP client span
 * whose context the called server receives.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { createClient } from '../../src/index.js';
import { startTestHost, type TestHost } from '../http/http-fixture.js';
import { idOf, installTracing, oneSpan, parentOf, spansWhere } from '../support/tracing.js';

const exporter = installTracing();
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

describe('trace context over HTTP', () => {
  let host: TestHost;
  let seen: IncomingHttpHeaders[] = [];
  const target = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('pong');
  });
  before(async () => {
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const port = (target.address() as { port: number }).port;
    host = await startTestHost({
      setup: (app) =>
        app.orchestration('pinger', function* (ctx) {
          const response = (yield ctx.callHttp({ method: 'GET', uri: `http://127.0.0.1:${port}/ping` })) as { content: string };
          return response.content;
        }),
    });
  });
  after(async () => {
    await host.stop();
    await new Promise((resolve) => target.close(resolve));
  });
  beforeEach(() => {
    exporter.reset();
    seen = [];
  });

  test("POST /orchestrators with a traceparent: the start span continues the caller's trace", async () => {
    const response = await fetch(`${host.base}/orchestrators/hello`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, tracestate: 'vendor=x' },
      body: JSON.stringify('Ada'),
    });
    assert.equal(response.status, 202);
    const { id } = (await response.json()) as { id: string };
    await host.store.waitForCompletion(id, { timeoutInMilliseconds: 10_000 });
    const spans = await spansWhere(exporter, (s) => s.some((x) => x.name === 'orchestration:hello'));
    const start = oneSpan(spans, 'create_orchestration:hello');
    assert.equal(start.spanContext().traceId, CALLER_TRACE);
    assert.equal(parentOf(start), CALLER_SPAN);
    assert.equal(start.spanContext().traceState?.get('vendor'), 'x');
    assert.equal(parentOf(oneSpan(spans, 'orchestration:hello')), idOf(start));
    assert.equal(oneSpan(spans, 'activity:greet').spanContext().traceId, CALLER_TRACE);
    // The history keeps the context, so any worker, later, continues the same trace.
    const status = await host.store.getStatus(id, { showHistory: true });
    const started = status?.history?.find((e) => e.eventType === 'ExecutionStarted') as { parentTraceContext?: { traceParent: string } };
    assert.equal(started.parentTraceContext?.traceParent, `00-${CALLER_TRACE}-${idOf(start)}-01`);
  });

  test('a malformed traceparent is ignored: the start is a root span and the request succeeds', async () => {
    for (const bad of ['00-nothex-00f067aa0ba902b7-01', `00-${'0'.repeat(32)}-${CALLER_SPAN}-01`, `ff-${CALLER_TRACE}-${CALLER_SPAN}-01`]) {
      exporter.reset();
      const response = await fetch(`${host.base}/orchestrators/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: bad },
        body: '1',
      });
      assert.equal(response.status, 202, bad);
      const start = oneSpan(await spansWhere(exporter, (s) => s.some((x) => x.name === 'create_orchestration:echo')), 'create_orchestration:echo');
      assert.equal(parentOf(start), undefined, bad);
      assert.notEqual(start.spanContext().traceId, CALLER_TRACE);
    }
  });

  test("the HTTP client sends its caller's active span", async () => {
    const remote = await createClient({ url: host.url });
    try {
      const caller = trace.getTracer('test').startSpan('caller');
      const id = await context.with(trace.setSpan(context.active(), caller), () => remote.startNew('echo', { input: 2 }));
      caller.end();
      const start = oneSpan(await spansWhere(exporter, (s) => s.some((x) => x.name === 'create_orchestration:echo')), 'create_orchestration:echo');
      assert.equal(parentOf(start), caller.spanContext().spanId);
      assert.equal(start.attributes['durabletask.task.instance_id'], id);
    } finally {
      await remote.close();
    }
  });

  test('ctx.callHttp: an HTTP client span under the activity, its context sent in traceparent', async () => {
    const id = await host.store.startNew('pinger');
    assert.equal((await host.store.waitForCompletion(id, { timeoutInMilliseconds: 10_000 })).output, 'pong');
    const spans = await spansWhere(exporter, (s) => s.some((x) => x.name === 'orchestration:pinger'));
    const http = oneSpan(spans, 'HTTP GET');
    const activity = spans.find((s) => s.name.startsWith('activity:'))!;
    assert.equal(http.kind, SpanKind.CLIENT);
    assert.equal(parentOf(http), idOf(activity));
    assert.equal(http.attributes['http.response.status_code'], 200);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.traceparent, `00-${http.spanContext().traceId}-${idOf(http)}-01`);
  });
});
