/**
 * duraflow as a user gets it, following README "Use duraflow in your project": `npm pack` this checkout, install
 * the tarball into a scratch project outside the repo (under the OS temp dir), and there, in an ESM folder and a
 * CommonJS folder that share that install (each with its own package.json, resolving the parent's node_modules),
 * run the README's app through `npx duraflow start app.ts`, apps using DFApp/createClient from plain Node (`.js`)
 * and through `npx tsx` (`.ts`), and `duraflow/testing` tests; stack traces from inside the package must name
 * files it ships.
 *
 * The install compiles better-sqlite3 (a minute or more), so scripts/run-tests.sh runs test/package/ on its own
 * with a 20-minute timeout; alone: `node --import tsx --test --test-timeout=1200000 test/package/pack-install.test.ts`.
 * Set DURAFLOW_SKIP_PACKAGE_TEST=1 to skip it outside CI; in CI (CI=true) it always runs.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { postWithoutBody } from '../support/raw-http.js';
import { expectedLogs, readmeBlock, shellCommands } from '../support/readme.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECTION = 'Use duraflow in your project';
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const TARBALL = `duraflow-${version}.tgz`;

const skip = process.env['CI'] !== 'true' && process.env['DURAFLOW_SKIP_PACKAGE_TEST'] === '1';
if (skip) console.log('# test/package skipped: DURAFLOW_SKIP_PACKAGE_TEST=1 (never skipped when CI=true)');

const scratch = mkdtempSync(join(tmpdir(), 'duraflow-package-'));
const project = join(scratch, 'my-app');
/** Set once the install step passed: the tests after it say so instead of failing on a missing folder. */
let installed = false;
const needInstall = () => assert.ok(installed, 'the pack-and-install step failed (see its error above)');
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The environment of every command: none of the npm variables of an enclosing `npm test`, no duraflow settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_yes: 'false', npm_config_update_notifier: 'false' };
  for (const name of Object.keys(env)) {
    if ((name.startsWith('npm_') && !['npm_config_yes', 'npm_config_update_notifier'].includes(name)) || name.startsWith('DURAFLOW_') || name === 'INIT_CWD') delete env[name];
  }
  return env;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`). */
async function run(cwd: string, command: string, args: string[], timeoutMs = 120_000): Promise<Run> {
  const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Runs a command that must succeed; returns its stdout. */
async function ok(cwd: string, command: string, args: string[], timeoutMs?: number): Promise<string> {
  const result = await run(cwd, command, args, timeoutMs);
  assert.equal(result.code, 0, `${command} ${args.join(' ')} in ${cwd} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

