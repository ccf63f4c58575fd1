/**
 * duraflow's benchmark workloads. Each takes the URL of a fresh, empty store, starts its own worker (and for
 * cross-process dispatch, a worker process), runs, and returns its measurements. The harness runs each in a
 * child process of its own; {@link hello} and {@link sequence} keep their older signatures for ad-hoc scripts.
 */
import { DFApp, createClient, type DurableClient } from '../src/index.js';
import { clockOffset, nextMessage } from './clock-sync.js';
import { epochMs, percentiles, sleep, waitUntil } from './metrics.js';
import { endProcess, forkBench } from './processes.js';
import { freshSqlite } from './stores.js';
import { warmUp } from './plan.js';

export { freshSqlite } from './stores.js';
export { sqliteCommitRate } from './limits.js';

/** One measured value of a workload; the harness adds who measured it and on which store. */
export interface Measured {
  key: string;
  value: number;
  note?: string;
  n?: number;
}

/** Where the `probe` activity reports when it starts running (set by the dispatch cases). */
let probeSink: ((t0: number, at: number) => void) | undefined;

/** Sets what the `probe` activity calls with its input (the start time) and the time it began running. */
export function setProbeSink(sink: (t0: number, at: number) => void): void {
  probeSink = sink;
}

/** The app every duraflow workload runs: no-op activities and one orchestration per workload. */
export function benchApp(url: string): DFApp {
  const app = new DFApp({ store: url });
  app.activity('noop', async (i: number) => i);
  app.activity('sayHello', async (city: string) => `Hello ${city}!`);
  app.activity('probe', async (t0: number) => {
    probeSink?.(t0, epochMs());
    return t0;
  });
  app.orchestration('hello', function* (ctx) {
    return [
      yield ctx.callActivity('sayHello', 'Tokyo'),
      yield ctx.callActivity('sayHello', 'Seattle'),
      yield ctx.callActivity('sayHello', 'London'),
    ];
  });
  app.orchestration('chain5', function* (ctx) {
    const greetings: string[] = [];
    for (const city of ['Tokyo', 'Seattle', 'London', 'Cairo', 'Lima']) greetings.push(yield ctx.callActivity('sayHello', city));
    return greetings;
  });
  app.orchestration('sequence', function* (ctx, n: number) {
    let last = 0;
    for (let i = 0; i < n; i++) last = yield ctx.callActivity('noop', i);
    return last;
  });
  app.orchestration('fanout', function* (ctx, n: number) {
    const results: number[] = yield ctx.taskAll(Array.from({ length: n }, (_, i) => ctx.callActivity('noop', i)));
    return results.length;
  });
  app.orchestration('events', function* (ctx, n: number) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += yield ctx.waitForExternalEvent('e');
    return sum;
  });
  app.orchestration('probe', function* (ctx, t0: number) {
    return yield ctx.callActivity('probe', t0);
  });
  return app;
}

async function completed(client: DurableClient, id: string, timeoutMs: number): Promise<unknown> {
  const status = await client.waitForCompletion(id, { timeoutInMilliseconds: timeoutMs });
  if (status.runtimeStatus === 'Running' || status.runtimeStatus === 'Pending') {
    throw new Error(`${status.name} ${id} did not complete within ${timeoutMs} ms`);
  }
  if (status.runtimeStatus !== 'Completed') {
    throw new Error(`${id} ended ${status.runtimeStatus}: ${JSON.stringify(status.output ?? status.failureDetails)}`);
  }
  return status.output;
}

/** Runs `fn` with a worker of {@link benchApp} on `url`, stopping it afterwards. */
async function withWorker<T>(url: string, fn: (client: DurableClient) => Promise<T>): Promise<T> {
  const worker = await benchApp(url).startWorker();
  try {
    return await fn(worker.client);
  } finally {
    await worker.stop();
  }
}

/** `n` instances of `orchestration`, all started at once, until every one completed: rate and store-recorded latencies. */
async function startedAtOnce(client: DurableClient, orchestration: string, n: number, timeoutMs: number) {
  await Promise.all(
    Array.from({ length: warmUp(n, 'instances') }, async () => completed(client, await client.startNew(orchestration), timeoutMs)),
  );
  const started = Date.now();
  const ids = new Set(await Promise.all(Array.from({ length: n }, () => client.startNew(orchestration))));
  await waitUntil(
    async () => (await client.listInstances({ runtimeStatus: ['Pending', 'Running'], pageSize: 1 })).instances.length === 0,
    timeoutMs,
    10,
  );
  const done = (await client.getStatusBy({ runtimeStatus: ['Completed'] })).filter((s) => ids.has(s.instanceId));
  if (done.length !== n) throw new Error(`${orchestration}: ${done.length} of ${n} orchestrations completed`);
  const last = Math.max(...done.map((s) => s.lastUpdatedTime.getTime()));
  const seconds = (last - started) / 1000;
  return { seconds, ...percentiles(done.map((s) => s.lastUpdatedTime.getTime() - s.createdTime.getTime())) };
}

