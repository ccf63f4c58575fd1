/**
 * `GET /metrics` on a real host: Prometheus text behind the API key, this process's counters and histograms
 * (starts, ends by status, activity outcomes, episode/activity/commit timings), the hub's gauges from the store
 * (instances waiting by status, backlog, live workers), and the same counters through the OpenTelemetry
 * metrics API once the app registers a meter provider.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { startTestHost, type TestHost } from '../http/http-fixture.js';

const KEY = 'metrics-test-key';

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The value of the sample `name{labels}` in Prometheus text (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  let host: TestHost;
  const reader = new TestReader();
  before(async () => {
    // Registered after duraflow's modules loaded (as an app that sets up telemetry in its main file does).
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    host = await startTestHost({
      app: { apiKey: KEY },
      setup: (app) => {
        app.activity('fails', async () => {
          throw new Error('no');
        });
        app.orchestration('failing', function* (ctx) {
          return yield ctx.callActivity('fails');
        });
      },
    });
  });
  after(() => host.stop());
  const scrape = async () => {
    const response = await fetch(`${host.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    return response.text();
  };

  test('needs the API key when one is set', async () => {
    assert.equal((await fetch(`${host.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${host.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  });

  test('counts starts, ends by status and activity outcomes, with timings', async () => {
    const ok = await host.store.startNew('hello', { input: 'Ada' });
    const bad = await host.store.startNew('failing');
    for (const id of [ok, bad]) await host.store.waitForCompletion(id, { timeoutInMilliseconds: 10_000 });
    // Counted after the commit; the waiter may see the status first.
    let text = '';
    for (let i = 0; i < 50 && sample(text, 'duraflow_orchestrations_finished_total', { name: 'failing', status: 'Failed' }) !== 1; i++) {
      text = await scrape();
      await new Promise((r) => setTimeout(r, 20));
    }
    const hub = host.app.taskHub;
    assert.equal(sample(text, 'duraflow_orchestrations_started_total', { hub, name: 'hello' }), 1);
    assert.equal(sample(text, 'duraflow_orchestrations_finished_total', { hub, name: 'hello', status: 'Completed' }), 1);
    assert.equal(sample(text, 'duraflow_orchestrations_finished_total', { hub, name: 'failing', status: 'Failed' }), 1);
    assert.equal(sample(text, 'duraflow_activities_total', { hub, name: 'greet', outcome: 'completed' }), 1);
    assert.equal(sample(text, 'duraflow_activities_total', { hub, name: 'fails', outcome: 'failed' }), 1);
    assert.equal(sample(text, 'duraflow_activity_duration_seconds_count', { hub, name: 'greet' }), 1);
    assert.equal(sample(text, 'duraflow_episode_duration_seconds_count', { hub, name: 'hello' }), 2);
    assert.ok((sample(text, 'duraflow_commit_duration_seconds_count', { hub }) ?? 0) >= 2);
    assert.ok((sample(text, 'duraflow_commit_batch_size_sum', { hub }) ?? 0) >= 4);
    assert.equal(sample(text, 'duraflow_workers_alive', { hub }), 1);

    const { resourceMetrics } = await reader.collect();
    const otel = resourceMetrics.scopeMetrics.find((s) => s.scope.name === 'duraflow')?.metrics ?? [];
    const finished = otel.find((m) => m.descriptor.name === 'duraflow_orchestrations_finished');
    const point = finished?.dataPoints.find((p) => p.attributes['name'] === 'failing' && p.attributes['status'] === 'Failed');
    assert.equal(point?.value, 1, 'the OpenTelemetry counter has the same number');
    assert.ok(otel.some((m) => m.descriptor.name === 'duraflow_activity_duration_seconds'));
  });

  test("the hub's gauges: instances waiting by status and the backlog, from the store", async () => {
    const waiting = await host.store.startNew('waiter');
    await host.store.suspend(await host.store.startNew('waiter'), 'hold');
    for (let i = 0; i < 100; i++) {
      const status = await host.store.getStatus(waiting);
      if (status?.runtimeStatus === 'Running') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    let text = '';
    for (let i = 0; i < 100 && sample(text, 'duraflow_instances', { status: 'Suspended' }) !== 1; i++) {
      text = await scrape();
      await new Promise((r) => setTimeout(r, 20));
    }
    const hub = host.app.taskHub;
    assert.equal(sample(text, 'duraflow_instances', { hub, status: 'Running' }), 1);
    assert.equal(sample(text, 'duraflow_instances', { hub, status: 'Suspended' }), 1);
    assert.equal(sample(text, 'duraflow_instances', { hub, status: 'Pending' }), 0);
    assert.equal(sample(text, 'duraflow_backlog_activities', { hub }), 0);
    assert.ok(sample(text, 'duraflow_backlog_messages', { hub }) !== undefined);
    assert.ok(sample(text, 'duraflow_backlog_oldest_seconds', { hub }) !== undefined);

    // The OpenTelemetry meter observes the same gauges when it collects.
    const { resourceMetrics } = await reader.collect();
    const otel = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const instances = otel.find((m) => m.descriptor.name === 'duraflow_instances');
    const suspended = instances?.dataPoints.find((p) => p.attributes['hub'] === hub && p.attributes['status'] === 'Suspended');
    assert.equal(suspended?.value, 1);
    assert.equal(otel.find((m) => m.descriptor.name === 'duraflow_workers_alive')?.dataPoints.find((p) => p.attributes['hub'] === hub)?.value, 1);
  });
});