const groups = new Set<number>();
after(() => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Starts a long-running command in a process group of its own (as a terminal or a container runs it) and waits
 * for an output line (stdout or stderr) matching `ready`.
 */
async function serve(cwd: string, command: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> {
  const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groups.add(child.pid!);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const match = ready.exec(output);
    if (match) return { child, match, output: () => output };
    if (child.exitCode !== null || Date.now() > deadline) {
      process.kill(-child.pid!, 'SIGKILL');
      assert.fail(`${command} ${args.join(' ')} did not get ready; output:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** SIGTERM to the child's process group (Ctrl+C, `docker stop`); resolves with how the child ended once the whole group is gone. */
async function terminate(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  process.kill(-child.pid!, 'SIGTERM');
  const [code, signal] = await exited;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      process.kill(-child.pid!, 0);
    } catch {
      groups.delete(child.pid!);
      return { code, signal };
    }
    assert.ok(Date.now() < deadline, `process group ${child.pid} still runs 30 s after SIGTERM`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls a check-status URL until the instance has finished. */
async function finished(statusUrl: string): Promise<{ runtimeStatus: string; output: unknown }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = (await (await fetch(statusUrl)).json()) as { runtimeStatus: string; output: unknown };
    if (!['Pending', 'Running'].includes(status.runtimeStatus) || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---- what each folder runs -------------------------------------------------------------------------------------

/** README "A first app": app.ts, as written. */
const APP_TS = readmeBlock('A first app', 'ts', '// app.ts');
/** README "Use duraflow in your project": the CommonJS main.js, as written. */
const MAIN_CJS = readmeBlock(SECTION, 'js', "require('duraflow')");
const REQUIRE_LINE = "const { DFApp, createClient } = require('duraflow');";
const IMPORT_LINE = "import { DFApp, createClient } from 'duraflow';";
assert.ok(MAIN_CJS.includes(REQUIRE_LINE), 'the CommonJS example requires DFApp and createClient');
/** The same program as an ES module and in TypeScript, as that section's "Plain Node" note says to write it. */
const MAIN_ESM = MAIN_CJS.replace(REQUIRE_LINE, IMPORT_LINE);
const MAIN_TS = MAIN_ESM.replace('async (city) =>', 'async (city: string) =>');

/** README "Testing your orchestrations": its imports, then the rest as a node:test test, next to the first app. */
function helloTest(): string {
  const snippet = readmeBlock('Testing your orchestrations', 'ts', 'createTestHost');
  const lines = snippet.split('\n');
  const imports = lines.filter((line) => line.startsWith('import '));
  const body = lines.filter((line) => !line.startsWith('import '));
  const app = APP_TS.replace(/^export default app;$/m, '');
  return [...imports, "import assert from 'node:assert/strict';", "import { test } from 'node:test';", app, "test('README: Testing your orchestrations', async () => {", ...body, '});', ''].join('\n');
}

/** `duraflow/testing` from plain Node: a node:test file with `require` (CommonJS) or `import` (ESM). */
function testingTest(style: 'require' | 'import'): string {
  const head =
    style === 'require'
      ? "const assert = require('node:assert/strict');\nconst { test } = require('node:test');\nconst { DFApp } = require('duraflow');\nconst { createTestHost } = require('duraflow/testing');"
      : "import assert from 'node:assert/strict';\nimport { test } from 'node:test';\nimport { DFApp } from 'duraflow';\nimport { createTestHost } from 'duraflow/testing';";
  return `${head}
const app = new DFApp();
app.activity('shout', async (text) => text.toUpperCase());
app.orchestration('loud', function* (ctx) { return yield ctx.callActivity('shout', ctx.getInput()); });
test('duraflow/testing mocks an activity', async () => {
  const env = await createTestHost(app);
  env.mockActivity('shout', (text) => text + '!');
  const status = await env.client.waitForCompletion(await env.client.startNew('loud', { input: 'hi' }));
  assert.equal(status.output, 'hi!');
  await env.stop();
});
`;
}

/** Prints the stack of an error thrown inside duraflow (an invalid client URL). */
function stackScript(style: 'require' | 'import'): string {
  const head = style === 'require' ? "const { createClient } = require('duraflow');" : "import { createClient } from 'duraflow';";
  return `${head}\ncreateClient({ url: 'not a url' }).catch((error) => console.log(error.stack));\n`;
}

/** An app that reports whether its `duraflow` (compiled to CommonJS: a require) is the ES module instance. */
const SAME_INSTANCE_TS = `import { DFApp } from 'duraflow';
const app = new DFApp({ store: 'sqlite::memory:' });
app.activity('same', async () => (await import('duraflow')).DFApp === DFApp);
app.orchestration('same', function* (ctx) { return yield ctx.callActivity('same'); });
export default app;
`;

/** Every file a stack names: each must exist, and duraflow's frames must be in its dist/. */
function assertStackShips(stack: string, where: string): void {
  const files = [...stack.matchAll(/(?:\(|\bat )(?:file:\/\/)?(\/[^\s():]+):\d+:\d+/g)].map((m) => m[1]!);
  const own = files.filter((file) => file.includes('/node_modules/duraflow/'));
  assert.ok(own.length > 0, `${where}: the stack names duraflow's files:\n${stack}`);
  for (const file of files) assert.ok(existsSync(file), `${where}: the stack names ${file}, which is not there:\n${stack}`);
  for (const file of own) assert.match(file, /\/node_modules\/duraflow\/dist\/.+\.js$/, `${where}: ${file}`);
}

describe('the packed package, installed into a scratch project', { skip: skip ? 'DURAFLOW_SKIP_PACKAGE_TEST=1' : false }, () => {
  test(`README "${SECTION}": npm pack, npm install of the tarball, approve better-sqlite3's install script`, { timeout: 18 * 60_000 }, async () => {
    const commands = shellCommands(readmeBlock(SECTION, 'sh', 'npm pack'));
    assert.deepEqual(commands, ['npm pack', `npm install ../duraflow/${TARBALL}`, 'npm install-scripts approve better-sqlite3', 'npx duraflow start app.ts']);

    // `npm pack` in the clone (its prepare script builds dist/); the tarball goes to the scratch folder.
    const packDir = join(scratch, 'packed');
    mkdirSync(packDir);
    await ok(ROOT, 'npm', ['pack', '--pack-destination', packDir], 5 * 60_000);
    const tarball = join(packDir, TARBALL);
    const files = (await ok(scratch, 'tar', ['-tzf', tarball])).trim().split('\n').map((line) => line.replace(/^package\//, ''));
    for (const file of ['package.json', 'README.md', 'bin/duraflow.js', 'dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/testing/index.d.ts', 'dist/app/cli.js', 'dist/dashboard/assets/dashboard.css', 'dist/dashboard/assets/islands.js', 'dist/grpc/task-hub-sidecar.proto']) {
      assert.ok(files.includes(file), `the tarball has ${file}`);
    }
    assert.deepEqual(files.filter((file) => file.startsWith('src/') || file.startsWith('test/') || file.endsWith('.map') || (file.endsWith('.ts') && !file.endsWith('.d.ts'))), []);

    // "in your project (a new one: mkdir my-app && cd my-app && npm init -y)": a CommonJS package.json.
    mkdirSync(project);
    await ok(project, 'npm', ['init', '-y']);
    await ok(project, 'npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], 16 * 60_000);
    await ok(project, 'npm', ['install-scripts', 'approve', 'better-sqlite3']);
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean>; type?: string };
    assert.equal(manifest.allowScripts?.['better-sqlite3'], true);
    assert.notEqual(manifest.type, 'module');
    assert.ok(existsSync(join(project, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')), "better-sqlite3's install script built its addon");

    for (const [folder, type] of [['esm', 'module'], ['cjs', 'commonjs']] as const) {
      const dir = join(project, folder);
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `my-app-${folder}`, private: true, type }, null, 2)}\n`);
      const style = type === 'module' ? 'import' : 'require';
      const files: Record<string, string> = {
        'app.ts': APP_TS,
        'main.js': type === 'module' ? MAIN_ESM : MAIN_CJS,
        'main.ts': MAIN_TS,
        'hello.test.ts': helloTest(),
        'testing.test.js': testingTest(style),
        'stack.js': stackScript(style),
        'same.ts': SAME_INSTANCE_TS,
      };
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    }
    installed = true;
  });

  for (const folder of ['esm', 'cjs'] as const) {
    const kind = folder === 'esm' ? 'an ESM project ("type": "module")' : 'a CommonJS project (npm init -y)';
    const dir = join(project, folder);

    test(`${kind}: npx duraflow start app.ts (README "A first app") serves its route, runs "hello", drains on SIGTERM`, async () => {
      needInstall();
      const { child, match, output } = await serve(dir, 'npx', ['duraflow', 'start', 'app.ts', '--port', '0'], /listening on (http\S+)/);
      const started = await postWithoutBody(`${match[1]}/api/start/hello`);
      assert.equal(started.status, 202, started.body);
      const status = await finished((JSON.parse(started.body) as { statusQueryGetUri: string }).statusQueryGetUri);
      assert.equal(status.runtimeStatus, 'Completed');
      assert.deepEqual(status.output, ['Hello Tokyo!', 'Hello Seattle!']);
      // npm itself ends by the signal; duraflow drains and the whole group exits (its exit code: the test below).
      const ended = await terminate(child);
      assert.ok(ended.code === 0 || ended.signal === 'SIGTERM', JSON.stringify(ended));
      assert.match(output(), /draining/);
    });

    test(`${kind}: node_modules/.bin/duraflow start (no npx) loads a .ts app whose 'duraflow' is the CLI's own instance, exits 0 on SIGTERM`, async () => {
      needInstall();
      const { child, match } = await serve(dir, join(project, 'node_modules/.bin/duraflow'), ['start', 'same.ts', '--port', '0'], /listening on (http\S+)/);
      const started = await fetch(`${match[1]}/runtime/webhooks/durabletask/orchestrators/same`, { method: 'POST' });
      assert.equal(started.status, 202);
      const status = await finished(((await started.json()) as { statusQueryGetUri: string }).statusQueryGetUri);
      assert.equal(status.output, true);
      assert.deepEqual(await terminate(child), { code: 0, signal: null });
    });

    test(`${kind}: DFApp and createClient from plain Node, main.js (README "${SECTION}") and main.ts through npx tsx`, async () => {
      needInstall();
      const expected = expectedLogs(MAIN_CJS);
      assert.deepEqual((await ok(dir, 'node', ['main.js'])).trim().split('\n'), expected);
      assert.deepEqual((await ok(dir, 'npx', ['tsx', 'main.ts'])).trim().split('\n'), expected);
    });

    test(`${kind}: duraflow/testing, README "Testing your orchestrations" through npx tsx --test, and from plain node --test`, async () => {
      needInstall();
      await ok(dir, 'npx', ['tsx', '--test', 'hello.test.ts']);
      await ok(dir, 'node', ['--test', 'testing.test.js']);
    });

    test(`${kind}: a stack trace from inside the package names only files that ship (node, and tsx with source maps)`, async () => {
      needInstall();
      assertStackShips(await ok(dir, 'node', ['stack.js']), `${folder}: node stack.js`);
      assertStackShips(await ok(dir, 'npx', ['tsx', 'stack.js']), `${folder}: npx tsx stack.js`);
    });
  }
});
