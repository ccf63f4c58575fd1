/**
 * The PostgreSQL store: the conformance suite unchanged, then what only PostgreSQL has — schemas from
 * the URL, concurrent migration, LISTEN/NOTIFY across stores, and surviving killed connections.
 * Skipped (with the reason printed) when the server is unreachable, except in CI where that fails.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { ValidationError } from '../../src/sdk/errors.js';
import { openPostgresStore, PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { migrate, SCHEMA_VERSION, tablesOf } from '../../src/store/postgres/schema.js';
import { parsePostgresUrl, PgDatabase, prepared } from '../../src/store/postgres/connection.js';
import { silentLogger } from '../../src/sdk/logger.js';
import { makeEvent } from '../../src/sdk/history.js';
import { distinctRounds } from '../../src/store/postgres/hub-writes.js';
import type { ContinuedLease, Store, StoreNotice } from '../../src/store/store.js';
import { newTestSchema, pgUnavailableReason, withPgClient, type TestSchema } from '../support/postgres.js';
import { claimAll, claimOne, commitOf, eventMessage, eventually, freshHub, startRequest, types } from './conformance-fixtures.js';
import { storeConformanceSuite } from './store-conformance.js';

/** How the notifier's statements begin. */
const NOTICE_ONLY = 'BEGIN; SET LOCAL synchronous_commit TO off;';

/**
 * Counts the statements `pg` sends while `fn` runs (every statement goes through Client#query, on the pool or
 * inside a transaction), except the notifier's.
 */
async function countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const original = pg.Client.prototype.query;
  let statements = 0;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    // The notifier's notice-only transactions (notifier.ts) run after the write, off its path: not counted.
    if (!(typeof args[0] === 'string' && args[0].startsWith(NOTICE_ONLY))) statements++;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    return { result: await fn(), statements };
  } finally {
    pg.Client.prototype.query = original;
  }
}

const unavailable = await pgUnavailableReason();

