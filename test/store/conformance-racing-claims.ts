/**
 * Conformance tests of workers racing for the same instances: claims that overlap commits of those instances
 * never hand out a message a committed episode already consumed. (On PostgreSQL a claim's snapshot can predate a
 * commit that lands before the claim locks the row: the claim must not pair the new row with the old inbox.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HubStore, Store } from '../../src/store/store.js';
import { commitOf, createWithStatus, eventMessage, freshHub, sleep } from './conformance-fixtures.js';

const INSTANCES = 6;
const MESSAGES = 3000;
const WORKERS = 3;

/** Claims and commits at once, recording the message ids of each committed episode, until `done()`. */
async function work(hub: HubStore, workerId: string, taken: Map<number, string[]>, done: () => boolean): Promise<void> {
  while (!done()) {
    const items = await hub.claimOrchestrations({ workerId, limit: 3, leaseMs: 60_000 });
    if (items.length === 0) {
      await sleep(1);
      continue;
    }
    const outcomes = await hub.commitEpisodes(items.map((item) => commitOf(item)));
    items.forEach((item, i) => {
      if (outcomes[i] !== 'committed') return;
      for (const m of item.messages) taken.set(m.id, [...(taken.get(m.id) ?? []), `${workerId}@${item.lease.epoch}`]);
    });
  }
}

/** Declares the racing-claims tests; `store()` is the store under test. */
export function racingClaimsConformance(store: () => Store): void {
  describe('claims racing commits', () => {
    test('workers racing for the same instances take every message exactly once', async () => {
      const hub = freshHub(store());
      const ids = Array.from({ length: INSTANCES }, (_, i) => `race-${i}`);
      for (const id of ids) await createWithStatus(hub, id, 'Running');
      const taken = new Map<number, string[]>();
      let sent = 0;
      const deadline = Date.now() + 60_000;
      const done = (): boolean => (sent === MESSAGES && taken.size >= MESSAGES) || Date.now() > deadline;
      const sender = (async () => {
        // Small bursts to every instance, so claims keep finding instances that another worker is committing.
        while (sent < MESSAGES) {
          await hub.sendMessages(ids.map((id) => eventMessage(id, `e${sent}`)));
          sent += ids.length;
        }
      })();
      await Promise.all([sender, ...Array.from({ length: WORKERS }, (_, w) => work(hub, `w-race-${w}`, taken, done))]);
      const twice = [...taken].filter(([, by]) => by.length > 1);
      assert.deepEqual(twice, [], 'messages committed by more than one episode');
      assert.equal(taken.size, MESSAGES, 'every message was taken');
    });
  });
}