/**
 * hello: `n` orchestrations of 3 sequential no-op activities, all started at once. Throughput is `n` over the
 * time from the first start to the last completion; latency is each instance's created → last-updated time as
 * the store recorded them (so no client polling runs during the measurement except one cheap count query).
 */
export function helloWorkload(url: string, n: number, timeoutMs = 600_000): Promise<Measured[]> {
  return withWorker(url, async (client) => {
    const { seconds, p50, p99 } = await startedAtOnce(client, 'hello', n, timeoutMs);
    return [
      { key: 'hello.rate', value: n / seconds, note: `${seconds.toFixed(2)} s`, n },
      { key: 'hello.p50', value: p50, n },
      { key: 'hello.p99', value: p99, n },
    ];
  });
}

/** Work items of one `chain5` orchestration as the Durable Task Scheduler counts them: 5 activities, 6 orchestrator episodes. */
export const CHAIN5_WORK_ITEMS = 11;

/**
 * The Durable Task Scheduler's published benchmark shape: `n` orchestrations of 5 sequential "Hello, city"
 * activities on one worker, all started at once; work items per second (activity and orchestrator work items,
 * {@link CHAIN5_WORK_ITEMS} per orchestration) from the first start to the last completion.
 */
export function chain5Workload(url: string, n: number, timeoutMs = 600_000): Promise<Measured[]> {
  return withWorker(url, async (client) => {
    const { seconds } = await startedAtOnce(client, 'chain5', n, timeoutMs);
    return [{ key: 'chain5.rate', value: (n * CHAIN5_WORK_ITEMS) / seconds, note: `${seconds.toFixed(2)} s`, n }];
  });
}

/**
 * closed loop: `n` hello orchestrations, `inFlight` at a time, each `startNew` then `waitForCompletion` on the
 * same client (as an HTTP handler or a job runner does); the next starts as soon as one returns. Throughput is
 * `n` over the whole run; latency is each start → its wait returning, as the caller sees it.
 */
