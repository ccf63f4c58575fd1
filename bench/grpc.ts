/**
 * `npx tsx bench/grpc.ts [--quick]`: the hello workload (3 sequential activities per orchestration, all started
 * at once) served by a durabletask-js worker over gRPC, next to the same workload with TypeScript functions in
 * the duraflow process, both on a fresh SQLite file in the same run. Writes bench/results/grpc.{md,json}.
 * Also reports the CPU time of both processes per measured orchestration (`process.cpuUsage`, no profiler).
 * `--sdk-logger console`: the worker keeps the SDK's default console logger instead of a `NoOpLogger`.
 * `--profile`: CPU-profiles the measured gRPC run on both sides (the sidecar host through `node:inspector`, the
 * worker with `--cpu-prof`) and writes their summaries (bench/profile-summary.ts) to bench/results/profiles/.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DFApp, type DurableClient } from '../src/index.js';
import { ANY_NAME } from '../src/store/store.js';
import { acquireStore } from '../src/store/open-store.js';
import { freshSqlite, hello, sqliteCommitRate } from './workloads.js';
import { summarizeProfile } from './profile-summary.js';

const quick = process.argv.includes('--quick');
const n = quick ? 250 : 1000;
const sdkLogger = process.argv.includes('--sdk-logger') ? (process.argv[process.argv.indexOf('--sdk-logger') + 1] ?? 'quiet') : 'quiet';
const profileDir = process.argv.includes('--profile') ? join(process.cwd(), 'bench/results/profiles') : undefined;

/** Starts `count` hello orchestrations at once through `client`; orchestrations per second and latencies. */
async function measure(client: DurableClient, count: number): Promise<{ perSecond: number; p50: number; p99: number }> {
  const started = performance.now();
  const startedAt = new Map<string, number>();
  await Promise.all(
    Array.from({ length: count }, async () => {
      const t = performance.now();
      startedAt.set(await client.startNew('hello'), t);
    }),
  );
  const latencies = await Promise.all(
    [...startedAt].map(async ([id, t]) => {
      const status = await client.waitForCompletion(id);
      if (status.runtimeStatus !== 'Completed') throw new Error(`${id} ended ${status.runtimeStatus}: ${JSON.stringify(status.failureDetails)}`);
      return status.lastUpdatedTime.getTime() - (t + performance.timeOrigin);
    }),
  );
  const all = await client.getStatusBy({ runtimeStatus: ['Completed'] });
  const last = Math.max(...all.map((s) => s.lastUpdatedTime.getTime()));
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { perSecond: count / ((last - (started + performance.timeOrigin)) / 1000), p50: pct(0.5), p99: pct(0.99) };
}

/** The same workload with the functions in a durabletask-js worker process connected over gRPC. */
async function overGrpc(count: number): Promise<{ perSecond: number; p50: number; p99: number; sidecarCpuMs: number; workerCpuMs: number }> {
  const store = freshSqlite();
  const app = new DFApp({ store: store.url });
  const host = await app.start({ port: 0, grpcPort: 0 });
  if (profileDir) {
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }
  const profileArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const worker = spawn(process.execPath, [...profileArgs, '--import', 'tsx', fileURLToPath(new URL('./grpc-worker.ts', import.meta.url)), host.grpcAddress!, sdkLogger], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    // The worker's stdout: its ready line, its CPU readings (`cpu <µs>` lines), and the SDK's log lines.
    let tail = '';
    const readings: ((micros: number) => void)[] = [];
    await new Promise<void>((resolve, reject) => {
      worker.stdout!.on('data', (chunk: Buffer) => {
        const lines = (tail + chunk.toString()).split('\n');
        tail = lines.pop()!;
        for (const line of lines) {
          if (line === 'worker-ready') resolve();
          else if (line.startsWith('cpu ')) readings.shift()?.(Number(line.slice(4)));
        }
      });
      worker.once('exit', (code) => reject(new Error(`the SDK worker exited with ${code}`)));
    });
    const workerCpu = () => new Promise<number>((resolve) => {
      readings.push(resolve);
      worker.kill('SIGUSR2');
    });
    const handle = await acquireStore(store.url);
    while (!(await handle.store.hub('default').getRegisteredNames())?.orchestrations.includes(ANY_NAME)) await new Promise((r) => setTimeout(r, 20));
    await handle.release();
    await new Promise((r) => setTimeout(r, 1100)); // the worker's registry cache catches up
    await measure(host.client, Math.min(50, count)); // warm-up (JIT, connections)
    const session = profileDir ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const [workerBefore, sidecarBefore] = [await workerCpu(), process.cpuUsage()];
    const result = await measure(host.client, count);
    const sidecarUsed = process.cpuUsage(sidecarBefore);
    const workerCpuMs = (await workerCpu()) - workerBefore;
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(join(profileDir!, 'grpc-sidecar.cpuprofile'), JSON.stringify(profile));
      session.disconnect();
    }
    // The host's CPU includes the bench's own client calls (starts, waits), a small share.
    return { ...result, sidecarCpuMs: (sidecarUsed.user + sidecarUsed.system) / 1000 / count, workerCpuMs: workerCpuMs / 1000 / count };
  } finally {
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    if (profileDir) {
      await exited; // the worker writes its profile as it exits
      // tsx's loader thread writes a profile too; the main thread's (thread 0) is the worker's.
      const main = readdirSync(profileDir).find((f) => f.includes(`.${worker.pid}.0.`) && f.endsWith('.cpuprofile'));
      if (main) renameSync(join(profileDir, main), join(profileDir, 'grpc-worker.cpuprofile'));
    }
    await host.stop();
    store.cleanup();
  }
}

const commitRate = sqliteCommitRate();
const local = await hello(n);
const grpc = await overGrpc(n);
const rows = [
  ['SQLite single-row commits/s (limit)', commitRate.toFixed(0), ''],
  [`hello × ${n}, TypeScript functions in-process: orchestrations/s`, local.perSecond.toFixed(0), '1.00'],
  [`hello × ${n}, durabletask-js worker over gRPC: orchestrations/s`, grpc.perSecond.toFixed(0), (grpc.perSecond / local.perSecond).toFixed(2)],
  [`in-process start→completed p50 / p99 (ms)`, `${local.p50.toFixed(0)} / ${local.p99.toFixed(0)}`, ''],
  [`over gRPC start→completed p50 / p99 (ms)`, `${grpc.p50.toFixed(0)} / ${grpc.p99.toFixed(0)}`, ''],
  [`over gRPC, CPU per orchestration: duraflow host / SDK worker (ms)`, `${grpc.sidecarCpuMs.toFixed(2)} / ${grpc.workerCpuMs.toFixed(2)}`, ''],
];
const markdown = [
  `# duraflow gRPC benchmark (${new Date().toISOString()}, ${cpus().length} cores, node ${process.version}${quick ? ', quick' : ''}${sdkLogger === 'console' ? ', SDK console logger' : ''})`,
  '',
  '| workload | value | ratio to in-process |',
  '|---|---|---|',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
  '',
].join('\n');
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/grpc.md', markdown);
writeFileSync('bench/results/grpc.json', JSON.stringify({ quick, sdkLogger, n, commitRate, local, grpc }, null, 2));
process.stdout.write(markdown);
if (profileDir) {
  for (const side of ['sidecar', 'worker']) {
    const summary = summarizeProfile(join(profileDir, `grpc-${side}.cpuprofile`), 30);
    writeFileSync(join(profileDir, `grpc-${side}.md`), summary);
    process.stdout.write(`\n${summary}`);
  }
}
