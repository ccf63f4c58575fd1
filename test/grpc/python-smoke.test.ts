/**
 * A Python smoke test of the sidecar: Debian's grpcio and grpc-tools generate stubs from our own `.proto`, and a
 * small Python program starts an orchestration, runs its episodes and its activity over `GetWorkItems`, and waits
 * for the completion. Skipped (with the reason) when those packages are missing, except in CI, where `.ci/run`
 * installs them and their absence is a failure.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SIDECAR_PROTO_PATH } from '../../src/grpc/service-definition.js';
import { sqliteTestStore } from '../support/stores.js';
import { startGrpcHost } from './grpc-harness.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/python-smoke.py', import.meta.url));
const run = promisify(execFile);

/** A Python with grpcio, grpc-tools and protobuf (Debian's packages live in /usr/bin/python3). */
function findPython(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(python, ['-c', 'import grpc, grpc_tools.protoc, google.protobuf'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return undefined;
}

test('a Python worker and client built from our .proto run an orchestration with an activity', async (t) => {
  const python = findPython();
  if (!python) {
    const reason = 'python3 with grpcio, grpc-tools and protobuf not found (apt-get install python3-grpcio python3-grpc-tools python3-protobuf)';
    if (process.env['CI']) assert.fail(`${reason}; .ci/run installs them`);
    t.skip(reason);
    return;
  }
  const stubs = mkdtempSync(join(tmpdir(), 'duraflow-py-stubs-'));
  const env = await startGrpcHost(sqliteTestStore);
  try {
    await run(python, ['-m', 'grpc_tools.protoc', `-I${dirname(SIDECAR_PROTO_PATH)}`, `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, SIDECAR_PROTO_PATH]);
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
