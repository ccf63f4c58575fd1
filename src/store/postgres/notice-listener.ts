/**
 * Cross-process notices over LISTEN/NOTIFY. Notices are sent once the change they describe committed (by
 * notifier.ts, in notice-only transactions of their own) and received on one dedicated connection,
 * which is re-opened with capped back-off whenever it drops (server restart, pg_terminate_backend).
 * Notices may be missed while it is down, so every reconnection is reported: the store then wakes its
 * listeners as if work had arrived.
 */
import pg from 'pg';
import type { Logger } from '../../sdk/logger.js';
import type { StoreNotice } from '../store.js';
import { clientConfig, quoteIdent, type PostgresLocation } from './connection.js';

/** The wire form of a notice: the sending store, the task hub, and the notice. */
interface NoticePayload {
  s: string;
  h: string;
  n: StoreNotice;
}

/** NOTIFY payloads must stay under 8000 bytes; a notice that would not fit is not sent (polling covers it). */
const MAX_PAYLOAD_BYTES = 7000;

/** Notices ready for `pg_notify`: the store's channel and one payload per notice. */
export interface EncodedNotices {
  channel: string;
  payloads: string[];
}

/** Encodes the notices of one change for `pg_notify`. */
export function encodeNotices(storeId: string, hub: string, notices: readonly StoreNotice[]): string[] {
  return notices
    .map((n) => JSON.stringify({ s: storeId, h: hub, n: withoutFinal(n) } satisfies NoticePayload))
    .filter((payload) => Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES);
}

/** A notice as other processes get it: a terminal row handed to this process's waiters stays here. */
function withoutFinal(notice: StoreNotice): StoreNotice {
  if (notice.kind !== 'instance' || !notice.final) return notice;
  const { final: _final, ...rest } = notice;
  return rest;
}

/** Decodes a payload from {@link encodeNotices}; undefined for anything else on the channel. */
export function decodeNotice(payload: string): NoticePayload | undefined {
  try {
    const value = JSON.parse(payload) as Partial<NoticePayload>;
    if (typeof value.s === 'string' && typeof value.h === 'string' && value.n && typeof value.n.kind === 'string') {
      return value as NoticePayload;
    }
  } catch {
    // not ours
  }
  return undefined;
}

/** What a {@link NoticeListener} reports. */
export interface NoticeListenerEvents {
  /** A payload arrived on the channel. */
  onPayload(payload: string): void;
  /** The connection was re-established after a drop: notices sent meanwhile were lost. */
  onReconnect(): void;
}

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 5000;

/** A dedicated connection that LISTENs on one channel and keeps itself connected. */
export class NoticeListener {
  #client: pg.Client | undefined;
  #attempt = 0;
  #failures = 0;
  #everConnected = false;
  #closed = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #started = false;
  #listening: Promise<void>;
  #resolveListening!: () => void;

  constructor(
    private readonly location: PostgresLocation,
    private readonly channel: string,
    private readonly events: NoticeListenerEvents,
    private readonly logger: Logger,
  ) {
    this.#listening = new Promise((resolve) => (this.#resolveListening = resolve));
  }

  /** Connects (once; later calls do nothing). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    void this.#connect();
  }

  /** Resolves once LISTEN is active (after the first successful connection). */
  whenListening(): Promise<void> {
    return this.#listening;
  }

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** The backend pid of the LISTEN connection, if connected (tests kill it to prove reconnection). */
  get backendPid(): number | undefined {
    return (this.#client as unknown as { processID?: number } | undefined)?.processID;
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const attempt = ++this.#attempt;
    const client = new pg.Client(clientConfig(this.location));
    client.on('error', (error) => this.#lost(attempt, client, error));
    client.on('end', () => this.#lost(attempt, client));
    client.on('notification', (message) => {
      if (message.channel === this.channel && message.payload) this.events.onPayload(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch (error) {
      this.#lost(attempt, client, error as Error);
      return;
    }
    if (this.#closed || attempt !== this.#attempt) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#failures = 0;
    this.#resolveListening();
    if (this.#everConnected) {
      this.logger.info(`PostgreSQL notice connection re-established (channel ${this.channel})`);
      this.events.onReconnect();
    }
    this.#everConnected = true;
  }

  /** Handles the loss of connection attempt `attempt` (reported once, however many events fire). */
  #lost(attempt: number, client: pg.Client, error?: Error): void {
    if (attempt !== this.#attempt) return;
    this.#attempt++; // later events of this client are stale
    this.#client = undefined;
    client.removeAllListeners('notification');
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    if (this.#closed) return;
    const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.#failures++);
    this.logger.warn(
      `PostgreSQL notice connection lost${error ? `: ${error.message}` : ''}; reconnecting in ${delay} ms`,
    );
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
    this.#retryTimer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    this.#attempt++;
    if (client) {
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
