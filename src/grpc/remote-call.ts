/**
 * One work item out at a gRPC worker: the answer the episode waits for, and the acknowledgement the worker's
 * `Complete*` call waits for (it returns only once the result is committed, or fails if it could not be).
 */
import type { Lease } from '../store/store.js';
import type { WorkKind } from './completion-token.js';
import { StaleCompletionError } from './grpc-errors.js';
import type { WorkerConnection } from './worker-connection.js';
import { EpisodeAbandonedError } from '../runtime/episode-environment.js';

/** Why a work item was given back. */
export type AbandonReason = 'disconnected' | 'timeout' | 'abandoned' | 'shutdown';

/** A dispatched work item awaiting its worker's answer. */
export class RemoteCall<Res> {
  readonly answer: Promise<Res>;
  /** Set when the work was given back without an answer. */
  abandonedFor: AbandonReason | undefined;
  #state: 'waiting' | 'answered' | 'done' = 'waiting';
  #resolve!: (response: Res) => void;
  #reject!: (error: Error) => void;
  readonly #ack: Promise<void>;
  #ackResolve!: () => void;
  #ackReject!: (error: Error) => void;
  readonly #cleanups: (() => void)[] = [];

  constructor(
    readonly kind: WorkKind,
    readonly token: string,
    readonly worker: WorkerConnection,
    readonly lease: Lease,
  ) {
    this.answer = new Promise<Res>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.answer.catch(() => undefined); // the episode observes it; never an unhandled rejection
    this.#ack = new Promise<void>((resolve, reject) => {
      this.#ackResolve = resolve;
      this.#ackReject = reject;
    });
    this.#ack.catch(() => undefined);
  }

  /** Runs `cleanup` once the call is over (answered and settled, or abandoned). */
  onDone(cleanup: () => void): void {
    this.#cleanups.push(cleanup);
  }

  /** The worker's answer; resolves once it is committed. */
  deliver(response: Res): Promise<void> {
    if (this.#state !== 'waiting') return Promise.reject(new StaleCompletionError(`The work item of token '${this.token}' was already completed or given back.`));
    this.#state = 'answered';
    this.#resolve(response);
    return this.#ack;
  }

  /** Gives the work back (the episode is not committed and its lease is released). No-op once answered. */
  abandon(reason: AbandonReason): void {
    if (this.#state !== 'waiting') return;
    this.abandonedFor = reason;
    this.#finish();
    this.#reject(new EpisodeAbandonedError(`The gRPC worker gave the work back (${reason}).`));
    this.#ackReject(new StaleCompletionError('The work item was given back.'));
  }

  /** Ends the call with the commit's outcome (an error tells the worker its result was refused). */
  settle(error?: Error): void {
    if (this.#state === 'done') return;
    this.#finish();
    if (error) this.#ackReject(error);
    else this.#ackResolve();
  }

  #finish(): void {
    this.#state = 'done';
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
  }
}
