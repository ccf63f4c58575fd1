/**
 * The schedules of a SQLite hub (see `schedule-store.ts`): one row each, written by compare-and-set on its
 * revision inside the group commit, with the run's instance created in the same transaction.
 */
import type { ScheduleRecord, SchedulePutOutcome } from '../schedule-record.js';
import type { ScheduleRunStart, ScheduleStore } from '../store.js';
import { rowToSchedule, scheduleColumns, type ScheduleRow } from '../schedule-rows.js';
import type { SqliteStoreContext } from './sqlite-context.js';
import { startInstance } from './sqlite-hub-writes.js';

const COLUMNS = 'schedule_id, revision, body';

/** The ScheduleStore of one SQLite hub. */
export class SqliteSchedules implements ScheduleStore {
  constructor(
    private readonly store: SqliteStoreContext,
    private readonly hub: string,
  ) {}

  async get(scheduleId: string): Promise<ScheduleRecord | undefined> {
    const row = this.store.sql(`SELECT ${COLUMNS} FROM schedules WHERE hub = ? AND schedule_id = ?`).get(this.hub, scheduleId) as ScheduleRow | undefined;
    return row && rowToSchedule(row);
  }

  async list(): Promise<ScheduleRecord[]> {
    const rows = this.store.sql(`SELECT ${COLUMNS} FROM schedules WHERE hub = ? ORDER BY schedule_id`).all(this.hub) as ScheduleRow[];
    return rows.map(rowToSchedule);
  }

  async due(): Promise<{ now: number; schedules: ScheduleRecord[] }> {
    const now = this.store.now();
    const rows = this.store
      .sql(
        `SELECT ${COLUMNS} FROM schedules WHERE hub = ? AND state = 'Active'
           AND ((next_run_at IS NOT NULL AND next_run_at <= ?) OR buffered_at IS NOT NULL)
         ORDER BY schedule_id`,
      )
      .all(this.hub, now) as ScheduleRow[];
    return { now, schedules: rows.map(rowToSchedule) };
  }

  async nextDueAt(): Promise<Date | undefined> {
    const next = this.store
      .sql('SELECT MIN(next_run_at) FROM schedules INDEXED BY schedules_by_next_run WHERE hub = ? AND next_run_at IS NOT NULL')
      .pluck()
      .get(this.hub) as number | null;
    return next === null ? undefined : new Date(next);
  }

  async put(record: ScheduleRecord, expected: number | 'absent', run?: ScheduleRunStart): Promise<SchedulePutOutcome> {
    const now = this.store.now();
    const columns = scheduleColumns(record);
    const { outcome, started } = await this.store.write(() => {
      const current = this.store.sql('SELECT revision FROM schedules WHERE hub = ? AND schedule_id = ?').pluck().get(this.hub, record.scheduleId) as
        | number
        | undefined;
      if (expected === 'absent' ? current !== undefined : current !== expected) return { outcome: 'conflict' as const, started: false };
      if (run?.notBefore !== undefined && now < run.notBefore) return { outcome: 'early' as const, started: false };
      this.store
        .sql(
          `INSERT INTO schedules (hub, schedule_id, revision, state, next_run_at, buffered_at, body, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (hub, schedule_id) DO UPDATE SET revision = excluded.revision, state = excluded.state,
             next_run_at = excluded.next_run_at, buffered_at = excluded.buffered_at, body = excluded.body, updated_at = excluded.updated_at`,
        )
        .run(
          this.hub,
          columns.scheduleId,
          expected === 'absent' ? 1 : expected + 1,
          columns.state,
          columns.nextRunAt,
          columns.bufferedAt,
          columns.body,
          columns.createdAt,
          columns.updatedAt,
        );
      // Create-if-absent, whatever the status of an existing instance: a due time runs once, even if its
      // instance has finished since (the store's usual start would overwrite a finished instance).
      const exists = run && this.store.sql('SELECT 1 FROM instances WHERE hub = ? AND instance_id = ?').get(this.hub, run.request.instanceId);
      if (run && !exists) startInstance(this.store, this.hub, run.request, now);
      return { outcome: 'written' as const, started: run !== undefined && !exists };
    }, true);
    if (outcome === 'written') {
      this.store.emit(this.hub, { kind: 'schedules' });
      if (started) {
        this.store.emit(this.hub, { kind: 'orchestrations' });
        this.store.emit(this.hub, { kind: 'instance', instanceId: run!.request.instanceId, status: 'Pending' });
      }
    }
    return outcome;
  }

  async delete(scheduleId: string): Promise<boolean> {
    const deleted = await this.store.write(
      () => this.store.sql('DELETE FROM schedules WHERE hub = ? AND schedule_id = ?').run(this.hub, scheduleId).changes > 0,
      true,
    );
    if (deleted) this.store.emit(this.hub, { kind: 'schedules' });
    return deleted;
  }
}
