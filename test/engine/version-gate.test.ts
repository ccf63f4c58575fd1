/**
 * The worker's version gate: the claim rules it derives from its registrations and versioning, its decisions,
 * and that a rejecting worker never even claims an instance it would not run (no claim-then-release spinning).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from '../../src/sdk/registry.js';
import { VersionGate } from '../../src/runtime/version-gate.js';
import { startWorker } from '../../src/runtime/worker.js';
import { StoreClient } from '../../src/client/store-client.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { OrchestrationWorkItem } from '../../src/store/store.js';
import { FaultyStore } from '../support/faulty-store.js';
import { finished } from '../support/engine-helpers.js';
import type { OrchestrationContext } from '../../src/index.js';

function registry(versions: (string | undefined)[]): Registry {
  const r = new Registry();
  for (const v of versions) r.add('orchestration', 'order', function* () {}, v);
  return r;
}

describe('version gate', () => {
  test('claim rules: registrations limit the versions; Reject adds the strategy; Fail and None leave it to the episode', () => {
    assert.equal(new VersionGate(registry([undefined])).claimRules(), undefined);
    assert.deepEqual(new VersionGate(registry(['1', '2'])).claimRules(), { order: { oneOf: ['1', '2'] } });
    assert.deepEqual(new VersionGate(registry([undefined]), { defaultVersion: '2', matchStrategy: 'CurrentOrOlder' }).claimRules(), { order: { atMost: '2' } });
    assert.deepEqual(new VersionGate(registry([undefined]), { defaultVersion: '2', matchStrategy: 'Strict' }).claimRules(), { order: { oneOf: ['2'] } });
    assert.deepEqual(new VersionGate(registry([undefined]), { matchStrategy: 'Strict' }).claimRules(), { order: { oneOf: [''] } });
    assert.deepEqual(new VersionGate(registry(['1', '3']), { defaultVersion: '2', matchStrategy: 'CurrentOrOlder' }).claimRules(), {
      order: { oneOf: ['1', '3'], atMost: '3' },
    });
    assert.equal(new VersionGate(registry([undefined]), { defaultVersion: '2', matchStrategy: 'CurrentOrOlder', failureStrategy: 'Fail' }).claimRules(), undefined);
  });

  test('decisions: run, reject, or fail with both versions named', () => {
    const gate = new VersionGate(registry([undefined]), { defaultVersion: '1.0', matchStrategy: 'CurrentOrOlder', failureStrategy: 'Fail' });
    assert.deepEqual(gate.decide('order', '0.9'), { run: true });
    assert.deepEqual(gate.decide('order', undefined), { run: true });
    const failed = gate.decide('order', '1.1');
    assert.ok(!failed.run && !failed.reject);
    assert.match(failed.error.message, /version '1\.1' of orchestration 'order' does not match this worker's version '1\.0'.*up to '1\.0'/);
    assert.deepEqual(gate.decide('other', '1'), { run: false, reject: true }, 'a name it does not serve is never failed');
    assert.deepEqual(new VersionGate(registry(['1'])).decide('order', '2'), { run: false, reject: true }, 'a version it has no code for');
  });

  test('a rejecting worker never claims the instance it leaves, not even once', async () => {
    const store = new FaultyStore(new SqliteStore(':memory:'));
    const claimed: string[] = [];
    store.observe((call) => {
      if (call.method === 'claimOrchestrations' || call.method === 'leaseInstances') {
        for (const item of (call.result as OrchestrationWorkItem[] | undefined) ?? []) claimed.push(item.instance.instanceId);
      }
    });
    const reg = new Registry();
    reg.add('activity', 'noop', () => null);
    reg.add('orchestration', 'order', function* (ctx: OrchestrationContext) {
      yield ctx.callActivity('noop');
      return ctx.version;
    });
    const worker = await startWorker(store, 'h', reg, {
      pollIntervalMs: 20,
      localStarts: false,
      versioning: { defaultVersion: '1', matchStrategy: 'CurrentOrOlder', failureStrategy: 'Reject' },
    });
    const client = new StoreClient({ store, taskHub: 'h' });
    try {
      await client.startNew('order', { instanceId: 'newer', version: '2' });
      await client.startNew('order', { instanceId: 'older', version: '1' });
      assert.equal((await finished(client, 'older')).output, '1');
      assert.equal((await client.getStatus('newer'))?.runtimeStatus, 'Pending');
      assert.ok(!claimed.includes('newer'), `claimed: ${claimed.join(', ')}`);
    } finally {
      await worker.stop();
      await store.inner.close();
    }
  });
});
