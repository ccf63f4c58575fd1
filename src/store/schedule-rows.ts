/**
 * How both stores keep a schedule: the record as JSON text in `body`, with the columns that queries and the
 * compare-and-set need beside it (state, next due time, buffered due time, revision). The columns win over the
 * body when read back.
 */
import type { ScheduleDefinition } from '../sdk/schedule.js';
import type { ScheduleRecord } from './schedule-record.js';

/** A schedule row as read from either store (bigints may come back as strings from PostgreSQL). */
export interface ScheduleRow {
  schedule_id: string;
  revision: number | string;
  body: string;
}

/** The columns a schedule row is written with. */
export interface ScheduleColumns {
  scheduleId: string;
  state: string;
  nextRunAt: number | null;
  bufferedAt: number | null;
  body: string;
  createdAt: number;
  updatedAt: number;
}

/** The row columns of `record` (its revision is set by the store). */
export function scheduleColumns(record: ScheduleRecord): ScheduleColumns {
  const { revision: _revision, ...rest } = record;
  const definition = rest.definition;
  const body = {
    ...rest,
    definition: {
      ...definition,
      ...(definition.startAt ? { startAt: definition.startAt.getTime() } : {}),
      ...(definition.endAt ? { endAt: definition.endAt.getTime() } : {}),
    },
  };
  return {
    scheduleId: record.scheduleId,
    state: record.state,
    // Only an Active schedule has a due time that workers wait for.
    nextRunAt: record.state === 'Active' ? (record.nextRunAt ?? null) : null,
    bufferedAt: record.bufferedAt ?? null,
    body: JSON.stringify(body),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** The record of a stored row. */
export function rowToSchedule(row: ScheduleRow): ScheduleRecord {
  const body = JSON.parse(row.body) as Omit<ScheduleRecord, 'revision' | 'definition'> & {
    definition: Omit<ScheduleDefinition, 'startAt' | 'endAt'> & { startAt?: number; endAt?: number };
  };
  const { startAt, endAt, ...definition } = body.definition;
  return {
    ...body,
    definition: {
      ...definition,
      ...(startAt !== undefined ? { startAt: new Date(startAt) } : {}),
      ...(endAt !== undefined ? { endAt: new Date(endAt) } : {}),
    },
    revision: Number(row.revision),
  };
}
