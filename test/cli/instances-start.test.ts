/**
 * `duraflow instances start` as a real child process: `--wait` follows the instance live (progress on stderr)
 * and exits with its outcome; the report shows the input that was sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cli, startCliHost, waitForStatus, type CliHost } from './cli-support.js';

let h: CliHost;
before(async () => {
  h = await startCliHost();
});
after(() => h?.stop());

describe('duraflow instances start', () => {
  test('start --wait shows live progress, prints the output and exits 0 on Completed', async () => {
    const run = await cli(['instances', 'start', 'pipeline', '--id', 'cli-pipeline', '--wait', ...h.S]);
    assert.equal(run.code, 0, run.stderr);
    const status = await h.client.getStatus('cli-pipeline');
    assert.equal(status?.runtimeStatus, 'Completed');
    assert.deepEqual(JSON.parse(run.stdout), status?.output);
    assert.match(run.stderr, /^started pipeline cli-pipeline$/m);
    assert.match(run.stderr, /^Completed · [\d.]+ \w+ · 2 activities done \(last: greet\) · custom status: \{"step":"done"\}$/m);
    assert.match(run.stderr, /^(Pending|Running) · /m, 'progress before the end');
  });

  test('start --wait exits 1 on Failed (printing the failure and the input sent) and 3 when --timeout passes first', async () => {
    const failed = await cli(['instances', 'start', 'broken', '--id', 'cli-broken', '--input', '{"po":3}', '--wait', ...h.U]);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /^Status: +Failed$/m);
    assert.match(failed.stdout, /TypeError: the widget exploded/);
    assert.match(failed.stdout, /^Input:\n {2}\{\n {4}"po": 3\n {2}\}$/m, 'the input it sent, not (none)');
    const waiting = await cli(['instances', 'start', 'approval', '--id', 'cli-timeout', '--input', '[1,2]', '--wait', '--timeout', '1', '--json', ...h.S]);
    assert.equal(waiting.code, 3);
    const json = JSON.parse(waiting.stdout) as { runtimeStatus: string; input: unknown };
    assert.equal(json.runtimeStatus, 'Running');
    assert.deepEqual(json.input, [1, 2]);
    await h.client.terminate('cli-timeout', 'test over');
  });

  test('start without --wait prints the id; --input is JSON; terminated --wait exits 2', async () => {
    const started = await cli(['instances', 'start', 'echo', '--input', '{"a": [1, "<x>"]}', ...h.U]);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    assert.deepEqual((await h.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 })).output, { a: [1, '<x>'] });
    const waiter = cli(['instances', 'start', 'approval', '--id', 'cli-terminated', '--wait', ...h.S]);
    await waitForStatus(h.client, 'cli-terminated', 'Running');
    await h.client.terminate('cli-terminated', 'stop');
    assert.equal((await waiter).code, 2);
  });
});
