/**
 * Store errors logged rate-limited (store-outage.ts): the first error of a kind at a place is logged, repeats are
 * held back for 30 s and then counted in the next line; other errors are always logged; a guarded store logs
 * "store recovered" once when a write succeeds after store errors, which ends the held-back windows.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StoreError } from '../../src/sdk/errors.js';
import { makeEvent } from '../../src/sdk/history.js';
import { REPEAT_MS, storeErrorGate } from '../../src/store/store-outage.js';
import { guardStore } from '../../src/store/store-errors.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { captureLogs, findRecord } from '../support/log-capture.js';

const full = () => new StoreError('disk-full', 'the disk is full: x', { code: 'SQLITE_FULL' });

describe('storeErrorGate', () => {
  test('the first store error of a kind is logged, repeats held back for 30 s, then counted', () => {
    const { logger } = captureLogs('json');
    const t0 = 1_000_000;
    assert.deepEqual(storeErrorGate(logger, 'loop', full(), t0), { log: true, repeats: '' });
    for (let n = 1; n <= 5; n++) assert.equal(storeErrorGate(logger, 'loop', full(), t0 + n * 100).log, false);
    // Another place, another reason: each logged at once.
    assert.equal(storeErrorGate(logger, 'http', full(), t0 + 600).log, true);
    assert.equal(storeErrorGate(logger, 'loop', new StoreError('read-only', 'ro'), t0 + 700).log, true);
    // Not a store error: always.
    assert.equal(storeErrorGate(logger, 'loop', new Error('boom'), t0 + 800).log, true);
    assert.equal(storeErrorGate(logger, 'loop', new Error('boom'), t0 + 900).log, true);
    assert.deepEqual(storeErrorGate(logger, 'loop', full(), t0 + REPEAT_MS), { log: true, repeats: ' (5 more like it in the last 30 s)' });
  });

  test('each logger has its own windows', () => {
    const a = captureLogs('json').logger;
    const b = captureLogs('json').logger;
    assert.equal(storeErrorGate(a, 'loop', full()).log, true);
    assert.equal(storeErrorGate(b, 'loop', full()).log, true);
  });
});

describe('a guarded store after store errors', () => {
  test('logs "store recovered" once when a write succeeds again, and the next outage is logged at once', async () => {
    const logs = captureLogs('json');
    const store = guardStore(new SqliteStore(':memory:'), logs.logger);
    const db = (store as unknown as SqliteStore).db;
    const hub = store.hub('default');
    try {
      const loop = captureLogs('json').logger;
      db.pragma('query_only = ON'); // every write fails as SQLITE_READONLY: a StoreError ('read-only')
      for (let n = 0; n < 3; n++) {
        await assert.rejects(hub.sendMessages([{ instanceId: 'x', event: makeEvent({ eventType: 'EventRaised', name: 'e' }, new Date()) }]), StoreError);
      }
      assert.equal(storeErrorGate(loop, 'loop', new StoreError('read-only', 'ro')).log, true);
      assert.equal(storeErrorGate(loop, 'loop', new StoreError('read-only', 'ro')).log, false);
      await hub.getInstance('x'); // a read: no recovery
      assert.equal(findRecord(logs.records(), /^store recovered/), undefined);
      db.pragma('query_only = OFF');
      await hub.registerWorker('w', { orchestrations: [], activities: [], entities: [] });
      await hub.registerWorker('w', { orchestrations: [], activities: [], entities: [] });
      const recovered = logs.records().filter((r) => /^store recovered/.test(r.msg));
      assert.equal(recovered.length, 1, logs.text());
      assert.match(recovered[0]!.msg, /^store recovered: writes succeed again after [\d.]+ s of store errors \(3 failed calls\)$/);
      assert.deepEqual([recovered[0]!.level, recovered[0]!.fields['reason'], recovered[0]!.fields['failures']], ['info', 'read-only', 3]);
      // The recovery ended the held-back window: a new outage is news.
      assert.equal(storeErrorGate(loop, 'loop', new StoreError('read-only', 'ro')).log, true);
    } finally {
      await store.close();
    }
  });
});
