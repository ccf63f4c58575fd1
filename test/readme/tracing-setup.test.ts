/**
 * README "Tracing (OpenTelemetry)": the provider set-up, run as written except that the OTLP exporter (not a
 * dependency here) is swapped for the SDK's in-memory one, registers a provider that receives duraflow's spans.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readmeBlock } from '../support/readme.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

test('the README OTLP set-up is at most 10 lines and makes duraflow export its spans', { timeout: 60_000 }, async () => {
  const block = readmeBlock('Tracing (OpenTelemetry)', 'ts', 'OTLPTraceExporter');
  const code = block.split('\n').filter((l) => l.trim() && !l.trim().startsWith('//'));
  assert.ok(code.length <= 10, `${code.length} lines of code`);
  const script = block
    .replace("import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';", "import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';")
    .replace(/new OTLPTraceExporter\([^)]*\)/, 'new InMemorySpanExporter()');
  assert.notEqual(script, block);
  const file = join(HERE, `.readme-tracing-${process.pid}.ts`);
  writeFileSync(
    file,
    `${script}
import { DFApp } from '../../src/index.js';
const app = new DFApp({ store: 'sqlite::memory:' });
app.activity('greet', async (name: string) => \`Hello \${name}!\`);
app.orchestration('hello', function* (ctx) { return yield ctx.callActivity('greet', 'Ada'); });
const worker = await app.startWorker({ pollIntervalMs: 20 });
await worker.client.waitForCompletion(await worker.client.startNew('hello'), { timeoutInMilliseconds: 10_000 });
await worker.stop();
await provider.forceFlush();
console.log(JSON.stringify(exporter.getFinishedSpans().map((s) => s.name).sort()));
`,
  );
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], { cwd: HERE, timeout: 50_000 });
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()!), ['activity:greet', 'create_orchestration:hello', 'orchestration:hello']);
  } finally {
    rmSync(file, { force: true });
  }
});
