/**
 * Starts handed from a client straight to a worker in the same process. The client's start commit leases the
 * new instance to that worker (see `HubStore.createInstance`), which runs the first episode from the work item
 * it gets back: no claim and no wake-up through a notice between `startNew` and the first episode. An idle worker
 * does better still: it runs the first episode before anything is written, and commits the start with it. Workers
 * offer themselves per store object and task hub, so every client on a shared store (the app's, the HTTP
 * host's, the gRPC sidecar's) finds them; a start no worker here takes is claimed as usual, by any worker.
 */
import type { OrchestrationWorkItem, StartInstanceRequest, StartLease, Store } from './store.js';

/** A worker that takes starts made in its process. */
export interface LocalStartTaker {
  /** A reservation for a new instance of orchestration `name` at `version`, or undefined to leave the start to a claim. */
  reserve(name: string, version?: string): StartReservation | undefined;
}

/** A worker's promise to run a start's first episode; the client settles it once, after the start's commit. */
export interface StartReservation {
  /** Who the new instance is leased to. */
  readonly lease: StartLease;
  /** The start committed, leased as asked: here is its work item. */
  take(item: OrchestrationWorkItem): void;
  /** The start failed or was not leased: nothing to run. */
  cancel(): void;
  /**
   * Runs the start's first episode and commits the start with it, in one transaction (see `FusedStart`): one
   * durable write between `startNew` and the first activity instead of two. Offered only while the worker is idle,
   * so the start does not wait behind other work. Answers true once committed (the reservation is settled); false
   * when the worker did not commit it — it was busy, stopping, the episode was not ready in time, or failed to
   * prepare — and nothing was written: the reservation is still open for `take` or `cancel`. Rejects as
   * `createInstance` does when a live instance holds the id (settled; nothing written).
   */
  fuse?(request: StartInstanceRequest): Promise<boolean>;
}

const takers = new WeakMap<Store, Map<string, Set<LocalStartTaker>>>();

/** Offers `taker` for starts of task hub `hub` made on `store` in this process; returns the withdrawal. */
export function offerLocalStarts(store: Store, hub: string, taker: LocalStartTaker): () => void {
  let hubs = takers.get(store);
  if (!hubs) takers.set(store, (hubs = new Map()));
  let offered = hubs.get(hub);
  if (!offered) hubs.set(hub, (offered = new Set()));
  offered.add(taker);
  return () => {
    offered.delete(taker);
    if (offered.size === 0 && hubs.get(hub) === offered) hubs.delete(hub);
  };
}

/** A reservation from the first worker of this process that takes a start of `name` (at `version`) on `store`/`hub` now. */
export function reserveLocalStart(store: Store, hub: string, name: string, version?: string): StartReservation | undefined {
  for (const taker of takers.get(store)?.get(hub) ?? []) {
    const reservation = taker.reserve(name, version);
    if (reservation) return reservation;
  }
  return undefined;
}
