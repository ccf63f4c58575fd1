/**
 * Conformance tests of an episode commit that keeps its lease (`EpisodeCommit.continueLease`): a store that
 * supports it hands back the next messages under the same lease, and that lease stays fenced; a store that does
 * not leaves the messages to a claim. Either way no message is lost or taken twice.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContinuedLease, EpisodeCommit, HubStore, OrchestrationWorkItem, Store } from '../../src/store/store.js';
import { claimAll, claimOne, commitOf, createWithStatus, eventMessage, eventually, freshHub, marker, raised, types } from './conformance-fixtures.js';

/** An instance `id`, Running, with one event claimed and `waiting` more events sent after the claim. */
async function claimedWithMore(hub: HubStore, id: string, waiting: string[]): Promise<OrchestrationWorkItem> {
  await createWithStatus(hub, id, 'Running');
  await hub.sendMessages([eventMessage(id, 'first')]);
  const item = await claimOne(hub, id);
  await hub.sendMessages(waiting.map((name) => eventMessage(id, name)));
  return item;
}

/** `commit` asking to keep its lease for `workerId` (the store fills `continueLease.next`). */
function keeping(commit: EpisodeCommit, workerId = 'w', leaseMs = 60_000): EpisodeCommit & { continueLease: ContinuedLease } {
  return { ...commit, continueLease: { workerId, leaseMs } };
}

/** The names of the EventRaised messages of `item`. */
function eventNames(item: OrchestrationWorkItem): string[] {
  return item.messages.map((m) => (m.event.eventType === 'EventRaised' ? m.event.name : m.event.eventType));
}

/** Declares the kept-lease tests; `store()` is the store under test. */
export function continuedLeaseConformance(store: () => Store): void {
  describe('commitEpisodes with continueLease', () => {
    test('the next messages come back under the same lease, or stay for a claim', async () => {
      const hub = freshHub(store());
      const item = await claimedWithMore(hub, 'c', ['second', 'third']);
      const commit = keeping(commitOf(item, { history: [raised('first')] }), 'w-c', 60_000);
      assert.deepEqual(await hub.commitEpisodes([commit]), ['committed']);
      const next = commit.continueLease.next;
      if (!next) {
        // Not supported: the lease ended and a claim takes the rest.
        const claimed = await claimOne(hub, 'c');
        assert.deepEqual(eventNames(claimed), ['second', 'third']);
        return;
      }
      assert.deepEqual(next.lease, item.lease, 'the same lease, epoch and all');
      assert.deepEqual(eventNames(next), ['second', 'third']);
      assert.equal(next.instance.status, 'Running');
      assert.equal(next.instance.historyLength, item.instance.historyLength + 1, 'the committed instance, not the claimed one');
      assert.deepEqual(await claimAll(hub), [], 'the kept lease keeps other claims off the instance');
      // The next episode commits under the kept lease; with nothing left, the lease ends.
      const second = keeping(commitOf(next, { history: [raised('second'), raised('third')] }), 'w-c', 60_000);
      assert.deepEqual(await hub.commitEpisodes([second]), ['committed']);
      assert.equal(second.continueLease.next, undefined, 'nothing waits: no lease kept');
      await hub.sendMessages([eventMessage('c', 'fourth')]);
      assert.deepEqual(eventNames(await claimOne(hub, 'c')), ['fourth'], 'released: any worker claims it');
      assert.deepEqual(
        types(await hub.getHistory('c')).filter((t) => t === 'EventRaised').length,
        3,
      );
    });

    test('a kept lease that expired is fenced: the worker that lost it cannot commit', async () => {
      const hub = freshHub(store());
      const item = await claimedWithMore(hub, 'f', ['second']);
      const commit = keeping(commitOf(item, { history: [raised('first')] }), 'w-old', 200);
      assert.deepEqual(await hub.commitEpisodes([commit]), ['committed']);
      const next = commit.continueLease.next;
      if (!next) return; // not supported: nothing kept, nothing to fence (the claim-based fencing is tested elsewhere)
      const taken = await eventually(async () => (await claimAll(hub)).find((i) => i.instance.instanceId === 'f'), 'the expired kept lease');
      assert.notEqual(taken.lease.epoch, next.lease.epoch);
      assert.deepEqual(eventNames(taken), ['second'], 'the messages handed back were not consumed');
      assert.deepEqual(await hub.commitEpisodes([commitOf(next, { history: [marker()] })]), ['lease-lost']);
      assert.deepEqual(await hub.commitEpisodes([commitOf(taken, { history: [raised('second')] })]), ['committed']);
      assert.equal(types(await hub.getHistory('f')).filter((t) => t === 'EventRaised').length, 2);
    });

    test('no lease is kept for an instance that ends, or when nothing more waits', async () => {
      const hub = freshHub(store());
      const ending = await claimedWithMore(hub, 'end', ['late']);
      const done = keeping(commitOf(ending, { history: [raised('first')], instance: { status: 'Completed' } }), 'w', 60_000);
      const idle = await claimedWithMore(hub, 'idle', []);
      const quiet = keeping(commitOf(idle, { history: [raised('first')] }), 'w', 60_000);
      assert.deepEqual(await hub.commitEpisodes([done, quiet]), ['committed', 'committed']);
      assert.equal(done.continueLease.next, undefined);
      assert.equal(quiet.continueLease.next, undefined);
      // Neither is leased: a message to the idle one is claimable at once (the ended one's late event is too).
      await hub.sendMessages([eventMessage('idle', 'again')]);
      const claimed = (await claimAll(hub)).map((i) => i.instance.instanceId).sort();
      assert.deepEqual(claimed, ['end', 'idle']);
    });
  });
}
