/**
 * Duplicate deliveries: the same activity completion and the same timer firing delivered more than once
 * (after the original, and before it), and concurrent starts of one instance id from two processes and
 * two clients. History must hold each once, outputs must be right, and exactly one start must win.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import type { HistoryEvent } from '../../src/sdk/history.js';
import { createClient, InstanceAlreadyExistsError, type DurableClient } from '../../src/index.js';
import { startWorker, type WorkerHandle } from '../../src/runtime/worker.js';
import { acquireStore, type StoreHandle } from '../../src/store/open-store.js';
import type { CommitOutcome, EpisodeCommit, HubStore } from '../../src/store/store.js';
import { Child, killAllChildren, waitFor } from '../support/child-processes.js';
import { FaultyStore } from '../support/faulty-store.js';
import { assertCleanInstance, countFor } from '../support/history-checks.js';
import { testStores, type TestStore } from '../support/stores.js';
import { assertNothingLeft, fixture } from './fault-env.js';
import { buildFaultApp } from './fixtures/fault-app.js';

/** An in-process worker on a fresh store, observed through a (fault-free) {@link FaultyStore}. */
interface World {
  url: string;
  dir: string;
  client: DurableClient;
  hub: HubStore;
  observed: FaultyStore;
  stopWorker(): Promise<void>;
  dispose(): Promise<void>;
}

