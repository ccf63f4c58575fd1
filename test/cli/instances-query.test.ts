/**
 * `duraflow instances list|get|history` as real child processes, through the store (`--store`) and the host's
 * API (`--url`): tables newest first, filters, raw paging, `--json`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cli, startCliHost, type CliHost } from './cli-support.js';

let h: CliHost;
before(async () => {
  h = await startCliHost();
  await h.client.startNew('pipeline', { instanceId: 'cli-pipeline' });
  await h.client.startNew('broken', { instanceId: 'cli-broken' });
  await h.client.startNew('echo', { instanceId: 'list-a', input: 1 });
  for (const id of ['cli-pipeline', 'cli-broken', 'list-a']) await h.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
});
after(() => h?.stop());

describe('duraflow instances list, get, history', () => {
  test('list: newest first as a table or JSON, with status, name and prefix filters', async () => {
    const all = (await h.client.getStatusAll()).filter((s) => !s.instanceId.startsWith('@'));
    const json = await cli(['instances', 'list', '--json', '--limit', '0', ...h.S]);
    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout) as { instanceId: string; createdTime: string }[];
    assert.deepEqual(new Set(listed.map((s) => s.instanceId)), new Set(all.map((s) => s.instanceId)));
    const times = listed.map((s) => Date.parse(s.createdTime));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));

    const failed = await cli(['instances', 'list', '--status', 'failed', ...h.U]);
    assert.equal(failed.code, 0, failed.stderr);
    const lines = failed.stdout.trim().split('\n');
    assert.match(lines[0]!, /^INSTANCE ID +NAME +VERSION +STATUS +CREATED \(UTC\) +DURATION +TAGS +CUSTOM STATUS$/);
    assert.match(lines[1]!, /^cli-broken +broken +Failed /);
    assert.match(failed.stdout, /1 of 1 shown/);

    const named = JSON.parse((await cli(['instances', 'list', '--name', 'ECH', '--prefix', 'list-', '--json', ...h.S])).stdout) as { instanceId: string }[];
    assert.deepEqual(named.map((s) => s.instanceId), ['list-a']);

    const page = JSON.parse((await cli(['instances', 'list', '--page-size', '2', '--json', ...h.S])).stdout) as { instances: unknown[]; continuationToken: string | null };
    assert.equal(page.instances.length, 2);
    assert.equal(typeof page.continuationToken, 'string');
  });

  test('get and history show an instance, as text or JSON, through the store and the API', async () => {
    const expected = await h.client.getStatus('cli-pipeline', { showHistory: true, showHistoryOutput: true });
    const json = JSON.parse((await cli(['instances', 'get', 'cli-pipeline', '--json', ...h.U])).stdout) as { output: unknown; runtimeStatus: string };
    assert.equal(json.runtimeStatus, 'Completed');
    assert.deepEqual(json.output, expected?.output);
    const text = await cli(['instances', 'get', 'cli-pipeline', ...h.S]);
    assert.match(text.stdout, /^Status: +Completed$/m);
    assert.match(text.stdout, /^Custom status:\n {2}\{\n {4}"step": "done"\n {2}\}$/m);
    const history = await cli(['instances', 'history', 'cli-pipeline', '--json', ...h.S]);
    assert.deepEqual(JSON.parse(history.stdout), expected?.history);
    const table = await cli(['instances', 'history', 'cli-pipeline', ...h.U]);
    assert.match(table.stdout, /^#\s+TIME \(UTC\)\s+EVENT\s+ID\s+DETAILS$/m);
    assert.match(table.stdout, /TaskScheduled +#0 +greet +input "Tokyo"/);
    assert.match(table.stdout, /SubOrchestrationInstanceCreated +#3 +child +instance cli-pipeline:3/);
  });
});
