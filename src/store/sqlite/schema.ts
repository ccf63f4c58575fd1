/**
 * SQLite schema and migrations. `user_version` records the applied migration; each migration runs in
 * one transaction, so a crash mid-migration leaves the previous version intact.
 */
import type Database from 'better-sqlite3';

const MIGRATIONS: string[] = [
  `
  CREATE TABLE instances (
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT,
    execution_id TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    failure_details TEXT,
    parent_instance_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    history_length INTEGER NOT NULL DEFAULT 0,
    lock_owner TEXT,
    lock_until INTEGER NOT NULL DEFAULT 0,
    lock_epoch INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hub, instance_id)
  );
  CREATE INDEX instances_by_created ON instances (hub, created_at, instance_id);
  CREATE TABLE history (
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (hub, instance_id, seq)
  );
  CREATE TABLE inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    execution_id TEXT,
    event_type TEXT NOT NULL,
    event TEXT NOT NULL,
    visible_at INTEGER NOT NULL
  );
  CREATE INDEX inbox_by_visible ON inbox (hub, visible_at);
  CREATE INDEX inbox_by_instance ON inbox (hub, instance_id, id);
  CREATE TABLE activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    input TEXT,
    lock_owner TEXT,
    lock_until INTEGER NOT NULL DEFAULT 0,
    lock_epoch INTEGER NOT NULL DEFAULT 0,
    dequeue_count INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX activities_by_lock ON activities (hub, lock_until, id);
  CREATE INDEX activities_by_instance ON activities (hub, instance_id);
  CREATE TABLE workers (
    hub TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    names TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (hub, worker_id)
  );
  `,
  // Fencing tokens of instances come from one counter, so an instance purged and created again never
  // gets back an epoch that a worker of the old instance may still hold.
  `
  CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  INSERT INTO counters (name, value) SELECT 'lock_epoch', COALESCE(MAX(lock_epoch), 0) FROM instances;
  `,
  // History is only ever read and written by its primary key: stored in that key's B-tree alone (WITHOUT
  // ROWID), an event is one B-tree insert instead of two (rowid table + key index) and a read is one range scan.
  // (inbox and activities keep their rowid: their AUTOINCREMENT ids are fencing tokens, never reused.)
  `
  CREATE TABLE history_new (
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (hub, instance_id, seq)
  ) WITHOUT ROWID;
  INSERT INTO history_new (hub, instance_id, seq, event) SELECT hub, instance_id, seq, event FROM history;
  DROP TABLE history;
  ALTER TABLE history_new RENAME TO history;
  `,
  // One history row per episode (see historyFromRows): a step writes one row instead of one per event. Each
  // old event becomes a row of its own, a one-element array; seq keeps its meaning (first event's position).
  // A rowid table again: an episode's row is often over 1 KB, and a WITHOUT ROWID B-tree keeps such rows in
  // its leaves (overflow pages past ~1 KB, few rows per page, splits at random keys). Here the row is appended
  // and only the key goes into the index (hello on SQLite: ~1,800 → ~2,500 orchestrations/s).
  `
  CREATE TABLE history_new (
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    events TEXT NOT NULL,
    PRIMARY KEY (hub, instance_id, seq)
  );
  INSERT INTO history_new (hub, instance_id, seq, events) SELECT hub, instance_id, seq, '[' || event || ']' FROM history;
  DROP TABLE history;
  ALTER TABLE history_new RENAME TO history;
  `,
  // Worker liveness (see sqlite-liveness.ts): alive_until is the database time until which a worker counts as
  // alive; 0 = it never sent a heartbeat, -1 = it was taken for dead and its leases were taken over. The partial
  // indexes hold only the rows that matter: live workers, and leased instances (a takeover finds a dead worker's
  // instance leases without reading the whole table, and so do lease-expiry polls).
  `
  ALTER TABLE workers ADD COLUMN alive_until INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX workers_by_liveness ON workers (hub, alive_until) WHERE alive_until > 0;
  CREATE INDEX instances_by_lock ON instances (hub, lock_until) WHERE lock_until > 0;
  `,
  // Instance tags (sdk/tags.ts): a JSON object, NULL for none. Existing instances have none. A tag filter reads it
  // with json_each, so it costs a scan of the rows the other conditions leave, no index to keep up per start.
  `
  ALTER TABLE instances ADD COLUMN tags TEXT;
  `,
  // Schedules (see schedule-store.ts): the record is JSON in body; revision is the compare-and-set token; the
  // partial index holds the Active schedules' next due times, which workers wait for.
  `
  CREATE TABLE schedules (
    hub TEXT NOT NULL,
    schedule_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    state TEXT NOT NULL,
    next_run_at INTEGER,
    buffered_at INTEGER,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (hub, schedule_id)
  );
  CREATE INDEX schedules_by_next_run ON schedules (hub, next_run_at) WHERE next_run_at IS NOT NULL;
  `,
  // The W3C trace context of the span that scheduled an activity (JSON text, see traceContextColumn), so every
  // attempt's span joins the orchestration's trace whichever worker runs it.
  `
  ALTER TABLE activities ADD COLUMN trace_context TEXT;
  `,
  // Instances not finished, by status, for metrics: a partial index holds only those rows (few, next to the
  // finished ones), so counting them never scans the table.
  `
  CREATE INDEX instances_unfinished ON instances (hub, status, instance_id) WHERE status IN ('Pending', 'Running', 'Suspended');
  `,
  // The same rows with their creation time before the id: the dashboard counts unfinished instances of a time
  // range from the index alone (with a range, the old index needed a table read per unfinished row: 25 ms at
  // 15,000 of them). Same rows, so no more writes than before.
  `
  DROP INDEX instances_unfinished;
  CREATE INDEX instances_unfinished ON instances (hub, status, created_at, instance_id) WHERE status IN ('Pending', 'Running', 'Suspended');
  `,
  // Flow control (sdk/flow-control.ts): a work item's limits as JSON in flow (NULL: none, the common case), with
  // virtual columns the claims read. The partial indexes hold only flow-controlled rows: the leased count per key,
  // and the waiting ones a claim looks at. flow_starts records claims of rate-limited items until they age out.
  // priority (0 unless given) orders a name's backlog; the partial indexes tell a claim whether any is waiting.
  // debounce_key marks a debounced start (startNew's debounce) while it waits, so a later one finds it.
  `
  ALTER TABLE activities ADD COLUMN flow TEXT;
  ALTER TABLE activities ADD COLUMN cc_key TEXT GENERATED ALWAYS AS (json_extract(flow, '$.concurrency.key')) VIRTUAL;
  ALTER TABLE activities ADD COLUMN cc_limit INTEGER GENERATED ALWAYS AS (json_extract(flow, '$.concurrency.limit')) VIRTUAL;
  ALTER TABLE activities ADD COLUMN rate_key TEXT GENERATED ALWAYS AS (json_extract(flow, '$.rate.key')) VIRTUAL;
  ALTER TABLE activities ADD COLUMN rate_limit INTEGER GENERATED ALWAYS AS (json_extract(flow, '$.rate.limit')) VIRTUAL;
  ALTER TABLE activities ADD COLUMN rate_period INTEGER GENERATED ALWAYS AS (json_extract(flow, '$.rate.periodMs')) VIRTUAL;
  ALTER TABLE instances ADD COLUMN flow TEXT;
  ALTER TABLE instances ADD COLUMN cc_key TEXT GENERATED ALWAYS AS (json_extract(flow, '$.concurrency.key')) VIRTUAL;
  ALTER TABLE instances ADD COLUMN cc_limit INTEGER GENERATED ALWAYS AS (json_extract(flow, '$.concurrency.limit')) VIRTUAL;
  ALTER TABLE instances ADD COLUMN rate_key TEXT GENERATED ALWAYS AS (json_extract(flow, '$.rate.key')) VIRTUAL;
  ALTER TABLE instances ADD COLUMN rate_limit INTEGER GENERATED ALWAYS AS (json_extract(flow, '$.rate.limit')) VIRTUAL;
  ALTER TABLE instances ADD COLUMN rate_period INTEGER GENERATED ALWAYS AS (json_extract(flow, '$.rate.periodMs')) VIRTUAL;
  ALTER TABLE activities ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE instances ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX activities_by_priority ON activities (hub, lock_until) WHERE priority <> 0;
  CREATE INDEX instances_by_priority ON instances (hub, created_at) WHERE priority <> 0 AND status = 'Pending';
  ALTER TABLE instances ADD COLUMN debounce_key TEXT;
  CREATE INDEX instances_by_debounce ON instances (hub, name, debounce_key) WHERE debounce_key IS NOT NULL AND status = 'Pending';
  CREATE INDEX activities_by_flow_key ON activities (hub, name, cc_key, lock_until) WHERE cc_key IS NOT NULL;
  CREATE INDEX activities_by_flow ON activities (hub, id) WHERE flow IS NOT NULL;
  CREATE INDEX instances_by_flow_key ON instances (hub, name, cc_key, lock_until) WHERE cc_key IS NOT NULL;
  CREATE TABLE flow_starts (
    hub TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    rate_key TEXT NOT NULL,
    until INTEGER NOT NULL
  );
  CREATE INDEX flow_starts_by_key ON flow_starts (hub, kind, name, rate_key, until);
  CREATE INDEX flow_starts_by_until ON flow_starts (hub, until);
  `,
  // The sub-orchestrations of an instance, whichever of its executions started them (HubStore.childInstances:
  // recursive terminate and purge). Partial: only children have a parent, so a top-level start writes nothing more.
  // With instance_id last, a page of one parent's children is a range of the index, in id order.
  `
  CREATE INDEX instances_by_parent ON instances (hub, parent_instance_id, instance_id) WHERE parent_instance_id IS NOT NULL;
  `,
  // The live flow-controlled instances, which every claim asks about (are any waiting?): without it that question
  // walked every instance of the hub, finished ones included. Partial: a hub without flow control has none.
  `
  CREATE INDEX instances_by_flow ON instances (hub, lock_until) WHERE flow IS NOT NULL AND status NOT IN ('Completed','Failed','Terminated','Canceled');
  `,
];

/** The schema version this code expects (`user_version` after {@link migrate}). */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to the latest schema version (or to `target`, which tests use to build an old
 * database). Safe to call from several processes at once.
 */
export function migrate(db: Database.Database, target = MIGRATIONS.length): void {
  const apply = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let version = current; version < target; version++) {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }
  });
  // IMMEDIATE takes the write lock first, so two processes never both run a migration.
  apply.immediate();
}
