/**
 * Conformance tests of a start committed with its first episode (`EpisodeCommit.start`): one transaction creates
 * the instance, leased as asked and fenced by a fresh epoch, and writes the episode; a live instance holding the
 * id refuses the commit with nothing written, while the batch's other commits go through.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EpisodeCommit, NewActivity, OrchestrationWorkItem, StartInstanceRequest, Store } from '../../src/store/store.js';
import { claimAll, claimAllActivities, claimOne, commitOf, createWithStatus, eventMessage, freshHub, marker, scheduled, startRequest, types } from './conformance-fixtures.js';

/** The first episode of `request` as a worker prepares it before anything is written: the start consumed, one activity scheduled. */
function fusedCommit(request: StartInstanceRequest, activity = 'greet'): EpisodeCommit {
  const item: OrchestrationWorkItem = {
    instance: {
      instanceId: request.instanceId,
      name: request.name,
      executionId: request.executionId,
      status: 'Pending',
      createdAt: new Date(),
      lastUpdatedAt: new Date(),
      historyLength: 0,
      ...(request.input !== undefined ? { input: request.input } : {}),
    },
    messages: [],
    lease: { id: request.instanceId, epoch: 0 },
  };
  const task: NewActivity = { instanceId: request.instanceId, executionId: request.executionId, taskId: 0, name: activity, input: '"x"' };
  return {
    ...commitOf(item, { history: [marker(), request.startEvent, scheduled(0, activity)], activities: [task] }),
    start: { request, lease: { workerId: 'w-fused', leaseMs: 60_000 } },
  };
}

/** Declares the fused-start tests; `store()` is the store under test. */
export function fusedStartConformance(store: () => Store): void {
  describe('commitEpisodes with a fused start', () => {
    test('creates the instance with its first episode, and writes the epoch and creation time back', async () => {
      const hub = freshHub(store());
      // An epoch given out before: the fused instance's must be newer.
      await createWithStatus(hub, 'before', 'Running');
      const earlier = (await hub.getInstance('before'))!;
      const request = startRequest('f1', { input: '"in"' });
      const commit = fusedCommit(request);
      const began = Date.now();
      assert.deepEqual(await hub.commitEpisodes([commit]), ['committed']);
      assert.ok(commit.lease.epoch > 0, `epoch written back: ${commit.lease.epoch}`);
      assert.equal(commit.start!.conflict, undefined);
      assert.ok(Math.abs(commit.start!.createdAt! - began) < 60_000, `createdAt: ${commit.start!.createdAt}`);
      const instance = (await hub.getInstance('f1'))!;
      assert.equal(instance.status, 'Running');
      assert.equal(instance.input, '"in"');
      assert.equal(instance.historyLength, 3);
      assert.equal(instance.createdAt.getTime(), commit.start!.createdAt);
      assert.ok(earlier.createdAt.getTime() <= instance.createdAt.getTime());
      assert.deepEqual(types(await hub.getHistory('f1')), ['OrchestratorStarted', 'ExecutionStarted', 'TaskScheduled']);
      // No start message left behind, and the commit ended the lease: nothing to claim, but a message is claimable.
      assert.deepEqual((await claimAll(hub)).map((i) => i.instance.instanceId), []);
      const activities = await claimAllActivities(hub);
      assert.deepEqual(activities.map((a) => [a.instanceId, a.name]), [['f1', 'greet']]);
      await hub.sendMessages([eventMessage('f1', 'ping')]);
      const next = await claimOne(hub, 'f1');
      assert.ok(next.lease.epoch > commit.lease.epoch, 'a later claim fences the fused commit out');
      assert.deepEqual(next.messages.map((m) => m.event.eventType), ['EventRaised']);
      assert.deepEqual(await hub.commitEpisodes([{ ...commitOf(next), lease: { id: 'f1', epoch: commit.lease.epoch } }]), ['lease-lost']);
    });

    test('a live instance with the id refuses the commit, nothing written, and the batch goes on', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'live', 'Running');
      const before = await hub.getHistory('live');
      const refused = fusedCommit(startRequest('live', { input: '"new"' }), 'never');
      const other = fusedCommit(startRequest('other'));
      assert.deepEqual(await hub.commitEpisodes([refused, other]), ['lease-lost', 'committed']);
      assert.equal(refused.start!.conflict, 'Running');
      assert.equal(refused.start!.createdAt, undefined);
      const live = (await hub.getInstance('live'))!;
      assert.equal(live.status, 'Running');
      assert.equal(live.input, undefined, 'the live instance keeps its input');
      assert.deepEqual(await hub.getHistory('live'), before);
      assert.equal((await hub.getInstance('other'))!.status, 'Running');
      assert.deepEqual((await claimAllActivities(hub)).map((a) => a.instanceId), ['other'], 'only the committed episode scheduled work');
    });

    test('a finished instance with the id is replaced, its old history gone', async () => {
      const hub = freshHub(store());
      await createWithStatus(hub, 'done', 'Completed', { output: '"old"' });
      const oldEpoch = (await hub.getInstance('done'))!;
      const commit = fusedCommit(startRequest('done', { input: '"again"' }));
      assert.deepEqual(await hub.commitEpisodes([commit]), ['committed']);
      const again = (await hub.getInstance('done'))!;
      assert.equal(again.status, 'Running');
      assert.equal(again.output, undefined);
      assert.equal(again.input, '"again"');
      assert.equal(again.executionId, commit.start!.request.executionId);
      assert.ok(again.createdAt.getTime() >= oldEpoch.createdAt.getTime());
      assert.deepEqual(types(await hub.getHistory('done')), ['OrchestratorStarted', 'ExecutionStarted', 'TaskScheduled']);
    });

    test('two fused starts of one id in one batch: the first wins, the second is refused', async () => {
      const hub = freshHub(store());
      const first = fusedCommit(startRequest('twice', { input: '"1"' }));
      const second = fusedCommit(startRequest('twice', { input: '"2"' }));
      assert.deepEqual(await hub.commitEpisodes([first, second]), ['committed', 'lease-lost']);
      // The first one's row, as the second one's creation met it: before (PostgreSQL) or after its episode (SQLite).
      assert.ok(['Pending', 'Running'].includes(second.start!.conflict!), `conflict: ${second.start!.conflict}`);
      assert.equal((await hub.getInstance('twice'))!.input, '"1"');
      assert.equal((await claimAllActivities(hub)).length, 1);
    });
  });
}
