/**
 * The instance list's data from the store on every store, with small limits standing in for the real ones
 * (10,000-instance window, 5,000 sorted in memory): exact and capped counts per status, keyset pages in both
 * directions, sorting in memory and its fallback, the histogram over the window.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { acquireStore, type StoreHandle } from '../../src/store/open-store.js';
import type { HubStore } from '../../src/store/store.js';
import { loadList, type ListLimits } from '../../src/dashboard/list-load.js';
import { parseListParams } from '../../src/dashboard/list-query.js';
import { createWithStatus, sleep } from '../store/conformance-fixtures.js';
import { testStores } from '../support/stores.js';

for (const store of testStores()) {
  describe(`the dashboard list's data on ${store.name}`, () => {
    let handle: StoreHandle;
    let cleanup: () => Promise<void>;
    let hub: HubStore;
    // Oldest first: ids sort differently from creation order, names differ from both.
    const made: [string, Parameters<typeof createWithStatus>[2], string][] = [
      ['m-5', 'Completed', 'delta'],
      ['m-1', 'Completed', 'alpha'],
      ['m-7', 'Failed', 'echo'],
      ['m-3', 'Completed', 'bravo'],
      ['m-2', 'Running', 'charlie'],
      ['m-6', 'Failed', 'alpha'],
      ['m-4', 'Running', 'foxtrot'],
      ['m-8', 'Pending', 'golf'],
    ];
    const newestFirst = made.map(([id]) => id).reverse();
    before(async () => {
      const created = await store.create();
      cleanup = created.cleanup;
      handle = await acquireStore(created.url);
      hub = handle.store.hub('listhub');
      for (const [id, status, name] of made) {
        await createWithStatus(hub, id, status, { name });
        await sleep(3); // distinct creation times
      }
    });
    after(async () => {
      await handle?.release();
      await cleanup?.();
    });
    const load = (query: string, limits: ListLimits = {}) => loadList(hub, parseListParams(new URLSearchParams(query)), { now: Date.now(), ...limits });

    /** Every row id of the list, following its next-page cursors. */
    async function pages(query: string, limits: ListLimits = {}): Promise<string[]> {
      const ids: string[] = [];
      let after: string | undefined;
      do {
        const result = await load(`${query}${after ? `&after=${after}` : ''}`, limits);
        ids.push(...result.rows.map((r) => r.instanceId));
        after = result.next;
      } while (after);
      return ids;
    }

    test('counts every status exactly while the window holds every match', async () => {
      const result = await load('');
      assert.deepEqual(
        Object.fromEntries(Object.entries(result.counts).filter(([, n]) => n > 0)),
        { Completed: 3, Failed: 2, Running: 2, Pending: 1 },
      );
      assert.deepEqual(result.atLeast, []);
      assert.equal(result.total, 8);
      assert.equal(result.totalAtLeast, false);
      assert.equal(result.countWindow, undefined);
      assert.equal(result.histogram.bins.reduce((n, b) => n + b.total, 0), 8);
    });

    test('beyond the window: unfinished counts stay exact, finished ones are lower bounds from the newest matches', async () => {
      const result = await load('', { window: 4 });
      // The newest 4: m-8 Pending, m-4 Running, m-6 Failed, m-2 Running.
      assert.equal(result.counts.Pending, 1);
      assert.equal(result.counts.Running, 2);
      assert.equal(result.counts.Failed, 1);
      assert.equal(result.counts.Completed, 0);
      assert.deepEqual(result.atLeast, ['Failed']);
      assert.equal(result.totalAtLeast, true);
      assert.equal(result.countWindow, 4);
      assert.equal(result.histogram.bins.reduce((n, b) => n + b.total, 0), 4, 'the histogram bins the window');
      const unfinished = await load('status=Running&status=Pending', { window: 4 });
      assert.equal(unfinished.total, 3);
      assert.equal(unfinished.totalAtLeast, false, 'unfinished totals are exact at any size');
      assert.deepEqual(unfinished.rows.map((r) => r.instanceId), ['m-8', 'm-4', 'm-2']);
    });

    test('a name filter counts among the newest 2 × window instances only, as lower bounds', async () => {
      const exact = await load('name=alpha', { window: 4 });
      assert.equal(exact.counts.Completed + exact.counts.Failed, 2, 'the newest 8 hold both alphas');
      assert.equal(exact.totalAtLeast, false);
      const capped = await load('name=alpha', { window: 2 });
      assert.equal(capped.counts.Failed, 1, 'm-6 is among the newest 4');
      assert.equal(capped.counts.Completed, 0, 'm-1 is not');
      assert.deepEqual(capped.atLeast, ['Failed']);
      assert.equal(capped.countWindow, 2);
      assert.deepEqual(capped.rows.map((r) => r.instanceId), ['m-6', 'm-1'], 'the page itself is complete');
    });

    test('with a filter no index serves, each page looks at a bounded number of instances and searches on', async () => {
      const first = await load('name=alpha&size=5', { pageScanLimit: 3 });
      assert.deepEqual(first.rows.map((r) => r.instanceId), ['m-6'], 'the newest 3: m-8, m-4, m-6');
      assert.ok(first.next);
      assert.deepEqual(await pages('name=alpha&size=5', { pageScanLimit: 3 }), ['m-6', 'm-1']);
      assert.deepEqual(await pages('name=alpha&size=5&sort=id&dir=desc', { pageScanLimit: 2 }), ['m-6', 'm-1']);
    });

    test('pages newest first, oldest first and by id either way from the store, each instance once', async () => {
      assert.deepEqual(await pages('size=3'), newestFirst);
      assert.deepEqual(await pages('size=3&sort=created&dir=asc'), [...newestFirst].reverse());
      const byId = made.map(([id]) => id).sort();
      assert.deepEqual(await pages('size=3&sort=id&dir=asc'), byId);
      assert.deepEqual(await pages('size=3&sort=id&dir=desc'), [...byId].reverse());
      assert.deepEqual(await pages('size=2&status=Completed'), ['m-3', 'm-1', 'm-5']);
      assert.deepEqual(await pages('size=2&name=ALPH'), ['m-6', 'm-1']);
    });

    test('sorts other columns in memory up to the limit, and falls back to newest first beyond it', async () => {
      const byName = await pages('size=3&sort=name&dir=asc');
      assert.deepEqual(byName, ['m-1', 'm-6', 'm-3', 'm-2', 'm-5', 'm-7', 'm-4', 'm-8'], 'name, then id');
      const tooMany = await load('size=3&sort=name&dir=asc', { memorySortLimit: 7 });
      assert.equal(tooMany.sort, 'created');
      assert.equal(tooMany.dir, 'desc');
      assert.match(tooMany.sortNote ?? '', /Sorting by name needs at most 7 matching instances \(8 match\)/);
      assert.deepEqual(tooMany.rows.map((r) => r.instanceId), newestFirst.slice(0, 3));
      const narrowed = await load('sort=name&dir=desc&status=Failed', { memorySortLimit: 7 });
      assert.deepEqual(narrowed.rows.map((r) => r.instanceId), ['m-7', 'm-6']);
      assert.equal(narrowed.sortNote, undefined);
    });
  });
}
