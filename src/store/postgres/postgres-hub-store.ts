/**
 * One task hub in the PostgreSQL store. Same semantics as the SQLite hub store, with PostgreSQL doing
 * the concurrency: claims lock rows with `FOR UPDATE SKIP LOCKED`, every time that decides a lease or
 * a visibility is the database's own clock (never a worker's), and each write is one transaction,
 * fenced by the lease epoch where it acts on leased work. Times that cross the API (a message's
 * `visibleAt`, `nextVisibleAt`) are re-based between this process's clock and the database's, so a
 * process whose clock is off by minutes still waits the right durations.
 */
import { FLOW_LOCK_CLASS, flowColumn } from '../flow.js';
import { debounceNotices, debounceStart } from './postgres-debounce.js';
import { claimActivitiesSql, claimFlowActivities, flowCandidatesSql, flowWaitingActivities, prioritizedCandidatesSql, recordInstanceStarts, withFlowProbeSql, type ClaimedActivityRow } from './flow-sql.js';
import { isTerminalStatus, type HistoryEvent, type RuntimeStatus } from '../../sdk/history.js';
import { InstanceAlreadyExistsError } from '../../sdk/errors.js';
import {
  INSTANCE_COLUMNS,
  dedupeNotices,
  withFinalStates,
  delayedMessageNotices,
  newWorkNotice,
  historyFromRows,
  rowToInstance,
  versionRulesParam,
  type InstanceRow,
  traceContextField,
} from '../shared.js';
import { childInstances, filterSql, instanceOverview, queryInstances } from './postgres-queries.js';
import type { ActivityCompletion, ActivityWorkItem, ChildInstancesOptions, ClaimOptions, CommitOutcome, EpisodeCommit, FlowWaitingActivity, HeartbeatOptions, HeartbeatOutcome, HubSnapshot, HubStore, InboxMessage, InstanceFilter, InstanceOverview, InstanceOverviewFilter, InstanceQuery, InstanceRecord, Lease, NewMessage, OrchestrationWorkItem, ScheduleStore, StartInstanceRequest, StartLease, StoreNotice } from '../store.js';
import { prepared, type PgDatabase } from './connection.js';
import type { NoticeHold } from './notifier.js';
import { commitEpisodesInTransaction } from './episode-batch.js';
import { commitEpisodesInOneStatement, fitsOneStatement } from './episode-statement.js';
import { commitFusedStarts, fitsFusedStatement } from './fused-statement.js';
import { distinctRounds, insertMessages, messageColumns, NOW, sendMessagesInOneStatement, startInstances, startNotices, TERMINAL_SQL, type StartAnswer, type StartRequest } from './hub-writes.js';
import { Batcher } from '../batcher.js';
import { heartbeat } from './liveness.js';
import type { Tables } from './schema.js';
import type { RegisteredNames } from '../../sdk/registry.js';
import { unionRegisteredNames } from '../../sdk/registered-names.js';
import { PostgresSchedules } from './postgres-schedules.js';

const CONTROL_EVENTS_SQL = `('ExecutionResumed','ExecutionTerminated')`;

/** What the hub store needs from its store. */
export interface PostgresHubContext {
  db: PgDatabase;
  tables: Tables;
  /**
   * Announces committed changes: to this process at once, to other processes through the store's notifier
   * (never `pg_notify` inside a writing transaction: see notifier.ts).
   */
  emitLocal(hub: string, notices: StoreNotice[], hold?: NoticeHold): void;
}

/** A `PostgresHubStore` row of `claimOrchestrations`. */
interface ClaimedRow extends InstanceRow {
  lock_epoch: string;
  /** The owner of the expired lease this claim took over (commits and releases clear it). */
  previous_owner: string | null;
  messages: [number | string, string | null, string][];
  /** Only in a claim's answer: whether `messages` may be out of date (see `leaseSql`). */
  stale?: boolean;
  /** Only in a claim's answer: whether flow-controlled instances wait (see `leaseSql`). */
  flow_probe?: boolean;
}

/** The HubStore of one task hub on PostgreSQL. */
export class PostgresHubStore implements HubStore {
  readonly #t: Tables;
  readonly schedules: ScheduleStore;

  constructor(
    private readonly ctx: PostgresHubContext,
    readonly hub: string,
  ) {
    this.#t = ctx.tables;
    this.schedules = new PostgresSchedules({
      db: ctx.db,
      tables: ctx.tables,
      hub,
      emitLocal: (notices) => ctx.emitLocal(hub, notices),
    });
  }

