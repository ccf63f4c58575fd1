/**
 * The same workloads on DBOS Transact, the peer, on the same PostgreSQL server (its own schema per case): a
 * workflow per orchestration, `DBOS.runStep` per activity, `Promise.all` of steps for fan-out, `send`/`recv`
 * for external events, and a DBOS queue served by another process for cross-process dispatch. Each is written
 * the way DBOS's documentation shows, with default settings.
 */
import { clockOffset, nextMessage } from '../clock-sync.js';
import { epochMs, percentiles, sleep } from '../metrics.js';
import { warmUp, type CaseSpec } from '../plan.js';
import { endProcess, forkBench } from '../processes.js';
import { PG_BENCH_URL } from '../stores.js';
import type { Measured } from '../workloads.js';
import { DBOS_APP, loadDbos, type DbosClient, type DbosFacade } from './dbos-api.js';

/** The queue of the cross-process dispatch case. */
export const DBOS_QUEUE = 'bench';

/** Registers the benchmark's workflows (before launch, as DBOS requires); `onProbe` hears when a probe step runs. */
export function registerWorkflows(DBOS: DbosFacade, onProbe: (t0: number, at: number) => void) {
  const noop = async (i: number) => i;
  const sayHello = async (city: string) => `Hello ${city}!`;
  return {
    hello: DBOS.registerWorkflow(
      async () => [
        await DBOS.runStep(() => sayHello('Tokyo'), { name: 'sayHello' }),
        await DBOS.runStep(() => sayHello('Seattle'), { name: 'sayHello' }),
        await DBOS.runStep(() => sayHello('London'), { name: 'sayHello' }),
      ],
      { name: 'hello' },
    ),
    sequence: DBOS.registerWorkflow(
      async (n: number) => {
        let last = 0;
        for (let i = 0; i < n; i++) last = await DBOS.runStep(() => noop(i), { name: 'noop' });
        return last;
      },
      { name: 'sequence' },
    ),
    fanout: DBOS.registerWorkflow(
      async (n: number) => {
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) => DBOS.runStep(() => noop(i), { name: 'noop' })),
        );
        return results.length;
      },
      { name: 'fanout' },
    ),
    events: DBOS.registerWorkflow(
      async (n: number) => {
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const value = await DBOS.recv<number>('e', 600);
          if (value === null) throw new Error('no event within 600 s');
          sum += value;
        }
        return sum;
      },
      { name: 'events' },
    ),
    probe: DBOS.registerWorkflow(
      async (t0: number) =>
        DBOS.runStep(
          async () => {
            onProbe(t0, epochMs());
            return t0;
          },
          { name: 'probe' },
        ),
      { name: 'probe' },
    ),
  };
}

/** DBOS's configuration for a case's schema. */
export function dbosConfig(server: string, schema: string) {
  return {
    name: DBOS_APP.name,
    applicationVersion: DBOS_APP.version,
    systemDatabaseUrl: server,
    systemDatabaseSchemaName: schema,
    logLevel: 'error',
  };
}

