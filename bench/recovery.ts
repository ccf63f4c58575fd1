/**
 * Recovery after a SIGKILL: how long the instances a worker held in flight wait after it dies.
 *
 *   npx tsx bench/recovery.ts [--n 10] [--rounds 1] [--stores sqlite,postgres] [--scenarios standby,restart]
 *
 * A victim worker process (default options) holds `n` instances of each kind in flight: mid-activity (the
 * activity runs and never returns there), mid-episode (the instance is leased, its commit never made) and
 * waiting on a timer that falls due some seconds after the kill. As soon as all is in flight it is SIGKILLed, with
 * a second worker already running (`standby`) or started right after the kill (`restart`: the time includes its
 * start-up). Measured per instance: from the kill (timers: from their due time) to the next event in its history —
 * the episode that completes it, whose commit time the store records as `lastUpdatedTime`. Prints p50/max per
 * store, scenario and kind.
 */
import type { ChildProcess } from 'node:child_process';
import { createClient, type DurableClient } from '../src/index.js';
import { quantile, sleep, formatNumber } from './metrics.js';
import { endProcess, forkBench, tail } from './processes.js';
import { EPISODE_PREFIX, IN_FLIGHT_KINDS, type InFlightKind, type RecoveryMessage } from './recovery-app.js';
import { dropSchema, freshSqlite, newSchemaName, pgUnavailableReason, schemaUrl } from './stores.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const N = Number(arg('n', '10'));
const ROUNDS = Number(arg('rounds', '1'));
const STORES = arg('stores', 'sqlite,postgres').split(',');
const SCENARIOS = arg('scenarios', 'standby,restart').split(',') as Scenario[];
/** Longest wait for the victim to put everything in flight. */
const SETUP_MS = 30_000;
/** The timers fall due this long after they were created (the kill comes as soon as all is in flight, before that). */
const TIMER_DUE_MS = 10_000;

type Scenario = 'standby' | 'restart';

/** A worker child process and the messages it sent. */
interface WorkerProcess {
  child: ChildProcess;
  workerId: string;
  held: Map<InFlightKind, Set<string>>;
  stderr: () => string;
}

async function startWorker(url: string, role: 'victim' | 'rescuer'): Promise<WorkerProcess> {
  const child = forkBench('recovery-worker.ts', [url, role]);
  child.stdout?.resume();
  const stderr = tail(child.stderr);
  const held = new Map<InFlightKind, Set<string>>(IN_FLIGHT_KINDS.map((k) => [k, new Set()]));
  const workerId = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: RecoveryMessage) => {
      if (message.type === 'ready') resolve(message.workerId);
      else if (message.type === 'held') held.get(message.kind)!.add(message.instanceId);
      else reject(new Error(`${role} failed: ${message.message}`));
    });
    child.once('exit', (code, signal) => reject(new Error(`${role} exited (${code ?? signal}) before it was ready: ${stderr()}`)));
  });
  return { child, workerId, held, stderr };
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** One kill: the recovery time (ms) of every in-flight instance, by kind. */
async function round(url: string, scenario: Scenario, tag: string): Promise<Map<InFlightKind, number[]>> {
  const client = await createClient({ store: url });
  const workers: WorkerProcess[] = [];
  try {
    const victim = await startWorker(url, 'victim');
    workers.push(victim);
    const fireAt = Date.now() + TIMER_DUE_MS;
    const ids = new Map<InFlightKind, string[]>(IN_FLIGHT_KINDS.map((k) => [k, []]));
    const start = async (kind: InFlightKind, name: string, input?: unknown) => {
      const prefix = kind === 'episode' ? EPISODE_PREFIX : `${kind}-`;
      const made = await Promise.all(
        Array.from({ length: N }, (_, i) => client.startNew(name, { instanceId: `${prefix}${tag}-${i}`, input })),
      );
      ids.get(kind)!.push(...made);
    };
    await Promise.all([start('activity', 'midActivity'), start('timer', 'midTimer', fireAt)]);
    await waitFor(() => victim.held.get('activity')!.size >= N, SETUP_MS, 'the activities to start');
    await waitFor(
      async () => (await Promise.all(ids.get('timer')!.map((id) => client.getStatus(id)))).every((s) => s?.runtimeStatus === 'Running'),
      SETUP_MS,
      'the timers to be created',
    );
    await start('episode', 'midEpisode');
    await waitFor(() => victim.held.get('episode')!.size >= N, SETUP_MS, 'the episodes to be withheld');
    if (scenario === 'standby') workers.push(await startWorker(url, 'rescuer'));
    if (Date.now() >= fireAt) throw new Error('the set-up took longer than the timers: raise TIMER_DUE_MS');

    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    if (scenario === 'restart') workers.push(await startWorker(url, 'rescuer'));
    const recovery = new Map<InFlightKind, number[]>();
    for (const kind of IN_FLIGHT_KINDS) {
      const times: number[] = [];
      for (const id of ids.get(kind)!) {
        const status = await waitForCompletion(client, id);
        const earliest = kind === 'timer' ? Math.max(killedAt, fireAt) : killedAt;
        times.push(status - earliest);
      }
      recovery.set(kind, times);
    }
    return recovery;
  } finally {
    await client.close();
    for (const w of workers) await endProcess(w.child);
  }
}

