/**
 * The embedded store: one SQLite file in WAL mode (`better-sqlite3`). Every method is one transaction;
 * writes use IMMEDIATE transactions so concurrent processes queue on the lock instead of failing.
 * Commits of other processes on the same file are noticed by a {@link CommitWatcher}.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { isTerminalStatus, type HistoryEvent, type RuntimeStatus } from '../../sdk/history.js';
import { InstanceAlreadyExistsError } from '../../sdk/errors.js';
import { silentLogger, type Logger } from '../../sdk/logger.js';
import {
  INSTANCE_COLUMNS,
  NoticeBus,
  checkPageSize,
  decodeContinuationToken,
  dedupeNotices,
  delayedMessageNotices,
  leasedActivity,
  encodeContinuationToken,
  entityNameOf,
  historyFromRows,
  rowToInstance,
  startedWorkItem,
  type InstanceRow,
} from '../shared.js';
import type { ActivityCompletion, ActivityWorkItem, ClaimOptions, CommitOutcome, EpisodeCommit, HubStore, InboxMessage, InstanceFilter, InstanceQuery, InstanceRecord, Lease, NewMessage, OrchestrationWorkItem, StartInstanceRequest, StartLease, Store, StoreNotice } from '../store.js';
import { CommitWatcher } from './commit-watcher.js';
import { migrate } from './schema.js';
import type { RegisteredNames } from '../../sdk/registry.js';

const TERMINAL_SQL = `('Completed','Failed','Terminated','Canceled')`;
const CONTROL_EVENTS_SQL = `('ExecutionResumed','ExecutionTerminated')`;

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Clock for leases and visibility (the test host passes a virtual one). */
  clock?: () => number;
  /** `synchronous` pragma: FULL (default) survives power loss; NORMAL is faster and survives process crashes. */
  synchronous?: 'FULL' | 'NORMAL' | 'OFF';
  /** Gets debug messages (e.g. that the directory cannot be watched for other processes' commits). */
  logger?: Logger;
}

/** What a subscriber hears when another process committed: it cannot tell what, so anything may have changed. */
const FOREIGN_COMMIT_NOTICES: readonly StoreNotice[] = [
  { kind: 'orchestrations' },
  { kind: 'activities' },
  { kind: 'timers' },
  { kind: 'instances' },
];

