/**
 * Memory and long histories (a script of its own, not a case of `npm run bench`):
 *   node --expose-gc --import tsx bench/memory.ts [--store sqlite|postgres] [--waiting 10000] [--steps 25000] [--cache 1000]
 * 1. `--waiting` instances started and left waiting on an external event: RSS and heap before and after, with
 *    the worker's cache smaller than the set (`--cache`), then one event to each until all completed.
 * 2. Meanwhile-hot instances: 10 orchestrations that loop on events keep their executors cached while the
 *    waiting set churns through the cache: time per hot event, which a replay per step would make grow with
 *    the hot histories.
 * 3. One orchestration of `--steps` sequential activities (4 history events per step: 100,000 for 25,000 steps):
 *    time per 1,000 steps at the start and at the end (a replay per step would make the end slower), RSS at the
 *    end, and the time a new worker takes to replay the whole history once (a cold start of that instance).
 * Each orchestrator counts its starts: a start after an instance's first run is a replay from history, so the
 * counts show directly that hot instances and the long one are not replayed per step.
 */
import { DFApp, type DurableClient } from '../src/index.js';
import { percentiles, waitUntil } from './metrics.js';
import { dropSchema, freshSqlite, newSchemaName, schemaUrl } from './stores.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const storeName = option('--store', 'sqlite');
const waiting = Number(option('--waiting', '10000'));
const steps = Number(option('--steps', '25000'));
const cacheSize = Number(option('--cache', '1000'));
const HOT = 10;

const sqlite = storeName === 'sqlite' ? freshSqlite() : undefined;
const schema = storeName === 'postgres' ? newSchemaName('memory') : undefined;
const url = sqlite?.url ?? schemaUrl(schema!);

/** Orchestrator starts per name: each start after the first run of an instance is a replay from history. */
const starts = new Map<string, number>();
const started = (name: string) => starts.set(name, (starts.get(name) ?? 0) + 1);

function app(): DFApp {
  const app = new DFApp({ store: url });
  app.activity('inc', (n: number) => n + 1);
  app.orchestration('waitOne', function* (ctx) {
    started('waitOne');
    return yield ctx.waitForExternalEvent('go');
  });
  app.orchestration('hotLoop', function* (ctx) {
    started('hotLoop');
    let sum = 0;
    for (;;) {
      const value: number = yield ctx.waitForExternalEvent('tick');
      if (value < 0) return sum;
      sum += value;
      ctx.setCustomStatus(sum);
    }
  });
  app.orchestration('long', function* (ctx, n: number) {
    started('long');
    const marks: number[] = [];
    let last = 0;
    for (let i = 0; i < n; i++) {
      last = yield ctx.callActivity('inc', i);
      // The orchestrator cannot read the clock deterministically: ctx.currentUtcDateTime is the episode's time.
      if (i % 1000 === 999) marks.push(ctx.currentUtcDateTime.getTime());
    }
    ctx.setCustomStatus('waiting for end');
    yield ctx.waitForExternalEvent('end');
    return { last, marks };
  });
  return app;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const memory = () => {
  global.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return `RSS ${mib(rss)}, heap ${mib(heapUsed)}`;
};
const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};

async function countRunning(client: DurableClient, prefix: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await client.listInstances({ instanceIdPrefix: prefix, runtimeStatus: ['Running'], pageSize: 1000, ...(token ? { continuationToken: token } : {}) });
    count += page.instances.length;
    token = page.continuationToken;
  } while (token);
  return count;
}

