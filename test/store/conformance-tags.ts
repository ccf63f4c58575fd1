/**
 * Conformance tests of instance tags in the store: stored with a start (client starts, leased starts and an
 * episode's sub-orchestration starts), returned by every read, kept by episode commits, cleared when a start
 * overwrites a finished instance, and the `tags` filter of queries and purges (every pair must match, exactly)
 * — with the same answers, and the same refusals of bad filters, on every store.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeEvent } from '../../src/sdk/history.js';
import { ValidationError } from '../../src/sdk/errors.js';
import type { HubStore, Store } from '../../src/store/store.js';
import { claimAll, claimOne, commitOf, createWithStatus, freshHub, newExecutionId, startRequest } from './conformance-fixtures.js';

/** Tag sets that exercise JSON and SQL quoting, case, unicode and keys that look like paths or prototypes. */
const TAGGED: Record<string, Record<string, string>> = {
  a: { env: 'prod', team: 'blue' },
  b: { env: 'prod', team: 'Blue' },
  c: { env: 'dev' },
  // A computed key: a literal `__proto__: 'p'` would not be an own property.
  d: { 'quote"key': "it's \"x\"", 'a.b': '$.env', ['__proto__']: 'p' },
  e: { env: 'prod', emoji: '😀', empty: '' },
};

async function startTagged(hub: HubStore): Promise<void> {
  for (const [id, tags] of Object.entries(TAGGED)) await hub.createInstance(startRequest(id, { tags }));
  await hub.createInstance(startRequest('untagged'));
}

const idsOf = async (hub: HubStore, tags: Record<string, string>) => (await hub.queryInstances({ tags })).instances.map((r) => r.instanceId).sort();

