/**
 * The README's TypeScript examples, run as written: test/support/readme.ts takes each block out of README.md
 * (by section), `fromSource` points its `'duraflow'` imports at this checkout's sources, and the test runs it —
 * under `duraflow start`/`worker`, as a script whose printed lines must be the ones its comments show, or
 * imported beside a small harness that drives it on a `duraflow/testing` host. Each test names the section it
 * keeps true. (The section "Use duraflow in your project" needs an installed package: test/package/.)
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EntityId, ValidationError, type DFApp, type DurableClient } from '../../src/index.js';
import { createTestHost } from '../../src/testing/index.js';
import { expectedLogs, fromSource, readmeBlock } from '../support/readme.js';
import { postWithoutBody } from '../support/raw-http.js';

const CLI = fileURLToPath(new URL('../../bin/duraflow.js', import.meta.url));
const TSX = import.meta.resolve('tsx');
const WAIT = { timeoutInMilliseconds: 20_000 };
const scratch = mkdtempSync(join(tmpdir(), 'duraflow-readme-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh ESM folder (its own .duraflow/ store) holding `files`; returns its path. */
function folder(name: string, files: Record<string, string>): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

/** "A first app"'s app.ts, importing this checkout. */
const firstApp = () => fromSource(readmeBlock('A first app', 'ts', '// app.ts'));