/** Runs one DBOS case of the harness. */
export async function runDbosCase(spec: CaseSpec): Promise<Measured[]> {
  const server = spec.pgServer ?? PG_BENCH_URL;
  const schema = spec.schema!;
  const { sizes } = spec;
  if (spec.workload === 'dispatch' && spec.param === 'other')
    return dispatchOtherProcess(server, schema, sizes.dispatchPolledSamples);

  const { DBOS } = await loadDbos();
  let probeSink: ((t0: number, at: number) => void) | undefined;
  const workflows = registerWorkflows(DBOS, (t0, at) => probeSink?.(t0, at));
  DBOS.setConfig(dbosConfig(server, schema));
  await DBOS.launch();
  try {
    const timed = async <A extends unknown[], R>(workflow: (...args: A) => Promise<R>, ...args: A) => {
      const started = performance.now();
      const result = await (await DBOS.startWorkflow(workflow)(...args)).getResult();
      return { result, ms: performance.now() - started };
    };
    switch (spec.workload) {
      case 'hello': {
        const n = sizes.hello;
        await Promise.all(Array.from({ length: warmUp(n, 'instances') }, () => timed(workflows.hello)));
        const started = Date.now();
        const handles = await Promise.all(Array.from({ length: n }, () => DBOS.startWorkflow(workflows.hello)()));
        await Promise.all(handles.map((h) => h.getResult()));
        const ids = handles.map((h) => h.workflowID);
        const rows = await DBOS.listWorkflows({ workflowIDs: ids });
        const done = rows.filter((r) => r.status === 'SUCCESS');
        if (done.length !== n) throw new Error(`hello: ${done.length} of ${n} workflows succeeded`);
        const updated = (r: (typeof rows)[number]) => r.updatedAt ?? r.createdAt;
        const last = Math.max(...done.map(updated));
        const { p50, p99 } = percentiles(done.map((r) => updated(r) - r.createdAt));
        const seconds = (last - started) / 1000;
        return [
          { key: 'hello.rate', value: n / seconds, note: `${seconds.toFixed(2)} s`, n },
          { key: 'hello.p50', value: p50, n },
          { key: 'hello.p99', value: p99, n },
        ];
      }
      case 'closed': {
        const { n, inFlight } = sizes.closed;
        const run = async (count: number) => {
          const latencies: number[] = [];
          let next = 0;
          const lane = async () => {
            while (next < count) {
              next++;
              latencies.push((await timed(workflows.hello)).ms);
            }
          };
          const started = performance.now();
          await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
          return { ms: performance.now() - started, latencies };
        };
        await run(warmUp(n, 'instances'));
        const { ms, latencies } = await run(n);
        return [
          { key: 'closed.rate', value: n / (ms / 1000), note: `${(ms / 1000).toFixed(2)} s`, n },
          { key: 'closed.p50', value: percentiles(latencies).p50, n },
        ];
      }
      case 'sequence':
      case 'fanout': {
        const n = spec.param as number;
        const workflow = spec.workload === 'sequence' ? workflows.sequence : workflows.fanout;
        const expected = spec.workload === 'sequence' ? n - 1 : n;
        await timed(workflow, warmUp(n, 'steps'));
        const { result, ms } = await timed(workflow, n);
        if (result !== expected) throw new Error(`${spec.workload}(${n}) returned ${JSON.stringify(result)}`);
        return [
          { key: `${spec.workload}.rate.${n}`, value: n / (ms / 1000), note: `${(ms / 1000).toFixed(2)} s`, n },
          { key: `${spec.workload}.ms.${n}`, value: ms, n },
        ];
      }
      case 'events': {
        const run = async (n: number) => {
          const handle = await DBOS.startWorkflow(workflows.events)(n);
          const started = performance.now();
          for (let i = 0; i < n; i++) await DBOS.send(handle.workflowID, 1, 'e');
          const sum = await handle.getResult();
          if (sum !== n) throw new Error(`events(${n}) returned ${sum}`);
          return performance.now() - started;
        };
        await run(warmUp(sizes.events, 'steps'));
        const ms = await run(sizes.events);
        return [
          {
            key: 'events.rate',
            value: sizes.events / (ms / 1000),
            note: `${(ms / 1000).toFixed(2)} s`,
            n: sizes.events,
          },
        ];
      }
      case 'dispatch': {
        const latencies: number[] = [];
        for (let i = -3; i < sizes.dispatchSamples; i++) {
          await sleep(20 + Math.random() * 40);
          const running = new Promise<number>((resolve) => (probeSink = (t0, at) => resolve(at - t0)));
          const t0 = epochMs();
          const handle = await DBOS.startWorkflow(workflows.probe)(t0);
          const latency = await running;
          await handle.getResult();
          if (i >= 0) latencies.push(latency);
        }
        const { p50, p99 } = percentiles(latencies);
        return [
          { key: 'dispatch.same.p50', value: p50, n: sizes.dispatchSamples },
          { key: 'dispatch.same.p99', value: p99, n: sizes.dispatchSamples },
        ];
      }
      default:
        throw new Error(`DBOS has no equivalent of the '${spec.workload}' workload`);
    }
  } finally {
    await DBOS.shutdown();
  }
}

/**
 * Cross-process dispatch on DBOS: this process enqueues the probe workflow with `DBOSClient`; an idle DBOS
 * process serving the queue (default settings: it polls the queue) runs it and reports when its step started.
 */
async function dispatchOtherProcess(server: string, schema: string, samples: number): Promise<Measured[]> {
  const worker = forkBench('peers/dbos-dispatch-worker.ts', [server, schema]);
  worker.stdout?.resume();
  worker.stderr?.resume();
  let client: DbosClient | undefined;
  try {
    await nextMessage(worker, (m) => (m.type === 'ready' ? true : undefined), 60_000);
    const { DBOSClient } = await loadDbos();
    client = await DBOSClient.create({
      systemDatabaseUrl: server,
      systemDatabaseSchemaName: schema,
      applicationName: DBOS_APP.name,
    });
    const offset = await clockOffset(worker);
    const latencies: number[] = [];
    for (let i = -2; i < samples; i++) {
      // DBOS's queue is polled (default every 1 s): starts at random phases of that interval.
      await sleep(30 + Math.random() * 1000);
      const t0 = epochMs();
      const running = nextMessage(
        worker,
        (m) => (m.type === 'probe' && m.t0 === t0 ? m.at - offset - t0 : undefined),
        120_000,
      );
      await client.enqueue({ queueName: DBOS_QUEUE, workflowName: 'probe', appVersion: DBOS_APP.version }, t0);
      const latency = await running;
      if (i >= 0) latencies.push(latency);
    }
    const { p50, p99 } = percentiles(latencies);
    return [
      { key: 'dispatch.other.p50', value: p50, n: samples },
      { key: 'dispatch.other.p99', value: p99, n: samples },
    ];
  } finally {
    await client?.destroy();
    await endProcess(worker);
  }
}
