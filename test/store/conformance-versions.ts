/**
 * Conformance tests of versions in the store: the `version` filter of instance queries and purges, the version
 * rules of claims (compared exactly as `compareVersions` compares, in SQL on both stores), and registrations
 * that carry versions.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareVersions } from '../../src/sdk/versioning.js';
import { ValidationError } from '../../src/sdk/errors.js';
import type { HubStore, Store } from '../../src/store/store.js';
import { claimAll, commitOf, createWithStatus, freshHub, startRequest } from './conformance-fixtures.js';

/** Versions that exercise every rule of the comparison (numeric parts, missing parts, text, case, code points). */
const VERSIONS = ['1', '1.0', '1.0.0', '1.01', '1.1', '1.9', '1.10', '2', '9', '10', '10a', '9a', 'V1', 'v1', 'beta', 'Beta', '_x', '\uffff', '😀'];

async function startVersions(hub: HubStore, name = 'orch'): Promise<Map<string, string | undefined>> {
  const byId = new Map<string, string | undefined>();
  await hub.createInstance(startRequest('none', { name }));
  byId.set('none', undefined);
  for (const [n, version] of VERSIONS.entries()) {
    await hub.createInstance(startRequest(`i${n}`, { name, version }));
    byId.set(`i${n}`, version);
  }
  return byId;
}

const sorted = (ids: Iterable<string>) => [...ids].sort();

/** Declares the version tests; `store()` is the store under test. */
export function versionConformance(store: () => Store): void {
  describe('versions', () => {
    test('queryInstances filters by version as compareVersions compares, and "" finds the unversioned', async () => {
      const hub = freshHub(store());
      const byId = await startVersions(hub);
      for (const wanted of ['1.1', 'v1', '10', '', '😀', 'none-such']) {
        const expected = [...byId].filter(([, v]) => compareVersions(v, wanted) === 0).map(([id]) => id);
        const got = (await hub.queryInstances({ version: wanted })).instances.map((r) => r.instanceId);
        assert.deepEqual(sorted(got), sorted(expected), `version ${JSON.stringify(wanted)}`);
      }
      assert.deepEqual(
        (await hub.queryInstances({ version: '1.1' })).instances.map((r) => r.version).sort(),
        ['1.01', '1.1'],
        'the stored versions come back as written',
      );
    });

    test('a NUL in the version filter is a ValidationError on every store', async () => {
      const hub = freshHub(store());
      await assert.rejects(hub.queryInstances({ version: 'a\u0000b' }), ValidationError);
      await assert.rejects(hub.purgeInstances({ version: 1 as unknown as string }), ValidationError);
    });

    test('purgeInstances by filter honours the version', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'old', 'Completed');
      await hub.createInstance(startRequest('v2', { version: '2' }));
      const v2 = (await claimAll(hub)).find((i) => i.instance.instanceId === 'v2')!;
      assert.deepEqual(await hub.commitEpisodes([commitOf(v2, { instance: { status: 'Completed' } })]), ['committed']);
      assert.equal(await hub.purgeInstances({ version: '2' }), 1);
      assert.deepEqual((await hub.queryInstances({})).instances.map((r) => r.instanceId), ['old']);
    });

    test('a claim takes only the versions its rule allows (up to, one of, both), compared as compareVersions', async () => {
      for (const rule of [{ atMost: '1.9' }, { atMost: '10' }, { atMost: 'v1' }, { atMost: '' }, { oneOf: ['1.1', 'BETA', ''] }, { oneOf: ['2', '10'], atMost: '9' }]) {
        const hub = freshHub(store());
        const byId = await startVersions(hub);
        const allowed = (v: string | undefined) =>
          (rule.oneOf === undefined || rule.oneOf.some((o) => compareVersions(v, o) === 0)) && (rule.atMost === undefined || compareVersions(v, rule.atMost) <= 0);
        const expected = [...byId].filter(([, v]) => allowed(v)).map(([id]) => id);
        const items = await hub.claimOrchestrations({ workerId: 'w', versions: { orch: rule }, limit: 100, leaseMs: 60_000 });
        assert.deepEqual(sorted(items.map((i) => i.instance.instanceId)), sorted(expected), JSON.stringify(rule));
      }
    });

    test('names without a rule, and entities, are claimed at any version; rules combine with the name filter', async () => {
      const hub = freshHub(store());
      await hub.createInstance(startRequest('a1', { name: 'a', version: '1' }));
      await hub.createInstance(startRequest('a3', { name: 'a', version: '3' }));
      await hub.createInstance(startRequest('b3', { name: 'b', version: '3' }));
      await hub.createInstance(startRequest('@a@key', { name: 'a', version: '3' }));
      await hub.createInstance(startRequest('c3', { name: 'c', version: '3' }));
      const items = await hub.claimOrchestrations({ workerId: 'w', names: ['a', 'b'], versions: { a: { atMost: '2' } }, limit: 100, leaseMs: 60_000 });
      assert.deepEqual(sorted(items.map((i) => i.instance.instanceId)), ['@a@key', 'a1', 'b3']);
      assert.equal(items.find((i) => i.instance.instanceId === 'a1')!.instance.version, '1');
    });

    test('registrations carry side-by-side versions and default versions; the union keeps them', async () => {
      const hub = freshHub(store());
      await hub.registerWorker('w1', { orchestrations: ['order', 'ship'], activities: [], entities: [], orchestrationVersions: { order: ['1'] }, defaultVersion: '1' });
      await hub.registerWorker('w2', { orchestrations: ['order'], activities: [], entities: [], orchestrationVersions: { order: ['2', '10'] }, defaultVersion: '10' });
      await hub.registerWorker('w3', { orchestrations: ['ship'], activities: [], entities: [] });
      assert.deepEqual(await hub.getRegisteredNames(), {
        orchestrations: ['order', 'ship'],
        activities: [],
        entities: [],
        orchestrationVersions: { order: ['1', '2', '10'] },
        defaultVersion: '10',
      });
      // A worker serving a name without versions serves it at any version.
      await hub.registerWorker('w3', { orchestrations: ['order'], activities: [], entities: [] });
      assert.equal((await hub.getRegisteredNames())?.orchestrationVersions, undefined);
    });
  });
}
