/**
 * Versions in the CLI, as real child processes over a store: `instances start --version`, the VERSION column and
 * `--version` filter of `instances list`, the version in `instances get`, and patch markers in `instances history`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DFApp, type Worker } from '../../src/index.js';
import { sqliteTestStore } from '../support/stores.js';

const CLI = fileURLToPath(new URL('../../bin/duraflow.js', import.meta.url));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['DURAFLOW_URL', 'DURAFLOW_API_KEY', 'DURAFLOW_STORE']) delete env[name];
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`duraflow ${args.join(' ')} did not finish; stderr: ${stderr}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('versions in the CLI', () => {
  let url: string;
  let cleanup: () => Promise<void>;
  let worker: Worker;
  before(async () => {
    ({ url, cleanup } = await sqliteTestStore.create());
    const app = new DFApp({ store: url, versioning: { defaultVersion: '2.0' } });
    app.orchestration('patched', function* (ctx) {
      if (ctx.isPatched('fraud-check')) yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 1));
      return ctx.version ?? null;
    });
    worker = await app.startWorker({ pollIntervalMs: 50 });
  });
  after(async () => {
    await worker.stop();
    await cleanup();
  });

  test('start --version stamps the version; list shows and filters it; get shows it; history shows the patch marker', async () => {
    const explicit = await cli(['instances', 'start', 'patched', '--id', 'v15', '--version', '1.5', '--wait', '--store', url]);
    assert.equal(explicit.code, 0, explicit.stderr);
    assert.equal(explicit.stdout.trim(), '"1.5"');
    const stamped = await cli(['instances', 'start', 'patched', '--id', 'v20', '--wait', '--store', url]);
    assert.equal(stamped.stdout.trim(), '"2.0"', stamped.stderr);

    const list = await cli(['instances', 'list', '--store', url]);
    assert.equal(list.code, 0, list.stderr);
    const [header, ...rows] = list.stdout.trim().split('\n');
    assert.match(header!, /^INSTANCE ID +NAME +VERSION +STATUS/);
    assert.ok(rows.some((r) => /^v15 +patched +1\.5 +Completed/.test(r)), list.stdout);
    const filtered = await cli(['instances', 'list', '--version', '2.0', '--json', '--store', url]);
    assert.deepEqual((JSON.parse(filtered.stdout) as { instanceId: string; version: string }[]).map((s) => [s.instanceId, s.version]), [['v20', '2.0']]);

    const get = await cli(['instances', 'get', 'v15', '--store', url]);
    assert.match(get.stdout, /^Version: +1\.5$/m);
    const history = await cli(['instances', 'history', 'v15', '--store', url]);
    assert.match(history.stdout, /GenericEvent +patch 'fraud-check'/);
    assert.match(history.stdout, /ExecutionStarted +patched +version 1\.5/);
  });

  test('a bad version is a one-line error', async () => {
    const run = await cli(['instances', 'start', 'patched', '--version', ' 1', '--store', url]);
    assert.equal(run.code, 1);
    assert.match(run.stderr.trim(), /^duraflow: version may not start or end with white space/);
  });
});
