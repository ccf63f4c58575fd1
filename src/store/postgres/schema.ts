/**
 * PostgreSQL schema and migrations. Every process runs `migrate` at start; a transaction-scoped advisory
 * lock makes concurrent starts queue, so each migration runs exactly once, atomically with the row that
 * records it.
 *
 * The columns and their meaning are the SQLite store's: times are epoch milliseconds (bigint) in
 * database time, payloads JSON text. Instance ids use the "C" collation so ordering and prefix matches
 * are byte-wise (as in SQLite) and can use the primary key.
 */
import { quoteIdent, type PgDatabase } from './connection.js';
import { StoreError, ValidationError } from '../../sdk/errors.js';

/** The fully qualified names of the store's tables in one schema. */
export interface Tables {
  schema: string;
  instances: string;
  history: string;
  inbox: string;
  activities: string;
  workers: string;
  schedules: string;
  /** Claims of rate-limited work items, kept until they leave the rate's period. */
  flowStarts: string;
  /** Sequence of instance fencing tokens: never reused, even across purges. */
  epochs: string;
  /** The SQL function that compares versions as `compareVersions` does. */
  versionCompare: string;
}

/** Table names qualified with `schema`. */
export function tablesOf(schema: string): Tables {
  const q = (name: string) => `${quoteIdent(schema)}.${name}`;
  return {
    schema,
    instances: q('instances'),
    history: q('history'),
    inbox: q('inbox'),
    activities: q('activities'),
    workers: q('workers'),
    schedules: q('schedules'),
    flowStarts: q('flow_starts'),
    epochs: q('lock_epochs'),
    versionCompare: q('duraflow_version_compare'),
  };
}

