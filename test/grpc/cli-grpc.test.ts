/**
 * `duraflow start --grpc [port]`: with no app module it serves the sidecar (and the HTTP host) for gRPC workers
 * only; a durabletask-js worker and client run an orchestration through it; SIGTERM exits 0. Bad ports and a
 * missing module without `--grpc` are one clear line and a non-zero exit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import type { OrchestrationContext } from '@microsoft/durabletask-js';
import { sqliteTestStore } from '../support/stores.js';
import { sdkClient, startSdkWorker } from './grpc-harness.js';

const CLI = new URL('../../bin/duraflow.js', import.meta.url).pathname;

test('duraflow start --grpc 0 serves gRPC workers without an app module and exits 0 on SIGTERM', async () => {
  const { url: store, cleanup } = await sqliteTestStore.create();
  const child = spawn(process.execPath, [CLI, 'start', '--grpc', '0', '--port', '0', '--store', store], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  try {
    const deadline = Date.now() + 30_000;
    while (!/TaskHubSidecarService\) listening on (\S+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const address = /TaskHubSidecarService\) listening on (\S+)/.exec(out)?.[1];
    assert.ok(address, `no gRPC address printed; output: ${out}`);
    assert.match(address, /^127\.0\.0\.1:\d+$/);

    const worker = await startSdkWorker(address, (w) => {
      w.addNamedActivity('cliShout', async (_ctx, text: string) => text.toUpperCase());
      w.addNamedOrchestrator('cliFlow', async function* (ctx: OrchestrationContext, text: string): any {
        return yield ctx.callActivity('cliShout', text);
      });
    });
    const client = sdkClient(address);
    try {
      const id = await client.scheduleNewOrchestration('cliFlow', 'quiet');
      const state = await client.waitForOrchestrationCompletion(id, true, 30);
      assert.equal(JSON.parse(state!.serializedOutput!), 'QUIET');
    } finally {
      await worker.stop();
      await client.stop();
    }
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
    await cleanup();
  }
});

test('duraflow start: a bad --grpc port, or neither a module nor --grpc, is one clear line and exit code 1', async () => {
  for (const [args, message] of [
    [['start', '--grpc', 'lots'], /^duraflow: --grpc takes a port number \(0-65535; 0 picks a free one\), got 'lots'\.$/],
    [['start'], /^duraflow: duraflow start needs an app module \(or --grpc to serve only gRPC workers\)\.$/],
  ] as const) {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const [code] = await once(child, 'exit');
    assert.equal(code, 1, err);
    assert.match(err.trim(), message);
  }
});
