/**
 * Crash tests at chosen points: a worker process SIGKILLs itself at the Nth call of a store method, before
 * the call (mid-episode, result not yet recorded) or right after it returned (committed, not yet acted
 * on). A new worker must complete every instance with the right output and a clean history.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { killAllChildren } from '../support/child-processes.js';
import { assertCleanInstance } from '../support/history-checks.js';
import { testStores } from '../support/stores.js';
import { assertNothingLeft, createFaultEnv, waitAllCompleted, type FaultEnv } from './fault-env.js';
import { expectedFamily, expectedMixed } from './fixtures/fault-app.js';

const SHORT_LEASES = { activityLeaseMs: 1000, orchestrationLeaseMs: 1000, pollIntervalMs: 50 };

for (const store of testStores()) {
  describe(`crash points on ${store.name}`, () => {
    let env: FaultEnv | undefined;
    afterEach(async () => {
      await env?.dispose();
      env = undefined;
    });
    after(killAllChildren);

    // Mid-episode (leased, not committed); right after a commit; an activity's result committed but the
    // worker gone; instances claimed but never run. (A kill mid-activity is in crash.test.ts.) In-memory results
    // commit without a new lease (under the previous commit's epoch), so the commitEpisodes points cover them.
    // Results go through the inbox (completeActivities) only when the worker keeps none in memory.
    const crashPoints: {
      method: 'commitEpisodes' | 'completeActivities' | 'claimOrchestrations';
      when: 'before' | 'after';
      inbox?: boolean;
    }[] = [
      { method: 'commitEpisodes', when: 'before' },
      { method: 'commitEpisodes', when: 'after' },
      { method: 'completeActivities', when: 'after', inbox: true },
      { method: 'claimOrchestrations', when: 'after' },
    ];
    for (const { method, when, inbox } of crashPoints) {
      test(`kill -9 ${when} ${method}: a new worker completes every instance cleanly`, { timeout: 60_000 }, async () => {
        env = await createFaultEnv(store);
        const ids: string[] = [];
        for (let n = 0; n < 5; n++) ids.push(await env.client.startNew('mixed', { instanceId: `m${n}`, input: n }));
        await env.client.startNew('family', { instanceId: 'fam', input: 7 });
        const worker = inbox ? { ...SHORT_LEASES, activityResultsInMemory: false } : SHORT_LEASES;
        const doomed = await env.startWorker({ worker, crashAt: { method, nth: 4, when } });
        const exit = await doomed.waitForExit(30_000);
        assert.equal(exit.signal, 'SIGKILL', `the worker killed itself ${when} ${method} (stderr: ${doomed.stderr})`);

        const survivor = await env.startWorker({ worker: SHORT_LEASES });
        const outputs = await waitAllCompleted(env.client, ids, 30_000);
        for (let n = 0; n < 5; n++) assert.deepEqual(outputs.get(`m${n}`), expectedMixed(n));
        assert.deepEqual((await waitAllCompleted(env.client, ['fam'], 30_000)).get('fam'), expectedFamily(7));
        for (const id of [...ids, 'fam', 'fam:1', 'fam:2']) await assertCleanInstance(env.hub, id);
        survivor.signal('SIGTERM');
        assert.equal((await survivor.waitForExit(20_000)).code, 0);
        await assertNothingLeft(env.hub);
      });
    }
  });
}
