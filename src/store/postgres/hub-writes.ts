/**
 * The writes that several PostgreSQL hub-store operations share: creating (or overwriting) an instance
 * with its start message, and delivering messages. Both run inside the caller's transaction.
 */
import { flowColumn } from '../flow.js';
import { isTerminalStatus, type RuntimeStatus } from '../../sdk/history.js';
import { entityNameOf, startedWorkItem, tagsColumn } from '../shared.js';
import type { NewMessage, OrchestrationWorkItem, StartInstanceRequest, StartLease, StoreNotice } from '../store.js';
import { prepared, type StatementRunner, type TxClient } from './connection.js';
import type { Tables } from './schema.js';

/**
 * Ends an `EXISTS` subquery that looks up one row by primary key for each outer row, to keep it that: without it
 * PostgreSQL may hash the whole hub's rows for it (or join against them), and a prepared statement keeps the plan it
 * chose when the hub was empty, so that scan grows with the hub (25 ms at 50,000 instances, 0.1 ms per-row).
 * `OFFSET 0` is what stops the planner turning `EXISTS` into a hashed subplan or a join.
 */
export const PER_ROW = 'OFFSET 0';

/** Database time in epoch milliseconds (`now()` is fixed per transaction, so one transaction sees one time). */
export const NOW = `(extract(epoch from now()) * 1000)::bigint`;
/** The terminal statuses, as an SQL list. */
export const TERMINAL_SQL = `('Completed','Failed','Terminated','Canceled')`;

/**
 * Splits `ids` into rounds of distinct ids, in order (a row may be written once per statement, so a repeated
 * id waits for the next round, where it conflicts with the first). Each round lists indexes into `ids`.
 */
export function distinctRounds(ids: readonly string[]): number[][] {
  const rounds: { seen: Set<string>; indexes: number[] }[] = [];
  ids.forEach((id, index) => {
    let round = rounds.find((r) => !r.seen.has(id));
    if (!round) rounds.push((round = { seen: new Set(), indexes: [] }));
    round.seen.add(id);
    round.indexes.push(index);
  });
  return rounds.map((r) => r.indexes);
}

/** What became of one start: blocked by a live instance (`conflict`), or started (leased: with its work item). */
export interface StartAnswer {
  conflict?: RuntimeStatus;
  item?: OrchestrationWorkItem;
}

/** A start to make, leased at creation when `lease` is given (see `HubStore.createInstance`). */
export interface StartRequest {
  request: StartInstanceRequest;
  lease?: StartLease | undefined;
}

/** What a client start announces: new work for any worker, unless it was leased at creation; the new status. */
export function startNotices({ request, lease }: StartRequest): StoreNotice[] {
  const status: StoreNotice = { kind: 'instance', instanceId: request.instanceId, status: 'Pending' };
  return lease ? [status] : [{ kind: 'orchestrations' }, status];
}

/**
 * Creates or overwrites (when terminal) instances with their start messages — the requests must have distinct
 * ids (see {@link distinctRounds}) — in one statement; answers each start in order. Concurrent starts of one
 * id serialize on the row: exactly one wins; the caller announces the starts once they committed (notifier.ts).
 * Each statement goes through `perStatement` (the pool's deadlock retry; inside a transaction, none).
 * Run on the pool, the statement is its own transaction: one round trip for a whole group of client starts.
 */