/** A store on one SQLite file (or `:memory:`). */
export class SqliteStore implements Store {
  readonly url: string;
  readonly db: Database.Database;
  readonly now: () => number;
  readonly #bus = new NoticeBus();
  /** Runs while any hub has subscribers (`#bus.hubs()`); undefined for `:memory:` (no other process can open it). */
  readonly #watcher: CommitWatcher | undefined;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #hubs = new Map<string, SqliteHubStore>();
  readonly #synchronous: 'FULL' | 'NORMAL' | 'OFF';
  #currentSynchronous: string;
  #queue: QueuedWrite[] = [];
  #flushScheduled = false;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.url = `sqlite:${path}`;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.#synchronous = options.synchronous ?? 'FULL';
    this.#currentSynchronous = this.#synchronous;
    this.db.pragma(`synchronous = ${this.#synchronous}`);
    this.db.pragma('busy_timeout = 10000');
    this.now = options.clock ?? Date.now;
    migrate(this.db);
    if (path !== ':memory:' && path !== '') {
      const dataVersion = this.db.prepare('PRAGMA data_version').pluck();
      this.#watcher = new CommitWatcher(
        path,
        () => dataVersion.get() as number,
        () => this.#foreignCommit(),
        options.logger ?? silentLogger,
      );
    }
  }

  /**
   * True for a file whose directory can be watched: commits of other processes then wake subscribers within
   * milliseconds, and workers poll only as a fallback (every 5 s by default instead of 500 ms).
   */
  get crossProcessNotices(): boolean {
    return this.#watcher?.supported ?? false;
  }

  hub(name: string): HubStore {
    let hub = this.#hubs.get(name);
    if (!hub) {
      hub = new SqliteHubStore(this, name);
      this.#hubs.set(name, hub);
    }
    return hub;
  }

  subscribe(hub: string, listener: (notice: StoreNotice) => void): () => void {
    const unsubscribe = this.#bus.subscribe(hub, listener);
    if (this.db.open) this.#watcher?.start();
    return () => {
      unsubscribe();
      if (this.#bus.hubs().length === 0) this.#watcher?.stop();
    };
  }

  /** Another process committed something: every subscribed hub looks again. */
  #foreignCommit(): void {
    for (const hub of this.#bus.hubs()) {
      for (const notice of FOREIGN_COMMIT_NOTICES) this.#bus.emit(hub, notice);
    }
  }

  /** @internal */
  emit(hub: string, notice: StoreNotice): void {
    this.#bus.emit(hub, notice);
  }

  /** @internal A cached prepared statement. */
  sql(text: string): Database.Statement {
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  /**
   * @internal Group commit: every write issued in the same tick shares one IMMEDIATE transaction, each in its
   * own savepoint so a write that throws rolls back alone. The shared commit syncs to disk only when one of
   * its writes is `durable`; lease-only batches (claims, renewals, releases) skip the fsync, since a lease
   * lost in a crash is harmless.
   */
  write<T>(fn: () => T, durable: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, durable, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue.splice(0);
    if (!batch.length) return;
    if (!this.db.open) {
      for (const item of batch) item.reject(new Error('The SQLite store is closed.'));
      return;
    }
    const level = batch.some((item) => item.durable) ? this.#synchronous : 'OFF';
    const outcomes: { ok: boolean; value?: unknown; error?: unknown }[] = [];
    try {
      if (level !== this.#currentSynchronous) {
        this.db.pragma(`synchronous = ${level}`);
        this.#currentSynchronous = level;
      }
      this.db
        .transaction(() => {
          for (const item of batch) {
            try {
              outcomes.push({ ok: true, value: this.db.transaction(item.fn)() });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      // The shared transaction failed as a whole (busy past the timeout, disk full): nothing was written.
      for (const item of batch) item.reject(error);
      return;
    }
    this.#watcher?.afterOwnWrite();
    batch.forEach((item, i) => (outcomes[i]!.ok ? item.resolve(outcomes[i]!.value) : item.reject(outcomes[i]!.error)));
  }

  async close(): Promise<void> {
    this.#watcher?.stop();
    if (this.#queue.length) await new Promise((resolve) => setImmediate(resolve));
    if (this.db.open) this.db.close();
  }
}

interface QueuedWrite {
  fn: () => unknown;
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface MessageRow {
  id: number;
  instance_id: string;
  execution_id: string | null;
  event: string;
}

class SqliteHubStore implements HubStore {
  constructor(
    private readonly store: SqliteStore,
    readonly hub: string,
  ) {}

  private sql(text: string): Database.Statement {
    return this.store.sql(text);
  }
  /** A durable write. */
  private write<T>(fn: () => T): Promise<T> {
    return this.store.write(fn, true);
  }
  /** A write of leases only, which a crash may lose without harm (no fsync of its own). */
  private lease<T>(fn: () => T): Promise<T> {
    return this.store.write(fn, false);
  }

  // ---- client side ----------------------------------------------------------------------------

  async createInstance(request: StartInstanceRequest, lease?: StartLease): Promise<OrchestrationWorkItem | undefined> {
    const now = this.store.now();
    const item = await this.write(() => {
      const started = this.#startInstance(request, now, lease);
      if (started.conflict) throw new InstanceAlreadyExistsError(request.instanceId, started.conflict);
      return started.item;
    });
    if (!item) this.store.emit(this.hub, { kind: 'orchestrations' });
    this.store.emit(this.hub, { kind: 'instance', instanceId: request.instanceId, status: 'Pending' });
    return item;
  }

  /**
   * Creates or overwrites an instance, leased to `lease` if given (then with its work item); answers the status
   * of a live instance that blocks it instead.
   */
  #startInstance(
    request: StartInstanceRequest,
    now: number,
    lease?: StartLease,
  ): { conflict: RuntimeStatus; item?: never } | { conflict?: never; item?: OrchestrationWorkItem } {
    const existing = this.sql('SELECT status FROM instances WHERE hub = ? AND instance_id = ?').get(
      this.hub,
      request.instanceId,
    ) as { status: RuntimeStatus } | undefined;
    if (existing && !isTerminalStatus(existing.status)) return { conflict: existing.status };
    if (existing) this.#deleteInstanceData(request.instanceId);
    // A new epoch fences any worker still holding a lease on the overwritten (or purged) instance.
    const epoch = this.#nextEpoch();
    this.sql(
      `INSERT INTO instances (hub, instance_id, name, version, execution_id, status, input, parent_instance_id,
         created_at, updated_at, history_length, lock_owner, lock_until, lock_epoch)
       VALUES (?, ?, ?, ?, ?, 'Pending', ?, ?, ?, ?, 0, ?, ?, ?)`,
    ).run(
      this.hub,
      request.instanceId,
      request.name,
      request.version ?? null,
      request.executionId,
      request.input ?? null,
      request.parentInstance?.instanceId ?? null,
      now,
      now,
      lease?.workerId ?? null,
      lease ? now + lease.leaseMs : 0,
      epoch,
    );
    const messageId = this.#insertMessage({ instanceId: request.instanceId, executionId: request.executionId, event: request.startEvent }, now);
    return lease ? { item: startedWorkItem(request, now, epoch, messageId) } : {};
  }

  /** The next instance fencing token; never reused, even across purges. Call inside a write transaction. */
  #nextEpoch(): number {
    const row = this.sql(`UPDATE counters SET value = value + 1 WHERE name = 'lock_epoch' RETURNING value`).get() as {
      value: number;
    };
    return row.value;
  }

  #deleteInstanceData(instanceId: string): void {
    for (const table of ['instances', 'history', 'inbox', 'activities']) {
      this.sql(`DELETE FROM ${table} WHERE hub = ? AND instance_id = ?`).run(this.hub, instanceId);
    }
  }

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const row = this.sql(`SELECT ${INSTANCE_COLUMNS} FROM instances WHERE hub = ? AND instance_id = ?`).get(
      this.hub,
      instanceId,
    ) as InstanceRow | undefined;
    return row && rowToInstance(row);
  }

  async getHistory(instanceId: string): Promise<HistoryEvent[]> {
    const rows = this.sql('SELECT events FROM history WHERE hub = ? AND instance_id = ? ORDER BY seq').all(
      this.hub,
      instanceId,
    ) as { events: string }[];
    return historyFromRows(rows);
  }

  async queryInstances(query: InstanceQuery): Promise<{ instances: InstanceRecord[]; continuationToken?: string }> {
    const pageSize = checkPageSize(query.pageSize);
    const { where, params } = this.#filterSql(query);
    if (query.continuationToken) {
      const after = decodeContinuationToken(query.continuationToken);
      where.push('(created_at > ? OR (created_at = ? AND instance_id > ?))');
      params.push(after.createdAt, after.createdAt, after.instanceId);
    }
    const rows = this.store.db
      .prepare(
        `SELECT ${INSTANCE_COLUMNS} FROM instances WHERE ${where.join(' AND ')}
         ORDER BY created_at, instance_id LIMIT ?`,
      )
      .all(...params, pageSize + 1) as InstanceRow[];
    const instances = rows.slice(0, pageSize).map(rowToInstance);
    const last = instances[instances.length - 1];
    return rows.length > pageSize && last
      ? { instances, continuationToken: encodeContinuationToken({ createdAt: last.createdAt.getTime(), instanceId: last.instanceId }) }
      : { instances };
  }

  #filterSql(filter: InstanceFilter): { where: string[]; params: unknown[] } {
    const where = ['hub = ?'];
    const params: unknown[] = [this.hub];
    if (filter.createdTimeFrom) {
      where.push('created_at >= ?');
      params.push(filter.createdTimeFrom.getTime());
    }
    if (filter.createdTimeTo) {
      where.push('created_at <= ?');
      params.push(filter.createdTimeTo.getTime());
    }
    if (filter.runtimeStatus?.length) {
      where.push(`status IN (${filter.runtimeStatus.map(() => '?').join(', ')})`);
      params.push(...filter.runtimeStatus);
    }
    const prefix = filter.instanceIdPrefix ?? '';
    if (prefix) {
      where.push('substr(instance_id, 1, ?) = ?');
      params.push(prefix.length, prefix);
    }
    // Entities live in the same table under '@name@key'; instance queries do not list them.
    if (!prefix.startsWith('@')) where.push(`instance_id NOT LIKE '@%'`);
    return { where, params };
  }

  async sendMessages(messages: NewMessage[]): Promise<void> {
    const now = this.store.now();
    await this.write(() => {
      for (const message of messages) this.#insertMessage(message, now);
    });
    if (messages.length) this.store.emit(this.hub, { kind: 'orchestrations' });
    for (const notice of delayedMessageNotices(messages)) this.store.emit(this.hub, notice);
  }

  /** Inserts a message if its instance exists (messages to purged instances vanish); answers its id. */
  #insertMessage(message: NewMessage, now: number): number {
    const entityName = entityNameOf(message.instanceId);
    if (entityName !== undefined) this.#ensureEntity(message.instanceId, entityName, now);
    const { lastInsertRowid } = this.sql(
      `INSERT INTO inbox (hub, instance_id, execution_id, event_type, event, visible_at)
       SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM instances WHERE hub = ? AND instance_id = ?)`,
    ).run(
      this.hub,
      message.instanceId,
      message.executionId ?? null,
      message.event.eventType,
      JSON.stringify(message.event),
      message.visibleAt?.getTime() ?? now,
      this.hub,
      message.instanceId,
    );
    return Number(lastInsertRowid);
  }

  /** Entities have no start: the first message addressed to one creates its instance row. */
  #ensureEntity(instanceId: string, name: string, now: number): void {
    if (this.sql('SELECT 1 FROM instances WHERE hub = ? AND instance_id = ?').get(this.hub, instanceId)) return;
    this.sql(
      `INSERT INTO instances (hub, instance_id, name, execution_id, status, created_at, updated_at, history_length, lock_epoch)
       VALUES (?, ?, ?, '', 'Running', ?, ?, 0, ?)`,
    ).run(this.hub, instanceId, name, now, now, this.#nextEpoch());
  }

  async requestRewind(instanceId: string, message: NewMessage): Promise<boolean> {
    const now = this.store.now();
    const requested = await this.write(() => {
      const changed = this.sql(`UPDATE instances SET status = 'Pending', updated_at = ? WHERE hub = ? AND instance_id = ? AND status = 'Failed'`).run(
        now,
        this.hub,
        instanceId,
      ).changes;
      if (changed) this.#insertMessage(message, now);
      return changed > 0;
    });
    if (requested) {
      this.store.emit(this.hub, { kind: 'orchestrations' });
      this.store.emit(this.hub, { kind: 'instance', instanceId, status: 'Pending' });
    }
    return requested;
  }

  async purgeInstances(selector: { instanceId: string } | InstanceFilter): Promise<number> {
    return await this.write(() => {
      let ids: string[];
      if ('instanceId' in selector) {
        ids = [selector.instanceId];
      } else {
        const { where, params } = this.#filterSql(selector);
        ids = (
          this.store.db.prepare(`SELECT instance_id FROM instances WHERE ${where.join(' AND ')}`).all(...params) as {
            instance_id: string;
          }[]
        ).map((r) => r.instance_id);
      }
      let deleted = 0;
      for (const id of ids) {
        // An entity with messages waiting is not purged: they would be lost (it is alive again).
        const result = this.sql(
          `DELETE FROM instances WHERE hub = ? AND instance_id = ? AND status IN ${TERMINAL_SQL}
             AND NOT (instance_id LIKE '@%' AND EXISTS (SELECT 1 FROM inbox INDEXED BY inbox_by_instance WHERE hub = ? AND instance_id = ?))`,
        ).run(this.hub, id, this.hub, id);
        if (result.changes === 0) continue;
        deleted++;
        this.#deleteInstanceData(id);
      }
      return deleted;
    });
  }

  async registerWorker(workerId: string, names: RegisteredNames): Promise<void> {
    await this.write(() => {
      this.sql(
        `INSERT INTO workers (hub, worker_id, names, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (hub, worker_id) DO UPDATE SET names = excluded.names, updated_at = excluded.updated_at`,
      ).run(this.hub, workerId, JSON.stringify(names), this.store.now());
    });
  }

  async getRegisteredNames(): Promise<RegisteredNames | undefined> {
    const rows = this.sql('SELECT names FROM workers WHERE hub = ?').all(this.hub) as { names: string }[];
    if (rows.length === 0) return undefined;
    const union = { orchestrations: new Set<string>(), activities: new Set<string>(), entities: new Set<string>() };
    for (const row of rows) {
      const names = JSON.parse(row.names) as RegisteredNames;
      names.orchestrations.forEach((n) => union.orchestrations.add(n));
      names.activities.forEach((n) => union.activities.add(n));
      names.entities.forEach((n) => union.entities.add(n));
    }
    return {
      orchestrations: [...union.orchestrations].sort(),
      activities: [...union.activities].sort(),
      entities: [...union.entities].sort(),
    };
  }

  // ---- worker side ----------------------------------------------------------------------------

  async claimOrchestrations(options: ClaimOptions): Promise<OrchestrationWorkItem[]> {
    const now = this.store.now();
    return await this.lease(() => {
      const candidates = this.sql(
        `SELECT DISTINCT m.instance_id AS id FROM inbox m
         JOIN instances i ON i.hub = m.hub AND i.instance_id = m.instance_id
         WHERE m.hub = ? AND m.visible_at <= ? AND i.lock_until <= ?
           AND (i.status <> 'Suspended' OR m.event_type IN ${CONTROL_EVENTS_SQL})
           AND (? IS NULL OR i.name IN (SELECT value FROM json_each(?)))
         LIMIT ?`,
      ).all(this.hub, now, now, namesParam(options), namesParam(options), options.limit) as { id: string }[];
      const items: OrchestrationWorkItem[] = [];
      for (const { id } of candidates) {
        const row = this.sql(
          `UPDATE instances SET lock_owner = ?, lock_until = ?, lock_epoch = ?
           WHERE hub = ? AND instance_id = ? RETURNING ${INSTANCE_COLUMNS}, lock_epoch`,
        ).get(options.workerId, now + options.leaseMs, this.#nextEpoch(), this.hub, id) as (InstanceRow & { lock_epoch: number }) | undefined;
        if (row) items.push(this.#workItem(row, now));
      }
      return items;
    });
  }

  async leaseInstances(instanceIds: readonly string[], options: { workerId: string; leaseMs: number }): Promise<OrchestrationWorkItem[]> {
    const now = this.store.now();
    return await this.lease(() => {
      const items: OrchestrationWorkItem[] = [];
      for (const id of instanceIds) {
        const row = this.sql(
          `UPDATE instances SET lock_owner = ?, lock_until = ?, lock_epoch = ?
           WHERE hub = ? AND instance_id = ? AND lock_until <= ? AND status = 'Running' RETURNING ${INSTANCE_COLUMNS}, lock_epoch`,
        ).get(options.workerId, now + options.leaseMs, this.#nextEpoch(), this.hub, id, now) as (InstanceRow & { lock_epoch: number }) | undefined;
        if (row) items.push(this.#workItem(row, now));
      }
      return items;
    });
  }

  /** A leased instance with its visible messages. */
  #workItem(row: InstanceRow & { lock_epoch: number }, now: number): OrchestrationWorkItem {
    const messages = (
      this.sql(
        `SELECT id, instance_id, execution_id, event FROM inbox INDEXED BY inbox_by_instance
         WHERE hub = ? AND instance_id = ? AND visible_at <= ? ORDER BY id`,
      ).all(this.hub, row.instance_id, now) as MessageRow[]
    ).map(toInboxMessage);
    return { instance: rowToInstance(row), messages, lease: { id: row.instance_id, epoch: row.lock_epoch } };
  }

  async commitEpisodes(commits: EpisodeCommit[]): Promise<CommitOutcome[]> {
    const now = this.store.now();
    const notices: StoreNotice[] = [];
    const { outcomes, leased } = await this.write(() => {
      notices.length = 0;
      const leased = new Map<EpisodeCommit, ActivityWorkItem[]>();
      return { outcomes: commits.map((commit) => this.#commitOne(commit, now, notices, leased)), leased };
    });
    // Handed out only now that the transaction is durable.
    for (const [commit, items] of leased) commit.activityLease?.leased.push(...items);
    for (const notice of dedupeNotices(notices)) this.store.emit(this.hub, notice);
    return outcomes;
  }

  #commitOne(commit: EpisodeCommit, now: number, notices: StoreNotice[], leased: Map<EpisodeCommit, ActivityWorkItem[]>): CommitOutcome {
    const id = commit.lease.id;
    const current = this.sql('SELECT history_length, lock_epoch, status FROM instances WHERE hub = ? AND instance_id = ?').get(
      this.hub,
      id,
    ) as { history_length: number; lock_epoch: number; status: RuntimeStatus } | undefined;
    if (!current || current.lock_epoch !== commit.lease.epoch) return 'lease-lost';
    const activityLease = this.sql('SELECT 1 FROM activities WHERE id = ? AND hub = ? AND lock_epoch = ?');
    for (const lease of commit.completedActivities ?? []) {
      if (!activityLease.get(Number(lease.id), this.hub, lease.epoch)) return 'lease-lost';
    }
    const deleteActivity = this.sql('DELETE FROM activities WHERE id = ? AND hub = ?');
    for (const lease of commit.completedActivities ?? []) deleteActivity.run(Number(lease.id), this.hub);
    const base = commit.historyMode === 'replace' ? 0 : current.history_length;
    if (commit.historyMode === 'replace') this.sql('DELETE FROM history WHERE hub = ? AND instance_id = ?').run(this.hub, id);
    if (commit.history.length) {
      this.sql('INSERT INTO history (hub, instance_id, seq, events) VALUES (?, ?, ?, ?)').run(this.hub, id, base, JSON.stringify(commit.history));
    }
    const u = commit.instance;
    this.sql(
      `UPDATE instances SET status = ?, execution_id = ?, name = ?, version = ?, input = CASE WHEN ? THEN input ELSE ? END,
         output = ?, custom_status = ?,
         failure_details = ?, updated_at = ?, history_length = ?, lock_owner = NULL, lock_until = 0
       WHERE hub = ? AND instance_id = ?`,
    ).run(
      u.status,
      u.executionId,
      u.name,
      u.version ?? null,
      u.keepInput ? 1 : 0,
      u.keepInput ? null : (u.input ?? null),
      u.output ?? null,
      u.customStatus ?? null,
      u.failureDetails ? JSON.stringify(u.failureDetails) : null,
      now,
      base + commit.history.length,
      this.hub,
      id,
    );
    const deleteMessage = this.sql('DELETE FROM inbox WHERE id = ? AND hub = ? AND instance_id = ?');
    for (const messageId of commit.consumedMessageIds) deleteMessage.run(messageId, this.hub, id);
    const insertActivity = this.sql(
      `INSERT INTO activities (hub, instance_id, execution_id, task_id, name, input, lock_owner, lock_until, lock_epoch, dequeue_count)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const lease = commit.activityLease;
    const here: ActivityWorkItem[] = [];
    for (const a of commit.activities) {
      const runHere = lease !== undefined && a.runHere === true;
      const input = a.input ?? null;
      const row = runHere
        ? insertActivity.run(this.hub, a.instanceId, a.executionId, a.taskId, a.name, input, lease.workerId, now + lease.leaseMs, 1, 1)
        : insertActivity.run(this.hub, a.instanceId, a.executionId, a.taskId, a.name, input, null, 0, 0, 0);
      if (runHere) here.push(leasedActivity(Number(row.lastInsertRowid), a));
    }
    if (here.length) leased.set(commit, here);
    for (const { request, onConflict } of commit.startInstances) {
      if (this.#startInstance(request, now).conflict) this.#insertMessage(onConflict, now);
      else notices.push({ kind: 'instance', instanceId: request.instanceId, status: 'Pending' });
    }
    for (const message of commit.messages) this.#insertMessage(message, now);
    notices.push(...delayedMessageNotices(commit.messages));
    if (commit.activities.length > here.length) notices.push({ kind: 'activities' });
    const moreWork =
      commit.messages.length > 0 ||
      commit.startInstances.length > 0 ||
      this.sql('SELECT 1 FROM inbox INDEXED BY inbox_by_instance WHERE hub = ? AND instance_id = ? AND visible_at <= ? LIMIT 1').get(this.hub, id, now);
    if (moreWork) notices.push({ kind: 'orchestrations' });
    if (u.status !== current.status) notices.push({ kind: 'instance', instanceId: id, status: u.status });
    return 'committed';
  }

  async releaseOrchestrations(leases: Lease[]): Promise<void> {
    await this.lease(() => {
      const release = this.sql(
        'UPDATE instances SET lock_owner = NULL, lock_until = 0 WHERE hub = ? AND instance_id = ? AND lock_epoch = ?',
      );
      for (const lease of leases) release.run(this.hub, lease.id, lease.epoch);
    });
    if (leases.length) this.store.emit(this.hub, { kind: 'orchestrations' });
  }

  async claimActivities(options: ClaimOptions): Promise<ActivityWorkItem[]> {
    const now = this.store.now();
    return await this.lease(() => {
      const rows = this.sql(
        `UPDATE activities SET lock_owner = ?, lock_until = ?, lock_epoch = lock_epoch + 1, dequeue_count = dequeue_count + 1
         WHERE id IN (
           SELECT id FROM activities WHERE hub = ? AND lock_until <= ?
             AND (? IS NULL OR name IN (SELECT value FROM json_each(?)))
           ORDER BY id LIMIT ?)
         RETURNING id, instance_id, execution_id, task_id, name, input, dequeue_count, lock_epoch`,
      ).all(options.workerId, now + options.leaseMs, this.hub, now, namesParam(options), namesParam(options), options.limit) as {
        id: number;
        instance_id: string;
        execution_id: string;
        task_id: number;
        name: string;
        input: string | null;
        dequeue_count: number;
        lock_epoch: number;
      }[];
      return rows.map((r) => ({
        id: r.id,
        instanceId: r.instance_id,
        executionId: r.execution_id,
        taskId: r.task_id,
        name: r.name,
        ...(r.input !== null ? { input: r.input } : {}),
        dequeueCount: r.dequeue_count,
        lease: { id: String(r.id), epoch: r.lock_epoch },
      }));
    });
  }

  async completeActivities(completions: ActivityCompletion[]): Promise<boolean[]> {
    const now = this.store.now();
    const results = await this.write(() =>
      completions.map((c) => {
        const deleted = this.sql('DELETE FROM activities WHERE id = ? AND hub = ? AND lock_epoch = ?').run(
          Number(c.lease.id),
          this.hub,
          c.lease.epoch,
        );
        if (deleted.changes === 0) return false;
        this.#insertMessage(c.message, now);
        return true;
      }),
    );
    if (results.some(Boolean)) this.store.emit(this.hub, { kind: 'orchestrations' });
    return results;
  }

  async releaseActivities(leases: Lease[]): Promise<void> {
    await this.lease(() => {
      const release = this.sql('UPDATE activities SET lock_owner = NULL, lock_until = 0 WHERE id = ? AND hub = ? AND lock_epoch = ?');
      for (const lease of leases) release.run(Number(lease.id), this.hub, lease.epoch);
    });
    if (leases.length) this.store.emit(this.hub, { kind: 'activities' });
  }

  async renewLeases(kind: 'orchestration' | 'activity', leases: Lease[], leaseMs: number): Promise<boolean[]> {
    const until = this.store.now() + leaseMs;
    return await this.lease(() => {
      const renew =
        kind === 'orchestration'
          ? this.sql('UPDATE instances SET lock_until = ? WHERE hub = ? AND instance_id = ? AND lock_epoch = ?')
          : this.sql('UPDATE activities SET lock_until = ? WHERE hub = ? AND id = ? AND lock_epoch = ?');
      return leases.map(
        (lease) => renew.run(until, this.hub, kind === 'orchestration' ? lease.id : Number(lease.id), lease.epoch).changes > 0,
      );
    });
  }

  async nextVisibleAt(lookBackMs = 0): Promise<Date | undefined> {
    const now = this.store.now() - Math.max(0, lookBackMs);
    const row = this.sql(
      `SELECT MIN(t) AS t FROM (
         SELECT MIN(visible_at) AS t FROM inbox WHERE hub = ? AND visible_at > ?
         UNION ALL SELECT MIN(lock_until) FROM activities WHERE hub = ? AND lock_until > ?
         UNION ALL SELECT MIN(lock_until) FROM instances WHERE hub = ? AND lock_until > ?)`,
    ).get(this.hub, now, this.hub, now, this.hub, now) as { t: number | null };
    return row.t === null ? undefined : new Date(row.t);
  }
}

function namesParam(options: ClaimOptions): string | null {
  return options.names ? JSON.stringify(options.names) : null;
}

function toInboxMessage(row: MessageRow): InboxMessage {
  return {
    id: row.id,
    instanceId: row.instance_id,
    ...(row.execution_id !== null ? { executionId: row.execution_id } : {}),
    event: JSON.parse(row.event) as HistoryEvent,
  };
}
