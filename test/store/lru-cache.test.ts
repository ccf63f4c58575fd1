/** The bounded per-hub caches of stores and the HTTP host: requests naming ever new task hubs do not grow memory. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruCache, MAX_CACHED_HUBS } from '../../src/store/lru-cache.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createHostContext } from '../../src/http/host-context.js';
import { Registry } from '../../src/sdk/registry.js';
import { silentLogger } from '../../src/sdk/logger.js';

test('an LRU cache keeps the most recently used values up to its capacity', () => {
  const cache = new LruCache<string, object>(3);
  const a = cache.getOrCreate('a', () => ({}));
  cache.getOrCreate('b', () => ({}));
  cache.getOrCreate('c', () => ({}));
  assert.equal(cache.getOrCreate('a', () => ({})), a, 'a hit returns the cached value');
  cache.getOrCreate('d', () => ({})); // evicts b, the least recently used
  assert.equal(cache.size, 3);
  assert.equal(cache.getOrCreate('a', () => ({})), a);
  let created = false;
  cache.getOrCreate('b', () => ((created = true), {}));
  assert.equal(created, true, 'b was evicted');
});

test('a store and the HTTP host keep a bounded number of task hubs', async () => {
  const store = new SqliteStore(':memory:');
  try {
    const first = store.hub('hub-0');
    assert.equal(store.hub('hub-0'), first);
    const context = createHostContext(
      { app: { registry: new Registry(), taskHub: 'default', httpAuthLevel: 'function', options: {} }, store, logger: silentLogger, apiKey: undefined, maxBodyBytes: 1024, maxPayloadBytes: undefined },
      () => 'http://127.0.0.1:1',
    );
    const firstClient = context.clientFor('hub-0');
    for (let i = 1; i <= MAX_CACHED_HUBS * 3; i++) {
      store.hub(`hub-${i}`);
      context.clientFor(`hub-${i}`);
    }
    assert.notEqual(store.hub('hub-0'), first, 'the store dropped the oldest hub');
    assert.notEqual(context.clientFor('hub-0'), firstClient, 'the host dropped the oldest client');
  } finally {
    await store.close();
  }
});
