/**
 * Entity throughput. The harness (`npm run bench`) uses {@link clientSignals}; run alone,
 * `npx tsx bench/entities.ts [--quick] [--postgres]` measures every variant:
 *
 * - processing: N signals are queued first (no worker running), then a worker starts and the time until every
 *   one is applied is measured — entity operations per second, to one entity and spread over 100 entities;
 * - end to end: N `client.signalEntity` calls (8 in flight, one commit each) while the worker runs;
 * - calls: orchestrations each making sequential `callEntity` round trips.
 *
 * Numbers are reported next to a baseline measured in the same run: the raw SQLite single-row commit rate
 * (the durable commit is the scarce resource). Run alone it writes bench/results/entities[-postgres].md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeEvent } from '../src/sdk/history.js';
import { DFApp, EntityId, type DurableClient, type EntityContext } from '../src/index.js';
import { acquireStore } from '../src/store/open-store.js';
import { sqliteCommitRate } from './limits.js';
import { waitUntil } from './metrics.js';
import { dropSchema, freshSqlite, newSchemaName, schemaUrl } from './stores.js';

/** An app with the `Counter` entity (operation `add`) and a `caller` orchestration making `callEntity` round trips. */
function buildApp(url: string): DFApp {
  const app = new DFApp({ store: url });
  app.entity('Counter', (ctx: EntityContext<number>) => {
    const value = ctx.getState(() => 0)!;
    if (ctx.operationName === 'add') ctx.setState(value + ctx.getInput<number>());
    return value;
  });
  app.orchestration('caller', function* (ctx, input: { key: string; calls: number }) {
    let last = 0;
    for (let i = 0; i < input.calls; i++) last = yield ctx.callEntity(new EntityId('counter', input.key), 'add', 1);
    return last;
  });
  return app;
}

/** Sum of every counter's state. */
async function total(client: DurableClient): Promise<number> {
  let sum = 0;
  let token: string | undefined;
  do {
    const page = await client.listEntities({
      fetchState: true,
      pageSize: 1000,
      ...(token ? { continuationToken: token } : {}),
    });
    for (const e of page.entities) sum += e.state as number;
    token = page.continuationToken;
  } while (token);
  return sum;
}

/** Queues `n` signals over `entities` counters of the empty store at `url` before any worker runs; operations/s. */
export async function queuedSignals(url: string, n: number, entities: number, timeoutMs = 600_000): Promise<number> {
  const handle = await acquireStore(url);
  try {
    const hub = handle.store.hub('default');
    const now = new Date();
    for (let start = 0; start < n; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, n - start) }, (_, j) => {
        const i = start + j;
        const request = { id: `r${i}`, op: 'add', signal: true, input: '1', timestamp: now.toISOString() };
        return {
          instanceId: new EntityId('counter', `k${i % entities}`).toString(),
          event: makeEvent({ eventType: 'EventRaised', name: 'op', input: JSON.stringify(request) }, now),
        };
      });
      await hub.sendMessages(batch);
    }
    const worker = await buildApp(url).startWorker();
    const started = performance.now();
    await waitUntil(async () => (await total(worker.client)) === n, timeoutMs);
    const seconds = (performance.now() - started) / 1000;
    await worker.stop();
    return n / seconds;
  } finally {
    await handle.release();
  }
}

/**
 * `n` `client.signalEntity` calls (8 in flight) spread over `entities` counters of the store at `url` while its
 * worker runs, timed until every one is applied; returns operations per second and the elapsed milliseconds.
 */