export async function startInstances(
  runner: StatementRunner,
  t: Tables,
  hub: string,
  starts: readonly StartRequest[],
  perStatement: <T>(statement: () => Promise<T>) => Promise<T> = (statement) => statement(),
): Promise<StartAnswer[]> {
  const requests = starts.map((s) => s.request);
  const answers: StartAnswer[] = requests.map(() => ({}));
  let pending = requests.map((_, i) => i);
  while (pending.length) {
    const round = pending;
    pending = [];
    const r = round.map((i) => requests[i]!);
    const leases = round.map((i) => starts[i]!.lease);
    const { rows } = await perStatement(() => runner.query<StartRow>(
      prepared(
        `WITH req AS (
           SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
               $10::text[], $11::bigint[], $12::text[], $13::text[], $14::int[])
             WITH ORDINALITY AS r(instance_id, name, version, execution_id, input, parent, event_type, event, lease_owner,
               lease_ms, tags, flow, priority, ord)
         ), started AS (
           INSERT INTO ${t.instances} AS i (hub, instance_id, name, version, execution_id, status, input, parent_instance_id,
             created_at, updated_at, history_length, lock_owner, lock_until, lock_epoch, tags, flow, priority)
           -- in id order, so two groups starting the same ids cannot deadlock
           SELECT $1, r.instance_id, r.name, r.version, r.execution_id, 'Pending', r.input, r.parent, ${NOW}, ${NOW}, 0,
             r.lease_owner, COALESCE(${NOW} + r.lease_ms, 0), nextval('${t.epochs}'), r.tags, r.flow, r.priority
           FROM req r ORDER BY r.instance_id
           ON CONFLICT (hub, instance_id) DO UPDATE SET
             name = EXCLUDED.name, version = EXCLUDED.version, execution_id = EXCLUDED.execution_id, status = 'Pending',
             input = EXCLUDED.input, output = NULL, custom_status = NULL, failure_details = NULL, tags = EXCLUDED.tags,
             flow = EXCLUDED.flow, priority = EXCLUDED.priority,
             parent_instance_id = EXCLUDED.parent_instance_id, created_at = EXCLUDED.created_at,
             updated_at = EXCLUDED.updated_at, history_length = 0, lock_owner = EXCLUDED.lock_owner,
             lock_until = EXCLUDED.lock_until,
             -- a new epoch fences any worker still holding a lease on the overwritten instance
             lock_epoch = EXCLUDED.lock_epoch
           WHERE i.status IN ${TERMINAL_SQL}
           RETURNING i.instance_id, i.created_at, i.lock_epoch
         ),
         -- Whatever an earlier instance of these ids left behind goes (the statement's snapshot does not show
         -- these deletes the start messages inserted below).
         h AS (DELETE FROM ${t.history} WHERE hub = $1 AND instance_id IN (SELECT instance_id FROM started)),
         a AS (DELETE FROM ${t.activities} WHERE hub = $1 AND instance_id IN (SELECT instance_id FROM started)),
         m AS (DELETE FROM ${t.inbox} WHERE hub = $1 AND instance_id IN (SELECT instance_id FROM started)),
         msg AS (
           INSERT INTO ${t.inbox} (hub, instance_id, execution_id, event_type, event, visible_at)
           SELECT $1, r.instance_id, r.execution_id, r.event_type, r.event, ${NOW}
           FROM req r JOIN started s ON s.instance_id = r.instance_id ORDER BY r.ord
           RETURNING id, instance_id
         )
         SELECT s.instance_id IS NOT NULL AS started, x.status AS existing, s.created_at, s.lock_epoch,
           msg.id AS message_id
         FROM req r LEFT JOIN started s ON s.instance_id = r.instance_id
           LEFT JOIN msg ON msg.instance_id = r.instance_id
           LEFT JOIN ${t.instances} x ON x.hub = $1 AND x.instance_id = r.instance_id
         ORDER BY r.ord`,
        [
          hub,
          r.map((q) => q.instanceId),
          r.map((q) => q.name),
          r.map((q) => q.version ?? null),
          r.map((q) => q.executionId),
          r.map((q) => q.input ?? null),
          r.map((q) => q.parentInstance?.instanceId ?? null),
          r.map((q) => q.startEvent.eventType),
          r.map((q) => JSON.stringify(q.startEvent)),
          leases.map((l) => l?.workerId ?? null),
          leases.map((l) => l?.leaseMs ?? null),
          r.map((q) => tagsColumn(q)),
          r.map((q) => flowColumn(q.flow)),
          r.map((q) => q.priority ?? 0),
        ],
      ),
    ));
    round.forEach((index, k) => {
      const row = rows[k]!;
      // Purged, finished, or created by a transaction this statement's snapshot does not show: try again.
      if (!row.started && (row.existing === null || isTerminalStatus(row.existing))) pending.push(index);
      else if (!row.started) answers[index] = { conflict: row.existing! };
      else if (leases[k]) {
        answers[index] = { item: startedWorkItem(r[k]!, Number(row.created_at), Number(row.lock_epoch), Number(row.message_id)) };
      }
    });
  }
  return answers;
}

/** One row of the start statement, per request. */
interface StartRow {
  started: boolean;
  existing: RuntimeStatus | null;
  created_at: string | null;
  lock_epoch: string | null;
  message_id: string | null;
}

