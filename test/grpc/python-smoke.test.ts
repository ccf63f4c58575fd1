/**
 * A Python smoke test of the sidecar: Debian's grpcio and grpc-tools generate stubs from our own `.proto`, and a
 * small Python program starts an orchestration, runs its episodes and its activity over `GetWorkItems`, and waits
 * for the completion. Skipped (with the reason) when those packages are missing, except in CI, where `.ci/run`
 * installs them and their absence is a failure.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sqliteTestStore } from '../support/stores.js';
import { startGrpcHost } from './grpc-harness.js';
import { generateStubs, pythonOrSkip } from './python/python-grpc.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/python-smoke.py', import.meta.url));
const run = promisify(execFile);

test('a Python worker and client built from our .proto run an orchestration with an activity', async (t) => {
  const python = pythonOrSkip(t);
  if (!python) return;
  const stubs = await generateStubs(python);
  const env = await startGrpcHost(sqliteTestStore);
  try {
    const { stdout } = await run(python, [SCRIPT, stubs, env.address], { timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { instanceId: string; status: string; output: string; activityInput: string };
    assert.equal(result.status, 'ORCHESTRATION_STATUS_COMPLETED');
    assert.equal(result.output, 'Hello World!');
    assert.equal(result.activityInput, 'World');

    const status = await env.host.client.getStatus(result.instanceId, { showHistory: true, showHistoryOutput: true });
    assert.equal(status?.runtimeStatus, 'Completed');
    assert.equal(status?.name, 'pyHello');
    assert.equal(status?.output, 'Hello World!');
    const scheduled = status!.history!.filter((e) => e.eventType === 'TaskScheduled');
    assert.deepEqual(scheduled.map((e) => (e as { name: string }).name), ['pyGreet']);
    assert.equal(status!.history!.filter((e) => e.eventType === 'TaskCompleted').length, 1);
  } finally {
    await env.stop();
    rmSync(stubs, { recursive: true, force: true });
  }
});
