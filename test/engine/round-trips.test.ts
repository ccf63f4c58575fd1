/**
 * The store calls a step costs. A sequence of activities on one worker must not claim, lease or ask for the
 * next due time per step: the activity is leased to the worker in the commit that schedules it, its result
 * commits fenced by the previous commit's epoch, and idle loops reuse the known due time. Counted with a
 * call-observing wrapper around the real store; the bounds are far below one call per step.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { createClient, DFApp, type DurableClient } from '../../src/index.js';
import { NextDue } from '../../src/runtime/next-due.js';
import { startWorker, type WorkerHandle, type WorkerOptions } from '../../src/runtime/worker.js';
import { acquireStore, type StoreHandle } from '../../src/store/open-store.js';
import { FaultyStore } from '../support/faulty-store.js';
import type { EpisodeCommit } from '../../src/store/store.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

const STEPS = 40;

for (const store of engineStores()) {
  describe(`store calls per step on ${store.label}`, () => {
    useOrchestratorStyle(store);
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    /** A worker over an observed store, and a client. */
    const setup = async (register: (app: DFApp) => void, options: WorkerOptions = {}) => {
      const created = await store.create();
      const handle: StoreHandle = await acquireStore(created.url);
      const app = new DFApp({ store: created.url });
      register(app);
      const observed = new FaultyStore(handle.store);
      const worker: WorkerHandle = await startWorker(observed, app.taskHub, app.registry, options);
      const client: DurableClient = await createClient({ store: created.url });
      cleanup = async () => {
        await worker.stop();
        await client.close();
        await handle.release();
        await created.cleanup();
      };
      return { observed, client };
    };

    test(`a sequence of ${STEPS} activities: one commit per step, no claim, lease or due-time query per step`, async () => {
      const { observed, client } = await setup((app) => {
        app.activity('inc', (n: number) => n + 1);
        app.orchestration('sequence', function* (ctx) {
          let n = 0;
          for (let i = 0; i < STEPS; i++) n = (yield ctx.callActivity('inc', n)) as number;
          return n;
        });
      });
      const before = (m: Parameters<FaultyStore['calls']>[0]) => observed.calls(m);
      const start = { claimActivities: before('claimActivities'), claimOrchestrations: before('claimOrchestrations'), leaseInstances: before('leaseInstances'), nextVisibleAt: before('nextVisibleAt'), commitEpisodes: before('commitEpisodes'), completeActivities: before('completeActivities') };
      const id = await client.startNew('sequence');
      const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 30_000 });
      assert.equal(status?.runtimeStatus, 'Completed');
      assert.equal(status?.output, STEPS);
      const used = Object.fromEntries(Object.entries(start).map(([m, n]) => [m, observed.calls(m as keyof typeof start) - n]));
      // Start episode + one per activity result.
      assert.equal(used.commitEpisodes, STEPS + 1, `commits: ${JSON.stringify(used)}`);
      assert.equal(used.completeActivities, 0, `results went through the inbox: ${JSON.stringify(used)}`);
      assert.equal(used.leaseInstances, 0, `instances leased again: ${JSON.stringify(used)}`);
      assert.ok(used.claimActivities! <= 3, `activities claimed per step: ${JSON.stringify(used)}`);
      assert.ok(used.claimOrchestrations! <= 4, `inbox claimed per step: ${JSON.stringify(used)}`);
      assert.ok(used.nextVisibleAt! <= 6, `due time asked per step: ${JSON.stringify(used)}`);
    });

    test('activities leased in the scheduling commit respect maxConcurrentActivities; the rest are claimed', async () => {
      let running = 0;
      let most = 0;
      const { observed, client } = await setup(
        (app) => {
          app.activity('slow', async (n: number) => {
            most = Math.max(most, ++running);
            await new Promise((resolve) => setTimeout(resolve, 20));
            running--;
            return n * 2;
          });
          app.orchestration('fan', function* (ctx) {
            const results = (yield ctx.taskAll(Array.from({ length: 12 }, (_, i) => ctx.callActivity('slow', i)))) as number[];
            return results.reduce((a, b) => a + b, 0);
          });
        },
        { maxConcurrentActivities: 3 },
      );
      const id = await client.startNew('fan');
      const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 30_000 });
      assert.equal(status?.output, 132);
      assert.ok(most <= 3, `at most 3 at once, saw ${most}`);
      assert.equal(most, 3, 'the limit is used');
      assert.ok(observed.calls('claimActivities') > 0, 'the activities beyond the free slots are claimed');
    });

    test('a timer created while the worker idles fires when due, not at the next poll', async () => {
      const { client } = await setup(
        (app) => {
          app.activity('noop', () => 'ok');
          app.orchestration('nap', function* (ctx) {
            yield ctx.callActivity('noop');
            yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 200));
            return 'woke';
          });
        },
        // Without the timers notice the worker would sleep a full minute on a due time read before the timer existed.
        { pollIntervalMs: 60_000 },
      );
      const id = await client.startNew('nap');
      const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      assert.equal(status?.runtimeStatus, 'Completed');
      assert.equal(status?.output, 'woke');
    });

    test("an orchestration's steps do not send its input again, and its status keeps it", async () => {
      const { observed, client } = await setup((app) => {
        app.activity('inc', (n: number) => n + 1);
        app.orchestration('carry', function* (ctx) {
          const { steps } = ctx.getInput<{ steps: number; payload: string }>()!;
          let n = 0;
          for (let i = 0; i < steps; i++) n = (yield ctx.callActivity('inc', n)) as number;
          return n;
        });
      });
      const input = { steps: 5, payload: 'x'.repeat(50_000) };
      const sent: { input?: string; keepInput?: boolean }[] = [];
      const stop = observed.observe((call) => {
        if (call.method !== 'commitEpisodes') return;
        for (const commit of call.args[0] as EpisodeCommit[]) sent.push(commit.instance);
      });
      try {
        const id = await client.startNew('carry', { input });
        const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
        assert.equal(status.output, 5);
        assert.deepEqual(status.input, input);
      } finally {
        stop();
      }
      assert.equal(sent.length, 6, 'the first episode and one per result');
      assert.ok(sent.every((u) => u.keepInput === true && u.input === undefined), 'a commit carried the input');
    });

    test('more instances than one claim takes all run without waiting for a poll', async () => {
      const { client } = await setup(
        (app) => {
          app.activity('noop', (n: number) => n);
          app.orchestration('hello', function* (ctx) {
            let n = ctx.getInput<number>()!;
            for (let i = 0; i < 3; i++) n = (yield ctx.callActivity('noop', n)) as number;
            return n;
          });
        },
        // A full claim means more may be waiting: the next step must claim again even though results held in
        // memory already give it work. Were it to wait for a notice or the poll, this would take minutes.
        { pollIntervalMs: 60_000, orchestrationBatchSize: 5 },
      );
      const ids = await Promise.all(Array.from({ length: 60 }, (_, i) => client.startNew('hello', { input: i })));
      for (const [i, id] of ids.entries()) {
        const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
        assert.equal(status?.runtimeStatus, 'Completed', `instance ${i}`);
        assert.equal(status?.output, i);
      }
    });
  });
}

