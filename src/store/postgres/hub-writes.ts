/**
 * The writes that several PostgreSQL hub-store operations share: creating (or overwriting) an instance
 * with its start message, and delivering messages. Both run inside the caller's transaction.
 */
import { isTerminalStatus, type RuntimeStatus } from '../../core/history.js';
import { entityNameOf } from '../shared.js';
import type { NewMessage, StartInstanceRequest } from '../store.js';
import { prepared, type StatementRunner, type TxClient } from './connection.js';
import type { Tables } from './schema.js';

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

/**
 * Creates or overwrites (when terminal) instances with their start messages — `requests` must have distinct
 * ids (see {@link distinctRounds}) — in one statement; answers, for each request in order, the status of a
 * live instance that blocks it (`undefined`: started). Concurrent starts of one id serialize on the row:
 * exactly one wins. `notify.payloads(i)` are sent (on `notify.channel`) when request `i` starts. Each statement
 * goes through `perStatement` (the pool's deadlock retry; inside a transaction, none). Run on the pool, the
 * statement is its own transaction: one round trip for a whole group of client starts.
 */
export async function startInstances(
  runner: StatementRunner,
  t: Tables,
  hub: string,
  requests: readonly StartInstanceRequest[],
  notify: { channel: string; payloads: (index: number) => string[] } = { channel: '', payloads: () => [] },
  perStatement: <T>(statement: () => Promise<T>) => Promise<T> = (statement) => statement(),
): Promise<(RuntimeStatus | undefined)[]> {
  const answers: (RuntimeStatus | undefined)[] = new Array(requests.length).fill(undefined);
  let pending = requests.map((_, i) => i);
  while (pending.length) {
    const round = pending;
    pending = [];
    const r = round.map((i) => requests[i]!);
    const notices = round.flatMap((i, k) => notify.payloads(i).map((payload) => [k + 1, payload] as const));
    const { rows } = await perStatement(() => runner.query<{ started: boolean; existing: RuntimeStatus | null }>(
      prepared(
        `WITH req AS (
           SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
             WITH ORDINALITY AS r(instance_id, name, version, execution_id, input, parent, event_type, event, ord)
         ), started AS (
           INSERT INTO ${t.instances} AS i (hub, instance_id, name, version, execution_id, status, input, parent_instance_id,
             created_at, updated_at, history_length, lock_epoch)
           -- in id order, so two groups starting the same ids cannot deadlock
           SELECT $1, r.instance_id, r.name, r.version, r.execution_id, 'Pending', r.input, r.parent, ${NOW}, ${NOW}, 0,
             nextval('${t.epochs}')
           FROM req r ORDER BY r.instance_id
           ON CONFLICT (hub, instance_id) DO UPDATE SET
             name = EXCLUDED.name, version = EXCLUDED.version, execution_id = EXCLUDED.execution_id, status = 'Pending',
             input = EXCLUDED.input, output = NULL, custom_status = NULL, failure_details = NULL,
             parent_instance_id = EXCLUDED.parent_instance_id, created_at = EXCLUDED.created_at,
             updated_at = EXCLUDED.updated_at, history_length = 0, lock_owner = NULL, lock_until = 0,
             -- a new epoch fences any worker still holding a lease on the overwritten instance
             lock_epoch = EXCLUDED.lock_epoch
           WHERE i.status IN ${TERMINAL_SQL}
           RETURNING i.instance_id
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
         ), sent AS (
           SELECT count(pg_notify($10, n.payload)) AS sent FROM unnest($11::int[], $12::text[]) AS n(ord, payload)
           JOIN req r ON r.ord = n.ord JOIN started s ON s.instance_id = r.instance_id
         )
         SELECT s.instance_id IS NOT NULL AS started, x.status AS existing
         FROM req r LEFT JOIN started s ON s.instance_id = r.instance_id
           LEFT JOIN ${t.instances} x ON x.hub = $1 AND x.instance_id = r.instance_id
           CROSS JOIN sent
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
          notify.channel,
          notices.map((n) => n[0]),
          notices.map((n) => n[1]),
        ],
      ),
    ));
    round.forEach((index, k) => {
      const { started, existing } = rows[k]!;
      // Purged, finished, or created by a transaction this statement's snapshot does not show: try again.
      if (!started && (existing === null || isTerminalStatus(existing))) pending.push(index);
      else answers[index] = started ? undefined : existing!;
    });
  }
  return answers;
}

/** Inserts messages, in order, to the instances that exist (messages to purged instances vanish). */
export async function insertMessages(runner: TxClient, t: Tables, hub: string, messages: NewMessage[]): Promise<void> {
  if (messages.length === 0) return;
  // Entities have no start: the first message addressed to one creates its instance row (sorted, so two
  // transactions creating the same rows never deadlock).
  const entityIds = [...new Set(messages.map((m) => m.instanceId).filter((id) => entityNameOf(id) !== undefined))].sort();
  if (entityIds.length) {
    await runner.query(
      `INSERT INTO ${t.instances} (hub, instance_id, name, execution_id, status, created_at, updated_at, history_length, lock_epoch)
       SELECT $1, e.id, e.name, '', 'Running', ${NOW}, ${NOW}, 0, nextval('${t.epochs}')
       FROM unnest($2::text[], $3::text[]) AS e(id, name)
       WHERE NOT EXISTS (SELECT 1 FROM ${t.instances} i WHERE i.hub = $1 AND i.instance_id = e.id)
       ON CONFLICT (hub, instance_id) DO NOTHING`,
      [hub, entityIds, entityIds.map((id) => entityNameOf(id)!)],
    );
  }
  await runner.query(
    `INSERT INTO ${t.inbox} (hub, instance_id, execution_id, event_type, event, visible_at)
     SELECT $1, m.instance_id, m.execution_id, m.event_type, m.event, ${NOW} + COALESCE(m.delay, 0)
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
       WITH ORDINALITY AS m(instance_id, execution_id, event_type, event, delay, ord)
     WHERE EXISTS (SELECT 1 FROM ${t.instances} i WHERE i.hub = $1 AND i.instance_id = m.instance_id)
     ORDER BY m.ord`,
    [hub, ...messageColumns(messages)],
  );
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
