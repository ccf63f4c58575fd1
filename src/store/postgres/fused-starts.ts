/**
 * Fused starts on PostgreSQL (`EpisodeCommit.start`): the instances a batch of episodes begins are created inside
 * the batch's transaction, so a start made next to its worker costs one durable commit with its first episode.
 */
import type { RuntimeStatus } from '../../sdk/history.js';
import type { EpisodeCommit } from '../store.js';
import type { TxClient } from './connection.js';
import { distinctRounds, startInstances } from './hub-writes.js';
import type { Tables } from './schema.js';

/** What creating a fused start did: the new instance's fence and start message, or the live instance's status. */
export type FusedStartAnswer = { epoch: number; createdAt: number; messageId: number } | { conflict: RuntimeStatus };

/**
 * Creates the instances of the commits that carry a `start`, leased as asked, in `client`'s transaction (starts of
 * one id go in rounds, so a second one conflicts with the first). The start message is written like any start's;
 * the episode's commit consumes it.
 */
export async function createFusedStarts(client: TxClient, t: Tables, hub: string, commits: readonly EpisodeCommit[]): Promise<Map<EpisodeCommit, FusedStartAnswer>> {
  const answers = new Map<EpisodeCommit, FusedStartAnswer>();
  const fused = commits.filter((c) => c.start);
  for (const round of distinctRounds(fused.map((c) => c.lease.id))) {
    const group = round.map((i) => fused[i]!);
    const started = await startInstances(client, t, hub, group.map((c) => ({ request: c.start!.request, lease: c.start!.lease })));
    group.forEach((commit, k) => {
      const { conflict, item } = started[k]!;
      if (conflict) answers.set(commit, { conflict });
      else answers.set(commit, { epoch: item!.lease.epoch, createdAt: item!.instance.createdAt.getTime(), messageId: item!.messages[0]!.id });
    });
  }
  return answers;
}

/** Writes what the store learned into the fused commits, once their transaction has committed. */
export function settleFusedStarts(answers: ReadonlyMap<EpisodeCommit, FusedStartAnswer>): void {
  for (const [commit, answer] of answers) {
    if ('conflict' in answer) commit.start!.conflict = answer.conflict;
    else {
      commit.lease.epoch = answer.epoch;
      commit.start!.createdAt = answer.createdAt;
    }
  }
}