/** Declares the tag tests; `store()` is the store under test. */
export function tagConformance(store: () => Store): void {
  describe('tags', () => {
    test('a start stores its tags: getInstance, queryInstances and a claim return them as given', async () => {
      const hub = freshHub(store());
      await startTagged(hub);
      for (const [id, tags] of Object.entries(TAGGED)) {
        assert.deepEqual((await hub.getInstance(id))?.tags, tags, id);
      }
      assert.equal((await hub.getInstance('untagged'))?.tags, undefined);
      assert.ok(!('tags' in (await hub.getInstance('untagged'))!), 'no tags: the field is absent');
      const listed = new Map((await hub.queryInstances({})).instances.map((r) => [r.instanceId, r.tags]));
      assert.deepEqual(listed.get('d'), TAGGED['d']);
      assert.equal(Object.getPrototypeOf(listed.get('d')), Object.prototype, "'__proto__' comes back as an ordinary key");
      const claimed = await claimAll(hub);
      assert.deepEqual(claimed.find((i) => i.instance.instanceId === 'e')?.instance.tags, TAGGED['e']);
    });

    test('a leased start returns its tags on the work item', async () => {
      const hub = freshHub(store());
      const item = await hub.createInstance(startRequest('leased', { tags: { k: 'v' } }), { workerId: 'w', leaseMs: 60_000 });
      assert.deepEqual(item?.instance.tags, { k: 'v' });
    });

    test('queryInstances({ tags }) returns the instances holding every pair, exactly (case, empty values, quoting)', async () => {
      const hub = freshHub(store());
      await startTagged(hub);
      assert.deepEqual(await idsOf(hub, { env: 'prod' }), ['a', 'b', 'e']);
      assert.deepEqual(await idsOf(hub, { env: 'prod', team: 'blue' }), ['a'], 'all pairs must match');
      assert.deepEqual(await idsOf(hub, { team: 'BLUE' }), [], 'values compare case-sensitively');
      assert.deepEqual(await idsOf(hub, { Env: 'prod' }), [], 'keys compare case-sensitively');
      assert.deepEqual(await idsOf(hub, { empty: '' }), ['e'], "'' matches only a tag whose value is ''");
      assert.deepEqual(await idsOf(hub, { emoji: '😀' }), ['e']);
      assert.deepEqual(await idsOf(hub, { 'quote"key': "it's \"x\"" }), ['d']);
      assert.deepEqual(await idsOf(hub, { 'a.b': '$.env' }), ['d'], 'a key is a key, never a JSON path');
      assert.deepEqual(await idsOf(hub, Object.fromEntries([['__proto__', 'p']])), ['d']);
      assert.deepEqual(await idsOf(hub, { env: 'staging' }), []);
      assert.deepEqual(await idsOf(hub, {}), ['a', 'b', 'c', 'd', 'e', 'untagged'], 'an empty filter matches everything');
    });

    test('the tags filter combines with the other filters and pages', async () => {
      const hub = freshHub(store());
      for (let i = 0; i < 7; i++) await hub.createInstance(startRequest(`p${i}`, { tags: { batch: i % 2 ? 'odd' : 'even' } }));
      await createWithStatus(hub, 'done', 'Completed');
      const ids: string[] = [];
      let continuationToken: string | undefined;
      do {
        const page = await hub.queryInstances({ tags: { batch: 'even' }, pageSize: 2, ...(continuationToken ? { continuationToken } : {}) });
        assert.ok(page.instances.length <= 2);
        ids.push(...page.instances.map((r) => r.instanceId));
        continuationToken = page.continuationToken;
      } while (continuationToken);
      assert.deepEqual(ids.sort(), ['p0', 'p2', 'p4', 'p6']);
      assert.deepEqual((await hub.queryInstances({ tags: { batch: 'odd' }, instanceIdPrefix: 'p3' })).instances.map((r) => r.instanceId), ['p3']);
      assert.deepEqual((await hub.queryInstances({ tags: { batch: 'odd' }, runtimeStatus: ['Completed'] })).instances, []);
    });

    test('episode commits keep the tags, a continue-as-new (history replaced) too', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('can', { tags: { k: 'v' } }));
      const first = await claimOne(hub, 'can');
      const nextExecution = newExecutionId();
      const restart = makeEvent({ eventType: 'ExecutionStarted', name: 'orch', instanceId: 'can', executionId: nextExecution, tags: { k: 'v' } }, new Date());
      const outcome = await hub.commitEpisodes([
        commitOf(first, {
          historyMode: 'replace',
          history: [],
          instance: { status: 'ContinuedAsNew', executionId: nextExecution },
          messages: [{ instanceId: 'can', executionId: nextExecution, event: restart }],
        }),
      ]);
      assert.deepEqual(outcome, ['committed']);
      const second = await claimOne(hub, 'can');
      assert.deepEqual(second.instance.tags, { k: 'v' });
      assert.deepEqual(await hub.commitEpisodes([commitOf(second, { instance: { status: 'Completed' } })]), ['committed']);
      assert.deepEqual((await hub.getInstance('can'))?.tags, { k: 'v' });
      assert.deepEqual(await idsOf(hub, { k: 'v' }), ['can']);
    });

    test("an episode's sub-orchestration start stores the child's tags", async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('parent'));
      const item = await claimOne(hub, 'parent');
      const child = startRequest('child', { tags: { tenant: 't1' } });
      const onConflict = { instanceId: 'parent', event: makeEvent({ eventType: 'EventRaised', name: 'conflict' }, new Date()) };
      assert.deepEqual(await hub.commitEpisodes([commitOf(item, { startInstances: [{ request: child, onConflict }] })]), ['committed']);
      assert.deepEqual((await hub.getInstance('child'))?.tags, { tenant: 't1' });
      assert.deepEqual(await idsOf(hub, { tenant: 't1' }), ['child']);
    });

    test('a start that overwrites a finished instance replaces its tags (none: cleared)', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('again', { tags: { old: '1' } }));
      const item = await claimOne(hub, 'again');
      assert.deepEqual(await hub.commitEpisodes([commitOf(item, { instance: { status: 'Completed' } })]), ['committed']);
      await hub.createInstance(startRequest('again'));
      assert.equal((await hub.getInstance('again'))?.tags, undefined);
      assert.deepEqual(await idsOf(hub, { old: '1' }), []);
    });

    test('purgeInstances by filter honours the tags', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'plain', 'Completed');
      for (const [id, tags] of [['t1', { purge: 'yes' }], ['t2', { purge: 'no' }]] as const) {
        await hub.createInstance(startRequest(id, { tags }));
        const item = await claimOne(hub, id);
        assert.deepEqual(await hub.commitEpisodes([commitOf(item, { instance: { status: 'Completed' } })]), ['committed']);
      }
      assert.equal(await hub.purgeInstances({ tags: { purge: 'yes' } }), 1);
      assert.deepEqual((await hub.queryInstances({})).instances.map((r) => r.instanceId).sort(), ['plain', 't2']);
    });

    test('a bad tags filter is a ValidationError on every store, for queries and purges', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'kept', 'Completed');
      const bad: unknown[] = [
        { k: 1 },
        { k: null },
        { k: ['v'] },
        { '': 'v' },
        { k: 'a\u0000b' },
        { ['k'.repeat(129)]: 'v' },
        { k: 'v'.repeat(1025) },
        { k: '\ud800' },
        Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])),
        ['k', 'v'],
        'k=v',
      ];
      for (const tags of bad) {
        await assert.rejects(hub.queryInstances({ tags: tags as Record<string, string> }), ValidationError, JSON.stringify(tags));
        await assert.rejects(hub.purgeInstances({ tags: tags as Record<string, string> }), ValidationError, JSON.stringify(tags));
      }
      assert.ok(await hub.getInstance('kept'), 'nothing was purged');
    });
  });
}
