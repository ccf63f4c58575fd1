/**
 * Group commit of workers' results: episode commits and activity completions that arrive within `lingerMs` of
 * each other go to the store in the same tick, so they share one durable transaction. Results reach the sidecar
 * one RPC at a time, and SQLite's commit blocks the event loop (which also paces the work-item stream, one
 * message per loop turn), so a short wait buys far fewer commits and a stream that keeps flowing.
 */
import type { ActivityCompletion, CommitOutcome, EpisodeCommit, HubStore } from '../store/store.js';

/** Commits episodes and activity completions in shared store transactions. */
export class GroupCommit {
  #episodes: { commit: EpisodeCommit; resolve: (outcome: CommitOutcome) => void; reject: (error: unknown) => void }[] = [];
  #activities: { completion: ActivityCompletion; resolve: (ok: boolean) => void; reject: (error: unknown) => void }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly store: HubStore,
    private readonly lingerMs: number,
  ) {}

  /** Queues an episode's commit; resolves with its outcome. */
  episode(commit: EpisodeCommit): Promise<CommitOutcome> {
    return new Promise((resolve, reject) => {
      this.#episodes.push({ commit, resolve, reject });
      this.#schedule();
    });
  }

  /** Queues an activity's completion; resolves false when its lease was lost. */
  activity(completion: ActivityCompletion): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#activities.push({ completion, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once nothing is queued or being committed. */
  async idle(): Promise<void> {
    while (this.#timer || this.#flushing || this.#episodes.length || this.#activities.length) {
      await (this.#flushing ?? new Promise((resolve) => setTimeout(resolve, this.lingerMs + 1)));
    }
  }

  #schedule(): void {
    if (this.#timer || this.#flushing) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = undefined;
        if (this.#episodes.length || this.#activities.length) this.#schedule();
      });
    }, this.lingerMs);
  }

  async #flush(): Promise<void> {
    const episodes = this.#episodes.splice(0, 500);
    const activities = this.#activities.splice(0, 500);
    // Issued in the same tick, both land in one store transaction.
    await Promise.all([
      episodes.length
        ? this.store.commitEpisodes(episodes.map((e) => e.commit)).then(
            (outcomes) => episodes.forEach((e, i) => e.resolve(outcomes[i]!)),
            (error: unknown) => episodes.forEach((e) => e.reject(error)),
          )
        : undefined,
      activities.length
        ? this.store.completeActivities(activities.map((a) => a.completion)).then(
            (results) => activities.forEach((a, i) => a.resolve(results[i]!)),
            (error: unknown) => activities.forEach((a) => a.reject(error)),
          )
        : undefined,
    ]);
  }
}
