/**
 * Issue 22's cost check: the cost per step of `async` orchestrators against generators doing the same calls, in
 * the same run, alternating (the machine may be shared and loaded, so only the ratio of neighbours counts).
 *
 * - core: the pure executor alone (no store): a sequence of N activities (one episode per step), a fan-out of
 *   N activities (all completions in one episode), and a fresh executor replaying the sequence's whole history;
 * - worker: one orchestration end to end on a fresh SQLite file (the worker, its store commits, activities).
 *
 * Core numbers are CPU time of this process (less disturbed by other load than wall time); worker numbers are
 * wall time and CPU time of this process (worker, store and activities: everything but the waits for the disk)
 * from startNew to completion.
 *
 *   npx tsx bench/async-style.ts [rounds=15]
 */
import { OrchestrationExecutor, type EpisodeResult } from '../src/core/orchestration-executor.js';
import { makeEvent, type HistoryEvent } from '../src/sdk/history.js';
import type { OrchestratorAction } from '../src/core/actions.js';
import { DFApp, type OrchestrationContext } from '../src/index.js';
import { freshSqlite } from './stores.js';

const rounds = Number(process.argv[2] ?? 15);
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
/** CPU time of this process in milliseconds: less disturbed than wall time by other load on a shared machine. */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const styles = {
  generator: {
    *sequence(ctx: OrchestrationContext, n: number): Generator<any, number, any> {
      let last = 0;
      for (let i = 0; i < n; i++) last = yield ctx.callActivity('noop', i);
      return last;
    },
    *fanout(ctx: OrchestrationContext, n: number): Generator<any, number, any> {
      const results: number[] = yield ctx.taskAll(Array.from({ length: n }, (_, i) => ctx.callActivity('noop', i)));
      return results.length;
    },
  },
  async: {
    async sequence(ctx: OrchestrationContext, n: number): Promise<number> {
      let last = 0;
      for (let i = 0; i < n; i++) last = await ctx.callActivity('noop', i);
      return last;
    },
    async fanout(ctx: OrchestrationContext, n: number): Promise<number> {
      const results = await Promise.all(Array.from({ length: n }, (_, i) => ctx.callActivity('noop', i)));
      return results.length;
    },
  },
};
type Style = keyof typeof styles;

function executor(fn: (ctx: OrchestrationContext, n: number) => unknown): OrchestrationExecutor {
  return new OrchestrationExecutor({ resolve: () => fn as never });
}

/** The scheduling events the runtime records for an episode's actions. */
function recorded(actions: readonly OrchestratorAction[], ms: number): HistoryEvent[] {
  return actions.flatMap((a) => (a.type === 'ScheduleTask' ? [makeEvent({ eventType: 'TaskScheduled', eventId: a.id, name: a.name, ...(a.input ? { input: a.input } : {}) }, at(ms))] : []));
}

/** Runs `fn` to its end, answering every activity at once; the history and microseconds per step. */
async function core(fn: (ctx: OrchestrationContext, n: number) => unknown, n: number): Promise<{ usPerStep: number; history: HistoryEvent[] }> {
  const ex = executor(fn);
  const history: HistoryEvent[] = [];
  let news: HistoryEvent[] = [makeEvent({ eventType: 'OrchestratorStarted' }, at(0)), makeEvent({ eventType: 'ExecutionStarted', name: 'b', instanceId: 'b', executionId: 'e', input: String(n) }, at(0))];
  const started = cpuMs();
  for (let ms = 1; ; ms++) {
    const result: EpisodeResult = await ex.execute([], news);
    history.push(...result.acceptedEvents, ...recorded(result.actions, ms), makeEvent({ eventType: 'OrchestratorCompleted' }, at(ms)));
    if (result.completion) break;
    news = [makeEvent({ eventType: 'OrchestratorStarted' }, at(ms))];
    for (const a of result.actions) if (a.type === 'ScheduleTask') news.push(makeEvent({ eventType: 'TaskCompleted', taskScheduledId: a.id, result: a.input ?? '0' }, at(ms)));
  }
  return { usPerStep: ((cpuMs() - started) * 1000) / n, history };
}