  // ---- client side ----------------------------------------------------------------------------

  /**
   * Group commit of client starts: the starts requested while one statement runs share the next (one round
   * trip and one durable commit for a burst; a repeated id goes in a later statement and conflicts). A group
   * that fails is retried one start at a time, so a bad request fails alone.
   */
  readonly #starts = new Batcher<StartRequest, StartAnswer & { error?: unknown }>(async (starts) => {
    const run = (group: StartRequest[]) =>
      startInstances(
        this.ctx.db.pool,
        this.#t,
        this.hub,
        group,
        (statement) => this.ctx.db.retrying(statement),
      );
    const outcomes: (StartAnswer & { error?: unknown })[] = new Array(starts.length);
    for (const round of distinctRounds(starts.map((s) => s.request.instanceId))) {
      const group = round.map((i) => starts[i]!);
      const results = await run(group).catch(() =>
        Promise.all(group.map((s) => run([s]).then(([answer]) => answer!, (error: unknown) => ({ error })))),
      );
      round.forEach((index, k) => (outcomes[index] = results[k]!));
    }
    return outcomes;
  });

  async createInstance(request: StartInstanceRequest, lease?: StartLease): Promise<OrchestrationWorkItem | undefined> {
    // A flow-controlled instance is never leased at creation: only a claim checks its limits.
    const start = { request, lease: flowColumn(request.flow) === null ? lease : undefined };
    const { conflict, error, item } = await this.#starts.add(start);
    if (error) throw error;
    if (conflict) throw new InstanceAlreadyExistsError(request.instanceId, conflict);
    // Leased to this process's worker: the status notice can go to other processes with its first episode's.
    this.ctx.emitLocal(this.hub, startNotices(start), item ? 'next' : 'none');
    return item;
  }

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const rows = await this.ctx.db.queryPrepared<InstanceRow>(
      `SELECT ${INSTANCE_COLUMNS} FROM ${this.#t.instances} WHERE hub = $1 AND instance_id = $2`,
      [this.hub, instanceId],
    );
    return rows[0] && rowToInstance(rows[0]);
  }

  flowWaitingActivities(instanceId: string, limit: number): Promise<FlowWaitingActivity[]> {
    return flowWaitingActivities(this.ctx.db, this.#t, this.hub, instanceId, limit);
  }

  childInstances(parentInstanceId: string, options: ChildInstancesOptions): Promise<InstanceRecord[]> {
    return childInstances(this.ctx.db, this.#t, this.hub, parentInstanceId, options);
  }

  async getHistory(instanceId: string): Promise<HistoryEvent[]> {
    const rows = await this.ctx.db.query<{ events: string }>(
      `SELECT events FROM ${this.#t.history} WHERE hub = $1 AND instance_id = $2 ORDER BY seq`,
      [this.hub, instanceId],
    );
    return historyFromRows(rows);
  }

  queryInstances(query: InstanceQuery): Promise<{ instances: InstanceRecord[]; continuationToken?: string }> {
    return queryInstances(this.ctx.db, this.#t, this.hub, query);
  }

  instanceOverview(filter: InstanceOverviewFilter, window: number): Promise<InstanceOverview> {
    return instanceOverview(this.ctx.db, this.#t, this.hub, filter, window);
  }

  async debounceStart(request: StartInstanceRequest, key: string, delayMs: number): Promise<{ instanceId: string; replaced: boolean }> {
    const answer = await debounceStart(this.ctx.db, this.#t, this.hub, request, key, delayMs);
    if (!answer.replaced) this.ctx.emitLocal(this.hub, debounceNotices(answer.instanceId));
    return answer;
  }

  /**
   * Group commit of sends (client signals and events, each call all or nothing): the calls made while one statement
   * runs share the next. A group that fails is retried one call at a time, so a bad send fails alone.
   */
  readonly #sends = new Batcher<NewMessage[], { error?: unknown }>(async (groups) => {
    const run = (messages: NewMessage[]) =>
      this.ctx.db.retrying(() => sendMessagesInOneStatement(this.ctx.db.pool, this.#t, this.hub, messages));
    if (groups.length === 1) return [await run(groups[0]!).then(() => ({}), (error: unknown) => ({ error }))];
    return await run(groups.flat()).then(
      () => groups.map(() => ({})),
      () => Promise.all(groups.map((group) => run(group).then(() => ({}), (error: unknown) => ({ error })))),
    );
  });

  async sendMessages(messages: NewMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const notices: StoreNotice[] = [newWorkNotice(messages), ...delayedMessageNotices(messages)];
    const { error } = await this.#sends.add(messages);
    if (error) throw error;
    this.ctx.emitLocal(this.hub, notices, sendHold(notices));
  }

  async sendToLiveInstance(message: NewMessage): Promise<RuntimeStatus | undefined> {
    const t = this.#t;
    const notices: StoreNotice[] = [newWorkNotice([message]), ...delayedMessageNotices([message])];
    const [instanceId, executionId, eventType, event, delay] = messageColumns([message]).map((column) => column[0]);
    // One statement, its own transaction: the status read and the conditional insert share one snapshot. Prepared
    // (parsed and planned once per connection): a client raising events one after another runs it again and again.
    const { rows } = await this.ctx.db.retrying(() =>
      this.ctx.db.pool.query<{ status: RuntimeStatus | null }>(prepared(
        `WITH target AS (
           SELECT status FROM ${t.instances} WHERE hub = $1 AND instance_id = $2
         ), sent AS (
           INSERT INTO ${t.inbox} (hub, instance_id, execution_id, event_type, event, visible_at)
           SELECT $1, $2, $3, $4, $5, ${NOW} + COALESCE($6::bigint, 0) FROM target WHERE status NOT IN ${TERMINAL_SQL}
           RETURNING 1
         )
         SELECT (SELECT status FROM target) AS status, (SELECT count(*) FROM sent) AS sent`,
        [this.hub, instanceId, executionId, eventType, event, delay],
      )),
    );
    const status = rows[0]?.status ?? undefined;
    if (status !== undefined && !isTerminalStatus(status)) this.ctx.emitLocal(this.hub, notices, sendHold(notices));
    return status;
  }

  async requestRewind(instanceId: string, message: NewMessage): Promise<boolean> {
    const notices: StoreNotice[] = [{ kind: 'orchestrations' }, { kind: 'instance', instanceId, status: 'Pending' }];
    const requested = await this.ctx.db.transaction(async (client) => {
      const updated = await client.query(
        `UPDATE ${this.#t.instances} SET status = 'Pending', updated_at = ${NOW} WHERE hub = $1 AND instance_id = $2 AND status = 'Failed'`,
        [this.hub, instanceId],
      );
      if (!updated.rowCount) return false;
      await insertMessages(client, this.#t, this.hub, [message]);
      return true;
    });
    if (requested) this.ctx.emitLocal(this.hub, notices);
    return requested;
  }

  async purgeInstances(selector: { instanceId: string } | InstanceFilter): Promise<number> {
    const t = this.#t;
    const params: unknown[] = [];
    const where =
      'instanceId' in selector
        ? [`hub = $${params.push(this.hub)}`, `instance_id = $${params.push(selector.instanceId)}`]
        : filterSql(this.#t, this.hub, selector, params);
    const rows = await this.ctx.db.query<{ deleted: number }>(
      `WITH gone AS (
         DELETE FROM ${t.instances} d WHERE ${where.join(' AND ')} AND status IN ${TERMINAL_SQL}
           -- an entity with messages waiting is not purged: they would be lost
           AND NOT (d.instance_id LIKE '@%' AND EXISTS (SELECT 1 FROM ${t.inbox} x WHERE x.hub = d.hub AND x.instance_id = d.instance_id))
         RETURNING hub, instance_id
       ),
       h AS (DELETE FROM ${t.history} x USING gone g WHERE x.hub = g.hub AND x.instance_id = g.instance_id),
       m AS (DELETE FROM ${t.inbox} x USING gone g WHERE x.hub = g.hub AND x.instance_id = g.instance_id),
       a AS (DELETE FROM ${t.activities} x USING gone g WHERE x.hub = g.hub AND x.instance_id = g.instance_id)
       SELECT count(*)::int AS deleted FROM gone`,
      params,
    );
    return rows[0]?.deleted ?? 0;
  }

  async registerWorker(workerId: string, names: RegisteredNames): Promise<void> {
    await this.ctx.db.query(
      `INSERT INTO ${this.#t.workers} (hub, worker_id, names, updated_at) VALUES ($1, $2, $3, ${NOW})
       ON CONFLICT (hub, worker_id) DO UPDATE SET names = EXCLUDED.names, updated_at = EXCLUDED.updated_at`,
      [this.hub, workerId, JSON.stringify(names)],
    );
  }

  async getRegisteredNames(): Promise<RegisteredNames | undefined> {
    const rows = await this.ctx.db.query<{ names: string }>(`SELECT names FROM ${this.#t.workers} WHERE hub = $1`, [this.hub]);
    if (rows.length === 0) return undefined;
    return unionRegisteredNames(rows.map((row) => JSON.parse(row.names) as RegisteredNames));
  }

  heartbeat(workerId: string, options: HeartbeatOptions): Promise<HeartbeatOutcome> {
    return heartbeat(
      {
        db: this.ctx.db,
        tables: this.#t,
        hub: this.hub,
        emitLocal: (notices) => this.ctx.emitLocal(this.hub, notices),
      },
      workerId,
      options,
    );
  }

  // ---- worker side ----------------------------------------------------------------------------

  async claimOrchestrations(options: ClaimOptions): Promise<OrchestrationWorkItem[]> {
    const t = this.#t;
    // One statement: pick instances with visible messages whose lease is free (skipping rows another
    // claimer has locked), lease them with fresh epochs, and return them with their visible messages.
    const rows = await this.ctx.db.queryPrepared<ClaimedRow>(
      leaseSql(
        t,
        `WITH ${prioritizedCandidatesSql({
          table: t.instances,
          where: `i.hub = $1
           AND i.instance_id IN (SELECT m.instance_id FROM ${t.inbox} m WHERE m.hub = $1 AND m.visible_at <= ${NOW})
           AND i.lock_until <= ${NOW}
           AND ($3::text[] IS NULL OR i.name = ANY($3::text[]))
           AND ${versionRulesSql(t, '$6')}
           AND (i.status <> 'Suspended' OR EXISTS (
             SELECT 1 FROM ${t.inbox} m WHERE m.hub = $1 AND m.instance_id = i.instance_id
               AND m.visible_at <= ${NOW} AND m.event_type IN ${CONTROL_EVENTS_SQL}))
           AND i.flow IS NULL`,
          prioritized: `SELECT 1 FROM ${t.instances} p WHERE p.hub = $1 AND p.priority <> 0 AND p.status = 'Pending'`,
          key: 'instance_id', order: 'i.created_at, i.instance_id', limitParam: '$4',
        })}
        SELECT * FROM candidates`,
        5,
        // The same statement tells whether flow-controlled instances wait, so a plain workload pays no round trip for them.
        `EXISTS (SELECT 1 FROM ${t.instances} f WHERE f.hub = $1 AND f.flow IS NOT NULL AND f.lock_until <= ${NOW}
           AND ($3::text[] IS NULL OR f.name = ANY($3::text[])) AND f.status NOT IN ${TERMINAL_SQL})`,
      ),
      [this.hub, options.workerId, namesParam(options), options.limit, options.leaseMs, versionRulesParam(options)],
    );
    const waiting = rows.some((r) => r.flow_probe);
    const claimed = await withFreshMessages((text, params) => this.ctx.db.query(text, params), t, this.hub, rows.filter((r) => r.instance_id !== null));
    const items = claimed.map(toWorkItem);
    if (waiting && items.length < options.limit) items.push(...(await this.#claimFlowOrchestrations(options, options.limit - items.length)));
    return items;
  }

  /**
   * Claims flow-controlled instances their keys' limits allow (see `store/flow.ts`), oldest first per key, under
   * the hub's flow lock: claims of flow-controlled work run one at a time, so the leased counts they read hold.
   * Called when the plain claim's probe saw such instances waiting.
   */
  async #claimFlowOrchestrations(options: ClaimOptions, room: number): Promise<OrchestrationWorkItem[]> {
    const t = this.#t;
    return await this.ctx.db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [FLOW_LOCK_CLASS, `${t.schema}:${this.hub}`]);
      const { rows } = await client.query<ClaimedRow>(
        leaseSql(
          t,
          flowCandidatesSql({
            table: t.instances, starts: t.flowStarts, kind: 'orchestration',
            where: `i.hub = $1 AND i.flow IS NOT NULL AND i.lock_until <= ${NOW}
             AND ($3::text[] IS NULL OR i.name = ANY($3::text[]))
             AND ${versionRulesSql(t, '$6')}
             AND EXISTS (SELECT 1 FROM ${t.inbox} m WHERE m.hub = $1 AND m.instance_id = i.instance_id AND m.visible_at <= ${NOW}
               AND (i.status <> 'Suspended' OR m.event_type IN ${CONTROL_EVENTS_SQL}))`,
            rateKey: `CASE WHEN i.status = 'Pending' THEN i.rate_key END`, orderBy: 'i.priority DESC, i.created_at, i.instance_id',
            key: 'i.instance_id', alias: 'instance_id', limitParam: '$4',
          }),
          5,
        ),
        [this.hub, options.workerId, namesParam(options), room, options.leaseMs, versionRulesParam(options)],
      );
      const items = (await withFreshMessages(async (text, params) => (await client.query(text, params)).rows, t, this.hub, rows)).map(toWorkItem);
      // A first start of a rate-limited instance counts against its rate.
      await recordInstanceStarts(client, t, this.hub, items.filter((i) => i.instance.status === 'Pending').map((i) => i.instance.instanceId));
      return items;
    });
  }

  async leaseInstances(instanceIds: readonly string[], options: { workerId: string; leaseMs: number }): Promise<OrchestrationWorkItem[]> {
    if (instanceIds.length === 0) return [];
    const t = this.#t;
    const rows = await this.ctx.db.queryPrepared<ClaimedRow>(
      leaseSql(
        t,
        `SELECT i.instance_id, i.lock_owner AS previous_owner FROM ${t.instances} i
         WHERE i.hub = $1 AND i.instance_id = ANY($3::text[]) AND i.lock_until <= ${NOW} AND i.status = 'Running'
           AND i.flow IS NULL
         FOR UPDATE OF i SKIP LOCKED`,
        4,
      ),
      [this.hub, options.workerId, [...instanceIds], options.leaseMs],
    );
    return (await withFreshMessages((text, params) => this.ctx.db.query(text, params), t, this.hub, rows)).map(toWorkItem);
  }

  async commitEpisodes(commits: EpisodeCommit[]): Promise<CommitOutcome[]> {
    if (commits.length === 0) return [];
    if (fitsOneStatement(commits)) {
      const done = await this.ctx.db.retrying(() => commitEpisodesInOneStatement(this.ctx.db.pool, this.#t, this.hub, commits));
      if (done) {
        for (const [commit, item] of done.leased) commit.activityLease?.leased.push(item);
        // The lease kept, epoch and all: the next episode runs without a claim.
        for (const [commit, row] of done.continued) commit.continueLease!.next = toWorkItem({ ...row, lock_epoch: String(commit.lease.epoch), previous_owner: null });
        this.ctx.emitLocal(this.hub, withFinalStates(dedupeNotices(done.notices), commits, done.updatedAt));
        return commits.map(() => 'committed');
      }
      // A fence failed and nothing was written: the general path finds out which commits lost their lease.
    }
    if (fitsFusedStatement(commits)) {
      return commitFusedStarts(this.ctx.db, this.#t, this.hub, commits, (n) => this.ctx.emitLocal(this.hub, n), (left) => this.#commitInTransaction(left));
    }
    return this.#commitInTransaction(commits);
  }

  #commitInTransaction(commits: EpisodeCommit[]): Promise<CommitOutcome[]> {
    return commitEpisodesInTransaction(this.ctx.db, this.#t, this.hub, commits, (notices) => this.ctx.emitLocal(this.hub, notices));
  }

  async releaseOrchestrations(leases: Lease[]): Promise<void> {
    if (leases.length === 0) return;
    const notices: StoreNotice[] = [{ kind: 'orchestrations' }];
    await this.ctx.db.transaction(async (client) => {
      await client.query(
        `UPDATE ${this.#t.instances} i SET lock_owner = NULL, lock_until = 0
         FROM unnest($2::text[], $3::bigint[]) AS l(id, epoch)
         WHERE i.hub = $1 AND i.instance_id = l.id AND i.lock_epoch = l.epoch`,
        [this.hub, leases.map((l) => l.id), leases.map((l) => l.epoch)],
      );
    });
    this.ctx.emitLocal(this.hub, notices);
  }

  async claimActivities(options: ClaimOptions): Promise<ActivityWorkItem[]> {
    const t = this.#t;
    const rows = await this.ctx.db.queryPrepared<ClaimedActivityRow>(
      `WITH ${prioritizedCandidatesSql({
        table: t.activities,
        where: `i.hub = $1 AND i.lock_until <= ${NOW} AND ($3::text[] IS NULL OR i.name = ANY($3::text[])) AND i.flow IS NULL`,
        prioritized: `SELECT 1 FROM ${t.activities} p WHERE p.hub = $1 AND p.priority <> 0 AND p.lock_until <= ${NOW}`,
        key: 'id', order: 'i.id', plainOrder: 'i.id', limitParam: '$4',
      })}, claimed AS (${claimActivitiesSql(t)})
       ${withFlowProbeSql(t, '$3')}`,
      [this.hub, options.workerId, namesParam(options), options.limit, options.leaseMs],
    );
    // The same statement told whether flow-controlled activities wait (a row of its own), so a plain workload pays
    // no round trip for them.
    const waiting = rows.some((r) => r.flow_probe);
    const claimed = rows.filter((r) => !r.flow_probe);
    if (waiting && claimed.length < options.limit) claimed.push(...(await claimFlowActivities(this.ctx.db, t, this.hub, options, options.limit - claimed.length)));
    return claimed
      .map((r) => ({
        id: Number(r.id),
        instanceId: r.instance_id,
        executionId: r.execution_id,
        taskId: r.task_id,
        name: r.name,
        ...(r.input !== null ? { input: r.input } : {}),
        dequeueCount: r.dequeue_count,
        lease: { id: String(r.id), epoch: Number(r.lock_epoch) },
        ...(r.previous_owner !== null ? { previousOwner: r.previous_owner } : {}),
        ...traceContextField(r.trace_context),
      }))
      .sort((a, b) => a.id - b.id);
  }

  async completeActivities(completions: ActivityCompletion[]): Promise<boolean[]> {
    if (completions.length === 0) return [];
    const notices: StoreNotice[] = [{ kind: 'orchestrations' }];
    const results = await this.ctx.db.transaction(async (client) => {
      const { rows } = await client.query<{ id: string; cc_key: string | null }>(
        `DELETE FROM ${this.#t.activities} a USING unnest($2::bigint[], $3::bigint[]) AS c(id, epoch)
         WHERE a.hub = $1 AND a.id = c.id AND a.lock_epoch = c.epoch
         RETURNING a.id, a.cc_key`,
        [this.hub, completions.map((c) => activityId(c.lease.id)), completions.map((c) => c.lease.epoch)],
      );
      const deleted = new Set(rows.map((r) => String(r.id)));
      // The same completion twice in one batch: only the first one counts.
      const results = completions.map((c) => deleted.delete(activityId(c.lease.id)));
      // A finished activity with a concurrency key makes room for a waiting one.
      if (rows.some((r) => r.cc_key !== null) && !notices.some((n) => n.kind === 'activities')) notices.push({ kind: 'activities' });
      const delivered = completions.filter((_, i) => results[i]).map((c) => c.message);
      if (delivered.length) {
        await insertMessages(client, this.#t, this.hub, delivered);
      }
      return results;
    });
    if (results.some(Boolean)) this.ctx.emitLocal(this.hub, notices);
    return results;
  }

  async releaseActivities(leases: Lease[]): Promise<void> {
    if (leases.length === 0) return;
    const notices: StoreNotice[] = [{ kind: 'activities' }];
    await this.ctx.db.transaction(async (client) => {
      await client.query(
        `UPDATE ${this.#t.activities} a SET lock_owner = NULL, lock_until = 0
         FROM unnest($2::bigint[], $3::bigint[]) AS l(id, epoch)
         WHERE a.hub = $1 AND a.id = l.id AND a.lock_epoch = l.epoch`,
        [this.hub, leases.map((l) => activityId(l.id)), leases.map((l) => l.epoch)],
      );
    });
    this.ctx.emitLocal(this.hub, notices);
  }

  async renewLeases(kind: 'orchestration' | 'activity', leases: Lease[], leaseMs: number): Promise<boolean[]> {
    if (leases.length === 0) return [];
    const t = this.#t;
    const sql =
      kind === 'orchestration'
        ? `UPDATE ${t.instances} x SET lock_until = ${NOW} + $4::bigint
           FROM unnest($2::text[], $3::bigint[]) AS l(id, epoch)
           WHERE x.hub = $1 AND x.instance_id = l.id AND x.lock_epoch = l.epoch
           RETURNING x.instance_id::text AS id, x.lock_epoch`
        : `UPDATE ${t.activities} x SET lock_until = ${NOW} + $4::bigint
           FROM unnest($2::bigint[], $3::bigint[]) AS l(id, epoch)
           WHERE x.hub = $1 AND x.id = l.id AND x.lock_epoch = l.epoch
           RETURNING x.id::text AS id, x.lock_epoch`;
    const ids = leases.map((l) => (kind === 'activity' ? activityId(l.id) : l.id));
    const rows = await this.ctx.db.query<{ id: string; lock_epoch: string }>(sql, [
      this.hub,
      ids,
      leases.map((l) => l.epoch),
      leaseMs,
    ]);
    const held = new Set(rows.map((r) => `${r.id}\u0000${r.lock_epoch}`));
    return leases.map((l, i) => held.has(`${ids[i]}\u0000${l.epoch}`));
  }

  /** `HubStore.metricsSnapshot`: each number from an index range (no table scan). */
  async metricsSnapshot(): Promise<HubSnapshot> {
    const t = this.#t;
    const rows = await this.ctx.db.query<{ statuses: Record<string, number> | null; messages: string; oldest_ms: string | null; activities: string; workers: string }>(
      `SELECT
         (SELECT json_object_agg(status, n) FROM (
            SELECT status, count(*)::int AS n FROM ${t.instances}
            WHERE hub = $1 AND status IN ('Pending', 'Running', 'Suspended') AND instance_id NOT LIKE '@%' GROUP BY status) s) AS statuses,
         (SELECT count(*) FROM ${t.inbox} WHERE hub = $1 AND visible_at <= ${NOW}) AS messages,
         (SELECT ${NOW} - min(visible_at) FROM ${t.inbox} WHERE hub = $1 AND visible_at <= ${NOW}) AS oldest_ms,
         (SELECT count(*) FROM ${t.activities} WHERE hub = $1 AND lock_until <= ${NOW}) AS activities,
         (SELECT count(*) FROM ${t.workers} WHERE hub = $1 AND alive_until > 0 AND alive_until > ${NOW}) AS workers`,
      [this.hub],
    );
    const row = rows[0]!;
    return {
      instances: row.statuses ?? {},
      visibleMessages: Number(row.messages),
      oldestVisibleMs: row.oldest_ms === null ? 0 : Math.max(0, Number(row.oldest_ms)),
      runnableActivities: Number(row.activities),
      workersAlive: Number(row.workers),
    };
  }

  async nextVisibleAt(lookBackMs = 0): Promise<Date | undefined> {
    const t = this.#t;
    // Returned as a delay and re-based on this process's clock: callers compare it with their own clock,
    // which may be skewed from the database's (the look-back is a duration, so skew does not matter).
    const since = `(${NOW} - $2::bigint)`;
    const rows = await this.ctx.db.query<{ delay: string | null }>(
      `SELECT LEAST(
         (SELECT MIN(visible_at) FROM ${t.inbox} WHERE hub = $1 AND visible_at > ${since}),
         (SELECT MIN(lock_until) FROM ${t.activities} WHERE hub = $1 AND lock_until > ${since}),
         (SELECT MIN(lock_until) FROM ${t.instances} WHERE hub = $1 AND lock_until > ${since}),
         (SELECT MIN(until) FROM ${t.flowStarts} WHERE hub = $1 AND until > ${since})
       ) - ${NOW} AS delay`,
      [this.hub, Math.max(0, Math.round(lookBackMs))],
    );
    const delay = rows[0]?.delay;
    return delay === null || delay === undefined ? undefined : new Date(Date.now() + Number(delay));
  }
}

/** Messages to one instance: their notice waits while other statements run (see `NoticeHold`). */
function sendHold(notices: StoreNotice[]): NoticeHold {
  return notices[0]?.kind === 'orchestrations' && notices[0].instanceId !== undefined ? 'busy' : 'none';
}

function namesParam(options: ClaimOptions): string[] | null {
  return options.names ? [...options.names] : null;
}

/** An activity lease id as a canonical bigint parameter; ids that are not integers match nothing. */
function activityId(id: string): string {
  return /^\d{1,18}$/.test(id) ? String(BigInt(id)) : '0';
}

/** A claimed row with its visible messages as a work item. */
function toWorkItem(row: ClaimedRow): OrchestrationWorkItem {
  return {
    instance: rowToInstance(row),
    messages: row.messages.map(([id, executionId, event]): InboxMessage => ({
      id: Number(id),
      instanceId: row.instance_id,
      ...(executionId !== null ? { executionId } : {}),
      event: JSON.parse(event) as HistoryEvent,
    })),
    lease: { id: row.instance_id, epoch: Number(row.lock_epoch) },
    ...(row.previous_owner !== null ? { previousOwner: row.previous_owner } : {}),
  };
}

/**
 * Leases the instances `candidates` selects (a query using $1 = hub, locking its rows with SKIP LOCKED) to
 * worker $2 for $`leaseParam` milliseconds with fresh epochs, and returns each with its visible messages —
 * one statement, one round trip.
 *
 * The row is locked (again) here, whatever `candidates` did: its latest version, with the lease re-checked on it.
 * Under READ COMMITTED that version can be newer than the statement's snapshot (a commit of the instance landed
 * while the claim waited or ran), and then the messages the snapshot shows may include ones that commit consumed.
 * Such a row comes back `stale`, for {@link withFreshMessages} to read its messages again under the new lease.
 */
function leaseSql(t: Tables, candidates: string, leaseParam: number, probe?: string): string {
  // With a probe, every leased row carries flow_probe; when nothing was leased, one row of NULLs carries it alone.
  const from = probe ? `(SELECT ${probe} AS flow_probe) p LEFT JOIN claimed c ON true` : 'claimed c';
  return `WITH candidates AS (${candidates}),
       locked AS MATERIALIZED (
         SELECT i.instance_id, c.previous_owner, i.xmin::text AS locked_xmin FROM ${t.instances} i
         JOIN candidates c ON i.hub = $1 AND i.instance_id = c.instance_id
         WHERE i.lock_until <= ${NOW}
         FOR UPDATE OF i SKIP LOCKED
       ),
       claimed AS (
         UPDATE ${t.instances} i
         SET lock_owner = $2, lock_until = ${NOW} + $${leaseParam}::bigint, lock_epoch = nextval('${t.epochs}')
         FROM locked c
         WHERE i.hub = $1 AND i.instance_id = c.instance_id
         RETURNING i.*, c.previous_owner, c.locked_xmin
       )
       SELECT ${INSTANCE_COLUMNS}, lock_epoch, previous_owner,
         -- the snapshot's version of the row (this statement's own update is not visible to it)
         (SELECT s.xmin::text FROM ${t.instances} s WHERE s.hub = $1 AND s.instance_id = c.instance_id) IS DISTINCT FROM c.locked_xmin AS stale,
         COALESCE((SELECT json_agg(json_build_array(m.id, m.execution_id, m.event) ORDER BY m.id)
                   FROM ${t.inbox} m
                   WHERE m.hub = $1 AND m.instance_id = c.instance_id AND m.visible_at <= ${NOW}), '[]'::json) AS messages
         ${probe ? ', p.flow_probe' : ''}
       FROM ${from}
       ORDER BY instance_id`;
}

/**
 * The claimed rows with the messages of `stale` ones (see {@link leaseSql}) read again: a statement begun after
 * the claim locked them sees every commit that came before, and none can come after (the lease is this claim's).
 */
async function withFreshMessages(
  query: <R extends object>(text: string, params: unknown[]) => Promise<R[]>,
  t: Tables,
  hub: string,
  rows: ClaimedRow[],
): Promise<ClaimedRow[]> {
  const stale = rows.filter((r) => r.stale);
  if (stale.length === 0) return rows;
  const fresh = await query<{ instance_id: string; messages: ClaimedRow['messages'] }>(
    `SELECT m.instance_id, json_agg(json_build_array(m.id, m.execution_id, m.event) ORDER BY m.id) AS messages
     FROM ${t.inbox} m WHERE m.hub = $1 AND m.instance_id = ANY($2::text[]) AND m.visible_at <= ${NOW}
     GROUP BY m.instance_id`,
    [hub, stale.map((r) => r.instance_id)],
  );
  const byId = new Map(fresh.map((f) => [f.instance_id, f.messages]));
  return rows.map((r) => (r.stale ? { ...r, messages: byId.get(r.instance_id) ?? [] } : r));
}

/**
 * A claim's version rules (`versionRulesParam`, bound as `param`): an orchestration whose name has a rule is taken
 * only at a version the rule allows; entities and names without a rule, at any version.
 */
function versionRulesSql(t: Tables, param: string): string {
  return `(${param}::jsonb IS NULL OR i.instance_id LIKE '@%'
    OR NOT EXISTS (SELECT 1 FROM jsonb_array_elements(${param}::jsonb) r WHERE r->>'name' = i.name)
    OR EXISTS (SELECT 1 FROM jsonb_array_elements(${param}::jsonb) r WHERE r->>'name' = i.name
      AND (r->'oneOf' IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(r->'oneOf') v(x) WHERE ${t.versionCompare}(i.version, v.x) = 0))
      AND (r->'atMost' IS NULL OR ${t.versionCompare}(i.version, r->>'atMost') <= 0)))`;
}
