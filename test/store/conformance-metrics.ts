/**
 * Conformance of `metricsSnapshot`: instances not finished by status (entities left out), visible messages and
 * the age of the oldest, runnable activities, live workers — the same numbers on every store.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Store } from '../../src/store/store.js';
import { claimOne, commitOf, eventMessage, freshHub, sleep, startRequest } from './conformance-fixtures.js';

/** Declares the metrics snapshot tests; `store()` is the store under test. */
export function metricsConformance(store: () => Store): void {
  describe('metricsSnapshot', () => {
    test('counts what is waiting and who is alive, and nothing of finished instances or entities', async () => {
      const hub = freshHub(store());
      assert.deepEqual(await hub.metricsSnapshot!(), { instances: {}, visibleMessages: 0, oldestVisibleMs: 0, runnableActivities: 0, workersAlive: 0 });
      await hub.createInstance(startRequest('pending-1'));
      await hub.createInstance(startRequest('pending-2'));
      await hub.createInstance(startRequest('runs'));
      await hub.createInstance(startRequest('done'));
      for (const [id, status] of [['runs', 'Running'], ['done', 'Completed']] as const) {
        const item = await claimOne(hub, id);
        const executionId = item.instance.executionId;
        const activities = id === 'runs' ? [{ instanceId: id, executionId, taskId: 0, name: 'a' }, { instanceId: id, executionId, taskId: 1, name: 'b' }] : [];
        assert.deepEqual(await hub.commitEpisodes([commitOf(item, { instance: { status }, consumedMessageIds: item.messages.map((m) => m.id), activities })]), ['committed']);
      }
      await hub.sendMessages([eventMessage('@counter@x', 'op', '{"id":"r1","op":"add","signal":true,"timestamp":"2020-01-01T00:00:00.000Z"}')]);
      await hub.sendMessages([eventMessage('runs', 'later', undefined, new Date(Date.now() + 3_600_000))]);
      await hub.registerWorker('w1', { orchestrations: [], activities: [], entities: [] });
      await hub.heartbeat('w1', { timeoutMs: 60_000 });
      await sleep(30);
      const snapshot = await hub.metricsSnapshot!();
      assert.deepEqual(snapshot.instances, { Pending: 2, Running: 1 });
      assert.equal(snapshot.visibleMessages, 3, "the two starts and the entity's operation (not the later event)");
      assert.ok(snapshot.oldestVisibleMs >= 20 && snapshot.oldestVisibleMs < 60_000, `oldest ${snapshot.oldestVisibleMs} ms`);
      assert.equal(snapshot.runnableActivities, 2);
      assert.equal(snapshot.workersAlive, 1);
    });
  });
}