/** Runs `node --import tsx <args>` in `cwd` to its end. */
async function node(cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Starts `duraflow <args>` in `cwd` and waits for the output line matching `ready`; returns the child and the match. */
async function startCli(cwd: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const match = ready.exec(output);
    if (match) return { child, match };
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      assert.fail(`duraflow ${args.join(' ')} did not get ready; output:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SIGTERM, then the exit code. */
async function stop(child: ChildProcess): Promise<number | null> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

/** Polls a check-status URL until the instance has finished. */
async function finished(statusUrl: string): Promise<{ runtimeStatus: string; input: unknown; output: unknown }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = (await (await fetch(statusUrl)).json()) as { runtimeStatus: string; input: unknown; output: unknown };
    if (!['Pending', 'Running'].includes(status.runtimeStatus) || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Imports a module made of README blocks (and harness lines) from `dir`. */
async function load<T>(dir: string, file: string, text: string): Promise<T> {
  writeFileSync(join(dir, file), text);
  return (await import(pathToFileURL(join(dir, file)).href)) as T;
}

describe('README', () => {
  test('"A first app": app.ts runs under `duraflow start`; its route starts "hello" with no body (the curl line) and with a JSON body', async () => {
    const dir = folder('first-app-cli', { 'app.ts': firstApp() });
    const { child, match } = await startCli(dir, ['start', 'app.ts', '--port', '0'], /listening on (http\S+)/);
    try {
      const base = match[1]!;
      const empty = await postWithoutBody(`${base}/api/start/hello`); // curl -X POST …/api/start/hello
      assert.equal(empty.status, 202, empty.body);
      const withInput = await fetch(`${base}/api/start/hello`, { method: 'POST', body: '"Tokyo"' }); // … -d '"Tokyo"'
      assert.equal(withInput.status, 202);
      for (const [response, input] of [
        [JSON.parse(empty.body) as { statusQueryGetUri: string }, null],
        [(await withInput.json()) as { statusQueryGetUri: string }, 'Tokyo'],
      ] as const) {
        const status = await finished(response.statusQueryGetUri);
        assert.equal(status.runtimeStatus, 'Completed');
        assert.deepEqual(status.output, ['Hello Tokyo!', 'Hello Seattle!']);
        assert.equal(status.input, input);
      }
    } finally {
      assert.equal(await stop(child), 0);
    }
  });

  test('"A first app": "drive it from code" prints what its comment shows', async () => {
    const drive = readmeBlock('A first app', 'ts', 'app.start({ port: 0 })');
    const dir = folder('first-app-code', { 'main.ts': `${firstApp()}\n${fromSource(drive)}` });
    const run = await node(dir, ['main.ts']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n'), expectedLogs(drive));
  });

  test('"Client": `await createClient({ store })` in another process starts and waits for an instance a `duraflow worker` runs', async () => {
    const snippet = readmeBlock('Client', 'ts', 'createClient(');
    const dir = folder('client', { 'app.ts': firstApp(), 'client.ts': fromSource(snippet) });
    const { child } = await startCli(dir, ['worker', 'app.ts'], /worker \S+ running/);
    try {
      const run = await node(dir, ['client.ts']);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.stdout.trim().split('\n'), expectedLogs(snippet));
    } finally {
      assert.equal(await stop(child), 0);
    }
  });

  test('"Schedules": the example declares, creates, triggers, pauses and deletes schedules and prints what its comments show', async () => {
    const snippet = readmeBlock('Schedules', 'ts', 'app.schedule(');
    const dir = folder('schedules', { 'main.ts': fromSource(snippet) });
    const run = await node(dir, ['main.ts']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n'), expectedLogs(snippet));
  });

  test('"Flow control": the example registers limits and priorities, runs the month-end orchestration and prints what its comment shows', async () => {
    const snippet = readmeBlock('Flow control', 'ts', 'concurrency: {');
    const dir = folder('flow-control', { 'main.ts': fromSource(snippet) });
    const run = await node(dir, ['main.ts']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n'), expectedLogs(snippet));
  });

  for (const name of ['approval', 'approvalAsync']) {
    test(`"Orchestrations": the ${name} orchestrator retries, takes the event or, after 24 h, escalates`, async () => {
      const dir = folder(`orchestrations-${name}`, {});
      const harness = `import { DFApp as ReadmeApp } from '${pathToFileURL(fileURLToPath(new URL('../../src/index.ts', import.meta.url))).href}';\nexport const app = new ReadmeApp();\n`;
      const block = readmeBlock('Orchestrations', 'ts', `app.orchestration('${name}',`);
      const { app } = await load<{ app: DFApp }>(dir, 'orchestrations.ts', harness + fromSource(block));

      const env = await createTestHost(app);
      try {
        env.mockActivity('notifyRequester', () => 'notified');
        let attempts = 0;
        env.mockActivity('requestApproval', () => {
          if (++attempts === 1) throw new Error('mail server busy'); // retried after 1 s (virtual)
          return 'sent';
        });
        const approved = await env.client.startNew(name, { input: { amount: 5 } });
        await env.client.raiseEvent(approved, 'approval', true);
        const status = await env.client.waitForCompletion(approved, WAIT);
        assert.equal(status.runtimeStatus, 'Completed');
        assert.equal(status.output, true);
        assert.equal(env.calls('requestApproval').length, 2);

        env.mockActivity('escalate', () => {
          throw new Error('nobody to escalate to'); // caught and logged by the orchestrator
        });
        const late = await env.client.startNew(name);
        assert.equal((await env.client.waitForCompletion(late, WAIT)).output, false);
        assert.equal(env.calls('escalate').length, 1);

        env.mockActivity('requestApproval', () => {
          throw new ValidationError('no approver'); // retry.handle refuses to retry a ValidationError
        });
        const invalid = await env.client.startNew(name);
        assert.equal((await env.client.waitForCompletion(invalid, WAIT)).runtimeStatus, 'Failed');
        assert.equal(env.calls('requestApproval').filter((call) => call.instanceId === invalid).length, 1);
      } finally {
        await env.stop();
      }
    });
  }

  test('"Activities": the charge activity runs with its input and returns what the payment call returns', async () => {
    const dir = folder('activities', {});
    const harness = [
      `import { DFApp as ReadmeApp } from '${pathToFileURL(fileURLToPath(new URL('../../src/index.ts', import.meta.url))).href}';`,
      'export const app = new ReadmeApp();',
      'export const charges: unknown[] = [];',
      'const payments = { charge: async (id: string, cents: number) => (charges.push([id, cents]), `receipt-${id}`) };',
      "app.orchestration('pay', function* (ctx) { return yield ctx.callActivity('charge', ctx.getInput()); });",
      '',
    ].join('\n');
    const { app, charges } = await load<{ app: DFApp; charges: unknown[] }>(
      dir,
      'activities.ts',
      harness + fromSource(readmeBlock('Activities', 'ts', "'charge'")),
    );
    const env = await createTestHost(app);
    try {
      const id = await env.client.startNew('pay', { input: { id: 'o-1', cents: 500 } });
      assert.equal((await env.client.waitForCompletion(id, WAIT)).output, 'receipt-o-1');
      assert.deepEqual(charges, [['o-1', 500]]);
    } finally {
      await env.stop();
    }
  });

  test('"Durable entities": Counter, Account and transfer, signalled from an orchestration and from a client', async () => {
    const dir = folder('entities', {});
    const harness = `import { DFApp as ReadmeApp } from '${pathToFileURL(fileURLToPath(new URL('../../src/index.ts', import.meta.url))).href}';\nexport const app = new ReadmeApp();\n`;
    const fromClient = readmeBlock('Durable entities', 'ts', 'client.signalEntity');
    const { app, fromClientSnippet } = await load<{ app: DFApp; fromClientSnippet: (client: DurableClient) => Promise<void> }>(
      dir,
      'entities.ts',
      harness +
        fromSource(readmeBlock('Durable entities', 'ts', "app.entity('Counter'")) +
        `\nexport async function fromClientSnippet(client: any) {\n${fromClient}}\n`,
    );
    const env = await createTestHost(app);
    const state = async (id: EntityId, expected: unknown) => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const read = await env.client.readEntityState(id);
        if (JSON.stringify(read.entityState) === JSON.stringify(expected) || Date.now() > deadline) return read.entityState;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    try {
      const visits = new EntityId('Counter', 'visits');
      await fromClientSnippet(env.client);
      assert.equal(await state(visits, 1), 1);
      await env.client.waitForCompletion(await env.client.startNew('countVisit'), WAIT);
      assert.equal(await state(visits, 2), 2);

      await env.client.signalEntity(new EntityId('Account', 'a'), 'deposit', 100);
      assert.deepEqual(await state(new EntityId('Account', 'a'), { balance: 100 }), { balance: 100 });
      const ok = await env.client.startNew('transfer', { input: { from: 'a', to: 'b', amount: 30 } });
      assert.equal((await env.client.waitForCompletion(ok, WAIT)).output, true);
      const refused = await env.client.startNew('transfer', { input: { from: 'a', to: 'b', amount: 500 } });
      assert.equal((await env.client.waitForCompletion(refused, WAIT)).output, false);
      assert.deepEqual((await env.client.readEntityState(new EntityId('Account', 'a'))).entityState, { balance: 70 });
      assert.deepEqual((await env.client.readEntityState(new EntityId('Account', 'b'))).entityState, { balance: 30 });
    } finally {
      await env.stop();
    }
  });

  test('"Instance tags": the tagged start, the inherited child tags and the tag filter print what the comments show', async () => {
    const dir = folder('tags', {});
    const harness = `import { DFApp as ReadmeApp } from '${pathToFileURL(fileURLToPath(new URL('../../src/index.ts', import.meta.url))).href}';\nexport const app = new ReadmeApp();\n`;
    const usage = readmeBlock('Instance tags', 'ts', 'listInstances');
    const { app, run } = await load<{ app: DFApp; run: (client: DurableClient, console: { log(value: unknown): void }) => Promise<void> }>(
      dir,
      'tags.ts',
      `${harness}${fromSource(readmeBlock('Instance tags', 'ts', "app.orchestration('invoice'"))}\nexport async function run(client, console) {\n${usage}\n}\n`,
    );
    const env = await createTestHost(app);
    try {
      const printed: string[] = [];
      await run(env.client, { log: (value) => printed.push(inspect(value)) });
      assert.deepEqual(printed, expectedLogs(usage));
    } finally {
      await env.stop();
    }
  });

  test('"Testing your orchestrations": the test snippet passes against the first app', async () => {
    const dir = folder('testing', {});
    const snippet = fromSource(readmeBlock('Testing your orchestrations', 'ts', 'createTestHost'));
    await load(dir, 'hello.test.ts', `${firstApp()}\nimport assert from 'node:assert/strict';\n${snippet}`);
  });
});