describe('NextDue', () => {
  const setup = (answers: (number | undefined)[]) => {
    let now = 1_000;
    let asked = 0;
    const due = new NextDue(
      async () => {
        const answer = answers[Math.min(asked++, answers.length - 1)];
        return answer === undefined ? undefined : new Date(answer);
      },
      () => now,
      500,
    );
    return { due, asked: () => asked, advance: (ms: number) => (now += ms) };
  };

  test('keeps the answer until it falls due, is invalidated, or is older than the polling interval', async () => {
    const { due, asked, advance } = setup([1_300, 1_900, undefined, 5_000]);
    assert.equal(await due.inMs(), 300);
    assert.equal(await due.inMs(), 300);
    assert.equal(asked(), 1);
    advance(300); // due now: asked again
    assert.equal(await due.inMs(), 600);
    assert.equal(asked(), 2);
    due.invalidate();
    assert.equal(await due.inMs(), undefined);
    assert.equal(asked(), 3);
    advance(100);
    assert.equal(await due.inMs(), undefined, 'nothing scheduled is kept too');
    assert.equal(asked(), 3);
    advance(500); // older than the interval
    assert.equal(await due.inMs(), 5_000 - 1_900);
    assert.equal(asked(), 4);
  });

  test('the look-back reaches the query only when it asks', async () => {
    const lookBacks: number[] = [];
    const due = new NextDue(
      async (lookBackMs) => {
        lookBacks.push(lookBackMs);
        return new Date(5_000);
      },
      () => 1_000,
      60_000,
    );
    assert.equal(await due.inMs(7), 4_000);
    assert.equal(await due.inMs(9), 4_000);
    assert.deepEqual(lookBacks, [7]);
  });

  test('an invalidation during the query is not lost', async () => {
    let release!: () => void;
    let calls = 0;
    const due = new NextDue(
      () => {
        calls++;
        return calls === 1 ? new Promise<Date | undefined>((resolve) => (release = () => resolve(undefined))) : Promise.resolve(new Date(2_000));
      },
      () => 1_000,
      60_000,
    );
    const first = due.inMs();
    due.invalidate();
    release();
    assert.equal(await first, undefined);
    assert.equal(await due.inMs(), 1_000, 'asked again after the invalidation');
    assert.equal(calls, 2);
  });
});
