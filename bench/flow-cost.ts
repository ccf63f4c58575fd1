/**
 * The cost of a concurrency key on the hello workload (issue 21): `n` hello orchestrations (3 sequential
 * activities each) started at once, once with plain activities and once with activities that carry a concurrency
 * key (`{ limit: 1000, key: (city) => city }`: never reached, so only the bookkeeping is measured), on SQLite and
 * PostgreSQL; each case on a fresh store, in alternating order, best of `rounds`. Usage:
 * `npx tsx bench/flow-cost.ts [n=300] [rounds=2]`. Keyed activities are claimed, never handed over at the commit
 * (runHere), and their claims take the flow path, which is where the cost is.
 */
import { DFApp, type DurableClient } from '../src/index.js';
import { dropSchema, freshSqlite, newSchemaName, schemaUrl } from './stores.js';

const n = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 2);

function app(url: string, keyed: boolean): DFApp {
  const a = new DFApp({ store: url });
  a.activity('sayHello', async (city: string) => `Hello ${city}!`, keyed ? { concurrency: { limit: 1000, key: (city: string) => city } } : {});
  a.orchestration('hello', function* (ctx) {
    return [
      yield ctx.callActivity('sayHello', 'Tokyo'),
      yield ctx.callActivity('sayHello', 'Seattle'),
      yield ctx.callActivity('sayHello', 'London'),
    ];
  });
  return a;
}

async function run(client: DurableClient, count: number): Promise<number> {
  const started = Date.now();
  const ids = await Promise.all(Array.from({ length: count }, () => client.startNew('hello')));
  for (const id of ids) {
    const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 120_000 });
    if (status.runtimeStatus !== 'Completed') throw new Error(`${id}: ${status.runtimeStatus}`);
  }
  return count / ((Date.now() - started) / 1000);
}

async function measure(store: 'sqlite' | 'postgres', keyed: boolean): Promise<number> {
  const sqlite = store === 'sqlite' ? freshSqlite() : undefined;
  const schema = store === 'postgres' ? newSchemaName('flow') : undefined;
  const url = sqlite ? sqlite.url : schemaUrl(schema!);
  const worker = await app(url, keyed).startWorker();
  try {
    await run(worker.client, Math.min(50, n)); // warm-up
    return await run(worker.client, n);
  } finally {
    await worker.stop();
    sqlite?.cleanup();
    if (schema) await dropSchema(schema);
  }
}

for (const store of ['sqlite', 'postgres'] as const) {
  const best = { plain: 0, keyed: 0 };
  for (let r = 0; r < rounds; r++) {
    for (const keyed of r % 2 === 0 ? [false, true] : [true, false]) {
      const rate = await measure(store, keyed);
      const which = keyed ? 'keyed' : 'plain';
      best[which] = Math.max(best[which], rate);
    }
  }
  const cost = (1 - best.keyed / best.plain) * 100;
  console.log(`${store}: hello ${n} at once — plain ${best.plain.toFixed(0)}/s, concurrency key ${best.keyed.toFixed(0)}/s, cost ${cost.toFixed(1)}%`);
}
process.exit(0);