const MIGRATIONS: ((t: Tables) => string)[] = [
  (t) => `
  CREATE SEQUENCE ${t.epochs};
  CREATE TABLE ${t.instances} (
    hub text NOT NULL,
    instance_id text COLLATE "C" NOT NULL,
    name text NOT NULL,
    version text,
    execution_id text NOT NULL,
    status text NOT NULL,
    input text,
    output text,
    custom_status text,
    failure_details text,
    parent_instance_id text,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    history_length integer NOT NULL DEFAULT 0,
    lock_owner text,
    lock_until bigint NOT NULL DEFAULT 0,
    lock_epoch bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (hub, instance_id)
  );
  CREATE INDEX instances_by_created ON ${t.instances} (hub, created_at, instance_id);
  CREATE INDEX instances_by_lock ON ${t.instances} (hub, lock_until) WHERE lock_until > 0;
  CREATE TABLE ${t.history} (
    hub text NOT NULL,
    instance_id text COLLATE "C" NOT NULL,
    seq integer NOT NULL,
    event text NOT NULL,
    PRIMARY KEY (hub, instance_id, seq)
  );
  CREATE TABLE ${t.inbox} (
    id bigserial PRIMARY KEY,
    hub text NOT NULL,
    instance_id text COLLATE "C" NOT NULL,
    execution_id text,
    event_type text NOT NULL,
    event text NOT NULL,
    visible_at bigint NOT NULL
  );
  CREATE INDEX inbox_by_visible ON ${t.inbox} (hub, visible_at);
  CREATE INDEX inbox_by_instance ON ${t.inbox} (hub, instance_id, id);
  CREATE TABLE ${t.activities} (
    id bigserial PRIMARY KEY,
    hub text NOT NULL,
    instance_id text COLLATE "C" NOT NULL,
    execution_id text NOT NULL,
    task_id integer NOT NULL,
    name text NOT NULL,
    input text,
    lock_owner text,
    lock_until bigint NOT NULL DEFAULT 0,
    lock_epoch bigint NOT NULL DEFAULT 0,
    dequeue_count integer NOT NULL DEFAULT 0
  );
  CREATE INDEX activities_by_lock ON ${t.activities} (hub, lock_until, id);
  CREATE INDEX activities_by_instance ON ${t.activities} (hub, instance_id);
  CREATE TABLE ${t.workers} (
    hub text NOT NULL,
    worker_id text NOT NULL,
    names text NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (hub, worker_id)
  );
  `,
  // One history row per episode (see historyFromRows): each old event becomes a one-element array.
  (t) => `
  ALTER TABLE ${t.history} RENAME COLUMN event TO events;
  UPDATE ${t.history} SET events = '[' || events || ']';
  `,
  // Worker liveness (see liveness.ts): alive_until is the database time until which a worker counts as alive;
  // 0 = it never sent a heartbeat, -1 = it was taken for dead and its leases were taken over.
  (t) => `
  ALTER TABLE ${t.workers} ADD COLUMN alive_until bigint NOT NULL DEFAULT 0;
  CREATE INDEX workers_by_liveness ON ${t.workers} (hub, alive_until) WHERE alive_until > 0;
  `,
  // Versions compare in claims and filters exactly as sdk/versioning.ts's compareVersions (keep the two in step):
  // absent/empty first; two numeric dotted versions (1-4 digit parts) part by part as numbers, a missing part
  // first; else the text with ASCII letters upper-cased, by code point (UTF-8 bytes under "C").
  (t) => `
  CREATE FUNCTION ${t.versionCompare}(a text, b text) RETURNS integer
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
  DECLARE
    x text := coalesce(a, '');
    y text := coalesce(b, '');
    xs text[];
    ys text[];
    p text;
    q text;
  BEGIN
    IF x = '' OR y = '' THEN
      RETURN CASE WHEN x = y THEN 0 WHEN x = '' THEN -1 ELSE 1 END;
    END IF;
    IF x ~ '^[0-9]+([.][0-9]+){0,3}$' AND y ~ '^[0-9]+([.][0-9]+){0,3}$' THEN
      xs := string_to_array(x, '.');
      ys := string_to_array(y, '.');
      FOR i IN 1 .. greatest(cardinality(xs), cardinality(ys)) LOOP
        IF i > cardinality(xs) THEN RETURN -1; END IF;
        IF i > cardinality(ys) THEN RETURN 1; END IF;
        p := coalesce(nullif(ltrim(xs[i], '0'), ''), '0');
        q := coalesce(nullif(ltrim(ys[i], '0'), ''), '0');
        IF length(p) <> length(q) THEN RETURN CASE WHEN length(p) < length(q) THEN -1 ELSE 1 END; END IF;
        IF p COLLATE "C" <> q COLLATE "C" THEN RETURN CASE WHEN p COLLATE "C" < q COLLATE "C" THEN -1 ELSE 1 END; END IF;
      END LOOP;
      RETURN 0;
    END IF;
    p := translate(x, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    q := translate(y, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    RETURN CASE WHEN p COLLATE "C" = q COLLATE "C" THEN 0 WHEN p COLLATE "C" < q COLLATE "C" THEN -1 ELSE 1 END;
  END
  $fn$;
  `,
  // Instance tags (sdk/tags.ts): JSON object text, NULL for none, as in SQLite. A tag filter casts it to jsonb
  // and tests containment, so it costs a scan of the rows the other conditions leave, no index per start.
  (t) => `
  ALTER TABLE ${t.instances} ADD COLUMN tags text;
  `,
  // Schedules (see schedule-store.ts): the record is JSON in body; revision is the compare-and-set token; the
  // partial index holds the Active schedules' next due times, which workers wait for.
  (t) => `
  CREATE TABLE ${t.schedules} (
    hub text NOT NULL,
    schedule_id text COLLATE "C" NOT NULL,
    revision bigint NOT NULL,
    state text NOT NULL,
    next_run_at bigint,
    buffered_at bigint,
    body text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (hub, schedule_id)
  );
  CREATE INDEX schedules_by_next_run ON ${t.schedules} (hub, next_run_at) WHERE next_run_at IS NOT NULL;
  `,
  // The W3C trace context of the span that scheduled an activity (JSON text, see traceContextColumn).
  (t) => `
  ALTER TABLE ${t.activities} ADD COLUMN trace_context text;
  `,
  // Instances not finished, by status, for metrics (a partial index: only those rows).
  (t) => `
  CREATE INDEX instances_unfinished ON ${t.instances} (hub, status, instance_id) WHERE status IN ('Pending', 'Running', 'Suspended');
  `,
  // The same rows with their creation time before the id: the dashboard counts unfinished instances of a time
  // range from the index alone (same rows, so no more writes than before).
  (t) => `
  DROP INDEX ${quoteIdent(t.schema)}.instances_unfinished;
  CREATE INDEX instances_unfinished ON ${t.instances} (hub, status, created_at, instance_id) WHERE status IN ('Pending', 'Running', 'Suspended');
  `,
  // Flow control (sdk/flow-control.ts), as in SQLite: the limits as JSON in flow (NULL: none), generated columns the
  // claims read, partial indexes of flow-controlled rows only, and flow_starts for the claims of rate-limited items;
  // priority (0 unless given) orders a name's backlog; debounce_key marks a waiting debounced start.
  (t) => `
  ALTER TABLE ${t.activities} ADD COLUMN flow text,
    ADD COLUMN cc_key text GENERATED ALWAYS AS ((flow::jsonb) -> 'concurrency' ->> 'key') STORED,
    ADD COLUMN cc_limit integer GENERATED ALWAYS AS (((flow::jsonb) -> 'concurrency' ->> 'limit')::integer) STORED,
    ADD COLUMN rate_key text GENERATED ALWAYS AS ((flow::jsonb) -> 'rate' ->> 'key') STORED,
    ADD COLUMN rate_limit integer GENERATED ALWAYS AS (((flow::jsonb) -> 'rate' ->> 'limit')::integer) STORED,
    ADD COLUMN rate_period bigint GENERATED ALWAYS AS (((flow::jsonb) -> 'rate' ->> 'periodMs')::bigint) STORED;
  ALTER TABLE ${t.instances} ADD COLUMN flow text,
    ADD COLUMN cc_key text GENERATED ALWAYS AS ((flow::jsonb) -> 'concurrency' ->> 'key') STORED,
    ADD COLUMN cc_limit integer GENERATED ALWAYS AS (((flow::jsonb) -> 'concurrency' ->> 'limit')::integer) STORED,
    ADD COLUMN rate_key text GENERATED ALWAYS AS ((flow::jsonb) -> 'rate' ->> 'key') STORED,
    ADD COLUMN rate_limit integer GENERATED ALWAYS AS (((flow::jsonb) -> 'rate' ->> 'limit')::integer) STORED,
    ADD COLUMN rate_period bigint GENERATED ALWAYS AS (((flow::jsonb) -> 'rate' ->> 'periodMs')::bigint) STORED;
  ALTER TABLE ${t.activities} ADD COLUMN priority integer NOT NULL DEFAULT 0;
  ALTER TABLE ${t.instances} ADD COLUMN priority integer NOT NULL DEFAULT 0;
  CREATE INDEX activities_by_priority ON ${t.activities} (hub, lock_until) WHERE priority <> 0;
  CREATE INDEX instances_by_priority ON ${t.instances} (hub, created_at) WHERE priority <> 0 AND status = 'Pending';
  ALTER TABLE ${t.instances} ADD COLUMN debounce_key text;
  CREATE INDEX instances_by_debounce ON ${t.instances} (hub, name, debounce_key) WHERE debounce_key IS NOT NULL AND status = 'Pending';
  CREATE INDEX activities_by_flow_key ON ${t.activities} (hub, name, cc_key, lock_until) WHERE cc_key IS NOT NULL;
  CREATE INDEX activities_by_flow ON ${t.activities} (hub, lock_until, id) WHERE flow IS NOT NULL;
  CREATE INDEX instances_by_flow_key ON ${t.instances} (hub, name, cc_key, lock_until) WHERE cc_key IS NOT NULL;
  CREATE TABLE ${t.flowStarts} (
    hub text NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    rate_key text NOT NULL,
    until bigint NOT NULL
  );
  CREATE INDEX flow_starts_by_key ON ${t.flowStarts} (hub, kind, name, rate_key, until);
  CREATE INDEX flow_starts_by_until ON ${t.flowStarts} (hub, until);
  `,
  // The sub-orchestrations of an instance, whichever of its executions started them (HubStore.childInstances), as
  // in SQLite: partial (only children have a parent), instance_id last so a page is a range of the index in id order.
  (t) => `
  CREATE INDEX instances_by_parent ON ${t.instances} (hub, parent_instance_id, instance_id) WHERE parent_instance_id IS NOT NULL;
  `,
  // The live flow-controlled instances, as in SQLite: the probe every claim runs (are any waiting?) walked every
  // instance of the hub without it. Its predicate is the probe's own terms, so the planner can prove it.
  (t) => `
  CREATE INDEX instances_by_flow ON ${t.instances} (hub, lock_until) WHERE flow IS NOT NULL AND status NOT IN ('Completed','Failed','Terminated','Canceled');
  `,
];

