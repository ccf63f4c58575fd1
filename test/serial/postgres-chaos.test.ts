/**
 * Scale-out on PostgreSQL under every fault at once: four worker processes run 500 orchestrations (sequences
 * with timers and fan-out, sub-orchestrations, external events, long activities) while workers are SIGKILLed
 * and restarted at random, every connection of the store is killed with pg_terminate_backend, and the
 * PostgreSQL server is restarted once. Every instance completes with the right output and a clean history
 * (no duplicated event), every activity ran at least once, no worker dies in the restart and each opens its
 * LISTEN connection again, and the workers still running at the end stop cleanly.
 *
 * Restarting the shared server breaks whatever else uses it, so this file lives in test/serial/, which
 * scripts/run-tests.sh runs alone after everything else. The restart needs root and Debian's `pg_ctlcluster`;
 * without them the test runs without its restart and says so (outside CI) or fails (CI=true).
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Child, killAllChildren, waitFor } from '../support/child-processes.js';
import { assertCleanInstance } from '../support/history-checks.js';
import { postgresTestStore } from '../support/postgres-test-store.js';
import { serverControl } from '../support/postgres-server.js';
import { assertNothingLeft, createFaultEnv, type FaultEnv } from '../faults/fault-env.js';
import { expectedFamily, expectedMixed, readInvocations } from '../faults/fixtures/fault-app.js';
import type { WorkerFixtureConfig } from '../faults/fixtures/worker.js';
import {
  completedCount,
  completedOutput,
  listeningConnections,
  retrying,
  schemaOf,
  startRiding,
  terminateConnections,
} from '../faults/postgres-faults.js';

const WORKERS = 4;
const MIXED = 340; // activity, timer, fan-out of 5, timer, activity
const FAMILY = 40; // activity, then two sub-orchestrations with a timer and an activity each
const EVENTS = 80; // activity, timer, external event, activity
const SLOW = 40; // one 3 s activity each, running while the server restarts
/**
 * Sequences and families started before the chaos begins. The rest are released in equal shares as each
 * fault begins (the restart's share as the server goes down), so every fault strikes work in flight and
 * starts hit the restarting server.
 */
const UPFRONT = 100;
const CONFIG: Omit<WorkerFixtureConfig, 'dir'> = {
  worker: { activityLeaseMs: 1500, orchestrationLeaseMs: 1500, orchestrationBatchSize: 20 },
};
/**
 * The faults, in order, a random 150–500 ms apart: each `kill` SIGKILLs a random worker and starts a new
 * one; the restart comes midway, with instances of every kind in flight; the events of the `dupes`
 * instances are raised half before, half after it. Three kills after the restart cannot reach all four
 * workers, so at least one worker lives through the restart to the end.
 */
const PLAN = [
  'kill',
  'terminate',
  'kill',
  'raise-first-half',
  'kill',
  'terminate',
  'kill',
  'restart',
  'raise-second-half',
  'kill',
  'terminate',
  'kill',
  'kill',
] as const;

/** One orchestration the feeder starts: its name, id, input and the output it must produce. */
interface Start {
  name: 'mixed' | 'family';
  id: string;
  input: number;
  expected: unknown;
}

/** Sequences and families interleaved evenly, so both kinds arrive all along. */
function feedList(): Start[] {
  const mixed = Array.from({ length: MIXED }, (_, n) => ({
    at: n / MIXED,
    start: { name: 'mixed' as const, id: `mixed-${n}`, input: n, expected: expectedMixed(n) },
  }));
  const family = Array.from({ length: FAMILY }, (_, n) => ({
    at: (n + 0.5) / FAMILY,
    start: { name: 'family' as const, id: `family-${n}`, input: n, expected: expectedFamily(n) },
  }));
  return [...mixed, ...family].sort((x, y) => x.at - y.at).map((x) => x.start);
}

const control = await serverControl();
const restartable = !('unavailable' in control);
if (!restartable && postgresTestStore && process.env['CI'] !== 'true') {
  console.log(`# the PostgreSQL chaos test runs without its server restart: ${control.unavailable}`);
}

