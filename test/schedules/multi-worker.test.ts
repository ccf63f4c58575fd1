/**
 * Schedules with two real worker processes on each store: both declare the same schedule and both race for every
 * due time; one is killed (SIGKILL) and another started in its place. Exactly one instance per due time: the due
 * times of the runs are consecutive seconds with none missing, each was written by one process only, and each
 * run started and completed once.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient } from '../../src/index.js';
import { Child, killAllChildren } from '../support/child-processes.js';
import { testStores } from '../support/stores.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/schedule-worker.ts', import.meta.url));

async function worker(url: string): Promise<Child> {
  const child = new Child(FIXTURE, [url]);
  await child.waitForLine((line) => line.startsWith('ready'), 60_000, 'ready');
  return child;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const written = (child: Child) => child.lines.filter((l) => l.startsWith('started ')).map((l) => l.slice('started '.length));

for (const store of testStores()) {
  describe(`schedules with two worker processes on ${store.name}`, () => {
    after(killAllChildren);

    test('exactly one instance per due time across workers, a crash and a restart', { timeout: 180_000 }, async () => {
      const { url, cleanup } = await store.create();
      const client = await createClient({ store: url });
      try {
        const [a, b] = await Promise.all([worker(url), worker(url)]);
        await sleep(4500);
        // The one that has written runs dies, so the others must take its due times over (one process can win
        // every race, and killing a process that never ran one would test no takeover).
        const [victim, survivor] = written(a).length >= written(b).length ? [a, b] : [b, a];
        await victim.kill();
        await sleep(2500);
        const c = await worker(url);
        await sleep(3500);
        await client.pauseSchedule('every-second');
        for (const child of [survivor, c]) child.signal('SIGTERM');
        await Promise.all([survivor.waitForExit(30_000), c.waitForExit(30_000)]);

        const runs = (await client.getStatusBy({ instanceIdPrefix: 'every-second:' })).map((s) => s.instanceId).sort();
        assert.ok(runs.length >= 8, `runs: ${runs.length}`);
        const dueTimes = runs.map((id) => Date.parse(id.slice('every-second:'.length)));
        dueTimes.forEach((t, i) => i > 0 && assert.equal(t - dueTimes[i - 1]!, 1000, `no gap and no repeat after ${runs[i - 1]}`));
        const byProcess = [a, b, c].map(written);
        const all = byProcess.flat();
        assert.equal(new Set(all).size, all.length, 'no run was written by two processes');
        const announced = new Set(all);
        // A process killed right after its commit may not have printed its last line: at most one run unannounced.
        assert.ok(runs.filter((id) => !announced.has(id)).length <= 1, 'every run was written by one of the workers');
        assert.ok(written(victim).length > 0, 'the killed process had written runs');
        assert.ok(written(survivor).length + written(c).length > 0, `another process took over: ${byProcess.map((l) => l.length)}`);
        for (const id of runs) {
          const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 30_000 });
          if (status.runtimeStatus !== 'Completed') {
            // The last runs may still wait for a worker: those were written after the workers stopped claiming.
            assert.ok(['Pending', 'Running'].includes(status.runtimeStatus), `${id} is ${status.runtimeStatus}`);
            continue;
          }
          const history = (await client.getStatus(id, { showHistory: true }))?.history ?? [];
          assert.equal(history.filter((e) => e.eventType === 'ExecutionStarted').length, 1, `${id} started once`);
          assert.deepEqual(status.output, { at: id });
        }
        const schedule = (await client.getSchedule('every-second'))!;
        assert.equal(schedule.declared, true);
        assert.equal(schedule.recentRuns.filter((r) => r.outcome === 'missed').length, 0, 'the crash missed no due time');
      } finally {
        await client.close();
        await cleanup();
      }
    });
  });
}
