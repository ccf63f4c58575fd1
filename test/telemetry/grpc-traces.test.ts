/**
 * One trace across duraflow and Microsoft's durabletask-js worker over the gRPC sidecar: the trace contexts in
 * history travel in the protocol's TraceContext fields, so the SDK worker's spans (its own tracer, the same
 * global provider) join the trace of a duraflow start, and duraflow's spans join the SDK's.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { OrchestrationContext as SdkContext, TaskHubGrpcWorker } from '@microsoft/durabletask-js';
import { DFApp } from '../../src/index.js';
import { sqliteTestStore } from '../support/stores.js';
import { startGrpcHost, startSdkWorker, waitForRegistration, type GrpcHost } from '../grpc/grpc-harness.js';
import { idOf, installTracing, oneSpan, parentOf, spansNamed, spansWhere } from '../support/tracing.js';

const exporter = installTracing();

describe('traces with a durabletask-js worker', () => {
  let host: GrpcHost;
  let worker: TaskHubGrpcWorker;
  before(async () => {
    host = await startGrpcHost(sqliteTestStore, (url) => {
      const app = new DFApp({ store: url });
      app.activity('tsShout', async (text: string) => `${text.toUpperCase()}!`);
      app.orchestration('tsCallsJs', function* (ctx) {
        return yield ctx.callActivity('jsHello', 'Tokyo');
      });
      return app;
    });
    worker = await startSdkWorker(host.address, (w) => {
      w.addNamedActivity('jsHello', async (_ctx, city: string) => `Hello ${city}!`);
      w.addNamedOrchestrator('jsCallsTs', async function* (ctx: SdkContext): any {
        return yield ctx.callActivity('tsShout', 'hi');
      });
    });
    await waitForRegistration(host.storeUrl);
  });
  after(async () => {
    await worker.stop();
    await host.stop();
  });
  beforeEach(() => exporter.reset());

  test("a TypeScript orchestration's activity run by the SDK worker is a child of duraflow's orchestration span", async () => {
    const client = host.host.client;
    const id = await client.startNew('tsCallsJs');
    assert.equal((await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 })).output, 'Hello Tokyo!');
    const spans = await spansWhere(exporter, (s) => s.some((x) => x.name === 'orchestration:tsCallsJs') && s.some((x) => x.name === 'activity:jsHello'));
    const orchestration = oneSpan(spans, 'orchestration:tsCallsJs');
    const sdkActivity = oneSpan(spans, 'activity:jsHello');
    assert.equal(sdkActivity.instrumentationScope.name, 'Microsoft.DurableTask', 'the span is the SDK worker’s own');
    assert.equal(sdkActivity.spanContext().traceId, orchestration.spanContext().traceId);
    assert.equal(parentOf(sdkActivity), idOf(orchestration));
  });

  test("an SDK orchestration started by duraflow's client continues the start's trace, and so does duraflow's activity span", async () => {
    const client = host.host.client;
    const id = await client.startNew('jsCallsTs');
    assert.equal((await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 })).output, 'HI!');
    const spans = await spansWhere(exporter, (s) => s.some((x) => x.name === 'activity:tsShout') && spansNamed(s, 'orchestration:jsCallsTs').length >= 2);
    const start = oneSpan(spans, 'create_orchestration:jsCallsTs');
    const sdkEpisodes = spansNamed(spans, 'orchestration:jsCallsTs');
    for (const episode of sdkEpisodes) {
      assert.equal(episode.instrumentationScope.name, 'Microsoft.DurableTask');
      assert.equal(parentOf(episode), idOf(start), 'each SDK episode span is a child of the start');
    }
    // The SDK emits a CLIENT span of the same name for the call; duraflow's is the SERVER span of the run.
    const activity = oneSpan(spans.filter((s) => s.instrumentationScope.name === 'duraflow'), 'activity:tsShout');
    assert.equal(activity.spanContext().traceId, start.spanContext().traceId, "duraflow's activity joins the SDK orchestration's trace");
    assert.ok(parentOf(activity), 'parented to the span the SDK worker named in its ScheduleTask action');
  });
});
