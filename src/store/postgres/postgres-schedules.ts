/**
 * The schedules of a PostgreSQL hub (see `schedule-store.ts`): one row each, written by compare-and-set on its
 * revision (the row lock serializes workers racing for one due time: the second sees the new revision and
 * loses), with the run's instance created in the same transaction. Due times compare with the database's clock.
 */
import { flowColumn } from '../flow.js';
import type { ScheduleRunStart, ScheduleStore, StoreNotice } from '../store.js';
import type { ScheduleRecord, SchedulePutOutcome } from '../schedule-record.js';
import { rowToSchedule, scheduleColumns, type ScheduleRow } from '../schedule-rows.js';
import type { PgDatabase, TxClient } from './connection.js';
import { insertMessages, NOW } from './hub-writes.js';
import type { Tables } from './schema.js';

const COLUMNS = 'schedule_id, revision, body';

/** What the schedules need from their hub store. */
export interface PostgresSchedulesContext {
  db: PgDatabase;
  tables: Tables;
  hub: string;
  /** Sends `notices` to other processes from inside `client`'s transaction. */
  /** Delivers `notices` in this process. */
  emitLocal(notices: StoreNotice[]): void;
}

/** The ScheduleStore of one PostgreSQL hub. */
export class PostgresSchedules implements ScheduleStore {
  constructor(private readonly ctx: PostgresSchedulesContext) {}

  get #t(): Tables {
    return this.ctx.tables;
  }

  async get(scheduleId: string): Promise<ScheduleRecord | undefined> {
    const rows = await this.ctx.db.query<ScheduleRow>(`SELECT ${COLUMNS} FROM ${this.#t.schedules} WHERE hub = $1 AND schedule_id = $2`, [
      this.ctx.hub,
      scheduleId,
    ]);
    return rows[0] && rowToSchedule(rows[0]);
  }

  async list(): Promise<ScheduleRecord[]> {
    const rows = await this.ctx.db.query<ScheduleRow>(`SELECT ${COLUMNS} FROM ${this.#t.schedules} WHERE hub = $1 ORDER BY schedule_id`, [this.ctx.hub]);
    return rows.map(rowToSchedule);
  }

  async due(): Promise<{ now: number; schedules: ScheduleRecord[] }> {
    // One statement, one snapshot: the rows and the database time they were chosen by (a row-less answer still
    // carries the time, from the right side of the join).
    const rows = await this.ctx.db.query<ScheduleRow & { now: string }>(
      `SELECT s.schedule_id, s.revision, s.body, t.now FROM (SELECT ${NOW} AS now) t
       LEFT JOIN ${this.#t.schedules} s ON s.hub = $1 AND s.state = 'Active'
         AND ((s.next_run_at IS NOT NULL AND s.next_run_at <= t.now) OR s.buffered_at IS NOT NULL)
       ORDER BY s.schedule_id`,
      [this.ctx.hub],
    );
    return { now: Number(rows[0]!.now), schedules: rows.filter((r) => r.schedule_id !== null).map(rowToSchedule) };
  }

  async nextDueAt(): Promise<Date | undefined> {
    // A delay from the database's now, re-based on this process's clock (which may be skewed).
    const rows = await this.ctx.db.query<{ delay: string | null }>(
      `SELECT MIN(next_run_at) - ${NOW} AS delay FROM ${this.#t.schedules} WHERE hub = $1 AND next_run_at IS NOT NULL`,
      [this.ctx.hub],
    );
    const delay = rows[0]?.delay;
    return delay === null || delay === undefined ? undefined : new Date(Date.now() + Number(delay));
  }

  async put(record: ScheduleRecord, expected: number | 'absent', run?: ScheduleRunStart): Promise<SchedulePutOutcome> {
    const t = this.#t;
    const c = scheduleColumns(record);
    const notices: StoreNotice[] = [{ kind: 'schedules' }];
    const outcome = await this.ctx.db.transaction(async (client): Promise<SchedulePutOutcome> => {
      notices.length = 1; // a retried transaction starts over
      const written =
        expected === 'absent'
          ? await client.query(
              `INSERT INTO ${t.schedules} (hub, schedule_id, revision, state, next_run_at, buffered_at, body, created_at, updated_at)
               VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8) ON CONFLICT (hub, schedule_id) DO NOTHING`,
              [this.ctx.hub, c.scheduleId, c.state, c.nextRunAt, c.bufferedAt, c.body, c.createdAt, c.updatedAt],
            )
          : await client.query(
              `UPDATE ${t.schedules} SET revision = revision + 1, state = $3, next_run_at = $4, buffered_at = $5, body = $6, updated_at = $7
               WHERE hub = $1 AND schedule_id = $2 AND revision = $8 AND ($9::bigint IS NULL OR ${NOW} >= $9::bigint)`,
              [this.ctx.hub, c.scheduleId, c.state, c.nextRunAt, c.bufferedAt, c.body, c.updatedAt, expected, run?.notBefore ?? null],
            );
      if (!written.rowCount) {
        if (expected === 'absent' || run?.notBefore === undefined) return 'conflict';
        const current = await client.query<{ revision: string }>(`SELECT revision FROM ${t.schedules} WHERE hub = $1 AND schedule_id = $2`, [
          this.ctx.hub,
          c.scheduleId,
        ]);
        return Number(current.rows[0]?.revision) === expected ? 'early' : 'conflict';
      }
      if (run && (await createIfAbsent(client, t, this.ctx.hub, run))) {
        notices.push({ kind: 'orchestrations' }, { kind: 'instance', instanceId: run.request.instanceId, status: 'Pending' });
      }
      return 'written';
    });
    if (outcome === 'written') this.ctx.emitLocal(notices);
    return outcome;
  }

  async delete(scheduleId: string): Promise<boolean> {
    const notices: StoreNotice[] = [{ kind: 'schedules' }];
    const deleted = await this.ctx.db.transaction(async (client) => {
      const result = await client.query(`DELETE FROM ${this.#t.schedules} WHERE hub = $1 AND schedule_id = $2`, [this.ctx.hub, scheduleId]);
      return Boolean(result.rowCount);
    });
    if (deleted) this.ctx.emitLocal(notices);
    return deleted;
  }
}

/**
 * Creates the run's instance (Pending) with its start message unless an instance of its id exists in any status:
 * a due time runs once, even if its instance has finished since. True when it was created.
 */
async function createIfAbsent(client: TxClient, t: Tables, hub: string, run: ScheduleRunStart): Promise<boolean> {
  const r = run.request;
  const created = await client.query(
    `INSERT INTO ${t.instances} (hub, instance_id, name, version, execution_id, status, input, parent_instance_id,
       created_at, updated_at, history_length, lock_owner, lock_until, lock_epoch, flow, priority)
     VALUES ($1, $2, $3, $4, $5, 'Pending', $6, NULL, ${NOW}, ${NOW}, 0, NULL, 0, nextval('${t.epochs}'), $7, $8)
     ON CONFLICT (hub, instance_id) DO NOTHING`,
    [hub, r.instanceId, r.name, r.version ?? null, r.executionId, r.input ?? null, flowColumn(r.flow), r.priority ?? 0],
  );
  if (!created.rowCount) return false;
  await insertMessages(client, t, hub, [{ instanceId: r.instanceId, executionId: r.executionId, event: r.startEvent }]);
  return true;
}
