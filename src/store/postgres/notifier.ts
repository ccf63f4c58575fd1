/**
 * Sends this process's notices to other processes after the changes they describe committed, instead of with
 * `pg_notify` inside the writing transaction. PostgreSQL serializes the commits of transactions that NOTIFY
 * (one queue lock held through the commit's WAL flush), so notices sent in-transaction made concurrent writers
 * commit one fsync at a time (8 writers: ~600 commits/s with NOTIFY, 1,200–4,100/s without, on this machine).
 * Here a notice-only transaction, with `synchronous_commit` off (it carries no data, so no durability is at
 * stake), carries every notice queued while the previous one ran, repeated payloads once.
 *
 * Notices that this process's own worker most likely acts on first (see {@link NoticeHold}) may wait a little
 * (at most {@link HOLD_MS}) to share the next notice-only transaction: sends that follow one another then pay one
 * transaction for several of them, and a start's transaction does not compete with its first episode's commit.
 *
 * A process that dies between a commit and its notice loses the notice: other processes' workers and waiters
 * then find the change by their polls, as they do for a notice too large for NOTIFY.
 */
import type { Logger } from '../../sdk/logger.js';
import type { StoreNotice } from '../store.js';
import type { PgDatabase } from './connection.js';
import { encodeNotices } from './notice-listener.js';

/** The longest a held notice waits for other processes (they also find the change by their polls). */
export const HOLD_MS = 5;

/**
 * How a notice may wait. `none`: sent at once. `busy`: held while other statements of this store are in flight (new
 * messages to one instance: a worker here holding it needs no notice, and the sends that follow share one
 * transaction), sent when the pool goes idle. `next`: held until other notices go or the pool goes idle after the
 * next statement (a start leased to this process's worker, whose first episode's commit follows at once).
 */
export type NoticeHold = 'none' | 'busy' | 'next';

/** Batches notices into notice-only transactions on the store's pool. */
export class Notifier {
  #pending = new Set<string>();
  #running: Promise<void> | undefined;
  #closed = false;
  /** Held notices are pending: the timer that sends them at the latest. */
  #holdTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: PgDatabase,
    private readonly storeId: string,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {
    // The last statement in flight returned: nothing left to share a transaction with — once the notices of that
    // statement itself are queued (its caller announces them a few promise jobs after the connection is released).
    db.onIdle(() => {
      if (this.#holdTimer) setImmediate(() => this.#holdTimer && this.#flush());
    });
  }

  /** Queues `notices` of task hub `hub` (already committed) for other processes, held as `hold` allows. */
  send(hub: string, notices: readonly StoreNotice[], hold: NoticeHold = 'none'): void {
    if (this.#closed || notices.length === 0) return;
    for (const payload of encodeNotices(this.storeId, hub, notices)) this.#pending.add(payload);
    if (hold === 'none' || (hold === 'busy' && !this.db.busy) || this.#running) this.#flush();
    else this.#holdTimer ??= setTimeout(() => this.#flush(), HOLD_MS);
  }

  /** Sends what is queued, then stops taking notices. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#flush();
    await this.#running;
  }

  #flush(): void {
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    if (this.#pending.size > 0) this.#running ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.size > 0) {
        const payloads = [...this.#pending];
        this.#pending.clear();
        await this.db.query(notifySql(this.channel, payloads)).catch((error: Error) => {
          this.logger.warn(`PostgreSQL notices not sent (other processes will find the changes by polling): ${error.message}`);
        });
      }
    } finally {
      this.#running = undefined;
    }
  }
}

/**
 * One notice-only transaction in one round trip (the simple query protocol runs several statements). Payloads
 * are JSON text with no NUL; as escape-string literals (E'…', whatever standard_conforming_strings says) they
 * need their backslashes and quotes doubled.
 */
function notifySql(channel: string, payloads: readonly string[]): string {
  const literal = (text: string) => `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  const notifies = payloads.map((p) => `SELECT pg_notify(${literal(channel)}, ${literal(p)});`).join(' ');
  return `BEGIN; SET LOCAL synchronous_commit TO off; ${notifies} COMMIT;`;
}