if (unavailable && process.env['CI'] !== 'true') {
  console.log(`# skipping PostgreSQL store tests: ${unavailable}`);
  test('PostgreSQL store', { skip: unavailable }, () => undefined);
} else {
  const requireServer = () => {
    if (unavailable) throw new Error(unavailable);
  };

  storeConformanceSuite('postgres', async () => {
    requireServer();
    const schema = newTestSchema();
    const store = await openPostgresStore(schema.url);
    return {
      store,
      cleanup: async () => {
        await store.close();
        await schema.drop();
      },
    };
  });

  describe('PostgreSQL store specifics', () => {
    const schemas: TestSchema[] = [];
    const stores: Store[] = [];
    const open = async (schema: TestSchema): Promise<PostgresStore> => {
      const store = (await openPostgresStore(schema.url)) as PostgresStore;
      stores.push(store);
      return store;
    };
    const fresh = (): TestSchema => {
      const schema = newTestSchema();
      schemas.push(schema);
      return schema;
    };
    /** Two stores on a fresh schema: `receiver` listens (subscribed to hub 'h', collecting into `received`). */
    const listeningPair = async () => {
      const schema = fresh();
      const sender = await open(schema);
      const receiver = await open(schema);
      const received: StoreNotice[] = [];
      const stop = receiver.subscribe('h', (n) => received.push(n));
      await receiver.whenListening();
      return { sender, receiver, received, stop };
    };
    before(requireServer);
    after(async () => {
      for (const store of stores) await store.close();
      for (const schema of schemas) await schema.drop();
    });

    test('the ?schema= parameter selects the schema the tables live in', async () => {
      const a = fresh();
      const b = fresh();
      const storeA = await open(a);
      const storeB = await open(b);
      await storeA.hub('h').createInstance(startRequest('only-in-a'));
      assert.equal(await storeB.hub('h').getInstance('only-in-a'), undefined);
      const tables = await withPgClient(async (client) =>
        (
          await client.query<{ table_name: string }>(
            `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
            [a.schema],
          )
        ).rows.map((r) => r.table_name),
      );
      assert.deepEqual(tables, ['activities', 'flow_starts', 'history', 'inbox', 'instances', 'schedules', 'schema_migrations', 'workers']);
    });

    test('an invalid schema name is a ValidationError', async () => {
      for (const bad of ['1abc', 'a-b', 'x"; DROP TABLE y; --', 'a'.repeat(64)]) {
        await assert.rejects(openPostgresStore(`postgres://postgres@127.0.0.1:5432/test?schema=${encodeURIComponent(bad)}`), ValidationError);
      }
    });

    test('many processes opening a new schema at once migrate it exactly once', async () => {
      const schema = fresh();
      const opened = await Promise.all(Array.from({ length: 6 }, () => open(schema)));
      const versions = await withPgClient(
        async (client) => (await client.query<{ version: number }>(`SELECT version FROM "${schema.schema}".schema_migrations`)).rows,
      );
      assert.deepEqual(
        versions.map((v) => v.version),
        Array.from({ length: SCHEMA_VERSION }, (_, n) => n + 1),
      );
      // All of them work on the same tables.
      await opened[0]!.hub('h').createInstance(startRequest('shared'));
      assert.equal((await opened[5]!.hub('h').getInstance('shared'))?.status, 'Pending');
    });

    test('a prepared statement is planned once per connection: generic plans only, the URL\'s own options kept', async () => {
      // Without force_generic_plan PostgreSQL makes 5 custom plans first (and, for the step statements, keeps
      // planning them at every execution).
      const schema = fresh();
      const url = `${schema.url}&options=${encodeURIComponent('-c statement_timeout=4321')}`;
      for (const readOnly of [false, true]) {
        const db = new PgDatabase(parsePostgresUrl(url), silentLogger, 1, readOnly);
        try {
          const client = await db.pool.connect();
          try {
            const statement = prepared('SELECT $1::int + count(*)::int AS n FROM pg_class WHERE relname = $2', [1, 'pg_class']);
            for (let i = 0; i < 7; i++) assert.equal((await client.query(statement)).rows[0].n, 2);
            const { rows } = await client.query(
              `SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = $1`,
              [statement.name],
            );
            assert.deepEqual(rows, [{ generic: 7, custom: 0 }]);
            assert.equal((await client.query('SHOW statement_timeout')).rows[0].statement_timeout, '4321ms');
            assert.equal((await client.query('SHOW default_transaction_read_only')).rows[0].default_transaction_read_only, readOnly ? 'on' : 'off');
          } finally {
            client.release();
          }
        } finally {
          await db.pool.end();
        }
      }
      // With no options in the URL, PGOPTIONS is what pg would have used: it is kept too.
      const saved = process.env['PGOPTIONS'];
      process.env['PGOPTIONS'] = '-c lock_timeout=1234';
      const db = new PgDatabase(parsePostgresUrl(schema.url), silentLogger, 1);
      if (saved === undefined) delete process.env['PGOPTIONS'];
      else process.env['PGOPTIONS'] = saved;
      try {
        assert.equal((await db.pool.query('SHOW lock_timeout')).rows[0].lock_timeout, '1234ms');
        assert.equal((await db.pool.query('SHOW plan_cache_mode')).rows[0].plan_cache_mode, 'force_generic_plan');
      } finally {
        await db.pool.end();
      }
    });

    test('migration 2 keeps every event of a version-1 schema and then stores one history row per episode', async () => {
      const schema = fresh();
      const location = parsePostgresUrl(schema.url);
      const tables = tablesOf(location.schema);
      const db = new PgDatabase(location, silentLogger, 1);
      const events = [
        makeEvent({ eventType: 'OrchestratorStarted' }, new Date(1_000)),
        makeEvent({ eventType: 'ExecutionStarted', name: 'orch', instanceId: 'old', executionId: 'e1', input: '"in"' }, new Date(1_001)),
        makeEvent({ eventType: 'TaskScheduled', eventId: 0, name: 'act' }, new Date(1_002)),
      ];
      try {
        await migrate(db, tables, 1);
        await db.query(
          `INSERT INTO ${tables.instances} (hub, instance_id, name, execution_id, status, created_at, updated_at, history_length, lock_epoch)
           VALUES ('h', 'old', 'orch', 'e1', 'Running', 1000, 1000, 3, 1)`,
        );
        // Inserted out of order: reads must follow seq.
        for (const seq of [2, 0, 1]) {
          await db.query(`INSERT INTO ${tables.history} (hub, instance_id, seq, event) VALUES ('h', 'old', $1, $2)`, [seq, JSON.stringify(events[seq])]);
        }
      } finally {
        await db.pool.end();
      }
      const store = await open(schema);
      const hub = store.hub('h');
      assert.deepEqual(await hub.getHistory('old'), events);
      await hub.createInstance(startRequest('new'));
      const added = [events[0]!, events[2]!];
      assert.deepEqual(await hub.commitEpisodes([commitOf(await claimOne(hub, 'new'), { history: added })]), ['committed']);
      await hub.sendMessages([eventMessage('new', 'e')]);
      assert.deepEqual(await hub.commitEpisodes([commitOf(await claimOne(hub, 'new'), { history: [events[1]!] })]), ['committed']);
      assert.deepEqual(await hub.getHistory('new'), [...added, events[1]]);
      const rows = await withPgClient(
        async (client) =>
          (await client.query<{ seq: number; n: number }>(
            `SELECT seq, json_array_length(events::json) AS n FROM "${schema.schema}".history WHERE instance_id = 'new' ORDER BY seq`,
          )).rows,
      );
      assert.deepEqual(rows, [{ seq: 0, n: 2 }, { seq: 2, n: 1 }], 'one row per episode, at the position of its first event');
    });

    test('notices reach other stores on the database through LISTEN/NOTIFY, never echoed to the sender', async () => {
      const schema = fresh();
      const sender = await open(schema);
      const receiver = await open(schema);
      const received: StoreNotice[] = [];
      const sent: StoreNotice[] = [];
      const stopReceiving = receiver.subscribe('h', (n) => received.push(n));
      const stopSending = sender.subscribe('h', (n) => sent.push(n));
      const otherHub: StoreNotice[] = [];
      const stopOther = receiver.subscribe('other', (n) => otherHub.push(n));
      try {
        await receiver.whenListening();
        await sender.whenListening();
        await sender.hub('h').createInstance(startRequest('x'));
        await eventually(async () => (received.length >= 2 ? true : undefined), 'notices in the other store');
        assert.deepEqual(
          [...received].sort((p, q) => p.kind.localeCompare(q.kind)),
          [{ kind: 'instance', instanceId: 'x', status: 'Pending' }, { kind: 'orchestrations' }],
        );
        // A round trip through the receiver proves the sender's LISTEN works, yet its own notices came once.
        received.length = 0;
        await receiver.hub('h').sendMessages([{ instanceId: 'x', event: startRequest('x').startEvent }]);
        await eventually(async () => (sent.length >= 3 ? true : undefined), 'the receiver notice in the sender');
        assert.deepEqual(sent, [
          { kind: 'orchestrations' },
          { kind: 'instance', instanceId: 'x', status: 'Pending' },
          // naming the instance, across processes too
          { kind: 'orchestrations', instanceId: 'x' },
        ]);
        assert.deepEqual(received, [{ kind: 'orchestrations', instanceId: 'x' }]);
        assert.deepEqual(otherHub, []);
      } finally {
        stopReceiving();
        stopSending();
        stopOther();
      }
    });

    test('notices held for a worker in this process (a leased start, messages to one instance) still reach other stores, once', async () => {
      const { sender, received, stop } = await listeningPair();
      try {
        const hub = sender.hub('h');
        // Leased to a worker here, and no statement follows: the held notice goes when its time is up.
        const item = await hub.createInstance(startRequest('held'), { workerId: 'w', leaseMs: 60_000 });
        assert.ok(item, 'leased at creation');
        await eventually(async () => (received.some((n) => n.kind === 'instance' && n.instanceId === 'held') ? true : undefined), 'leased start notice');
        received.length = 0;
        // Sends to one instance while others run: held, then sent together, the repeated payload once.
        await Promise.all([1, 2, 3].map((n) => hub.sendToLiveInstance(eventMessage('held', `e${n}`))));
        await eventually(async () => (received.length > 0 ? true : undefined), 'send notices');
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.ok(received.every((n) => n.kind === 'orchestrations' && n.instanceId === 'held'), JSON.stringify(received));
        assert.ok(received.length <= 3, `at most one per send: ${received.length}`);
      } finally {
        await stop();
      }
    });

    test('a start and an ordinary step each take one statement, and their notices reach other stores', async () => {
      const { sender, received, stop } = await listeningPair();
      try {
        const hub = sender.hub('h');
        await hub.createInstance(startRequest('peer'));
        const start = await countStatements(() => hub.createInstance(startRequest('one')));
        assert.equal(start.statements, 1, 'createInstance');
        const item = (await claimAll(hub)).find((i) => i.instance.instanceId === 'one')!;
        await eventually(async () => (received.some((n) => n.kind === 'instance' && n.instanceId === 'one') ? true : undefined), 'start notice');
        received.length = 0;
        const step = await countStatements(() =>
          hub.commitEpisodes([
            commitOf(item, {
              history: [item.messages[0]!.event],
              activities: [{ instanceId: 'one', executionId: item.instance.executionId, taskId: 0, name: 'a' }],
              messages: [eventMessage('peer', 'hi')],
            }),
          ]),
        );
        assert.deepEqual(step.result, ['committed']);
        assert.equal(step.statements, 1, 'commitEpisodes');
        await eventually(async () => (received.length >= 3 ? true : undefined), 'the step notices');
        assert.deepEqual(
          [...received].sort((p, q) => p.kind.localeCompare(q.kind)),
          [{ kind: 'activities' }, { kind: 'instance', instanceId: 'one', status: 'Running' }, { kind: 'orchestrations' }],
        );
      } finally {
        stop();
      }
    });

    test('no writing transaction sends NOTIFY (it would serialize commits); notices follow, quotes and backslashes intact', async () => {
      const { sender, received, stop } = await listeningPair();
      const texts: string[] = [];
      const original = pg.Client.prototype.query;
      pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
        if (text) texts.push(text);
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof original;
      const odd = `it's a \\ "test"`;
      try {
        const hub = sender.hub('h');
        await hub.createInstance(startRequest(odd));
        const item = (await claimAll(hub)).find((i) => i.instance.instanceId === odd)!;
        await hub.sendMessages([eventMessage(odd, 'e'), eventMessage('@counter@k', 'op')]);
        assert.equal(await hub.sendToLiveInstance(eventMessage(odd, 'f')), 'Pending');
        await hub.commitEpisodes([commitOf(item, { history: [item.messages[0]!.event], instance: { status: 'Completed', output: '1' } })]);
        await eventually(
          async () => (received.some((n) => n.kind === 'instance' && n.instanceId === odd && n.status === 'Completed') ? true : undefined),
          'the completion notice, id intact',
        );
      } finally {
        pg.Client.prototype.query = original;
        stop();
      }
      const writes = texts.filter((t) => !t.startsWith(NOTICE_ONLY));
      assert.ok(writes.length >= 4, `statements seen: ${writes.length}`);
      assert.deepEqual(writes.filter((t) => /pg_notify|NOTIFY/i.test(t)), [], 'a write sent NOTIFY');
      assert.ok(texts.some((t) => t.startsWith(NOTICE_ONLY)), 'no notice-only transaction');
      assert.ok(!received.some((n) => n.kind === 'instance' && 'final' in n), 'a final row crossed processes');
    });

    test('an episode commit keeps its lease and hands back the next messages in its one statement', async () => {
      const hub = (await open(fresh())).hub('h');
      await hub.createInstance(startRequest('k'));
      const item = await claimOne(hub, 'k');
      await hub.sendMessages([eventMessage('k', 'e1'), eventMessage('k', 'e2')]);
      const continueLease: ContinuedLease = { workerId: 'w-k', leaseMs: 60_000 };
      const commit = { ...commitOf(item, { history: [item.messages[0]!.event] }), continueLease };
      const step = await countStatements(() => hub.commitEpisodes([commit]));
      assert.deepEqual(step.result, ['committed']);
      assert.equal(step.statements, 1, 'commit and next messages in one statement');
      const next = continueLease.next;
      assert.ok(next, 'PostgreSQL keeps the lease when messages wait');
      assert.deepEqual(next.lease, item.lease);
      assert.deepEqual(next.messages.map((m) => (m.event.eventType === 'EventRaised' ? m.event.name : '?')), ['e1', 'e2']);
      assert.equal(next.instance.status, 'Running');
      assert.equal(next.instance.historyLength, 1);
      assert.deepEqual(await claimAll(hub), []);
    });

    test('concurrent sends share statements, and a send PostgreSQL rejects fails alone', async () => {
      const hub = (await open(fresh())).hub('h');
      for (const id of ['a', 'b']) await hub.createInstance(startRequest(id));
      await hub.sendMessages([eventMessage('a', 'warm')]);
      const { result, statements } = await countStatements(() =>
        Promise.allSettled(Array.from({ length: 20 }, (_, n) => hub.sendMessages([eventMessage(n % 2 ? 'a' : 'b', `e${n}`), eventMessage('@counter@k', `s${n}`)]))),
      );
      assert.ok(result.every((r) => r.status === 'fulfilled'));
      // The first send goes at once; the 19 made meanwhile share the next statement.
      assert.ok(statements <= 3, `${statements} statements for 20 sends`);
      const mixed = await Promise.allSettled([
        hub.sendMessages([eventMessage('a', 'ok1')]),
        hub.sendMessages([eventMessage('a', 'ok2')]),
        hub.sendMessages([eventMessage('a', 'with-bad'), eventMessage('bad\u0000id', 'x')]),
        hub.sendMessages([eventMessage('b', 'ok3')]),
      ]);
      assert.deepEqual(mixed.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      const names = (await claimAll(hub)).flatMap((i) => i.messages.map((m) => (m.event.eventType === 'EventRaised' ? m.event.name : m.event.eventType)));
      for (let n = 0; n < 20; n++) assert.equal(names.filter((x) => x === `e${n}` || x === `s${n}`).length, 2, `send ${n} delivered once`);
      assert.ok(names.includes('ok1') && names.includes('ok2') && names.includes('ok3'));
      assert.ok(!names.includes('with-bad'), 'a failed send wrote nothing');
    });

    test('a burst of starts shares statements, and a start PostgreSQL rejects fails alone', async () => {
      // A repeated id waits for a later statement (where it conflicts with the first).
      assert.deepEqual(distinctRounds(['a', 'b', 'a', 'c', 'a']), [[0, 1, 3], [2], [4]]);
      const hub = (await open(fresh())).hub('h');
      await hub.createInstance(startRequest('warm'));
      const { result: results, statements } = await countStatements(() =>
        Promise.allSettled(Array.from({ length: 40 }, (_, n) => hub.createInstance(startRequest(`s${n}`)))),
      );
      assert.ok(results.every((r) => r.status === 'fulfilled'));
      // The first start goes at once; the 39 requested meanwhile share the next statement.
      assert.ok(statements <= 3, `${statements} statements for 40 starts`);
      assert.equal((await claimAll(hub)).length, 41);
      // A NUL character is not valid in PostgreSQL text: that start fails, the others of its group start.
      const mixed = await Promise.allSettled([
        hub.createInstance(startRequest('m0')),
        hub.createInstance(startRequest('m1')),
        hub.createInstance({ ...startRequest('m2'), name: 'bad\u0000name' }),
        hub.createInstance(startRequest('m3')),
      ]);
      assert.deepEqual(mixed.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      assert.deepEqual((await claimAll(hub)).map((i) => i.instance.instanceId).sort(), ['m0', 'm1', 'm3']);
    });

    test('the LISTEN connection comes back after pg_terminate_backend, waking subscribers', async () => {
      const { sender, receiver, received, stop } = await listeningPair();
      try {
        const pid = receiver.listenerBackendPid;
        assert.ok(pid);
        await withPgClient((client) => client.query('SELECT pg_terminate_backend($1)', [pid]));
        // Notices sent while it was down are lost, so the reconnection itself wakes the hub.
        await eventually(
          async () => (received.some((n) => n.kind === 'activities') ? true : undefined),
          'the wake-up after reconnecting',
        );
        assert.notEqual(receiver.listenerBackendPid, pid);
        received.length = 0;
        await sender.hub('h').createInstance(startRequest('after'));
        await eventually(
          async () => (received.some((n) => n.kind === 'instance' && n.instanceId === 'after') ? true : undefined),
          'notices on the new connection',
        );
      } finally {
        stop();
      }
    });

    test('a process clock ten minutes off changes neither lease exclusivity nor when timers fire', async () => {
      const store = await open(fresh());
      const hub = freshHub(store);
      await hub.createInstance(startRequest('skew'));
      const realNow = Date.now;
      const skewed = (offset: number) => {
        Date.now = () => realNow() + offset;
      };
      try {
        skewed(10 * 60_000);
        const item = await claimOne(hub, 'skew', 60_000);
        // A process running ten minutes behind (whose lease math would say "expired") cannot take it.
        skewed(-10 * 60_000);
        assert.deepEqual(await claimAll(hub), []);
        // A timer due in 400 ms by this (skewed) clock is not visible yet, and fires about 400 ms later.
        const due = new Date(Date.now() + 400);
        await hub.commitEpisodes([commitOf(item, { messages: [eventMessage('skew', 'timer', undefined, due)] })]);
        assert.deepEqual(await claimAll(hub), [], 'not due yet');
        const next = await hub.nextVisibleAt();
        assert.ok(next && Math.abs(next.getTime() - due.getTime()) < 5000, 'nextVisibleAt is on this process clock');
        const fired = await eventually(async () => {
          const items = await claimAll(hub);
          return items.length ? items : undefined;
        }, 'the timer on the skewed clock');
        assert.ok(Date.now() >= due.getTime() - 20, 'not before its time');
        assert.deepEqual(types(fired[0]!.messages), ['EventRaised']);
      } finally {
        Date.now = realNow;
      }
    });

    test('killed pool connections do not crash the process, and the store carries on', async () => {
      const schema = fresh();
      const store = await open(schema);
      const hub = freshHub(store);
      await hub.createInstance(startRequest('survivor'));
      const stop = store.subscribe(hub.hub, () => undefined);
      try {
        await store.whenListening();
        const killed = await withPgClient(
          async (client) =>
            (
              await client.query<{ killed: boolean }>(
                `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1`,
                [`duraflow:${schema.schema}`],
              )
            ).rows.length,
        );
        assert.ok(killed >= 2, 'the pool connection and the LISTEN connection were killed');
        // The first calls may fail on connections that were already dead; the store recovers by itself.
        const item = await eventually(async () => {
          try {
            return await claimOne(hub, 'survivor');
          } catch {
            return undefined;
          }
        }, 'the store to work again');
        assert.deepEqual(await hub.commitEpisodes([commitOf(item, { history: [item.messages[0]!.event] })]), ['committed']);
        assert.equal((await hub.getInstance('survivor'))?.status, 'Running');
      } finally {
        stop();
      }
    });
  });
}
