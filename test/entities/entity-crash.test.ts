/**
 * Entities survive a worker crash: 50 concurrent orchestrations each signal one counter 20 times, on a real
 * worker child process that is SIGKILLed half-way and restarted. The counter ends at exactly 1,000: no signal
 * is lost (every one is committed with its sender's episode) and none is applied twice (an entity episode's
 * state and consumed messages commit together, fenced by the lease).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient, EntityId, type WorkerOptions } from '../../src/index.js';
import { Child, killAllChildren, waitFor } from '../support/child-processes.js';
import { testStores } from '../support/stores.js';
import type { SignallerInput } from './fixtures/entity-app.js';

const WORKER = fileURLToPath(new URL('./fixtures/entity-worker.ts', import.meta.url));
const OPTIONS: WorkerOptions = { orchestrationLeaseMs: 1000, activityLeaseMs: 1000, pollIntervalMs: 50 };

async function startWorker(url: string): Promise<Child> {
  const child = new Child(WORKER, [url, JSON.stringify(OPTIONS)]);
  await child.waitForLine((line) => line.startsWith('ready'), 30_000, 'ready');
  return child;
}

for (const store of testStores()) {
  describe(`entity crash on ${store.name}`, () => {
    after(killAllChildren);

    test(
      '50 orchestrations x 20 signals end at 1,000 across a SIGKILL and restart of the worker',
      { timeout: 120_000 },
      async () => {
        const { url, cleanup } = await store.create();
        const client = await createClient({ store: url });
        try {
          const counter = new EntityId('counter', 'crash');
          const count = async () => (await client.readEntityState<number>(counter)).entityState ?? 0;
          const first = await startWorker(url);
          const input: SignallerInput = { key: 'crash', count: 20, pauseMs: 20 };
          const ids = await Promise.all(
            Array.from({ length: 50 }, (_, i) => client.startNew('signaller', { instanceId: `signaller-${i}`, input })),
          );

          await waitFor(async () => (await count()) >= 150, 60_000, 'some signals to be applied');
          assert.equal((await first.kill()).signal, 'SIGKILL');
          const atKill = await count();
          assert.ok(atKill > 0 && atKill < 1000, `the kill landed half-way (counter ${atKill})`);

          const second = await startWorker(url);
          for (const id of ids) {
            const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 60_000 });
            assert.equal(status.runtimeStatus, 'Completed', `${id}: ${JSON.stringify(status.failureDetails)}`);
          }
          // All 1,000 signals are in the entity's inbox (or applied) once every sender completed, so this call,
          // queued after them, reads the final count.
          const read = await client.waitForCompletion(await client.startNew('read', { input: 'crash' }), {
            timeoutInMilliseconds: 60_000,
          });
          assert.equal(read.output, 1000);
          assert.equal(await count(), 1000);

          second.signal('SIGTERM');
          assert.equal((await second.waitForExit(30_000)).code, 0);
        } finally {
          await killAllChildren();
          await client.close();
          await cleanup();
        }
      },
    );
  });
}
