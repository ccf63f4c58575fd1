/**
 * The PostgreSQL connection layer: parsing a store URL (with its `?schema=` parameter), the pool, and
 * transactions that are retried only when PostgreSQL guarantees nothing was written (deadlock,
 * serialization failure). A connection lost mid-transaction is never retried here: the outcome of its
 * COMMIT is unknown, and the caller (a dispatch loop) decides.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../sdk/logger.js';
import { ValidationError } from '../../sdk/errors.js';

/** The schema used when a URL names none. */
export const DEFAULT_SCHEMA = 'duraflow';

/** A store URL taken apart. */
export interface PostgresLocation {
  /** The URL handed to `pg`, without duraflow's own parameters. */
  connectionString: string;
  schema: string;
}

/** Splits `postgres://…?schema=name` into the connection string and the schema name (validated). */
export function parsePostgresUrl(url: string): PostgresLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(`Invalid PostgreSQL store URL '${url}'.`);
  }
  const schema = parsed.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  parsed.searchParams.delete('schema');
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new ValidationError(
      `Invalid schema '${schema}' in the store URL: use letters, digits and '_' (at most 63, not starting with a digit).`,
    );
  }
  return { connectionString: parsed.toString(), schema };
}

/** `"name"`: an identifier quoted for SQL (names are validated, so this never needs escaping). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The LISTEN/NOTIFY channel of a schema (channel names are at most 63 bytes). */
export function channelName(schema: string): string {
  const plain = `duraflow_${schema}`;
  return plain.length <= 63 ? plain : `duraflow_${createHash('sha1').update(schema).digest('hex').slice(0, 24)}`;
}

/** `application_name` of a store's connections: operators (and fault tests) can tell stores apart. */
export function applicationName(schema: string): string {
  return `duraflow:${schema}`.slice(0, 63);
}

/**
 * Session settings duraflow's connections start with. `plan_cache_mode=force_generic_plan`: a {@link prepared}
 * statement is planned once per connection. Left to choose, PostgreSQL makes five custom plans of each statement
 * on each connection before it weighs a generic one: 0.3–0.6 ms of bind each for the step statements (their CTEs
 * touch 5–8 tables), paid again on every connection the pool opens after an idle one closed. duraflow's statements
 * find their rows through indexes on their parameters, which a generic plan uses as well; a LIKE prefix, which
 * only a constant can turn into an index range, is sent as a literal (postgres-queries.ts).
 */
export const SESSION_OPTIONS = '-c plan_cache_mode=force_generic_plan';

/** Connection settings shared by the pool and the notification client; `extraOptions` go after duraflow's. */
export function clientConfig(location: PostgresLocation, extraOptions?: string): pg.ClientConfig {
  // Options given in the URL (or PGOPTIONS) are kept, joined with ours: pg lets the URL's replace the config's.
  const url = new URL(location.connectionString);
  const given = url.searchParams.get('options') ?? process.env['PGOPTIONS'] ?? '';
  url.searchParams.delete('options');
  return {
    connectionString: url.toString(),
    options: [given, SESSION_OPTIONS, extraOptions].filter(Boolean).join(' '),
    keepAlive: true,
    application_name: applicationName(location.schema),
    connectionTimeoutMillis: 10_000,
    // A process paused inside a transaction (SIGSTOP, debugger) must not hold row locks forever.
    idle_in_transaction_session_timeout: 15_000,
  };
}

/** SQLSTATEs after which PostgreSQL has rolled the transaction back and a retry is safe. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 6;

/**
 * A query that each connection parses and plans once, then only executes: named after its text (each
 * connection keeps its own prepared statements; {@link SESSION_OPTIONS} keeps PostgreSQL from planning it
 * again). For large statements run on every step, where parsing and planning would cost more than executing.
 *
 * The name also carries the {@link planGeneration}: a plan made while the tables were nearly empty (a new hub) is
 * fit for nearly empty tables only — it scans a whole hub where an index finds a row — and PostgreSQL replans
 * by itself only after an ANALYZE, which autovacuum runs a minute or more later. So in a process's first
 * minutes each statement is planned again, at ever longer intervals, as the tables grow.
 */
