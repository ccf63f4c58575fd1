/**
 * Conformance of what the dashboard's list reads at scale: `queryInstances` newest first (either order key),
 * the name filter, and `instanceOverview` (exact unfinished counts, the newest window of matching instances).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../../src/sdk/errors.js';
import type { HubStore, InstanceQuery, Store } from '../../src/store/store.js';
import { createWithStatus, freshHub, sleep, startRequest } from './conformance-fixtures.js';

/** Every id of `query`, page by page (pages of `pageSize`). */
async function allPages(hub: HubStore, query: InstanceQuery): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await hub.queryInstances({ ...query, ...(token ? { continuationToken: token } : {}) });
    assert.ok(page.instances.length <= (query.pageSize ?? 100));
    ids.push(...page.instances.map((r) => r.instanceId));
    token = page.continuationToken;
  } while (token);
  return ids;
}

/** Declares the list-at-scale tests; `store()` is the store under test. */
export function instanceListConformance(store: () => Store): void {
  describe('queryInstances newest first', () => {
    test('pages by (created time, id) descending, ties broken by id, each instance once', async () => {
      const hub = freshHub(store());
      // Two batches of concurrent creates: ties likely within a batch, distinct times across them.
      await Promise.all(['a1', 'a3', 'a2'].map((id) => hub.createInstance(startRequest(id))));
      await sleep(15);
      await Promise.all(['b2', 'b1'].map((id) => hub.createInstance(startRequest(id))));
      const ascending = await allPages(hub, { pageSize: 2 });
      const descending = await allPages(hub, { pageSize: 2, descending: true });
      assert.deepEqual(descending, [...ascending].reverse());
      assert.deepEqual(descending.slice(0, 2).sort(), ['b1', 'b2']);
      assert.deepEqual(descending.slice(2).sort(), ['a1', 'a2', 'a3']);
    });

    test('pages by id descending; a token continues after any id', async () => {
      const hub = freshHub(store());
      for (const id of ['k1', 'k4', 'k2', 'k3']) await hub.createInstance(startRequest(id));
      assert.deepEqual(await allPages(hub, { orderBy: 'instanceId', descending: true, pageSize: 3 }), ['k4', 'k3', 'k2', 'k1']);
      const page = await hub.queryInstances({ orderBy: 'instanceId', descending: true, continuationToken: 'k3' });
      assert.deepEqual(page.instances.map((r) => r.instanceId), ['k2', 'k1']);
    });
  });

  describe('queryInstances nameContains', () => {
    test('matches names containing the text, ASCII letters case-insensitively, others exactly', async () => {
      const hub = freshHub(store());
      const names = { n1: 'OrderFlow', n2: 'reorder', n3: 'payment', n4: 'ÄrgerFlow', n5: 'ärger', n6: '100%_done' };
      for (const [id, name] of Object.entries(names)) await hub.createInstance(startRequest(id, { name }));
      const ids = async (nameContains: string) => (await hub.queryInstances({ nameContains })).instances.map((r) => r.instanceId).sort();
      assert.deepEqual(await ids('order'), ['n1', 'n2']);
      assert.deepEqual(await ids('ORDER'), ['n1', 'n2']);
      assert.deepEqual(await ids('flow'), ['n1', 'n4']);
      assert.deepEqual(await ids('Är'), ['n4'], 'non-ASCII letters compare exactly on both stores');
      assert.deepEqual(await ids('%_'), ['n6'], '% and _ are literal');
      assert.deepEqual(await ids(''), ['n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
      await assert.rejects(hub.queryInstances({ nameContains: 'a\u0000' }), ValidationError);
    });
  });

  describe('queryInstances scanLimit', () => {
    test('a filter no index serves looks at scanLimit instances per page; short pages continue, each match once', async () => {
      const hub = freshHub(store());
      // Oldest first: r1 among six others, then r2.
      const names = ['rare', 'x', 'x', 'x', 'x', 'x', 'x', 'rare'];
      for (const [n, name] of names.entries()) {
        await hub.createInstance(startRequest(`s-${n}`, { name }));
        await sleep(3);
      }
      const first = await hub.queryInstances({ nameContains: 'rare', descending: true, scanLimit: 3, pageSize: 5 });
      assert.deepEqual(first.instances.map((r) => r.instanceId), ['s-7']);
      assert.ok(first.continuationToken, 'more instances remain beyond the scan');
      const second = await hub.queryInstances({ nameContains: 'rare', descending: true, scanLimit: 3, pageSize: 5, continuationToken: first.continuationToken });
      assert.deepEqual(second.instances.map((r) => r.instanceId), [], 's-4, s-3, s-2: no match, but a token');
      assert.ok(second.continuationToken);
      assert.deepEqual(await allPages(hub, { nameContains: 'rare', descending: true, scanLimit: 3, pageSize: 5 }), ['s-7', 's-0']);
      assert.deepEqual(await allPages(hub, { nameContains: 'rare', orderBy: 'instanceId', scanLimit: 2, pageSize: 1 }), ['s-0', 's-7']);
      const none = await hub.queryInstances({ runtimeStatus: ['Canceled'], descending: true, scanLimit: 3, pageSize: 5 });
      assert.deepEqual(none.instances, [], 'a status filter is bounded too');
      assert.ok(none.continuationToken);
      assert.deepEqual(await allPages(hub, { runtimeStatus: ['Pending'], scanLimit: 3, pageSize: 5 }), names.map((_, n) => `s-${n}`));
      const full = await hub.queryInstances({ scanLimit: 2, pageSize: 5 });
      assert.equal(full.instances.length, 5, 'without such a filter the scan limit does not apply');
      await assert.rejects(hub.queryInstances({ nameContains: 'x', scanLimit: 0 }), ValidationError);
    });
  });

  describe('instanceOverview', () => {
    test('counts unfinished instances exactly and returns the newest matching ones, newest first', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'o-p1', 'Pending', { name: 'alpha' });
      await createWithStatus(hub, 'o-p2', 'Pending', { name: 'beta' });
      await createWithStatus(hub, 'o-r1', 'Running', { name: 'alpha' });
      await createWithStatus(hub, 'o-s1', 'Suspended', { name: 'alpha' });
      await createWithStatus(hub, 'o-c1', 'Completed', { name: 'alpha' });
      await createWithStatus(hub, 'o-f1', 'Failed', { name: 'beta' });
      await hub.createInstance(startRequest('@counter@k', { name: 'counter' }));

      const all = await hub.instanceOverview({}, 100);
      assert.deepEqual(all.unfinished, { Pending: 2, Running: 1, Suspended: 1 });
      assert.equal(all.recent.length, 6, 'entities are left out');
      for (let i = 1; i < all.recent.length; i++) assert.ok(all.recent[i - 1]!.createdAt >= all.recent[i]!.createdAt, 'newest first');
      assert.deepEqual(all.recent.map((r) => r.status).sort(), ['Completed', 'Failed', 'Pending', 'Pending', 'Running', 'Suspended']);

      const alpha = await hub.instanceOverview({ nameContains: 'ALP' }, 100);
      assert.equal(alpha.unfinished, undefined, 'a filter no index serves: counted in the scan instead');
      assert.deepEqual(alpha.recent.map((r) => r.status).sort(), ['Completed', 'Pending', 'Running', 'Suspended']);

      const window = await hub.instanceOverview({}, 2);
      assert.equal(window.recent.length, 2);
      assert.deepEqual(window.recent, all.recent.slice(0, 2));
      assert.deepEqual(window.unfinished, all.unfinished, 'the window does not limit the unfinished counts');

      const prefixed = await hub.instanceOverview({ instanceIdPrefix: 'o-p', runtimeStatus: ['Pending', 'Completed'] }, 100);
      assert.equal(prefixed.unfinished, undefined);
      const ranged = await hub.instanceOverview({ createdTimeFrom: (await hub.getInstance('o-p2'))!.createdAt }, 100);
      assert.deepEqual(ranged.unfinished, { Pending: 1, Running: 1, Suspended: 1 }, 'a time range keeps the exact unfinished counts');
      assert.deepEqual(prefixed.recent.map((r) => r.status), ['Pending', 'Pending']);
    });

    test('applies a filter no index serves to the newest 2 × window instances only, and says so', async () => {
      const hub = freshHub(store());
      // Oldest first: one 'rare' instance, then six others; a window of 2 scans the newest 4.
      await createWithStatus(hub, 'x-rare', 'Completed', { name: 'rare' });
      for (let i = 0; i < 6; i++) {
        await sleep(3);
        await createWithStatus(hub, `x-${i}`, i === 5 ? 'Failed' : 'Completed', { name: i === 5 ? 'rare-too' : 'common' });
      }
      const capped = await hub.instanceOverview({ nameContains: 'rare' }, 2);
      assert.deepEqual(capped.recent.map((r) => r.status), ['Failed'], 'x-rare is beyond the scan');
      assert.equal(capped.scanCapped, true);
      const wide = await hub.instanceOverview({ nameContains: 'rare' }, 4);
      assert.deepEqual(wide.recent.map((r) => r.status), ['Failed', 'Completed'], 'the newest 8 hold both');
      assert.equal(wide.scanCapped, false);
      assert.equal((await hub.instanceOverview({}, 2)).scanCapped, false, 'indexed filters never cap');
      const ranged = await hub.instanceOverview({ nameContains: 'rare', createdTimeTo: (await hub.getInstance('x-0'))!.createdAt }, 1);
      assert.deepEqual(ranged.recent.map((r) => r.status), ['Completed'], 'the scan starts at the end of the time range');
    });

    test('refuses a window outside 1 to 100,000', async () => {
      const hub = freshHub(store());
      for (const window of [0, 100_001, 1.5]) await assert.rejects(hub.instanceOverview({}, window), ValidationError);
    });
  });
}
