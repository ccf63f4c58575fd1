/**
 * The worker's heartbeat, in one process: bad settings are refused, a failing heartbeat is logged and the worker
 * goes on, a heartbeat that ran out is reported, two workers on one store take over each other's work when one
 * stops beating, and a stopped worker stops beating.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ValidationError } from '../../src/sdk/errors.js';
import { makeEvent } from '../../src/sdk/history.js';
import type { Logger } from '../../src/sdk/logger.js';
import { Registry } from '../../src/sdk/registry.js';
import { startWorker, type WorkerHandle } from '../../src/runtime/worker.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { FaultyStore } from '../support/faulty-store.js';

/** A logger that keeps the warnings. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug: () => {}, info: () => {}, warn: (m) => void warnings.push(m), error: () => {} };
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('worker heartbeat', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const open = (clock?: () => number) => {
    const store = new SqliteStore(':memory:', clock ? { clock } : {});
    cleanups.push(() => store.close());
    return store;
  };
  const start = async (store: SqliteStore | FaultyStore, options: Parameters<typeof startWorker>[3]): Promise<WorkerHandle> => {
    const worker = await startWorker(store, 'default', new Registry(), { pollIntervalMs: 50, ...options });
    cleanups.push(() => worker.stop());
    return worker;
  };

  test('refuses settings where the timeout is not longer than the interval, or not a number', async () => {
    const store = open();
    for (const bad of [
      { heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 1000 },
      { heartbeatIntervalMs: -5 },
      { heartbeatIntervalMs: Number.NaN },
      { heartbeatTimeoutMs: Number.POSITIVE_INFINITY },
    ]) {
      await assert.rejects(start(store, bad), ValidationError, JSON.stringify(bad));
    }
  });

  test('a failing heartbeat is logged and the worker goes on beating', async () => {
    const faulty = new FaultyStore(open(), [{ method: 'heartbeat', nth: 2, every: 1_000_000 }]);
    const logger = recordingLogger();
    await start(faulty, { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 5000, logger });
    await until(() => faulty.calls('heartbeat') >= 4, 'more heartbeats');
    assert.deepEqual(
      logger.warnings.filter((w) => w.includes('heartbeat')).map((w) => w.replace(/^worker \S+: /, '')),
      ['heartbeat failed: injected fault: heartbeat call #2 (before)'],
    );
  });

  test('a heartbeat that finds its previous one ran out warns that the work may have been taken over', async () => {
    let now = Date.now();
    const logger = recordingLogger();
    await start(open(() => now), { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 1000, logger });
    await sleep(60);
    assert.deepEqual(logger.warnings, [], 'no warning while it beats in time');
    now += 5000; // as if the process had been paused for five seconds
    await until(() => logger.warnings.some((w) => w.includes('its heartbeat ran out')), 'the warning');
  });

  test('a worker that stops beating has its work taken over by another worker of the hub', async () => {
    const store = open();
    const hub = store.hub('default');
    const quiet = await start(store, { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 100 });
    const startEvent = makeEvent({ eventType: 'ExecutionStarted', name: 'orch', instanceId: 'held', executionId: 'e1' }, new Date());
    await hub.createInstance({ instanceId: 'held', name: 'orch', executionId: 'e1', startEvent });
    // A lease of the quiet worker that it will never release (its dispatchers serve no 'orch').
    const [held] = await hub.claimOrchestrations({ workerId: quiet.workerId, limit: 1, leaseMs: 600_000 });
    assert.ok(held);
    await quiet.stop(); // beats no more
    await start(store, { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 100 });
    const deadline = Date.now() + 20_000;
    while ((await hub.renewLeases('orchestration', [held.lease], 600_000))[0]) {
      if (Date.now() > deadline) assert.fail('the lease was not taken over');
      await sleep(20);
    }
    assert.equal((await hub.claimOrchestrations({ workerId: 'probe', limit: 1, leaseMs: 1000 })).length, 1, 'the instance is free');
  });
});
