/**
 * History export: `duraflow instances export` (over a store and over the HTTP API), `GET /export`, and the
 * exported file fed back to `replayHistory` and `replayCheck({ file })`, so a production history becomes a test.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DFApp, parseExport, type Host } from '../../src/index.js';
import { readHistoryFile, replayCheck, replayHistory } from '../../src/testing/index.js';
import { sqliteTestStore } from '../support/stores.js';
import { cli } from './cli-support.js';

const KEY = 'export-key';

function buildApp(store: string, activity = 'greet'): DFApp {
  const app = new DFApp({ store, apiKey: KEY, worker: { pollIntervalMs: 20 } });
  app.activity(activity, async (name: string) => `Hello ${name}!`);
  app.orchestration('greetings', function* (ctx) {
    const a = yield ctx.callActivity(activity, 'Ada');
    const b = yield ctx.callActivity(activity, ctx.getInput<string>());
    return [a, b];
  });
  app.orchestration('waiter', function* (ctx) {
    return yield ctx.waitForExternalEvent('go');
  });
  return app;
}

describe('history export', () => {
  let host: Host;
  let storeUrl: string;
  let cleanup: () => Promise<void>;
  const dir = mkdtempSync(join(tmpdir(), 'duraflow-export-'));
  before(async () => {
    ({ url: storeUrl, cleanup } = await sqliteTestStore.create());
    host = await buildApp(storeUrl).start({ port: 0 });
    await host.client.startNew('greetings', { instanceId: 'g-1', input: 'Grace' });
    await host.client.waitForCompletion('g-1', { timeoutInMilliseconds: 10_000 });
    await host.client.startNew('waiter', { instanceId: 'w-1', input: { n: 0 } });
    for (let i = 0; i < 200 && (await host.client.getStatus('w-1'))?.runtimeStatus !== 'Running'; i++) await new Promise((r) => setTimeout(r, 20));
  });
  after(async () => {
    await host.stop();
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('instances export --store writes one instance per line, with status, input, output and history with results', async () => {
    const file = join(dir, 'all.jsonl');
    const run = await cli(['instances', 'export', '--store', storeUrl, '--out', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /exported 2 instances/);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 2);
    const [done, waiting] = parseExport(readFileSync(file, 'utf8'));
    assert.equal(done!.instanceId, 'g-1');
    assert.equal(done!.runtimeStatus, 'Completed');
    assert.equal(done!.input, 'Grace');
    assert.deepEqual(done!.output, ['Hello Ada!', 'Hello Grace!']);
    const completions = done!.history.filter((e) => e.eventType === 'TaskCompleted');
    assert.deepEqual(completions.map((e) => (e as { result?: string }).result), ['"Hello Ada!"', '"Hello Grace!"']);
    assert.equal(waiting!.instanceId, 'w-1');
    assert.equal(waiting!.runtimeStatus, 'Running');
    assert.deepEqual(waiting!.input, { n: 0 });
  });

  test('over the HTTP API (--url) with filters, and to stdout', async () => {
    const run = await cli(['instances', 'export', '--url', host.url, '--api-key', KEY, '--status', 'Running']);
    assert.equal(run.code, 0, run.stderr);
    const records = parseExport(run.stdout);
    assert.deepEqual(records.map((r) => r.instanceId), ['w-1']);
    const byName = await cli(['instances', 'export', '--store', storeUrl, '--name', 'GREET']);
    assert.deepEqual(parseExport(byName.stdout).map((r) => r.instanceId), ['g-1']);
  });

  test('a failed export leaves no file behind', async () => {
    const file = join(dir, 'failed.jsonl');
    const run = await cli(['instances', 'export', '--store', storeUrl, '--id', 'g-1', '--id', 'nope', '--out', file]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /nope/);
    assert.equal(existsSync(file), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('failed')), []);
  });

  test('GET /export: one instance as a download, 404 for an unknown one, 401 without the key', async () => {
    const base = `${host.url}/runtime/webhooks/durabletask`;
    const auth = { 'x-functions-key': KEY };
    const one = await fetch(`${base}/export?instanceId=g-1`, { headers: auth });
    assert.equal(one.status, 200);
    assert.match(one.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    assert.equal(one.headers.get('content-disposition'), 'attachment; filename="g-1.history.jsonl"');
    assert.deepEqual(parseExport(await one.text()).map((r) => r.output), [['Hello Ada!', 'Hello Grace!']]);
    assert.equal((await fetch(`${base}/export?instanceId=missing`, { headers: auth })).status, 404);
    assert.equal((await fetch(`${base}/export`)).status, 401);
    const all = await fetch(`${base}/export?runtimeStatus=Completed,Running`, { headers: auth });
    assert.deepEqual(parseExport(await all.text()).map((r) => r.instanceId), ['g-1', 'w-1']);
  });

  test('an exported instance replays with replayHistory; a whole export with replayCheck({ file })', async () => {
    const file = join(dir, 'replay.jsonl');
    assert.equal((await cli(['instances', 'export', '--store', storeUrl, '--out', file])).code, 0);
    const [first] = readFileSync(file, 'utf8').split('\n');
    const app = buildApp('sqlite::memory:');
    assert.deepEqual(replayHistory(app, first!), { ok: true, status: 'Completed', output: ['Hello Ada!', 'Hello Grace!'] });
    const single = join(dir, 'single.jsonl');
    writeFileSync(single, first + '\n');
    assert.equal(readHistoryFile(single).length, readHistoryFile(single).filter((e) => e.eventType).length);
    assert.throws(() => readHistoryFile(file), /holds 2 instances/);

    const report = await replayCheck(app, { file });
    assert.equal(report.ok, true);
    assert.deepEqual(report.results.map((r) => [r.instanceId, r.outcome]), [['g-1', 'ok'], ['w-1', 'ok']]);
    // The same histories against changed code: the activity was renamed.
    const changed = await replayCheck(buildApp('sqlite::memory:', 'salute'), { file, statuses: ['Completed'] });
    assert.equal(changed.ok, false);
    assert.deepEqual(changed.results.map((r) => [r.instanceId, r.outcome]), [['g-1', 'breaks']]);
    assert.match(changed.results[0]!.divergence?.recorded ?? '', /greet/);
  });
});
