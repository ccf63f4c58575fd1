/**
 * The dashboard's instance list over 1,000,000 instances (issue 19, "Lists at scale"), on SQLite and on
 * PostgreSQL: fills a fresh store with direct bulk inserts in one transaction (a fixture, not the engine's
 * write path), starts a real host, then times `GET /dashboard` pages over HTTP and the longest event-loop
 * block meanwhile (perf_hooks monitorEventLoopDelay; the host runs in this process, so a synchronous
 * better-sqlite3 query shows up as a block). Targets: a page under 200 ms, no block over 50 ms.
 *
 * Usage: npx tsx bench/list-scale.ts [sqlite|postgres ...] [--count 1000000]
 * The fixture: 97% Completed, 1% Failed, 0.5% Terminated, 1% Running, 0.5% Pending, over 30 days, 10 names.
 */
import Database from 'better-sqlite3';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DFApp } from '../src/index.js';
import { acquireStore } from '../src/store/open-store.js';
import { tablesOf } from '../src/store/postgres/schema.js';
import { dropSchema, freshSqlite, newSchemaName, pgUnavailableReason, schemaUrl, withPgClient } from './stores.js';

const HUB = 'bench';
const args = process.argv.slice(2);
const countAt = args.indexOf('--count');
const COUNT = countAt >= 0 ? Number(args[countAt + 1]) : 1_000_000;
const kinds = args.filter((a, i) => (a === 'sqlite' || a === 'postgres') && args[i - 1] !== '--count');
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const SPAN = 30 * DAY;

/** The status of fixture row `n` (the same mix on both stores). */
const STATUS_SQL = (n: string) =>
  `CASE WHEN ${n} % 200 = 0 THEN 'Pending' WHEN ${n} % 100 = 1 THEN 'Running' WHEN ${n} % 100 = 2 THEN 'Failed' WHEN ${n} % 200 = 3 THEN 'Terminated' ELSE 'Completed' END`;

/** Pages timed on each store, with what they exercise. */
const PAGES: [string, string][] = [
  ['newest first (default)', ''],
  ['oldest first', '?sort=created&dir=asc'],
  ['by id', '?sort=id&dir=asc'],
  ['status Completed', '?status=Completed'],
  ['status Running (unfinished index)', '?status=Running'],
  ['status Terminated (rare finished)', '?status=Terminated'],
  ['status Canceled (none: bounded scan)', '?status=Canceled'],
  ['a day in the middle', `?from=${new Date(START + 15 * DAY).toISOString()}&to=${new Date(START + 16 * DAY).toISOString()}`],
  ['sort by name (falls back: too many)', '?sort=name&dir=asc'],
  ['name contains, 10% match (no index)', '?name=orch-3'],
  ['name matching nothing (bounded scan)', '?name=nothing-like-this'],
];

async function fillSqlite(path: string): Promise<void> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.function('status_of', (n: number) => (n % 200 === 0 ? 'Pending' : n % 100 === 1 ? 'Running' : n % 100 === 2 ? 'Failed' : n % 200 === 3 ? 'Terminated' : 'Completed'));
  db.exec('BEGIN');
  db.prepare(
    `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?)
     INSERT INTO instances (hub, instance_id, name, execution_id, status, created_at, updated_at)
     SELECT ?, printf('inst-%07d', n), 'orch-' || (n % 10), 'e' || n, status_of(n), ? + n * ?, ? + n * ? + 1000 FROM seq`,
  ).run(COUNT, HUB, START, Math.floor(SPAN / COUNT), START, Math.floor(SPAN / COUNT));
  db.exec('COMMIT');
  db.exec('ANALYZE');
  db.close();
}

async function fillPostgres(schema: string): Promise<void> {
  const t = tablesOf(schema);
  await withPgClient(async (client) => {
    await client.query(
      `INSERT INTO ${t.instances} (hub, instance_id, name, execution_id, status, created_at, updated_at)
       SELECT $1, 'inst-' || lpad(n::text, 7, '0'), 'orch-' || (n % 10), 'e' || n, ${STATUS_SQL('n')}, $2::bigint + n * $3::bigint, $2::bigint + n * $3::bigint + 1000
       FROM generate_series(0, $4::int - 1) n`,
      [HUB, START, Math.floor(SPAN / COUNT), COUNT],
    );
    await client.query(`ANALYZE ${t.instances}`);
  });
}

/** Times each page (5 renders: median and max) and the longest event-loop block over all of them. */
async function measure(kind: string, url: string): Promise<void> {
  const app = new DFApp({ store: url, taskHub: HUB, httpAuthLevel: 'anonymous' });
  app.orchestration('orch-0', () => null);
  const host = await app.start({ port: 0 });
  try {
    // Warm-up: every page once (JIT, statement caches, the database's page cache).
    for (const [, query] of PAGES) await fetch(`${host.url}/dashboard${query}`).then((r) => r.text());
    for (const [label, query] of PAGES) {
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      const times: number[] = [];
      let status = 0;
      let rows = 0;
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const response = await fetch(`${host.url}/dashboard${query}`);
        const body = await response.text();
        times.push(performance.now() - started);
        status = response.status;
        rows = (body.match(/<tr data-instance-id=/g) ?? []).length;
      }
      delay.disable();
      times.sort((a, b) => a - b);
      console.log(
        `${kind.padEnd(8)} ${label.padEnd(40)} status ${status} rows ${String(rows).padStart(3)}  median ${times[2]!.toFixed(1).padStart(7)} ms  max ${times[4]!.toFixed(1).padStart(7)} ms  longest loop block ${(delay.max / 1e6).toFixed(1).padStart(6)} ms`,
      );
    }
  } finally {
    await host.stop();
  }
}

async function main(): Promise<void> {
  for (const kind of kinds.length ? kinds : ['sqlite', 'postgres']) {
    if (kind === 'sqlite') {
      const { url, path, cleanup } = freshSqlite();
      try {
        await (await acquireStore(url)).release(); // creates the schema
        const started = performance.now();
        await fillSqlite(path);
        console.log(`sqlite   filled ${COUNT} instances in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        await measure('sqlite', url);
      } finally {
        cleanup();
      }
    } else {
      const reason = await pgUnavailableReason();
      if (reason) {
        console.log(`postgres skipped: ${reason}`);
        continue;
      }
      const schema = newSchemaName('list');
      const url = schemaUrl(schema);
      try {
        await (await acquireStore(url)).release();
        const started = performance.now();
        await fillPostgres(schema);
        console.log(`postgres filled ${COUNT} instances in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        await measure('postgres', url);
      } finally {
        await dropSchema(schema);
      }
    }
  }
}

await main();
