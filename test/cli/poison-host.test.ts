/**
 * The CLI's processes survive user code: a real `duraflow start` (and `duraflow worker`) child runs an app
 * whose orchestrator yields a rejecting Promise and whose orchestrator, activity, entity and route leak
 * rejected Promises and throwing timers. The poison instance fails with the message, the leaks are logged
 * through the app's logger, and the same process then completes a normal orchestration and exits 0 on SIGTERM.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createClient } from '../../src/index.js';
import { Child, killAllChildren, waitFor } from '../support/child-processes.js';
import { sqliteTestStore } from '../support/stores.js';

const CLI = 'bin/duraflow.js';
const FIXTURE = 'test/cli/fixtures/poison-app.ts';
const WAIT = { timeoutInMilliseconds: 30_000 };

/** Every leak of `where` (a rejection and a throwing timer) was logged. */
async function leaksLogged(child: Child, where: string): Promise<void> {
  await child.waitForLine((l) => l.includes('unhandled promise rejection') && l.includes(`${where} leaked a rejection`), 30_000, `${where}'s rejection logged`);
  await child.waitForLine((l) => l.includes('uncaught exception') && l.includes(`${where} timer threw`), 30_000, `${where}'s timer logged`);
}

describe('the CLI process guards', () => {
  after(killAllChildren);

  test('duraflow start: a poison orchestration fails with the message, leaks are logged, and the host then completes a normal orchestration', async () => {
    const { url: store, cleanup } = await sqliteTestStore.create();
    const child = new Child(CLI, ['start', FIXTURE, '--port', '0', '--store', store]);
    try {
      const listening = await child.waitForLine((l) => /listening on (\S+)/.test(l), 60_000, 'the host to listen');
      const base = /listening on (\S+)/.exec(listening)![1]!;
      const client = await createClient({ url: base });
      try {
        const poison = await client.waitForCompletion(await client.startNew('poisonYield'), WAIT);
        assert.equal(poison.runtimeStatus, 'Failed');
        assert.match(poison.failureDetails?.message ?? '', /'poisonYield' yielded a Promise, which is not allowed/);

        const leaky = await client.waitForCompletion(await client.startNew('leaky'), WAIT);
        assert.equal(leaky.runtimeStatus, 'Completed');
        assert.deepEqual(leaky.output, { activity: 'activity ok', entity: 1 });
        const route = await fetch(`${base}/api/leak`);
        assert.equal(route.status, 200);
        for (const where of ['orchestrator', 'activity', 'entity', 'route']) await leaksLogged(child, where);

        const hello = await client.waitForCompletion(await client.startNew('hello', { input: 'Tokyo' }), WAIT);
        assert.equal(hello.output, 'Hello Tokyo!');
        assert.equal(child.hasExited, false);
        // The refused fetch was defused: its rejection never reached the guards.
        assert.equal(child.lines.filter((l) => l.includes('fetch failed')).length, 0, child.lines.join('\n'));
      } finally {
        await client.close();
      }
      child.signal('SIGTERM');
      assert.deepEqual(await child.waitForExit(30_000), { code: 0, signal: null });
    } finally {
      await child.kill();
      await cleanup();
    }
  });

  test('duraflow worker: leaks are logged and the worker goes on', async () => {
    const { url: store, cleanup } = await sqliteTestStore.create();
    const child = new Child(CLI, ['worker', FIXTURE, '--store', store]);
    try {
      await child.waitForLine((l) => l.includes('running'), 60_000, 'the worker to start');
      const client = await createClient({ store });
      try {
        const leaky = await client.waitForCompletion(await client.startNew('leaky'), WAIT);
        assert.equal(leaky.runtimeStatus, 'Completed');
        await leaksLogged(child, 'activity');
        const hello = await client.waitForCompletion(await client.startNew('hello', { input: 'Oslo' }), WAIT);
        assert.equal(hello.output, 'Hello Oslo!');
        await waitFor(() => !child.hasExited, 1000, 'the worker to be alive');
      } finally {
        await client.close();
      }
      child.signal('SIGTERM');
      assert.deepEqual(await child.waitForExit(30_000), { code: 0, signal: null });
    } finally {
      await child.kill();
      await cleanup();
    }
  });
});