async function createWorld(store: TestStore): Promise<World> {
  const created = await store.create();
  const dir = mkdtempSync(join(tmpdir(), 'duraflow-dupes-'));
  const handle: StoreHandle = await acquireStore(created.url);
  const app = buildFaultApp(created.url, { dir });
  const observed = new FaultyStore(handle.store);
  let worker: WorkerHandle | undefined = await startWorker(observed, app.taskHub, app.registry, { pollIntervalMs: 50 });
  const client = await createClient({ store: created.url });
  const stopWorker = async () => {
    await worker?.stop();
    worker = undefined;
  };
  return {
    url: created.url,
    dir,
    client,
    hub: handle.store.hub(app.taskHub),
    observed,
    stopWorker,
    async dispose() {
      await stopWorker();
      await client.close();
      await handle.release();
      await created.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the worker has committed an episode of `instanceId` (after this call). */
function nextCommitOf(world: World, instanceId: string): Promise<void> {
  return new Promise((resolve) => {
    const stop = world.observed.observe((call) => {
      if (call.method !== 'commitEpisodes' || !call.result) return;
      const commits = call.args[0] as EpisodeCommit[];
      const outcomes = call.result as CommitOutcome[];
      if (commits.some((c, i) => c.lease.id === instanceId && outcomes[i] === 'committed')) {
        stop();
        resolve();
      }
    });
  });
}

async function historyHas(hub: HubStore, id: string, type: string): Promise<HistoryEvent | undefined> {
  return (await hub.getHistory(id)).find((e) => e.eventType === type);
}

for (const store of testStores()) {
  describe(`duplicate deliveries on ${store.name}`, () => {
    let world: World | undefined;
    afterEach(async () => {
      await world?.dispose();
      world = undefined;
    });

    test('an activity completion and a timer firing delivered again after the originals are recorded once', { timeout: 30_000 }, async () => {
      world = await createWorld(store);
      const { client, hub } = world;
      const id = await client.startNew('dupes', { input: 21 });
      const fired = await waitFor(() => historyHas(hub, id, 'TimerFired'), 20_000, 'the timer to fire');
      const completed = await historyHas(hub, id, 'TaskCompleted');
      assert.ok(completed);
      const executionId = (await hub.getInstance(id))!.executionId;
      // The exact recorded events, delivered twice more each.
      const again = (event: HistoryEvent) => ({ instanceId: id, executionId, event });
      await hub.sendMessages([again(completed), again(fired), again(completed), again(fired)]);
      await client.raiseEvent(id, 'go', 'ok');

      const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      assert.equal(status.runtimeStatus, 'Completed');
      assert.deepEqual(status.output, { a: 42, b: 84, event: 'ok' });
      const history = await assertCleanInstance(hub, id);
      assert.equal(countFor(history, 'TaskCompleted', 0), 1);
      assert.equal(countFor(history, 'TimerFired', 1), 1);
      assert.equal(countFor(history, 'TaskCompleted', 2), 1);
      await world.stopWorker();
      await assertNothingLeft(hub);
    });

    test('a completion delivered twice before the real one arrives is recorded once; the late real one is dropped', { timeout: 30_000 }, async () => {
      world = await createWorld(store);
      const { client, hub, dir } = world;
      const id = await client.startNew('blockThenWait', { input: 'g1' });
      await waitFor(() => historyHas(hub, id, 'TaskScheduled'), 20_000, 'the activity to be scheduled');
      const executionId = (await hub.getInstance(id))!.executionId;
      const completion = {
        instanceId: id,
        executionId,
        event: { eventType: 'TaskCompleted', eventId: -1, taskScheduledId: 0, result: '"g1-done"', timestamp: new Date().toISOString() } as HistoryEvent,
      };
      await hub.sendMessages([completion, completion]);
      await waitFor(() => historyHas(hub, id, 'TaskCompleted'), 20_000, 'the completion to be recorded');

      // Now the real activity finishes; its completion reaches the instance (still waiting for 'go') and is dropped.
      const consumed = nextCommitOf(world, id);
      writeFileSync(join(dir, 'release-g1'), '');
      await consumed;
      await client.raiseEvent(id, 'go', 1);
      const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      assert.deepEqual(status.output, { a: 'g1-done', event: 1 });
      const history = await assertCleanInstance(hub, id);
      assert.equal(countFor(history, 'TaskCompleted', 0), 1);
      await world.stopWorker();
      await assertNothingLeft(hub);
    });

    test('a timer firing delivered twice before it is due is recorded once', { timeout: 30_000 }, async () => {
      world = await createWorld(store);
      const { client, hub } = world;
      const id = await client.startNew('longTimer', { input: 5 });
      const created = await waitFor(() => historyHas(hub, id, 'TimerCreated'), 20_000, 'the timer to be created');
      assert.equal(created.eventType, 'TimerCreated');
      const executionId = (await hub.getInstance(id))!.executionId;
      const firing = {
        instanceId: id,
        executionId,
        event: { eventType: 'TimerFired', eventId: -1, timerId: created.eventId, fireAt: created.fireAt, timestamp: new Date().toISOString() } as HistoryEvent,
      };
      await hub.sendMessages([firing, firing]);
      const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      assert.equal(status.output, 10);
      const history = await assertCleanInstance(hub, id);
      assert.equal(countFor(history, 'TimerFired', created.eventId), 1);
    });
  });

  describe(`concurrent starts of one instance id on ${store.name}`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });
    after(killAllChildren);

    test('two processes start the same id at once: exactly one succeeds, the other gets InstanceAlreadyExistsError', { timeout: 60_000 }, async () => {
      const created = await store.create();
      const dir = mkdtempSync(join(tmpdir(), 'duraflow-race-'));
      const client = await createClient({ store: created.url });
      cleanup = async () => {
        await killAllChildren();
        await client.close();
        await created.cleanup();
        rmSync(dir, { recursive: true, force: true });
      };
      for (let round = 0; round < 3; round++) {
        const go = join(dir, `go-${round}`);
        const id = `race-${round}`;
        const racers = [0, 1].map(() => new Child(fixture('start-instance.ts'), [created.url, id, go]));
        await Promise.all(racers.map((r) => r.waitForLine((l) => l === 'waiting', 30_000, 'waiting')));
        writeFileSync(go, '');
        await Promise.all(racers.map((r) => r.waitForExit(30_000)));
        const results = racers.map((r) => r.lines.find((l) => l === 'started' || l.startsWith('error')) ?? `none: ${r.stderr}`).sort();
        assert.deepEqual(results, ['error InstanceAlreadyExistsError', 'started'], `round ${round}`);
        const instances = await client.getStatusBy({ instanceIdPrefix: id });
        assert.equal(instances.length, 1);
        assert.equal(instances[0]?.runtimeStatus, 'Pending');
      }
    });

    test('two clients start the same id at once: exactly one succeeds', async () => {
      const created = await store.create();
      const [a, b] = [await createClient({ store: created.url }), await createClient({ store: created.url })];
      cleanup = async () => {
        await a.close();
        await b.close();
        await created.cleanup();
      };
      const results = await Promise.allSettled([a.startNew('waitEvent', { instanceId: 'twin' }), b.startNew('waitEvent', { instanceId: 'twin' })]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const rejected = results.find((r) => r.status === 'rejected');
      assert.ok(rejected?.status === 'rejected' && rejected.reason instanceof InstanceAlreadyExistsError, String(rejected));
      assert.equal((await a.getStatusAll()).length, 1);
    });
  });
}
