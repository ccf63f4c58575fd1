import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { sqliteTestStore } from '../support/stores.js';

const CLI = new URL('../../bin/duraflow.js', import.meta.url).pathname;

test('duraflow start runs an app module, serves its routes, and exits 0 on SIGTERM', async () => {
  const { url: store, cleanup } = await sqliteTestStore.create();
  const child = spawn(process.execPath, [CLI, 'start', 'samples/app.ts', '--port', '0', '--store', store], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const deadline = Date.now() + 30_000;
    while (!/listening on (\S+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const base = /listening on (\S+)/.exec(out)?.[1];
    assert.ok(base, `no URL printed; output: ${out}`);
    const response = await fetch(`${base}/api/start/helloCities`, { method: 'POST' });
    assert.equal(response.status, 202);
    const payload = (await response.json()) as { id: string; statusQueryGetUri: string };
    assert.match(payload.statusQueryGetUri, new RegExp(`/runtime/webhooks/durabletask/instances/${payload.id}`));
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
    await cleanup();
  }
});

test('duraflow start with a missing module prints one clear line and exits non-zero', async () => {
  const child = spawn(process.execPath, [CLI, 'start', 'does-not-exist.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const [code] = await once(child, 'exit');
  assert.equal(code, 1);
  assert.match(err.trim(), /^duraflow: No app module at .*does-not-exist\.ts\.$/);
});