export function prepared(text: string, values: unknown[]): pg.QueryConfig {
  let hash = preparedHashes.get(text);
  if (!hash) {
    hash = createHash('sha1').update(text).digest('hex').slice(0, 20);
    preparedHashes.set(text, hash);
  }
  return { name: `duraflow_${hash}_${planGeneration()}`, text, values };
}
const preparedHashes = new Map<string, string>();

/** When this module was loaded: the clock of {@link planGeneration}. */
const loadedAt = performance.now();
/** The last generation: 2^9 s ≈ 8.5 minutes after start, when autovacuum's ANALYZE has long taken over. */
const LAST_PLAN_GENERATION = 9;

/**
 * 0 in a process's first second (`ageMs`: since this module loaded), then one more each time its age doubles
 * (1, 2, 4, … seconds), up to {@link LAST_PLAN_GENERATION}: at most ten plans of each statement per connection.
 */
export function planGeneration(ageMs = performance.now() - loadedAt): number {
  const seconds = ageMs / 1000;
  return seconds < 1 ? 0 : Math.min(LAST_PLAN_GENERATION, Math.floor(Math.log2(seconds)) + 1);
}

/** A connection inside a transaction. */
export type TxClient = pg.PoolClient;

/** What runs a statement: a connection inside a transaction, or the pool (the statement is its own transaction). */
export type StatementRunner = Pick<pg.Pool, 'query'> | TxClient;

/** A pool plus transactions with safe retries. */
export class PgDatabase {
  readonly pool: pg.Pool;
  /** Connections checked out of the pool now: statements and transactions in flight. */
  #busy = 0;
  #idleListeners = new Set<() => void>();

  constructor(
    location: PostgresLocation,
    private readonly logger: Logger,
    poolSize = 10,
    /** Every transaction of every connection is READ ONLY (the server refuses any write). */
    readOnly = false,
  ) {
    this.pool = new pg.Pool({
      ...clientConfig(location, readOnly ? '-c default_transaction_read_only=on' : undefined),
      max: poolSize,
      idleTimeoutMillis: 30_000,
    });
    // An idle client whose connection drops (server restart, pg_terminate_backend) emits 'error' on the
    // pool; unhandled, it would kill the process. The pool discards that client by itself.
    this.pool.on('error', (error) => this.logger.warn(`PostgreSQL idle connection lost: ${error.message}`));
    this.pool.on('acquire', () => this.#busy++);
    this.pool.on('release', () => {
      if (--this.#busy === 0) for (const listener of this.#idleListeners) listener();
    });
  }

  /** Whether a statement or transaction of this pool is in flight. */
  get busy(): boolean {
    return this.#busy > 0;
  }

  /** Calls `listener` whenever the last statement in flight returns its connection to the pool. */
  onIdle(listener: () => void): void {
    this.#idleListeners.add(listener);
  }

  /** Runs one statement outside any explicit transaction. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(text, params)).rows;
  }

  /**
   * {@link query} as a {@link prepared} statement: for the statements a worker or client runs again and again
   * (claims, status reads), whose parsing and planning would otherwise cost as much as running them.
   */
  async queryPrepared<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params: unknown[]): Promise<R[]> {
    return (await this.pool.query<R>(prepared(text, params))).rows;
  }

  /**
   * Runs `fn` — statements on the pool, each its own transaction (one round trip for a write that fits one
   * statement) — retried like {@link transaction} after a deadlock or serialization failure.
   */
  async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!(await this.#retryable(error, attempt))) throw error;
      }
    }
  }

  /** After a failure that PostgreSQL rolled back: whether to try again (after a little jitter). */
  async #retryable(error: unknown, attempt: number): Promise<boolean> {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) return false;
    this.logger.debug(`PostgreSQL transaction retried after ${code} (attempt ${attempt})`);
    // A little jitter so the transactions that deadlocked do not collide again in lockstep.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    return true;
  }

  /** Runs `fn` in one transaction; retried (from the start) after a deadlock or serialization failure. */
  async transaction<T>(fn: (client: TxClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      // A checked-out client has no pool listener: without ours an unexpected drop would crash the process.
      const onError = (error: Error) => {
        broken = error;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (!broken) {
          await client.query('ROLLBACK').catch((rollbackError: Error) => {
            broken = rollbackError;
          });
        }
        if (!broken && (await this.#retryable(error, attempt))) continue;
        throw error;
      } finally {
        client.removeListener('error', onError);
        client.release(broken ?? false);
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
