/** `duraflow schedules …` as real child processes, through the store and the host's API. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, cli, runMain, startCliHost, type CliHost } from './cli-support.js';

let h: CliHost;
before(async () => {
  h = await startCliHost();
});
after(() => h?.stop());

describe('duraflow schedules', () => {
  test('create, list, get, pause, resume, trigger and delete through the store', async () => {
    const created = await cli(['schedules', 'create', 'nightly', 'echo', '--cron', '0 2 * * *', '--time-zone', 'Europe/Berlin', '--input', '{"n":1}', '--start-at', '2031-01-01T00:00:00Z', ...h.S]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout.trim(), "Created schedule 'nightly': cron 0 2 * * * (Europe/Berlin); next run 2031-01-01 01:00:00 UTC.");
    const listed = await cli(['schedules', 'list', ...h.S]);
    assert.match(listed.stdout, /^ID +ORCHESTRATION +WHEN +STATE +NEXT RUN \(UTC\) +LAST RUN$/m);
    assert.match(listed.stdout, /^nightly +echo +cron 0 2 \* \* \* \(Europe\/Berlin\) +Active +2031-01-01 01:00:00$/m);
    assert.equal((await cli(['schedules', 'pause', 'nightly', '--reason', 'quiet week', ...h.S])).stdout.trim(), "Paused schedule 'nightly'.");
    const triggered = await cli(['schedules', 'trigger', 'nightly', '--json', ...h.S]);
    const { instanceId } = JSON.parse(triggered.stdout) as { instanceId: string };
    assert.match(instanceId, /^nightly:/);
    assert.deepEqual((await h.client.waitForCompletion(instanceId, { timeoutInMilliseconds: 10_000 })).output, { n: 1 });
    const got = await cli(['schedules', 'get', 'nightly', ...h.S]);
    assert.match(got.stdout, /^State: +Paused \(quiet week\)$/m);
    assert.match(got.stdout, new RegExp(`triggered +${instanceId.replace(/[.]/g, '\\.')}$`, 'm'));
    const json = JSON.parse((await cli(['schedules', 'get', 'nightly', '--json', ...h.S])).stdout) as { state: string; recentRuns: { outcome: string }[] };
    assert.deepEqual([json.state, json.recentRuns[0]?.outcome], ['Paused', 'triggered']);
    assert.match((await cli(['schedules', 'resume', 'nightly', ...h.S])).stdout, /^Resumed schedule 'nightly'; next run 2031-01-01 01:00:00 UTC\.$/m);
    assert.equal((await cli(['schedules', 'delete', 'nightly', ...h.S])).stdout.trim(), "Deleted schedule 'nightly'.");
    assertOneLineError(await cli(['schedules', 'get', 'nightly', ...h.S]), /^duraflow: No schedule 'nightly'\.$/);
  });

  test('through the API, with typed errors as one line', async () => {
    const created = await cli(['schedules', 'create', 'poll', 'echo', '--every', '5m', '--overlap', 'bufferOne', '--json', ...h.U]);
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual([JSON.parse(created.stdout).every, JSON.parse(created.stdout).overlap], [300_000, 'bufferOne']);
    assertOneLineError(await cli(['schedules', 'create', 'poll', 'echo', '--every', '5m', ...h.U]), /^duraflow: A schedule with id 'poll' already exists/);
    assertOneLineError(await cli(['schedules', 'create', 'bad', 'echo', '--cron', 'every day', ...h.U]), /^duraflow: Invalid cron expression 'every day'/);
    assertOneLineError(await cli(['schedules', 'create', 'bad', 'ghost', '--every', '1m', ...h.U]), /^duraflow: The orchestration 'ghost' of the schedule is not registered/);
    assertOneLineError(await cli(['schedules', 'pause', 'nobody', ...h.U]), /^duraflow: No schedule with id 'nobody' was found\.$/);
    assert.equal((await cli(['schedules', 'delete', 'poll', ...h.U])).code, 0);
  });

  test('option checks', async () => {
    const every = await runMain(['schedules', 'create', 'x', 'echo', '--every', 'often']);
    assert.match(every.stderr, /--every takes milliseconds or a duration like 30s, 5m, 1h, 1d; got 'often'/);
    const overlap = await runMain(['schedules', 'create', 'x', 'echo', '--every', '1m', '--overlap', 'queue', ...h.S]);
    assert.match(overlap.stderr, /--overlap takes one of skip, bufferOne, allow; got 'queue'/);
    assert.equal((await h.client.listSchedules()).length, 0);
  });
});