say(`# bench/memory.ts on ${storeName}: ${waiting} waiting instances (cache ${cacheSize}), ${steps} steps; Node ${process.version}`);
let worker = await app().startWorker({ cacheSize });
try {
  const { client } = worker;
  say(`worker started: ${memory()}`);

  // 1 and 2: the waiting set, and hot instances beside it.
  const hot = await Promise.all(Array.from({ length: HOT }, (_, i) => client.startNew('hotLoop', { instanceId: `hot-${i}` })));
  const startedAt = performance.now();
  for (let i = 0; i < waiting; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, waiting - i) }, (_, k) => client.startNew('waitOne', { instanceId: `wait-${i + k}` })));
  }
  await waitUntil(async () => (await countRunning(client, 'wait-')) === waiting, 600_000, 200);
  say(`${waiting} instances waiting on an event after ${((performance.now() - startedAt) / 1000).toFixed(1)} s: ${memory()}`);

  const hotLatencies: number[] = [];
  const hotRounds = 50;
  let hotStartsAfterFirst = 0;
  let raised = 0;
  const churn = (async () => {
    const t0 = performance.now();
    for (let i = 0; i < waiting; i += 200) {
      await Promise.all(Array.from({ length: Math.min(200, waiting - i) }, (_, k) => client.raiseEvent(`wait-${i + k}`, 'go', i + k)));
      raised = i;
    }
    await waitUntil(async () => (await countRunning(client, 'wait-')) === 0, 600_000, 200);
    return performance.now() - t0;
  })();
  for (let round = 0; round < hotRounds; round++) {
    const t0 = performance.now();
    await Promise.all(hot.map((id) => client.raiseEvent(id, 'tick', 1)));
    await waitUntil(
      async () => (await Promise.all(hot.map((id) => client.getStatus(id)))).every((st) => st?.customStatus === round + 1),
      60_000,
      2,
    );
    hotLatencies.push(performance.now() - t0);
    // The hot set idled while the waiting set was started, so the cache evicted it: round 0 replays each once.
    if (round === 0) hotStartsAfterFirst = starts.get('hotLoop') ?? 0;
  }
  const churnMs = await churn;
  const hotP = percentiles(hotLatencies);
  say(`one event to each waiting instance: all completed in ${(churnMs / 1000).toFixed(1)} s (${(waiting / (churnMs / 1000)).toFixed(0)} events/s), ${memory()}`);
  say(
    `hot instances (${HOT}, events while ${raised}+ others churned through a cache of ${cacheSize}): round p50 ${hotP.p50.toFixed(1)} ms, p99 ${hotP.p99.toFixed(1)} ms; ` +
      `orchestrator starts: hot ${hotStartsAfterFirst} by the first event, ${(starts.get('hotLoop') ?? 0) - hotStartsAfterFirst} in the ${hotRounds - 1} rounds after, waiting ${starts.get('waitOne') ?? 0} for ${waiting} instances (evicted ones replay once)`);
  await Promise.all(hot.map((id) => client.raiseEvent(id, 'tick', -1)));

  // 3: one long history.
  const t0 = performance.now();
  const longId = await client.startNew('long', { input: steps });
  await waitUntil(async () => (await client.getStatus(longId))?.customStatus === 'waiting for end', 1_200_000, 500);
  const runMs = performance.now() - t0;
  const events = (await client.getStatus(longId, { showHistory: true }))?.history?.length ?? 0;
  say(`long: ${steps} steps, ${events} history events, ${(steps / (runMs / 1000)).toFixed(0)} steps/s overall; orchestrator starts ${starts.get('long') ?? 0}; ${memory()}`);
  await worker.stop();

  // A new worker replays the whole history once to deliver 'end'.
  worker = await app().startWorker({ cacheSize });
  const t1 = performance.now();
  await worker.client.raiseEvent(longId, 'end');
  const done = await worker.client.waitForCompletion(longId, { timeoutInMilliseconds: 600_000 });
  const coldMs = performance.now() - t1;
  const { marks } = done.output as { last: number; marks: number[] };
  const per1000 = marks.slice(1).map((m, i) => m - marks[i]!);
  const head = per1000.slice(0, 5);
  const tail = per1000.slice(-5);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  say(
    `long: ms per 1,000 steps, first 5 thousands ${head.map((x) => x.toFixed(0)).join(' ')}, last 5 ${tail.map((x) => x.toFixed(0)).join(' ')} ` +
      `(last ÷ first ${(avg(tail) / avg(head)).toFixed(2)}; a replay per step would grow it with the history)`,
  );
  say(`long: a new worker replayed ${events} events and completed it in ${(coldMs / 1000).toFixed(2)} s (orchestrator starts now ${starts.get('long') ?? 0}); ${memory()}`);
} finally {
  await worker.stop().catch(() => undefined);
  sqlite?.cleanup();
  if (schema) await dropSchema(schema);
}
