/**
 * Starts fused with their first episode (`StartReservation.fuse`, `FusedStart`): a client in the worker's process
 * hands over a start before anything is written; the worker's next step runs its first episode from a work item
 * made from the request, and one commit creates the instance with that episode. Between `startNew` and the first
 * activity there is then one durable write instead of two.
 *
 * A start waits for this only so long ({@link FUSE_WAIT_MS}): one whose episode is not ready by then is given back
 * before its commit, and the client writes it as usual; its episode's result is dropped.
 */
import { flowColumn } from '../store/flow.js';
import { startedWorkItem } from '../store/shared.js';
import type { EpisodeCommit, OrchestrationWorkItem, StartInstanceRequest, StartLease } from '../store/store.js';
import { InstanceAlreadyExistsError } from '../sdk/errors.js';
import type { ExecutionStartedEvent } from '../sdk/history.js';

/** How long a fused start waits for its episode to be ready before the client writes it by itself. */
export const FUSE_WAIT_MS = 100;

/** A start handed to the worker, with the work item its first episode runs from. */
export interface Fusion {
  readonly request: StartInstanceRequest;
  readonly lease: StartLease;
  /** The instance as its creation will write it, with its start message (id -1: it never reaches an inbox). */
  readonly item: OrchestrationWorkItem;
}

interface Waiting extends Fusion {
  /** `waiting` for a step, `preparing` in one, `committing` (no longer given back), or `settled`. */
  state: 'waiting' | 'preparing' | 'committing' | 'settled';
  timer: NodeJS.Timeout;
  answer(fused: boolean): void;
  fail(error: unknown): void;
}

/** Whether `request` can be fused: a plain client start, due now and not flow-controlled (a claim checks those limits). */
export function canFuse(request: StartInstanceRequest): boolean {
  const start = request.startEvent as ExecutionStartedEvent;
  return request.parentInstance === undefined && flowColumn(request.flow) === null && !start.scheduledStartTime;
}

/** The fused starts of one orchestration dispatcher. */
export class StartFusions {
  #waiting: Waiting[] = [];
  readonly #inStep = new Map<OrchestrationWorkItem, Waiting>();

  /** Starts waiting for a step (the dispatcher is not idle while there are any). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Hands `request` over for the next step; answers as `StartReservation.fuse` does. */
  add(request: StartInstanceRequest, lease: StartLease, now: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const item = startedWorkItem(request, now, 0, -1);
      const entry: Waiting = {
        request,
        lease,
        item,
        state: 'waiting',
        timer: setTimeout(() => this.#giveBack(entry), FUSE_WAIT_MS),
        answer: (fused) => {
          clearTimeout(entry.timer);
          entry.state = 'settled';
          resolve(fused);
        },
        fail: (error) => {
          clearTimeout(entry.timer);
          entry.state = 'settled';
          reject(error);
        },
      };
      this.#waiting.push(entry);
    });
  }

  /** The work items of the starts waiting now, for this step. */
  take(): OrchestrationWorkItem[] {
    const taken = this.#waiting.splice(0);
    for (const entry of taken) {
      entry.state = 'preparing';
      this.#inStep.set(entry.item, entry);
    }
    return taken.map((e) => e.item);
  }

  /** Whether `item` is a fused start's (its instance does not exist yet: it has no lease to release). */
  has(item: OrchestrationWorkItem): boolean {
    return this.#inStep.has(item);
  }

  /**
   * Readies a fused start's prepared commit: it creates the instance, and no longer consumes the start message
   * (there is none). Answers false when the start was given back meanwhile: its commit must not be written.
   */
  toCommit(item: OrchestrationWorkItem, commit: EpisodeCommit): boolean {
    const entry = this.#inStep.get(item);
    if (!entry) return false;
    if (entry.state !== 'preparing') {
      this.#inStep.delete(item); // given back meanwhile, and answered
      return false;
    }
    entry.state = 'committing';
    clearTimeout(entry.timer);
    commit.consumedMessageIds = commit.consumedMessageIds.filter((id) => id >= 0);
    commit.start = { request: entry.request, lease: entry.lease };
    return true;
  }

  /** The step's commit answered for `item`'s start: committed, refused for a live instance, or not written. */
  settle(item: OrchestrationWorkItem, commit: EpisodeCommit | undefined, committed: boolean): void {
    const entry = this.#inStep.get(item);
    if (!entry) return;
    this.#inStep.delete(item);
    if (entry.state === 'settled') return;
    const start = commit?.start;
    if (committed && start?.createdAt !== undefined) {
      // What the store assigned; the episode's cached instance record reads these (its lease is the commit's).
      item.instance.createdAt = new Date(start.createdAt);
      item.instance.lastUpdatedAt = new Date(start.createdAt);
      entry.answer(true);
    } else if (start?.conflict) entry.fail(new InstanceAlreadyExistsError(entry.request.instanceId, start.conflict));
    else entry.answer(false);
  }

  /** Gives back every start not committed: the starts still waiting, and those of the step now ending. */
  giveBackAll(): void {
    for (const entry of this.#waiting.splice(0)) entry.answer(false);
    for (const item of [...this.#inStep.keys()]) this.settle(item, undefined, false);
  }

  #giveBack(entry: Waiting): void {
    if (entry.state === 'committing' || entry.state === 'settled') return;
    const at = this.#waiting.indexOf(entry);
    if (at >= 0) this.#waiting.splice(at, 1);
    entry.answer(false);
  }
}