/** Entity ids among `messages`' targets, sorted (so two writes creating the same rows never deadlock). */
function entityTargets(messages: readonly NewMessage[]): string[] {
  return [...new Set(messages.map((m) => m.instanceId).filter((id) => entityNameOf(id) !== undefined))].sort();
}

/** Creates the instance rows of entities `ids` (with `names`) that have none yet; the parameters are SQL placeholders. */
function entityRowsSql(t: Tables, hub: string, ids: string, names: string): string {
  return `INSERT INTO ${t.instances} (hub, instance_id, name, execution_id, status, created_at, updated_at, history_length, lock_epoch)
       SELECT ${hub}, e.id, e.name, '', 'Running', ${NOW}, ${NOW}, 0, nextval('${t.epochs}')
       FROM unnest(${ids}::text[], ${names}::text[]) AS e(id, name)
       WHERE NOT EXISTS (SELECT 1 FROM ${t.instances} i WHERE i.hub = ${hub} AND i.instance_id = e.id ${PER_ROW})
       ON CONFLICT (hub, instance_id) DO NOTHING`;
}

/** Inserts the messages of {@link messageColumns} (`columns`: five placeholders), in order, where `delivered` holds. */
function inboxRowsSql(t: Tables, hub: string, columns: string[], delivered: string): string {
  const [ids, executions, types, events, delays] = columns;
  return `INSERT INTO ${t.inbox} (hub, instance_id, execution_id, event_type, event, visible_at)
     SELECT ${hub}, m.instance_id, m.execution_id, m.event_type, m.event, ${NOW} + COALESCE(m.delay, 0)
     FROM unnest(${ids}::text[], ${executions}::text[], ${types}::text[], ${events}::text[], ${delays}::bigint[])
       WITH ORDINALITY AS m(instance_id, execution_id, event_type, event, delay, ord)
     WHERE ${delivered}
     ORDER BY m.ord`;
}

const TO_EXISTING = (t: Tables, hub: string) => `EXISTS (SELECT 1 FROM ${t.instances} i WHERE i.hub = ${hub} AND i.instance_id = m.instance_id ${PER_ROW})`;

/** Inserts messages, in order, to the instances that exist (messages to purged instances vanish). */
export async function insertMessages(runner: TxClient, t: Tables, hub: string, messages: NewMessage[]): Promise<void> {
  if (messages.length === 0) return;
  // Entities have no start: the first message addressed to one creates its instance row.
  const entityIds = entityTargets(messages);
  if (entityIds.length) await runner.query(entityRowsSql(t, '$1', '$2', '$3'), [hub, entityIds, entityIds.map((id) => entityNameOf(id)!)]);
  await runner.query(inboxRowsSql(t, '$1', ['$2', '$3', '$4', '$5', '$6'], TO_EXISTING(t, '$1')), [hub, ...messageColumns(messages)]);
}

/**
 * {@link insertMessages} as one statement, its own transaction: one round trip and one durable commit for a
 * client's send. The inbox rows of entities this statement creates cannot see those rows (one snapshot), so
 * messages to entity ids are kept by their id.
 */
export async function sendMessagesInOneStatement(runner: StatementRunner, t: Tables, hub: string, messages: NewMessage[]): Promise<void> {
  const entityIds = entityTargets(messages);
  await runner.query(prepared(
    `WITH entities AS (${entityRowsSql(t, '$1', '$7', '$8')})
     ${inboxRowsSql(t, '$1', ['$2', '$3', '$4', '$5', '$6'], `m.instance_id = ANY($7::text[]) OR ${TO_EXISTING(t, '$1')}`)}`,
    [hub, ...messageColumns(messages), entityIds, entityIds.map((id) => entityNameOf(id)!)],
  ));
}

/**
 * The columns of `messages` as arrays for `unnest`: instance id, execution id, event type, event JSON, and
 * the delay before it becomes visible.
 */
export function messageColumns(messages: readonly NewMessage[]): [string[], (string | null)[], string[], string[], (number | null)[]] {
  const localNow = Date.now();
  return [
    messages.map((m) => m.instanceId),
    messages.map((m) => m.executionId ?? null),
    messages.map((m) => m.event.eventType),
    messages.map((m) => JSON.stringify(m.event)),
    // A visibility time is taken on this process's clock: it is sent as a delay and applied to the
    // database's clock, so a worker whose clock is off still fires its timers after the right wait.
    messages.map((m) => (m.visibleAt ? m.visibleAt.getTime() - localNow : null)),
  ];
}
