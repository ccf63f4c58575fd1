/**
 * `duraflow instances raise|suspend|resume|terminate|restart|rewind|purge` as real child processes, through
 * the host's API and the store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, cli, startCliHost, waitForStatus, type CliHost } from './cli-support.js';

let h: CliHost;
before(async () => {
  h = await startCliHost();
});
after(() => h?.stop());

describe('duraflow instances steering', () => {
  test('raise, suspend, resume, terminate, restart and purge through the API', async () => {
    const { client, U } = h;
    await client.startNew('approval', { instanceId: 'cli-steer' });
    await waitForStatus(client, 'cli-steer', 'Running');
    assert.equal((await cli(['instances', 'suspend', 'cli-steer', '--reason', 'pause', ...U])).code, 0);
    await waitForStatus(client, 'cli-steer', 'Suspended');
    assert.equal((await cli(['instances', 'resume', 'cli-steer', ...U])).code, 0);
    await waitForStatus(client, 'cli-steer', 'Running');
    const raised = await cli(['instances', 'raise', 'cli-steer', 'Approve', '--data', '{"by": "cli"}', ...U]);
    assert.equal(raised.code, 0, raised.stderr);
    assert.equal(raised.stdout.trim(), "Raised 'Approve' on cli-steer.");
    assert.deepEqual((await client.waitForCompletion('cli-steer', { timeoutInMilliseconds: 20_000 })).output, { approved: { by: 'cli' } });

    assertOneLineError(await cli(['instances', 'terminate', 'cli-steer', ...U]), /^duraflow: Cannot terminate instance 'cli-steer': it is already Completed\.$/);

    const restarted = await cli(['instances', 'restart', 'cli-steer', '--json', ...U]);
    const newId = (JSON.parse(restarted.stdout) as { instanceId: string }).instanceId;
    assert.notEqual(newId, 'cli-steer');
    await waitForStatus(client, newId, 'Running');
    assert.equal((await cli(['instances', 'terminate', newId, '--reason', 'enough', ...U])).code, 0);
    await waitForStatus(client, newId, 'Terminated');
    assert.equal((await client.getStatus(newId))?.output, 'enough');

    const purged = await cli(['instances', 'purge', 'cli-steer', ...U]);
    assert.equal(purged.stdout.trim(), 'Purged 1 instance.');
    assert.equal(await client.getStatus('cli-steer'), undefined);
  });

  test('rewind sends a failed instance back to work', async () => {
    const { client, S } = h;
    await client.startNew('broken', { instanceId: 'cli-broken' });
    await client.startNew('echo', { instanceId: 'cli-done', input: 1 });
    await client.waitForCompletion('cli-broken', { timeoutInMilliseconds: 20_000 });
    await client.waitForCompletion('cli-done', { timeoutInMilliseconds: 20_000 });
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
    assertOneLineError(await cli(['instances', 'rewind', 'cli-done', ...S]), /^duraflow: Only failed instances can be rewound; 'cli-done' is Completed\.$/);
  });

  test('purge by filter deletes only finished matching instances and needs a filter', async () => {
    const { client, S } = h;
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
});