export async function clientSignals(
  url: string,
  n: number,
  entities = 1,
  timeoutMs = 600_000,
): Promise<{ perSecond: number; ms: number }> {
  const worker = await buildApp(url).startWorker();
  try {
    const ids = Array.from({ length: entities }, (_, i) => new EntityId('counter', `k${i}`));
    // Warm-up: one applied signal, so the first measured one does not pay for compilation.
    const warm = new EntityId('counter', 'warm-up');
    await worker.client.signalEntity(warm, 'add', 1);
    await waitUntil(async () => (await worker.client.readEntityState<number>(warm)).entityState === 1, timeoutMs);
    const applied = async () => {
      if (entities === 1) return (await worker.client.readEntityState<number>(ids[0]!)).entityState === n;
      return (await total(worker.client)) === n + 1;
    };
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < n) {
          const i = next++;
          await worker.client.signalEntity(ids[i % entities]!, 'add', 1);
        }
      }),
    );
    // Listing 100 entities is a heavier query than reading one: poll it less often so it does not compete.
    await waitUntil(applied, timeoutMs, entities === 1 ? 5 : 20);
    const ms = performance.now() - started;
    return { perSecond: n / (ms / 1000), ms };
  } finally {
    await worker.stop();
  }
}

/** `orchestrations` callers, each making `callsEach` sequential calls to its own entity; returns calls per second. */
export async function entityCalls(url: string, orchestrations: number, callsEach: number): Promise<number> {
  const worker = await buildApp(url).startWorker();
  try {
    const started = performance.now();
    const ids = await Promise.all(
      Array.from({ length: orchestrations }, (_, i) =>
        worker.client.startNew('caller', { input: { key: `c${i}`, calls: callsEach } }),
      ),
    );
    for (const id of ids) {
      const status = await worker.client.waitForCompletion(id, { timeoutInMilliseconds: 600_000 });
      if (status.output !== callsEach - 1)
        throw new Error(`caller ${id} ended ${status.runtimeStatus} with ${JSON.stringify(status.output)}`);
    }
    const seconds = (performance.now() - started) / 1000;
    return (orchestrations * callsEach) / seconds;
  } finally {
    await worker.stop();
  }
}

/** Runs `fn` on a fresh store (SQLite file, or a PostgreSQL schema) and removes it afterwards. */
async function onFreshStore<T>(postgres: boolean, fn: (url: string) => Promise<T>): Promise<T> {
  if (!postgres) {
    const store = freshSqlite();
    try {
      return await fn(store.url);
    } finally {
      store.cleanup();
    }
  }
  const schema = newSchemaName('entities');
  try {
    return await fn(schemaUrl(schema));
  } finally {
    await dropSchema(schema);
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const onPostgres = process.argv.includes('--postgres');
  const N = quick ? 2000 : 10_000;
  const commitRate = sqliteCommitRate();
  const one = await onFreshStore(onPostgres, (url) => queuedSignals(url, N, 1));
  const hundred = await onFreshStore(onPostgres, (url) => queuedSignals(url, N, 100));
  const e2e = await onFreshStore(onPostgres, (url) => clientSignals(url, quick ? 500 : 2000));
  const roundTrips = await onFreshStore(onPostgres, (url) => entityCalls(url, 20, quick ? 10 : 50));

  const ratio = (perSecond: number) => `${(perSecond / commitRate).toFixed(2)} × commit rate`;
  const rows = [
    ['SQLite single-row commits/s (baseline)', commitRate.toFixed(0), '1.00'],
    [`${N} queued signals → 1 entity: operations/s`, one.toFixed(0), ratio(one)],
    [`${N} queued signals → 100 entities: operations/s`, hundred.toFixed(0), ratio(hundred)],
    [`client.signalEntity → 1 entity, end to end: operations/s`, e2e.perSecond.toFixed(0), ratio(e2e.perSecond)],
    [`callEntity round trips (20 orchestrations): calls/s`, roundTrips.toFixed(0), ratio(roundTrips)],
  ];
  const markdown = [
    `# duraflow entity benchmark (${new Date().toISOString()}, ${cpus().length} cores, node ${process.version}, ${onPostgres ? 'PostgreSQL' : 'SQLite'}${quick ? ', quick' : ''})`,
    '',
    '| workload | value | ratio |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/entities${onPostgres ? '-postgres' : ''}.md`, markdown);
  process.stdout.write(markdown);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