/** Waits until `id` completed; returns its last update time (the commit of its next event) in ms. */
async function waitForCompletion(client: DurableClient, id: string): Promise<number> {
  const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 180_000 });
  if (status.runtimeStatus !== 'Completed') throw new Error(`${id} ended ${status.runtimeStatus}`);
  return status.lastUpdatedTime.getTime();
}

const seconds = (ms: number) => formatNumber(ms / 1000);
const rows: string[] = [];
const summary = (store: string, scenario: Scenario, byKind: Map<InFlightKind, number[]>) => {
  const all: number[] = [];
  for (const kind of IN_FLIGHT_KINDS) {
    const times = [...(byKind.get(kind) ?? [])].sort((a, b) => a - b);
    all.push(...times);
    rows.push(`| ${store} | ${scenario} | ${kind} | ${times.length} | ${seconds(quantile(times, 0.5))} | ${seconds(times[times.length - 1] ?? NaN)} |`);
  }
  all.sort((a, b) => a - b);
  rows.push(`| ${store} | ${scenario} | **all** | ${all.length} | **${seconds(quantile(all, 0.5))}** | **${seconds(all[all.length - 1] ?? NaN)}** |`);
};

for (const storeName of STORES) {
  if (storeName === 'postgres') {
    const unavailable = await pgUnavailableReason();
    if (unavailable) {
      rows.push(`| PostgreSQL | – | – | – | skipped: ${unavailable} | |`);
      continue;
    }
  }
  for (const scenario of SCENARIOS) {
    const byKind = new Map<InFlightKind, number[]>(IN_FLIGHT_KINDS.map((k) => [k, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const tag = `${scenario}-${r}`;
      let measured: Map<InFlightKind, number[]>;
      if (storeName === 'sqlite') {
        const sqlite = freshSqlite();
        try {
          measured = await round(sqlite.url, scenario, tag);
        } finally {
          sqlite.cleanup();
        }
      } else {
        const schema = newSchemaName('recovery');
        try {
          measured = await round(schemaUrl(schema), scenario, tag);
        } finally {
          await dropSchema(schema);
        }
      }
      for (const [kind, times] of measured) byKind.get(kind)!.push(...times);
      process.stderr.write(`${storeName} ${scenario} round ${r + 1}/${ROUNDS} done\n`);
    }
    summary(storeName === 'sqlite' ? 'SQLite' : 'PostgreSQL', scenario, byKind);
  }
}
process.stdout.write(
  `Recovery after SIGKILL of a worker holding ${N} instances of each kind in flight (${ROUNDS} round(s)); seconds from the kill ` +
    `(timers: from their due time) to each instance's next history event\n\n` +
    `| store | second worker | in flight | n | p50 (s) | max (s) |\n|---|---|---|--:|--:|--:|\n${rows.join('\n')}\n`,
);