if (!postgresTestStore) {
  test('PostgreSQL chaos', { skip: 'PostgreSQL is unreachable' }, () => undefined);
} else {
  const store = postgresTestStore;
  const ensureServerUp = () => ('unavailable' in control ? Promise.resolve() : control.ensureUp());
  describe('PostgreSQL chaos', () => {
    let env: FaultEnv | undefined;
    // Whatever happened, the server runs again before the schema is dropped and for whoever comes next.
    afterEach(async () => {
      await ensureServerUp();
      await env?.dispose();
      env = undefined;
    });
    after(async () => {
      await killAllChildren();
      await ensureServerUp();
    });

    const faults = restartable ? 'killed connections and a server restart' : 'killed connections (no server restart here)';
    test(
      `four workers, 500 instances, SIGKILLs, ${faults}: every instance completes once with the right output`,
      { timeout: 240_000 },
      async (t) => {
        if ('unavailable' in control && process.env['CI'] === 'true') {
          assert.fail(`the chaos test cannot restart the server in CI: ${control.unavailable}`);
        }
        const began = Date.now();
        env = await createFaultEnv(store);
        const world = env;
        const schema = schemaOf(world.url);
        const workers: Child[] = [];
        for (let slot = 0; slot < WORKERS; slot++) workers.push(await world.startWorker(CONFIG));
        await waitFor(async () => (await listeningConnections(schema)) >= WORKERS, 30_000, 'every worker to LISTEN');

        const events = Array.from({ length: EVENTS }, (_, n) => `events-${n}`);
        for (let n = 0; n < EVENTS; n++) await world.client.startNew('dupes', { instanceId: events[n], input: n });
        const feed = feedList();
        for (const s of feed.slice(0, UPFRONT)) await world.client.startNew(s.name, { instanceId: s.id, input: s.input });

        // The rest keep arriving through the chaos: the share of step k once `released` > k.
        const feeder = new AbortController();
        t.after(() => feeder.abort()); // a failed test must not leave it calling a closed client
        let released = 0;
        const stepOf = (i: number) => Math.floor(((i - UPFRONT) * PLAN.length) / (feed.length - UPFRONT));
        const feeding = (async () => {
          for (let i = UPFRONT; i < feed.length && !feeder.signal.aborted; i++) {
            await waitFor(() => released > stepOf(i) || feeder.signal.aborted, 200_000, `the share of fault ${stepOf(i)}`);
            const s = feed[i]!;
            await startRiding(world.client, s.name, s.id, s.input, feeder.signal);
            await sleep(30);
          }
        })();
        feeding.catch(() => undefined); // awaited below; a failure before then must not go unhandled

        const slow = Array.from({ length: SLOW }, (_, n) => `slow-${n}`);
        let kills = 0;
        let connectionKills = 0;
        let livedThroughRestart = new Set<Child>(workers);
        const all = [...feed.map((s) => s.id), ...events, ...slow];
        const progress: string[] = []; // instances done when each fault struck, for the diagnostic
        for (const [index, step] of PLAN.entries()) {
          if (step !== 'restart') released = index + 1;
          await sleep(150 + Math.floor(Math.random() * 350));
          if (step !== 'restart') progress.push(`${step} ${await completedCount(schema, all)}`);
          if (step === 'kill') {
            const slot = Math.floor(Math.random() * workers.length);
            const victim = workers[slot]!;
            assert.ok(!victim.hasExited, `worker ${victim.pid} died by itself; stderr:\n${victim.stderr}`);
            await victim.kill();
            kills++;
            livedThroughRestart.delete(victim);
            workers[slot] = await world.startWorker(CONFIG);
          } else if (step === 'terminate') {
            connectionKills += await terminateConnections(schema);
          } else if (step === 'raise-first-half' || step === 'raise-second-half') {
            // Nothing kills connections meanwhile, so a retried raise never follows a lost answer (no event twice).
            const [from, to] = step === 'raise-first-half' ? [0, EVENTS / 2] : [EVENTS / 2, EVENTS];
            for (let n = from; n < to; n++) await retrying(() => world.client.raiseEvent(events[n]!, 'go', { n }));
          } else {
            // Long activities running when the server goes down (their renewals and results fail meanwhile).
            for (let n = 0; n < SLOW; n++) await startRiding(world.client, 'slowOne', slow[n]!, { key: `k${n}`, ms: 3000 });
            await waitFor(
              () => new Set(readInvocations(world.dir).filter((i) => i.activity === 'slow').map((i) => i.key)).size === SLOW,
              30_000,
              'every slow activity to start',
            );
            const fed = feed.map((s) => s.id);
            await waitFor(async () => (await completedCount(schema, fed)) >= 20, 60_000, 'the first instances to complete');
            const doneBefore = await completedCount(schema, all);
            progress.push(`restart ${doneBefore}`);
            livedThroughRestart = new Set(workers);
            released = index + 1;
            if ('unavailable' in control) continue;
            const restartStarted = Date.now();
            await control.restart();
            t.diagnostic(`restart took ${Date.now() - restartStarted} ms`);
            // No worker loop died with its connections: every worker opens its notice connection again.
            const allListen = async () => (await listeningConnections(schema)) === WORKERS;
            await waitFor(allListen, 30_000, 'every worker to LISTEN after the restart');
            for (const w of workers) assert.ok(!w.hasExited, `worker ${w.pid} died in the restart; stderr:\n${w.stderr}`);
          }
        }
        assert.ok(kills > 0 && connectionKills > 0, 'chaos happened');
        await feeding;
        t.diagnostic(`chaos over after ${Date.now() - began} ms: ${kills} workers killed, ${connectionKills} connections killed`);
        t.diagnostic(`instances done (of ${all.length}) as each fault struck: ${progress.join(', ')}`);

        const deadline = Date.now() + 120_000;
        const output = (id: string) => completedOutput(world.client, schema, id, deadline);
        for (const s of feed) assert.deepEqual(await output(s.id), s.expected, `output of ${s.id}`);
        for (let n = 0; n < EVENTS; n++) {
          assert.deepEqual(await output(events[n]!), { a: 2 * n, b: 4 * n, event: { n } }, `output of ${events[n]}`);
        }
        for (let n = 0; n < SLOW; n++) assert.equal(await output(slow[n]!), `k${n}`, `output of ${slow[n]}`);

        // No duplicated history event: one start, whole episodes, each task scheduled and settled once, one end.
        const count = (history: { eventType: string }[], type: string) => history.filter((e) => e.eventType === type).length;
        for (const s of feed) {
          const history = await assertCleanInstance(world.hub, s.id);
          if (s.name === 'mixed') {
            assert.equal(count(history, 'TaskCompleted'), 7, `${s.id}: 7 activities, each completed once`);
            assert.equal(count(history, 'TimerFired'), 2, `${s.id}: 2 timers, each fired once`);
          } else {
            assert.equal(count(history, 'TaskCompleted'), 1, `${s.id}: its activity completed once`);
            assert.equal(count(history, 'SubOrchestrationInstanceCompleted'), 2, `${s.id}: 2 children, each completed once`);
            for (const child of [`${s.id}:1`, `${s.id}:2`]) {
              const childHistory = await assertCleanInstance(world.hub, child);
              assert.equal(count(childHistory, 'TaskCompleted'), 1, `${child}: its activity completed once`);
              assert.equal(count(childHistory, 'TimerFired'), 1, `${child}: its timer fired once`);
            }
          }
        }
        for (const id of events) {
          const history = await assertCleanInstance(world.hub, id);
          assert.equal(count(history, 'EventRaised'), 1, `${id}: the event once`);
          assert.equal(count(history, 'TaskCompleted'), 2, `${id}: 2 activities, each completed once`);
          assert.equal(count(history, 'TimerFired'), 1, `${id}: its timer fired once`);
        }
        for (const id of slow) {
          const history = await assertCleanInstance(world.hub, id);
          assert.equal(count(history, 'TaskCompleted'), 1, `${id}: its activity completed once`);
        }
        // At least once: every slow activity ran (again, if its lease ran out while the server was down).
        const runs = readInvocations(world.dir).filter((i) => i.activity === 'slow');
        const ranKeys = [...new Set(runs.map((r) => r.key))].sort();
        assert.deepEqual(ranKeys, slow.map((_, n) => `k${n}`).sort(), 'every slow activity ran');
        t.diagnostic(`slow activities ran ${runs.length} times for ${SLOW}`);

        // The workers survived (the ones that were never killed lived through the restart) and LISTEN again.
        for (const w of workers) assert.ok(!w.hasExited, `worker ${w.pid} died by itself; stderr:\n${w.stderr}`);
        assert.ok(livedThroughRestart.size > 0, 'a worker lived through the restart');
        await waitFor(async () => (await listeningConnections(schema)) === WORKERS, 30_000, 'every worker to LISTEN again');
        const complaints = workers.map((w) => w.stderr.split('\n').filter((line) => line.trim() !== '').length);
        const lived = livedThroughRestart.size;
        t.diagnostic(`worker warnings and errors: ${complaints.join(', ')}; ${lived} lived through the restart`);
        for (const w of workers) w.signal('SIGTERM');
        for (const w of workers) assert.equal((await w.waitForExit(30_000)).code, 0, `worker ${w.pid} stopped cleanly`);
        await assertNothingLeft(world.hub);
        t.diagnostic(`${Date.now() - began} ms in all`);
      },
    );
  });
}
