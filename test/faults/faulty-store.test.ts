/**
 * Storage faults: a store that throws at chosen calls (before reaching the database, or after committing
 * without the caller knowing) under a running worker. The worker must keep going and every instance must
 * complete once, never half-written. (SQLite locked by another process: sqlite-busy.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { createClient, type DurableClient } from '../../src/index.js';
import { startWorker, type WorkerHandle, type WorkerOptions } from '../../src/runtime/worker.js';
import { acquireStore, type StoreHandle } from '../../src/store/open-store.js';
import { FaultyStore, type Fault, type HubMethod } from '../support/faulty-store.js';
import { assertCleanInstance } from '../support/history-checks.js';
import { testStores } from '../support/stores.js';
import { assertNothingLeft, waitAllCompleted } from './fault-env.js';
import { buildFaultApp, expectedMixed, readInvocations } from './fixtures/fault-app.js';

interface FaultCase {
  method: HubMethod;
  when: 'before' | 'after';
  /** Worker options of this case (e.g. no cache, so every episode reads history). */
  options?: WorkerOptions;
  /** Faults besides the case's own (e.g. a failing commit, so that its release is called and fails). */
  also?: Fault[];
}

const CASES: FaultCase[] = [
  { method: 'commitEpisodes', when: 'before' },
  { method: 'commitEpisodes', when: 'after' },
  // Through the inbox (the worker keeps no results in memory) …
  { method: 'completeActivities', when: 'before', options: { activityResultsInMemory: false } },
  { method: 'completeActivities', when: 'after', options: { activityResultsInMemory: false } },
  // … and straight into the next episode.
  // No leaseInstances: a worker's in-memory results commit under its previous commit's epoch, so it leases
  // only instances its own commit left suspended — faults there are covered by the commitEpisodes cases.
  { method: 'claimOrchestrations', when: 'before' },
  { method: 'claimOrchestrations', when: 'after' },
  { method: 'claimActivities', when: 'before' },
  { method: 'claimActivities', when: 'after' },
  { method: 'getHistory', when: 'before', options: { cacheSize: 0 } },
  { method: 'releaseOrchestrations', when: 'before', also: [{ method: 'commitEpisodes', nth: 2, every: 3 }] },
  { method: 'nextVisibleAt', when: 'before' },
];

for (const store of testStores()) {
  describe(`a fault-injecting store on ${store.name}`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    /** Starts an in-process worker on a fresh store wrapped with `faults`. */
    const setup = async (faults: Fault[], options: WorkerOptions) => {
      const created = await store.create();
      const dir = mkdtempSync(join(tmpdir(), 'duraflow-faulty-'));
      const handle: StoreHandle = await acquireStore(created.url);
      const app = buildFaultApp(created.url, { dir });
      const faulty = new FaultyStore(handle.store, faults);
      let worker: WorkerHandle | undefined;
      let client: DurableClient | undefined;
      cleanup = async () => {
        await worker?.stop();
        await client?.close();
        await handle.release();
        await created.cleanup();
        rmSync(dir, { recursive: true, force: true });
      };
      worker = await startWorker(faulty, app.taskHub, app.registry, { pollIntervalMs: 50, ...options });
      client = await createClient({ store: created.url });
      return {
        dir,
        faulty,
        client,
        hub: handle.store.hub(app.taskHub),
        async stopWorker() {
          await worker?.stop();
          worker = undefined;
        },
      };
    };

    for (const { method, when, options, also = [] } of CASES) {
      test(`${method} failing ${when} the store call (every 3rd call): every instance completes cleanly`, { timeout: 60_000 }, async () => {
        // Faults from the 2nd call on, every 3rd call: many failures, yet progress is possible.
        const { client, hub, faulty, stopWorker } = await setup([{ method, nth: 2, every: 3, when }, ...also], {
          activityLeaseMs: 500,
          orchestrationLeaseMs: 500,
          orchestrationBatchSize: 4,
          ...options,
        });
        const ids: string[] = [];
        for (let n = 0; n < 10; n++) ids.push(await client.startNew('mixed', { instanceId: `f${n}`, input: n }));

        const outputs = await waitAllCompleted(client, ids, 45_000);
        for (let n = 0; n < 10; n++) assert.deepEqual(outputs.get(`f${n}`), expectedMixed(n), `output of f${n}`);
        assert.ok(
          faulty.injected.some((f) => f.method === method),
          `faults were injected into ${method} (${faulty.calls(method)} calls)`,
        );
        for (const id of ids) await assertCleanInstance(hub, id);
        await stopWorker();
        await assertNothingLeft(hub);
      });
    }

    test('renewLeases failing every other call: a long activity keeps its lease and runs once', { timeout: 60_000 }, async () => {
      // Renewals every 500 ms of a 1.5 s lease: one failed renewal in a row still leaves the lease alive.
      const { client, hub, faulty, dir } = await setup([{ method: 'renewLeases', nth: 2, every: 2 }], { activityLeaseMs: 1500 });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await client.startNew('slowOne', { input: { key: `r${i}`, ms: 4000 } }));
      const outputs = await waitAllCompleted(client, ids, 30_000);
      assert.deepEqual([...outputs.values()], ['r0', 'r1', 'r2']);
      assert.ok(faulty.injected.some((f) => f.method === 'renewLeases'), 'renewals failed');
      const runs = readInvocations(dir);
      for (let i = 0; i < 3; i++) assert.equal(runs.filter((r) => r.key === `r${i}`).length, 1, `r${i} ran once`);
      for (const id of ids) await assertCleanInstance(hub, id);
    });
  });
}