export function closedLoopWorkload(url: string, n: number, inFlight: number, timeoutMs = 600_000): Promise<Measured[]> {
  return withWorker(url, async (client) => {
    const run = async (count: number) => {
      const latencies: number[] = [];
      let next = 0;
      const lane = async () => {
        while (next < count) {
          next++;
          const t0 = performance.now();
          await completed(client, await client.startNew('hello'), timeoutMs);
          latencies.push(performance.now() - t0);
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
      return { ms: performance.now() - started, latencies };
    };
    await run(warmUp(n, 'instances'));
    const { ms, latencies } = await run(n);
    const { p50 } = percentiles(latencies);
    return [
      { key: 'closed.rate', value: n / (ms / 1000), note: `${(ms / 1000).toFixed(2)} s`, n },
      { key: 'closed.p50', value: p50, n },
    ];
  });
}

/** One orchestration of `name` with input `n`, timed from `startNew` to completion (after a warm-up run, see `WARM_UP`). */
async function oneOrchestration(
  url: string,
  name: string,
  n: number,
  check: (output: unknown) => boolean,
  timeoutMs: number,
) {
  return withWorker(url, async (client) => {
    await completed(client, await client.startNew(name, { input: warmUp(n, 'steps') }), timeoutMs);
    const started = performance.now();
    const output = await completed(client, await client.startNew(name, { input: n }), timeoutMs);
    const ms = performance.now() - started;
    if (!check(output)) throw new Error(`${name}(${n}) returned ${JSON.stringify(output)}`);
    return ms;
  });
}

/** sequence: one orchestration of `n` sequential no-op activities; activities per second (and the time). */
export async function sequenceWorkload(url: string, n: number, timeoutMs = 600_000): Promise<Measured[]> {
  const ms = await oneOrchestration(url, 'sequence', n, (output) => output === n - 1, timeoutMs);
  return [
    { key: `sequence.rate.${n}`, value: n / (ms / 1000), note: `${(ms / 1000).toFixed(2)} s`, n },
    { key: `sequence.ms.${n}`, value: ms, n },
  ];
}

/** fan-out/fan-in: one orchestration of `n` parallel no-op activities joined with `taskAll`. */
export async function fanoutWorkload(url: string, n: number, timeoutMs = 600_000): Promise<Measured[]> {
  const ms = await oneOrchestration(url, 'fanout', n, (output) => output === n, timeoutMs);
  return [
    { key: `fanout.rate.${n}`, value: n / (ms / 1000), note: `${(ms / 1000).toFixed(2)} s`, n },
    { key: `fanout.ms.${n}`, value: ms, n },
  ];
}

/**
 * events: one orchestration loops on `waitForExternalEvent`; the client raises `n` events one at a time (each
 * `raiseEvent` awaited before the next). Events per second from the first raise to the orchestration's completion.
 */
export function eventsWorkload(url: string, n: number, timeoutMs = 600_000): Promise<Measured[]> {
  return withWorker(url, async (client) => {
    const run = async (count: number) => {
      const id = await client.startNew('events', { input: count });
      await waitUntil(async () => (await client.getStatus(id))?.runtimeStatus === 'Running', timeoutMs);
      const started = performance.now();
      for (let i = 0; i < count; i++) await client.raiseEvent(id, 'e', 1);
      const output = await completed(client, id, timeoutMs);
      if (output !== count) throw new Error(`events(${count}) returned ${JSON.stringify(output)}`);
      return performance.now() - started;
    };
    await run(warmUp(n, 'steps'));
    const ms = await run(n);
    return [{ key: 'events.rate', value: n / (ms / 1000), note: `${(ms / 1000).toFixed(2)} s`, n }];
  });
}

/** Waits between dispatch samples: long enough for the worker to go idle, random so samples do not lock to its polling phase. */
function gap(minMs: number, maxMs: number): Promise<void> {
  return sleep(minMs + Math.random() * (maxMs - minMs));
}

/**
 * dispatch latency, worker in this process: `startNew` of a `probe` orchestration to its first activity
 * running, `samples` times, each after the worker went idle.
 */
export function dispatchSameProcess(url: string, samples: number, timeoutMs = 600_000): Promise<Measured[]> {
  return withWorker(url, async (client) => {
    const latencies: number[] = [];
    for (let i = -3; i < samples; i++) {
      await gap(20, 60);
      const running = new Promise<number>((resolve) => setProbeSink((t0, at) => resolve(at - t0)));
      const t0 = epochMs();
      const id = await client.startNew('probe', { input: t0 });
      const latency = await running;
      await completed(client, id, timeoutMs);
      if (i >= 0) latencies.push(latency); // the first three are warm-up
    }
    const { p50, p99 } = percentiles(latencies);
    return [
      { key: 'dispatch.same.p50', value: p50, n: samples },
      { key: 'dispatch.same.p99', value: p99, n: samples },
    ];
  });
}

/**
 * dispatch latency, idle worker in another process: this process is only a client; a worker process on the
 * same store runs the `probe` activity and reports when it started (clocks aligned over IPC). On SQLite that
 * worker is woken by its watch on the database's directory; on PostgreSQL by NOTIFY.
 */
export async function dispatchOtherProcess(url: string, samples: number, timeoutMs = 600_000): Promise<Measured[]> {
  // Both stores notify the idle worker, so a start only needs it to have gone idle (a polling worker would need
  // starts at random phases of its poll interval, with gaps spread over one whole interval).
  const [gapMin, gapMax] = [20, 80];
  const worker = forkBench('dispatch-worker.ts', [url]);
  worker.stdout?.resume();
  worker.stderr?.resume();
  const client = await createClient({ store: url });
  try {
    await nextMessage(worker, (m) => (m.type === 'ready' ? true : undefined), 60_000);
    const offset = await clockOffset(worker);
    const latencies: number[] = [];
    for (let i = -2; i < samples; i++) {
      await gap(gapMin, gapMax);
      const t0 = epochMs();
      const running = nextMessage(
        worker,
        (m) => (m.type === 'probe' && m.t0 === t0 ? m.at - offset - t0 : undefined),
        timeoutMs,
      );
      await client.startNew('probe', { input: t0 });
      const latency = await running;
      if (i >= 0) latencies.push(latency); // the first two are warm-up
    }
    const { p50, p99 } = percentiles(latencies);
    return [
      { key: 'dispatch.other.p50', value: p50, n: samples },
      { key: 'dispatch.other.p99', value: p99, n: samples },
    ];
  } finally {
    await client.close();
    await endProcess(worker);
  }
}

/** `count` hello orchestrations started at once on `storeUrl` (default: a fresh SQLite file). */
export async function hello(
  count: number,
  storeUrl?: string,
): Promise<{ perSecond: number; p50: number; p99: number }> {
  const store = storeUrl ? { url: storeUrl, cleanup: () => {} } : freshSqlite();
  try {
    const measured = await helloWorkload(store.url, count);
    const value = (key: string) => measured.find((m) => m.key === key)!.value;
    return { perSecond: value('hello.rate'), p50: value('hello.p50'), p99: value('hello.p99') };
  } finally {
    store.cleanup();
  }
}

/** One orchestration of `steps` sequential no-op activities on `storeUrl` (default: a fresh SQLite file); milliseconds. */
export async function sequence(steps: number, storeUrl?: string): Promise<number> {
  const store = storeUrl ? { url: storeUrl, cleanup: () => {} } : freshSqlite();
  try {
    return (await sequenceWorkload(store.url, steps)).find((m) => m.key === `sequence.ms.${steps}`)!.value;
  } finally {
    store.cleanup();
  }
}
