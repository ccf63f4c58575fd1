/**
 * `duraflow instances …` and `duraflow entities …` run as real child processes against a host started here:
 * through the store (`--store`) and through the host's API (`--url`, `--api-key`). Tables, `--json`, live
 * progress with `--wait` and its exit codes, steering, purge, help texts and one-line errors.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { EntityId, type DurableClient } from '../../src/index.js';
import type { Host } from '../../src/app/df-app.js';
import { sqliteTestStore } from '../support/stores.js';
import { createDashboardApp } from '../dashboard/dashboard-app.js';

const CLI = new URL('../../bin/duraflow.js', import.meta.url).pathname;
const KEY = 'cli-test-key';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (bounded by `timeoutMs`). */
function cli(args: string[], timeoutMs = 60_000): Promise<Run> {
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
      reject(new Error(`duraflow ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Asserts a failed run printed exactly one `duraflow: …` line matching `pattern`. */
function assertOneLineError(run: Run, pattern: RegExp): void {
  assert.notEqual(run.code, 0, `expected a failure; stdout: ${run.stdout}`);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one error line, got: ${run.stderr}`);
  assert.match(lines[0]!, pattern);
}

let host: Host;
let client: DurableClient;
let storeUrl: string;
let cleanup: () => Promise<void>;
let S: string[];
let U: string[];

before(async () => {
  const store = await sqliteTestStore.create();
  storeUrl = store.url;
  cleanup = store.cleanup;
  host = await createDashboardApp(store.url, KEY, { worker: { pollIntervalMs: 50 } }).start({ port: 0 });
  client = host.client;
  S = ['--store', storeUrl];
  U = ['--url', host.url, '--api-key', KEY];
});

after(async () => {
  await host?.stop();
  await cleanup?.();
});

async function waitForStatus(id: string, status: string): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if ((await client.getStatus(id))?.runtimeStatus === status) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${id} never reached ${status}`);
}

describe('duraflow instances', () => {
  test('start --wait shows live progress, prints the output and exits 0 on Completed', async () => {
    const run = await cli(['instances', 'start', 'pipeline', '--id', 'cli-pipeline', '--wait', ...S]);
    assert.equal(run.code, 0, run.stderr);
    const status = await client.getStatus('cli-pipeline');
    assert.equal(status?.runtimeStatus, 'Completed');
    assert.deepEqual(JSON.parse(run.stdout), status?.output);
    assert.match(run.stderr, /^started pipeline cli-pipeline$/m);
    assert.match(run.stderr, /^Completed · [\d.]+ \w+ · 2 activities done \(last: greet\) · custom status: \{"step":"done"\}$/m);
    assert.match(run.stderr, /^(Pending|Running) · /m, 'progress before the end');
  });

  test('start --wait exits 1 on Failed (printing the failure) and 3 when --timeout passes first', async () => {
    const failed = await cli(['instances', 'start', 'broken', '--id', 'cli-broken', '--wait', ...U]);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /^Status: +Failed$/m);
    assert.match(failed.stdout, /TypeError: the widget exploded/);
    const waiting = await cli(['instances', 'start', 'approval', '--id', 'cli-timeout', '--wait', '--timeout', '1', '--json', ...S]);
    assert.equal(waiting.code, 3);
    assert.equal((JSON.parse(waiting.stdout) as { runtimeStatus: string }).runtimeStatus, 'Running');
    await client.terminate('cli-timeout', 'test over');
  });

  test('start without --wait prints the id; --input is JSON; terminated --wait exits 2', async () => {
    const started = await cli(['instances', 'start', 'echo', '--input', '{"a": [1, "<x>"]}', ...U]);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    assert.deepEqual((await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 })).output, { a: [1, '<x>'] });
    const waiter = cli(['instances', 'start', 'approval', '--id', 'cli-terminated', '--wait', ...S]);
    await waitForStatus('cli-terminated', 'Running');
    await client.terminate('cli-terminated', 'stop');
    assert.equal((await waiter).code, 2);
  });

  test('list: newest first as a table or JSON, with status, name and prefix filters', async () => {
    await client.startNew('echo', { instanceId: 'list-a', input: 1 });
    await client.waitForCompletion('list-a', { timeoutInMilliseconds: 20_000 });
    const all = (await client.getStatusAll()).filter((s) => !s.instanceId.startsWith('@'));
    const json = await cli(['instances', 'list', '--json', '--limit', '0', ...S]);
    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout) as { instanceId: string; createdTime: string }[];
    assert.deepEqual(new Set(listed.map((s) => s.instanceId)), new Set(all.map((s) => s.instanceId)));
    const times = listed.map((s) => Date.parse(s.createdTime));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));

    const failed = await cli(['instances', 'list', '--status', 'failed', ...U]);
    assert.equal(failed.code, 0, failed.stderr);
    const lines = failed.stdout.trim().split('\n');
    assert.match(lines[0]!, /^INSTANCE ID +NAME +VERSION +STATUS +CREATED \(UTC\) +DURATION +CUSTOM STATUS$/);
    assert.match(lines[1]!, /^cli-broken +broken +Failed /);
    assert.match(failed.stdout, /1 of 1 shown/);

    const named = JSON.parse((await cli(['instances', 'list', '--name', 'ECH', '--prefix', 'list-', '--json', ...S])).stdout) as { instanceId: string }[];
    assert.deepEqual(named.map((s) => s.instanceId), ['list-a']);

    const page = JSON.parse((await cli(['instances', 'list', '--page-size', '2', '--json', ...S])).stdout) as { instances: unknown[]; continuationToken: string | null };
    assert.equal(page.instances.length, 2);
    assert.equal(typeof page.continuationToken, 'string');
  });

  test('get and history show an instance, as text or JSON, through the store and the API', async () => {
    const expected = await client.getStatus('cli-pipeline', { showHistory: true, showHistoryOutput: true });
    const json = JSON.parse((await cli(['instances', 'get', 'cli-pipeline', '--json', ...U])).stdout) as { output: unknown; runtimeStatus: string };
    assert.equal(json.runtimeStatus, 'Completed');
    assert.deepEqual(json.output, expected?.output);
    const text = await cli(['instances', 'get', 'cli-pipeline', ...S]);
    assert.match(text.stdout, /^Status: +Completed$/m);
    assert.match(text.stdout, /^Custom status:\n {2}\{\n {4}"step": "done"\n {2}\}$/m);
    const history = await cli(['instances', 'history', 'cli-pipeline', '--json', ...S]);
    assert.deepEqual(JSON.parse(history.stdout), expected?.history);
    const table = await cli(['instances', 'history', 'cli-pipeline', ...U]);
    assert.match(table.stdout, /^#\s+TIME \(UTC\)\s+EVENT\s+ID\s+DETAILS$/m);
    assert.match(table.stdout, /TaskScheduled +#0 +greet +input "Tokyo"/);
    assert.match(table.stdout, /SubOrchestrationInstanceCreated +#3 +child +instance cli-pipeline:3/);
  });

  test('raise, suspend, resume, terminate, restart and purge through the API', async () => {
    await client.startNew('approval', { instanceId: 'cli-steer' });
    await waitForStatus('cli-steer', 'Running');
    assert.equal((await cli(['instances', 'suspend', 'cli-steer', '--reason', 'pause', ...U])).code, 0);
    await waitForStatus('cli-steer', 'Suspended');
    assert.equal((await cli(['instances', 'resume', 'cli-steer', ...U])).code, 0);
    await waitForStatus('cli-steer', 'Running');
    const raised = await cli(['instances', 'raise', 'cli-steer', 'Approve', '--data', '{"by": "cli"}', ...U]);
    assert.equal(raised.code, 0, raised.stderr);
    assert.equal(raised.stdout.trim(), "Raised 'Approve' on cli-steer.");
    assert.deepEqual((await client.waitForCompletion('cli-steer', { timeoutInMilliseconds: 20_000 })).output, { approved: { by: 'cli' } });

    assertOneLineError(await cli(['instances', 'terminate', 'cli-steer', ...U]), /^duraflow: Cannot terminate instance 'cli-steer': it is already Completed\.$/);

    const restarted = await cli(['instances', 'restart', 'cli-steer', '--json', ...U]);
    const newId = (JSON.parse(restarted.stdout) as { instanceId: string }).instanceId;
    assert.notEqual(newId, 'cli-steer');
    await waitForStatus(newId, 'Running');
    assert.equal((await cli(['instances', 'terminate', newId, '--reason', 'enough', ...U])).code, 0);
    await waitForStatus(newId, 'Terminated');
    assert.equal((await client.getStatus(newId))?.output, 'enough');

    const purged = await cli(['instances', 'purge', 'cli-steer', ...U]);
    assert.equal(purged.stdout.trim(), 'Purged 1 instance.');
    assert.equal(await client.getStatus('cli-steer'), undefined);
  });

  test('rewind sends a failed instance back to work', async () => {
    const before = (await client.getStatus('cli-broken'))!;
    assert.equal(before.runtimeStatus, 'Failed');
    const run = await cli(['instances', 'rewind', 'cli-broken', '--reason', 'try again', ...S]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'Rewind requested for cli-broken.');
    // The activity always throws, so the rewound instance runs it again and fails again, later.
    let after = before;
    for (let i = 0; i < 800 && !(after.runtimeStatus === 'Failed' && after.lastUpdatedTime > before.lastUpdatedTime); i++) {
      await new Promise((r) => setTimeout(r, 25));
      after = (await client.getStatus('cli-broken'))!;
    }
    assert.equal(after.runtimeStatus, 'Failed');
    assert.ok(after.lastUpdatedTime > before.lastUpdatedTime, 'the instance ran again after the rewind');
    assertOneLineError(await cli(['instances', 'rewind', 'cli-pipeline', ...S]), /^duraflow: Only failed instances can be rewound; 'cli-pipeline' is Completed\.$/);
  });

  test('purge by filter deletes only finished matching instances and needs a filter', async () => {
    await client.startNew('echo', { instanceId: 'purge-x1', input: 1 });
    await client.startNew('echo', { instanceId: 'purge-x2', input: 2 });
    await client.startNew('approval', { instanceId: 'purge-live' });
    for (const id of ['purge-x1', 'purge-x2']) await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
    const run = await cli(['instances', 'purge', '--prefix', 'purge-', '--json', ...S]);
    assert.deepEqual(JSON.parse(run.stdout), { instancesDeleted: 2 });
    assert.ok(await client.getStatus('purge-live'));
    assertOneLineError(await cli(['instances', 'purge', ...S]), /^duraflow: Give an instance id, or at least one filter/);
    await client.terminate('purge-live', 'done');
  });

  test('bad input and a wrong key are one clear line and a non-zero exit code', async () => {
    assertOneLineError(await cli(['instances', 'start', 'echo', '--input', '{oops', ...S]), /^duraflow: --input must be JSON/);
    assertOneLineError(await cli(['instances', 'start', 'nope', ...U]), /^duraflow: .*'nope'.*'pipeline'/);
    assertOneLineError(await cli(['instances', 'list', '--status', 'Sleeping', ...S]), /^duraflow: Unknown status 'Sleeping'/);
    assertOneLineError(await cli(['instances', 'list', '--from', 'yesterday', ...S]), /^duraflow: --from must be an ISO-8601 time/);
    assertOneLineError(await cli(['instances', 'get', 'missing', ...U]), /^duraflow: No instance with id 'missing'/);
    assertOneLineError(await cli(['instances', 'get', 'missing', '--url', host.url, '--api-key', 'wrong']), /^duraflow: .*(key|401)/i);
    assertOneLineError(await cli(['instances', 'get', 'x', '--url', host.url, ...S]), /^duraflow: Give either --store or --url/);
    assertOneLineError(await cli(['instances', 'list', '--bogus', ...S]), /unknown option '--bogus'/);
  });
});

describe('duraflow entities', () => {
  test('signal, get and list an entity through the store', async () => {
    const signalled = await cli(['entities', 'signal', 'Counter', 'c-1', 'add', '--input', '4', ...S]);
    assert.equal(signalled.code, 0, signalled.stderr);
    assert.equal(signalled.stdout.trim(), "Signalled 'add' to counter / c-1.");
    for (let i = 0; i < 800 && (await client.readEntityState(new EntityId('Counter', 'c-1'))).entityState !== 4; i++) await new Promise((r) => setTimeout(r, 25));
    const got = JSON.parse((await cli(['entities', 'get', 'Counter', 'c-1', '--json', ...S])).stdout) as Record<string, unknown>;
    assert.deepEqual({ ...got, lastOperationTime: undefined }, { entityId: { name: 'counter', key: 'c-1' }, entityExists: true, state: 4, pendingOperations: [], lastOperationTime: undefined });
    const text = await cli(['entities', 'get', 'counter', 'c-1', ...S]);
    assert.match(text.stdout, /^State: 4$/m);
    assert.match(text.stdout, /^Locked by: +\(not locked\)$/m);
    const listed = JSON.parse((await cli(['entities', 'list', '--json', ...S])).stdout) as { name: string; key: string; state: unknown }[];
    assert.deepEqual(listed.map((e) => [e.name, e.key, e.state]), [['counter', 'c-1', 4]]);
    assertOneLineError(await cli(['entities', 'get', 'Counter', 'nobody', ...S]), /^duraflow: No entity 'counter' with key 'nobody'\.$/);
  });

  test('signal, get and list an entity through the API', async () => {
    const signalled = await cli(['entities', 'signal', 'Counter', 'u-1', 'add', '--input', '9', ...U]);
    assert.equal(signalled.code, 0, signalled.stderr);
    for (let i = 0; i < 800 && (await client.readEntityState(new EntityId('Counter', 'u-1'))).entityState !== 9; i++) await new Promise((r) => setTimeout(r, 25));
    const got = JSON.parse((await cli(['entities', 'get', 'Counter', 'u-1', '--json', ...U])).stdout) as { entityExists: boolean; state: unknown };
    assert.equal(got.entityExists, true);
    assert.equal(got.state, 9);
    const listed = JSON.parse((await cli(['entities', 'list', '--name', 'counter', '--json', ...U])).stdout) as { key: string; state: unknown }[];
    assert.deepEqual(listed.find((e) => e.key === 'u-1')?.state, 9);
  });
});

test('every command has --help with an example', async () => {
  const commands = [
    ['instances'],
    ...['list', 'get', 'history', 'start', 'raise', 'terminate', 'suspend', 'resume', 'rewind', 'restart', 'purge'].map((c) => ['instances', c]),
    ['entities', 'list'],
    ['entities', 'get'],
    ['entities', 'signal'],
    ['start'],
    ['worker'],
  ];
  const runs = await Promise.all(commands.map((c) => cli([...c, '--help'])));
  runs.forEach((run, i) => {
    assert.equal(run.code, 0, commands[i]!.join(' '));
    assert.match(run.stdout, /Examples?:\n {2}duraflow /, commands[i]!.join(' '));
  });
});
