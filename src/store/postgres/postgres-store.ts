/**
 * The scale-out store: many worker processes on many machines share one PostgreSQL database.
 * `postgres://user@host:port/database?schema=name` — the schema (default `duraflow`) is created and
 * migrated on open. Notices reach other processes through LISTEN/NOTIFY and this process at once.
 */
import { randomUUID } from 'node:crypto';
import { StoreError } from '../../sdk/errors.js';
import { silentLogger, type Logger } from '../../sdk/logger.js';
import { NoticeBus } from '../shared.js';
import { LruCache, MAX_CACHED_HUBS } from '../lru-cache.js';
import type { HubStore, Store, StoreNotice } from '../store.js';
import { channelName, parsePostgresUrl, PgDatabase, quoteIdent, type PostgresLocation } from './connection.js';
import { decodeNotice, NoticeListener } from './notice-listener.js';
import { Notifier } from './notifier.js';
import { PostgresHubStore } from './postgres-hub-store.js';
import { checkSchema, migrate, tablesOf, type Tables } from './schema.js';

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  logger?: Logger;
  /** Connections in the pool (default 10); the LISTEN connection comes on top. */
  poolSize?: number;
  /**
   * Open an existing store for reading only (`duraflow replay-check`): nothing is created or migrated, and the
   * server refuses any write (read-only transactions). A schema without a duraflow store is a `ValidationError`.
   */
  readOnly?: boolean;
  /** Open only an existing duraflow schema: create nothing (a `StoreError` when the schema has no duraflow tables). */
  mustExist?: boolean;
}

/** Opens the PostgreSQL store at `url`, creating or migrating its schema first. */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  return PostgresStore.open(url, options);
}

/** A store on one PostgreSQL schema. */
export class PostgresStore implements Store {
  readonly crossProcessNotices = true;
  readonly #id = randomUUID();
  readonly #bus = new NoticeBus();
  readonly #hubs = new LruCache<string, PostgresHubStore>(MAX_CACHED_HUBS);
  readonly #listener: NoticeListener;
  readonly #channel: string;
  readonly #notifier: Notifier;
  #closed = false;

  private constructor(
    readonly url: string,
    private readonly db: PgDatabase,
    private readonly tables: Tables,
    location: PostgresLocation,
    logger: Logger,
  ) {
    this.#channel = channelName(tables.schema);
    this.#notifier = new Notifier(db, this.#id, this.#channel, logger);
    this.#listener = new NoticeListener(
      location,
      this.#channel,
      { onPayload: (payload) => this.#receive(payload), onReconnect: () => this.#wakeAll() },
      logger,
    );
  }

  /** Opens the store (see {@link openPostgresStore}). */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const logger = options.logger ?? silentLogger;
    const location = parsePostgresUrl(url);
    const db = new PgDatabase(location, logger, options.poolSize, options.readOnly);
    const tables = tablesOf(location.schema);
    try {
      if (options.readOnly) await checkSchema(db, tables);
      else {
        if (options.mustExist) await assertSchemaExists(db, tables);
        await migrate(db, tables);
      }
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
    return new PostgresStore(url, db, tables, location, logger);
  }

  hub(name: string): HubStore {
    return this.#hubs.getOrCreate(
      name,
      () =>
        new PostgresHubStore(
          {
            db: this.db,
            tables: this.tables,
            // Committed changes: this process hears them at once, the others through the notifier.
            emitLocal: (h, notices, hold) => {
              notices.forEach((n) => this.#bus.emit(h, n));
              this.#notifier.send(h, notices, hold);
            },
          },
          name,
        ),
    );
  }

  subscribe(hub: string, listener: (notice: StoreNotice) => void): () => void {
    // The LISTEN connection opens with the first subscriber: a client that only starts instances never needs it.
    this.#listener.start();
    return this.#bus.subscribe(hub, listener);
  }

  /** Resolves once notices from other processes are being received (the LISTEN is active). */
  whenListening(): Promise<void> {
    this.#listener.start();
    return this.#listener.whenListening();
  }

  /** @internal The backend pid of the LISTEN connection (fault tests terminate it). */
  get listenerBackendPid(): number | undefined {
    return this.#listener.backendPid;
  }

  #receive(payload: string): void {
    const notice = decodeNotice(payload);
    // Our own notices were delivered in-process already, when the change committed.
    if (!notice || notice.s === this.#id) return;
    this.#bus.emit(notice.h, notice.n);
  }

  /** After a gap in LISTEN, anything may have happened: wake every subscribed hub. */
  #wakeAll(): void {
    for (const hub of this.#bus.hubs()) {
      this.#bus.emit(hub, { kind: 'orchestrations' });
      this.#bus.emit(hub, { kind: 'activities' });
      this.#bus.emit(hub, { kind: 'instances' });
      this.#bus.emit(hub, { kind: 'schedules' });
    }
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#notifier.close();
    await this.#listener.close();
    await this.db.close();
  }
}

/** Throws a `StoreError` (missing) unless the schema holds a duraflow store. */
async function assertSchemaExists(db: PgDatabase, tables: Tables): Promise<void> {
  const rows = await db.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [`${quoteIdent(tables.schema)}.schema_migrations`]);
  if (rows[0]?.found) return;
  const database = (await db.query<{ name: string }>('SELECT current_database() AS name'))[0]?.name ?? '?';
  throw new StoreError('missing', `no duraflow store in schema '${tables.schema}' of PostgreSQL database '${database}' (check the store URL and its ?schema=)`);
}
