/**
 * The worker's executor cache is bounded: cold instances are evicted (and replay when they next run), while a
 * hot instance keeps its live executor and is never replayed per step. The orchestrator body counts its own
 * starts; a start is a replay from history (or the first run), so a hot instance must have started once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { finished, statusWhere, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

const CACHE = 4;
const ROUNDS = 8;
const COLD_PER_ROUND = 2; // fewer than CACHE - 1 others between two hot steps: the hot one stays cached

for (const store of engineStores()) {
  describe(`executor cache on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('a small cache evicts cold instances but never replays a hot one per step', async () => {
      const starts = new Map<string, number>();
      await withApp(
        store,
        (app) => {
          app.orchestration('hotLoop', function* (ctx) {
            starts.set(ctx.instanceId, (starts.get(ctx.instanceId) ?? 0) + 1);
            let sum = 0;
            for (;;) {
              const value: number = yield ctx.waitForExternalEvent('tick');
              if (value < 0) return sum;
              sum += value;
              ctx.setCustomStatus(sum);
            }
          });
          app.orchestration('waitOne', function* (ctx) {
            starts.set(ctx.instanceId, (starts.get(ctx.instanceId) ?? 0) + 1);
            return yield ctx.waitForExternalEvent('go');
          });
        },
        async ({ client }) => {
          const hot = await client.startNew('hotLoop', { instanceId: 'hot' });
          await statusWhere(client, hot, (s) => s.runtimeStatus === 'Running');
          const cold: string[] = [];
          for (let round = 1; round <= ROUNDS; round++) {
            for (let k = 0; k < COLD_PER_ROUND; k++) {
              const id = await client.startNew('waitOne', { instanceId: `cold-${round}-${k}` });
              cold.push(id);
              await statusWhere(client, id, (s) => s.runtimeStatus === 'Running' && starts.get(id) === 1);
            }
            await client.raiseEvent(hot, 'tick', 1);
            await statusWhere(client, hot, (s) => s.customStatus === round);
          }
          assert.equal(starts.get(hot), 1, 'the hot instance ran from its live executor at every step');

          // The cold set (16) outgrew the cache (4): the earliest were evicted and replay to take their event.
          for (const id of cold) await client.raiseEvent(id, 'go', id);
          for (const id of cold) assert.equal((await finished(client, id)).output, id);
          const replayed = cold.filter((id) => (starts.get(id) ?? 0) > 1);
          assert.ok(replayed.length >= cold.length - CACHE, `evicted instances replayed (${replayed.length} of ${cold.length})`);

          await client.raiseEvent(hot, 'tick', -1);
          assert.equal((await finished(client, hot)).output, ROUNDS);
          assert.equal(starts.get(hot), 1, 'still one start after the cold set churned through the cache');
        },
        { worker: { cacheSize: CACHE } },
      );
    });
  });
}
