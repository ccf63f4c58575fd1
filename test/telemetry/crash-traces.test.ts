/**
 * A worker SIGKILLed mid-run: the instance's trace stays one trace. The orchestration span of the dead worker
 * never ended (OpenTelemetry exports spans when they end), but its context is in history: the activity it
 * scheduled runs again on the survivor as that span's child, and the survivor's orchestration span is a
 * continuation linked to it, under the same start span.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { createClient, type HistoryEvent } from '../../src/index.js';
import { Child, killAllChildren } from '../support/child-processes.js';
import { sqliteTestStore } from '../support/stores.js';
import { idOf, installTracing, oneSpan } from '../support/tracing.js';

const exporter = installTracing();
after(killAllChildren);

interface SpanLine {
  name: string;
  pid: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: string[];
}

test('kill -9 mid-run: one trace; the re-run activity and the continuation span point at the recorded span', { timeout: 60_000 }, async () => {
  const { url, cleanup } = await sqliteTestStore.create();
  const dir = mkdtempSync(join(tmpdir(), 'duraflow-trace-crash-'));
  const client = await createClient({ store: url });
  const script = fileURLToPath(new URL('./fixtures/traced-worker.ts', import.meta.url));
  try {
    const id = await client.startNew('crashy', { instanceId: 'crashy-1', input: 1 });
    const doomed = new Child(script, [url, dir]);
    await doomed.waitForLine((l) => l.startsWith('ready'), 30_000, 'ready');
    assert.equal((await doomed.waitForExit(30_000)).signal, 'SIGKILL');
    const survivor = new Child(script, [url, dir]);
    await survivor.waitForLine((l) => l.startsWith('ready'), 30_000, 'ready');
    const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 30_000 });
    assert.equal(status.output, 20);
    survivor.signal('SIGTERM');
    await survivor.waitForExit(20_000);

    const start = oneSpan(exporter.getFinishedSpans(), 'create_orchestration:crashy');
    const spans: SpanLine[] = readdirSync(dir)
      .filter((f) => f.startsWith('spans-'))
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as SpanLine));
    for (const span of spans) assert.equal(span.traceId, start.spanContext().traceId, `${span.name} (pid ${span.pid}) is in the start's trace`);

    const history = (await client.getStatus(id, { showHistory: true }))!.history as HistoryEvent[];
    const recorded = history.flatMap((e) => (e.eventType === 'OrchestratorStarted' && e.orchestrationTraceContext ? [e.orchestrationTraceContext.traceParent.split('-')[2]] : []));
    assert.equal(recorded.length, 2, 'the dead worker began a span, the survivor a continuation');
    const [lost, continuation] = recorded as [string, string];

    const byName = (name: string) => spans.filter((s) => s.name === name);
    assert.equal(byName('orchestration:crashy').length, 1, "only the survivor's span ended");
    const orchestration = byName('orchestration:crashy')[0]!;
    assert.equal(orchestration.pid, survivor.pid);
    assert.equal(orchestration.spanId, continuation);
    assert.equal(orchestration.parentSpanId, idOf(start));
    assert.deepEqual(orchestration.links, [lost]);
    assert.deepEqual(byName('activity:quick').map((s) => [s.pid, s.parentSpanId]), [[doomed.pid, lost]]);
    // The killed attempt never ended; the re-run on the survivor is a child of the span that scheduled it.
    assert.deepEqual(byName('activity:crash').map((s) => [s.pid, s.parentSpanId]), [[survivor.pid, lost]]);
  } finally {
    await killAllChildren();
    await client.close();
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
