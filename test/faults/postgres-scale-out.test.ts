/**
 * Scale-out on PostgreSQL with real processes: workers whose clocks are ten minutes off (one ahead, one
 * behind) never take each other's leases, because leases are reckoned in database time. Four workers riding
 * out SIGKILLs, killed connections and a server restart together are tested by
 * test/serial/postgres-chaos.test.ts (serial: it restarts the shared server).
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { Child, killAllChildren } from '../support/child-processes.js';
import { assertCleanInstance } from '../support/history-checks.js';
import { postgresTestStore } from '../support/postgres-test-store.js';
import { createFaultEnv, fixture, type FaultEnv } from './fault-env.js';
import { readInvocations } from './fixtures/fault-app.js';
import type { WorkerFixtureConfig } from './fixtures/worker.js';
import { completedOutput, schemaOf } from './postgres-faults.js';

const TEN_MINUTES = 10 * 60_000;

/** Starts a worker process whose clock reads `skewMs` away from the real time. */
async function startSkewedWorker(world: FaultEnv, config: Omit<WorkerFixtureConfig, 'dir'>, skewMs: number): Promise<Child> {
  const child = new Child(fixture('worker.ts'), [world.url, JSON.stringify({ ...config, dir: world.dir })], {
    NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import ${fixture('skewed-clock.mjs')}`.trim(),
    DURAFLOW_TEST_CLOCK_SKEW_MS: String(skewMs),
  });
  await child.waitForLine((line) => line.startsWith('ready'), 30_000, 'ready');
  return child;
}

if (!postgresTestStore) {
  test('scale-out on PostgreSQL', { skip: 'PostgreSQL is unreachable' }, () => undefined);
} else {
  const store = postgresTestStore;
  describe('scale-out on PostgreSQL', () => {
    let env: FaultEnv | undefined;
    afterEach(async () => {
      await env?.dispose();
      env = undefined;
    });
    after(killAllChildren);

    test('workers with clocks ten minutes ahead and behind never take each other’s leases', { timeout: 120_000 }, async () => {
      env = await createFaultEnv(store);
      const world = env;
      const schema = schemaOf(world.url);
      // Activities outlive their lease (renewed every third of it): a worker reckoning leases on its own
      // clock would see the other's leases as expired (or its own as eternal) and run activities twice.
      const config: Omit<WorkerFixtureConfig, 'dir'> = { worker: { activityLeaseMs: 900, orchestrationLeaseMs: 900 } };
      const workers = [await startSkewedWorker(world, config, TEN_MINUTES), await startSkewedWorker(world, config, -TEN_MINUTES)];
      const ids: string[] = [];
      for (let n = 0; n < 24; n++) {
        ids.push(await world.client.startNew('slowOne', { instanceId: `slow-${n}`, input: { key: `k${n}`, ms: 2000 } }));
      }
      const deadline = Date.now() + 90_000;
      for (let n = 0; n < ids.length; n++) assert.equal(await completedOutput(world.client, schema, ids[n]!, deadline), `k${n}`);
      const runs = readInvocations(world.dir).filter((i) => i.activity === 'slow');
      assert.deepEqual(
        runs.map((r) => r.key).sort(),
        ids.map((_, n) => `k${n}`).sort(),
        'each activity ran exactly once',
      );
      assert.ok(runs.every((r) => r.dequeueCount === 1), 'no activity was claimed twice');
      assert.equal(new Set(runs.map((r) => r.pid)).size, 2, 'both workers took part');
      for (const id of ids) await assertCleanInstance(world.hub, id);
      for (const w of workers) w.signal('SIGTERM');
      for (const w of workers) assert.equal((await w.waitForExit(30_000)).code, 0);
    });
  });
}
