/**
 * Shared set-up of the fault tests: a fresh store and marker directory, worker child processes running
 * `fixtures/worker.ts`, and a client and hub store in the test process to drive and inspect instances.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type DurableClient } from '../../src/index.js';
import { acquireStore } from '../../src/store/open-store.js';
import type { HubStore } from '../../src/store/store.js';
import { Child, killAllChildren } from '../support/child-processes.js';
import { assertCleanInstance } from '../support/history-checks.js';
import type { TestStore } from '../support/stores.js';
import { readInvocations } from './fixtures/fault-app.js';
import type { WorkerFixtureConfig } from './fixtures/worker.js';
import type { StyledStore } from '../support/orchestrator-styles.js';

/** Path of a fixture script. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** One test's world: store, marker directory, client, and the worker processes it started. */
export interface FaultEnv {
  url: string;
  dir: string;
  client: DurableClient;
  hub: HubStore;
  /** Starts a worker process and waits until it is ready. */
  startWorker(config?: Omit<WorkerFixtureConfig, 'dir'>): Promise<Child>;
  /** Lets the `block` activity with this key finish. */
  release(key: string): void;
  /** Kills leftover children, closes the client, removes the store and the directory. */
  dispose(): Promise<void>;
}

/** Creates a {@link FaultEnv} on a fresh store. */
export async function createFaultEnv(store: TestStore): Promise<FaultEnv> {
  const { url, cleanup } = await store.create();
  const dir = mkdtempSync(join(tmpdir(), 'duraflow-faults-'));
  const handle = await acquireStore(url);
  const client = await createClient({ store: url });
  return {
    url,
    dir,
    client,
    hub: handle.store.hub('default'),
    async startWorker(config = {}) {
      const style = 'style' in store ? { style: (store as StyledStore).style } : {};
      const child = new Child(fixture('worker.ts'), [url, JSON.stringify({ ...style, ...config, dir })]);
      await child.waitForLine((line) => line.startsWith('ready'), 30_000, 'ready');
      return child;
    },
    release(key) {
      writeFileSync(join(dir, `release-${key}`), '');
    },
    async dispose() {
      await killAllChildren();
      await client.close();
      await handle.release();
      await cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until every instance is Completed (failing fast on Failed/Terminated) and returns their outputs. */
export async function waitAllCompleted(client: DurableClient, ids: string[], timeoutMs: number): Promise<Map<string, unknown>> {
  const outputs = new Map<string, unknown>();
  const deadline = Date.now() + timeoutMs;
  for (const id of ids) {
    const status = await client.waitForCompletion(id, { timeoutInMilliseconds: Math.max(1, deadline - Date.now()) });
    assert.equal(status.runtimeStatus, 'Completed', `${id} completed (failure: ${JSON.stringify(status.failureDetails)})`);
    outputs.set(id, status.output);
  }
  return outputs;
}

/** Asserts that no activity and no orchestration message is left to run (nothing duplicated or lost in flight). */
export async function assertNothingLeft(hub: HubStore): Promise<void> {
  const probe = { workerId: 'probe', limit: 100, leaseMs: 1 };
  assert.deepEqual(await hub.claimActivities(probe), [], 'no activity work item is left');
  const left = await hub.claimOrchestrations(probe);
  assert.deepEqual(
    left.map((w) => ({ id: w.instance.instanceId, events: w.messages.map((m) => m.event.eventType) })),
    [],
    'no inbox message is left',
  );
}

/**
 * After a paused worker (SIGSTOP) lost its activity to `other`, which completed the instance: resumes it and checks
 * that its late result is refused by the fence, that each worker ran the activity once, and that history is unchanged.
 */
export async function assertStaleResultRefused(env: FaultEnv, paused: Child, other: Child, id: string): Promise<void> {
  const before = await env.hub.getHistory(id);
  paused.signal('SIGCONT');
  await paused.waitForLine((l) => l.startsWith(`complete ${id} `), 20_000, 'the paused worker to try to record its result');
  assert.deepEqual(
    paused.lines.filter((l) => l.startsWith(`complete ${id} `)),
    [`complete ${id} false`],
    'the stale result was refused',
  );
  assert.deepEqual(
    readInvocations(env.dir).map((r) => r.pid),
    [paused.pid, other.pid],
  );
  assert.deepEqual(await env.hub.getHistory(id), before, 'the history did not change');
  await assertCleanInstance(env.hub, id);
}