async function replay(fn: (ctx: OrchestrationContext, n: number) => unknown, history: HistoryEvent[], n: number): Promise<number> {
  const started = cpuMs();
  const result = await executor(fn).execute(history, []);
  if (result.completion?.status !== 'Completed') throw new Error('replay did not complete');
  return ((cpuMs() - started) * 1000) / n;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const spread = (values: number[]) => { const s = [...values].sort((a, b) => a - b); return `${s[Math.floor(s.length / 4)]!.toFixed(1)}–${s[Math.floor((3 * s.length) / 4)]!.toFixed(1)}`; };
const samples: Record<string, Record<Style, number[]>> = {};
const note = (key: string, style: Style, value: number) => ((samples[key] ??= { generator: [], async: [] })[style].push(value));

// Core: warm up both styles, then alternate which goes first in each round.
const CORE_N = 1000;
// The first rounds only warm the JIT up (their numbers run 2-4 times higher): they are not counted.
const WARM_UP_ROUNDS = 4;
for (let round = -WARM_UP_ROUNDS; round < rounds; round++) {
  const order: Style[] = round % 2 === 0 ? ['generator', 'async'] : ['async', 'generator'];
  for (const style of order) {
    const sequence = await core(styles[style].sequence, CORE_N);
    const fanout = await core(styles[style].fanout, CORE_N);
    const replayed = await replay(styles[style].sequence, sequence.history, CORE_N);
    if (round < 0) continue;
    note(`core sequence (${CORE_N} episodes)`, style, sequence.usPerStep);
    note(`core fan-out (${CORE_N} in one episode)`, style, fanout.usPerStep);
    note(`core replay of the sequence (${CORE_N} steps)`, style, replayed);
  }
}

// Worker: both styles in one app on one SQLite file, alternating.
const WORKER_SEQ = 200;
const WORKER_FAN = 300;
const store = freshSqlite();
const app = new DFApp({ store: store.url });
app.activity('noop', async (i: number) => i);
for (const style of ['generator', 'async'] as const) {
  app.orchestration(`sequence-${style}`, styles[style].sequence as never);
  app.orchestration(`fanout-${style}`, styles[style].fanout as never);
}
const worker = await app.startWorker();
/** Wall time and CPU time of this process per step, startNew to completion (activities run in this process). */
const timed = async (name: string, n: number): Promise<{ wall: number; cpu: number }> => {
  const started = performance.now();
  const startedCpu = cpuMs();
  const status = await worker.client.waitForCompletion(await worker.client.startNew(name, { input: n }), { timeoutInMilliseconds: 120_000 });
  if (status.runtimeStatus !== 'Completed') throw new Error(`${name} ended ${status.runtimeStatus}`);
  return { wall: ((performance.now() - started) * 1000) / n, cpu: ((cpuMs() - startedCpu) * 1000) / n };
};
try {
  for (const style of ['generator', 'async'] as const) await timed(`sequence-${style}`, 20);
  for (let round = 0; round < Math.max(3, Math.ceil(rounds / 2)); round++) {
    const order: Style[] = round % 2 === 0 ? ['generator', 'async'] : ['async', 'generator'];
    for (const style of order) {
      const sequence = await timed(`sequence-${style}`, WORKER_SEQ);
      note(`worker sequence (${WORKER_SEQ} steps, SQLite), wall`, style, sequence.wall);
      note(`worker sequence (${WORKER_SEQ} steps, SQLite), CPU`, style, sequence.cpu);
      const fanout = await timed(`fanout-${style}`, WORKER_FAN);
      note(`worker fan-out (${WORKER_FAN} activities, SQLite), wall`, style, fanout.wall);
      note(`worker fan-out (${WORKER_FAN} activities, SQLite), CPU`, style, fanout.cpu);
    }
  }
} finally {
  await worker.stop();
  store.cleanup();
}

process.stdout.write(`median µs per step (interquartile range) over ${rounds} alternating rounds (core: CPU time; worker: wall and CPU time; node ${process.version})\n`);
for (const [key, { generator, async }] of Object.entries(samples)) {
  const [g, a] = [median(generator), median(async)];
  // Each round measured both styles back to back: the ratio within a round is the least disturbed by load drifting.
  const paired = median(async.map((value, round) => value / generator[round]!));
  process.stdout.write(
    `${key.padEnd(48)} generator ${g.toFixed(2).padStart(8)} (${spread(generator)})  async ${a.toFixed(2).padStart(8)} (${spread(async)})  ` +
      `async/generator ${(a / g).toFixed(2)}, median of round ratios ${paired.toFixed(2)}\n`,
  );
}
