/**
 * `duraflow/testing` under vitest and jest, not just node:test: the package is built, installed into a scratch
 * project (as a user would have it in node_modules), and the same spec runs under the real vitest and jest CLIs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const SPEC = (imports: string) => `${imports}
import { DFApp } from 'duraflow';
import { createTestHost } from 'duraflow/testing';

const WEEK = 7 * 24 * 3600 * 1000;
const app = new DFApp();
app.activity('greet', (name) => 'Hello ' + name);
app.orchestration('greeting', function* (ctx) {
  yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + WEEK));
  return yield ctx.callActivity('greet', ctx.getInput());
});

test('a week-long timer is skipped and the activity is mocked', async () => {
  const env = await createTestHost(app);
  try {
    env.mockActivity('greet', (name) => 'Hi ' + name);
    const started = env.now().getTime();
    const id = await env.client.startNew('greeting', { input: 'Ada' });
    const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 5000 });
    expect(status.output).toBe('Hi Ada');
    expect(env.calls('greet').map((call) => call.input)).toEqual(['Ada']);
    expect(env.now().getTime() - started).toBeGreaterThanOrEqual(WEEK);
    expect(env.now().getTime() - started).toBeLessThan(WEEK + 60000);
  } finally {
    await env.stop();
  }
});
`;

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(command, args, { cwd, timeout: 180_000, env: { ...process.env, CI: 'true', NODE_OPTIONS: '' } }, (error, stdout, stderr) =>
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('duraflow/testing under other test runners', () => {
  let dir: string;
  let project: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'duraflow-runners-'));
    // The package as published: compiled dist/ plus package.json, with its dependencies.
    const pkg = join(dir, 'pkg');
    const build = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')], ROOT);
    assert.equal(build.code, 0, build.output);
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    // A user's project with duraflow, vitest and jest in node_modules.
    project = join(dir, 'app');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    symlinkSync(pkg, join(project, 'node_modules', 'duraflow'));
    symlinkSync(join(ROOT, 'node_modules', 'vitest'), join(project, 'node_modules', 'vitest'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }));
    writeFileSync(join(project, 'greeting.vitest.test.mjs'), SPEC("import { expect, test } from 'vitest';"));
    writeFileSync(join(project, 'greeting.jest.test.mjs'), SPEC(''));
    writeFileSync(join(project, 'jest.config.json'), JSON.stringify({ testMatch: ['**/*.jest.test.mjs'], transform: {}, testEnvironment: 'node' }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('vitest runs a spec written with the toolkit', async () => {
    const result = await run(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', project, 'greeting.vitest'], project);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /1 passed/);
  });

  test('jest (ESM mode) runs the same spec', async () => {
    const result = await run(process.execPath, ['--experimental-vm-modules', join(ROOT, 'node_modules/jest/bin/jest.js'), '--config', 'jest.config.json'], project);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Tests:\s+1 passed/);
  });
});