/** The schema version this code expects. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Any 32-bit number of our own; the second key is the schema, so schemas migrate independently. */
const ADVISORY_LOCK_CLASS = 0x64666c77; // 'dflw'

/** Checks, without writing anything, that the schema holds a duraflow store (for read-only opens). */
export async function checkSchema(db: PgDatabase, tables: Tables): Promise<void> {
  const rows = await db.query<{ found: string | null }>(`SELECT to_regclass($1)::text AS found`, [`${quoteIdent(tables.schema)}.schema_migrations`]);
  if (!rows[0]?.found) throw new ValidationError(`There is no duraflow store in schema '${tables.schema}' of this database.`);
  // Reads name columns of the latest schema (instance tags, since 5), and a read-only open cannot migrate.
  const applied = await db.query<{ version: number }>(`SELECT COALESCE(MAX(version), 0)::int AS version FROM ${quoteIdent(tables.schema)}.schema_migrations`);
  const version = applied[0]?.version ?? 0;
  if (version < MIGRATIONS.length) {
    throw new StoreError(
      'outdated',
      `schema '${tables.schema}' has duraflow schema version ${version}, this duraflow reads ${MIGRATIONS.length}: open it once with a worker (duraflow start) to migrate it`,
    );
  }
}

/**
 * Creates the schema if needed and applies pending migrations (up to `target`, which tests use to build an old
 * schema). Safe to run from many processes at once.
 */
export async function migrate(db: PgDatabase, tables: Tables, target = MIGRATIONS.length): Promise<void> {
  const schema = quoteIdent(tables.schema);
  await db.transaction(async (client) => {
    // Held until COMMIT: a second process waits here, then finds the migrations applied.
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ADVISORY_LOCK_CLASS, tables.schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
         version integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>(
      `SELECT COALESCE(MAX(version), 0)::int AS version FROM ${schema}.schema_migrations`,
    );
    for (let version = rows[0]?.version ?? 0; version < target; version++) {
      await client.query(MIGRATIONS[version]!(tables));
      await client.query(`INSERT INTO ${schema}.schema_migrations (version) VALUES ($1)`, [version + 1]);
    }
  });
}
