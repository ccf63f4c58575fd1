/**
 * The benchmark harness: plans the cases, runs each in a child process of its own on a fresh store (a SQLite
 * file, or a PostgreSQL schema dropped afterwards), and writes the markdown table and the JSON of the run.
 */
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaseMessage } from './child.js';
import { STORES, WORKLOADS, type Metric, type StoreName, type WorkloadName } from './metrics.js';
import { caseName, planCases, SIZES, type CaseSpec, type Mode } from './plan.js';
import { BENCH_DIR, forkBench, tail } from './processes.js';
import { summarizeProfile } from './profile-summary.js';
import { derive, RATIO_LEGEND, renderTable, rowDefs, type CaseResult } from './report.js';
import {
  dropSchema,
  freshSqlite,
  newSchemaName,
  PG_BENCH_URL,
  pgUnavailableReason,
  schemaUrl,
  withPgClient,
} from './stores.js';

/** Options of a run. */
export interface BenchOptions {
  mode: Mode;
  workloads?: WorkloadName[];
  stores?: StoreName[];
  /** Run the DBOS peer (needs PostgreSQL; installs bench/ dependencies when missing). Default true. */
  dbos?: boolean;
  /** Folder of the results (default bench/results). */
  outDir?: string;
  /** The command line to record (default: `npm run bench`). */
  command?: string;
  /** Progress lines (default: stdout). */
  log?: (line: string) => void;
  /** PostgreSQL server (default {@link PG_BENCH_URL}). */
  pgServer?: string;
  /** Replace the results section of docs/benchmarks.md (between its bench markers) with this run's report. */
  updateDocs?: boolean;
  /** CPU-profile every case process (`--cpu-prof`) and summarize each profile under `<outDir>/profiles/`. */
  profile?: boolean;
}

/** Everything a run produced. */
export interface BenchRun {
  meta: Record<string, unknown>;
  cases: CaseResult[];
  metrics: Metric[];
  markdown: string;
  files: { markdown: string; json: string };
}

const DBOS_PACKAGE = join(BENCH_DIR, 'node_modules', '@dbos-inc', 'dbos-sdk', 'package.json');

/** Installs bench/'s own dependencies (the peers) from its lockfile when they are missing; the reason when it cannot. */
function ensurePeersInstalled(log: (line: string) => void): string | undefined {
  if (existsSync(DBOS_PACKAGE)) return undefined;
  log('installing the peers: npm --prefix bench ci');
  try {
    execSync('npm --prefix bench ci --no-audit --no-fund', { cwd: join(BENCH_DIR, '..'), stdio: 'pipe' });
    return existsSync(DBOS_PACKAGE) ? undefined : 'npm --prefix bench ci did not install @dbos-inc/dbos-sdk';
  } catch (error) {
    return `npm --prefix bench ci failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

/** Cleanups that failed during the run (a schema whose drop failed), tried again at its end. */
const failedCleanups: Array<() => Promise<void> | void> = [];

/** Runs one case in a child process; fills in and afterwards removes its store. */
async function runCase(spec: CaseSpec, pgServer: string, profileDir?: string): Promise<CaseResult> {
  const started = performance.now();
  let cleanup: () => Promise<void> | void = () => {};
  const prepared: CaseSpec = { ...spec, pgServer };
  if (spec.system === 'duraflow' && spec.store === 'sqlite') {
    const store = freshSqlite();
    prepared.url = store.url;
    cleanup = store.cleanup;
  } else if (spec.store === 'postgres') {
    const schema = newSchemaName(spec.system);
    prepared.schema = schema;
    prepared.url = schemaUrl(schema, pgServer);
    cleanup = () => dropSchema(schema, pgServer);
  }
  const child = forkBench('child.ts', [JSON.stringify(prepared)], {
    detached: true,
    ...(profileDir ? { execArgv: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}),
  });
  const stderr = tail(child.stderr);
  child.stdout?.resume();
  let message: CaseMessage | undefined;
  child.on('message', (m: CaseMessage) => (message = m));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // The case and any worker process it started share its process group.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, spec.sizes.caseTimeoutMs + 30_000);
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  clearTimeout(timer);
  try {
    await cleanup();
  } catch (error) {
    // The database may be restarting (other work on a shared machine): try again at the end of the run.
    failedCleanups.push(cleanup);
    message ??= { type: 'error', message: `cleanup failed: ${(error as Error).message}` };
  }
  const { sizes: _sizes, ...rest } = spec;
  const seconds = (performance.now() - started) / 1000;
  if (message?.type === 'result') return { spec: rest, metrics: message.metrics, seconds };
  const error = timedOut
    ? `timed out after ${Math.round(seconds)} s`
    : message?.type === 'error'
      ? message.message
      : `exited without a result: ${stderr().trim().split('\n').slice(-5).join(' | ')}`;
  // A workload that gave up waiting reports it as an error; it is a timeout all the same.
  const late = timedOut || TIMEOUT_MESSAGE.test(error);
  return { spec: rest, metrics: [], seconds, error, ...(late ? { timedOut: true } : {}) };
}

/** How workloads say they stopped waiting (see completed() and waitUntil()). */
const TIMEOUT_MESSAGE = /did not complete within|not reached within/;

/** The results section of docs/benchmarks.md lies between these markers. */
const DOCS_MARKERS = ['<!-- bench:results:begin -->', '<!-- bench:results:end -->'] as const;

/** Puts `report` (its title demoted to a third-level heading) between the markers of docs/benchmarks.md. */
function updateDocs(report: string, log: (line: string) => void): void {
  const file = join(BENCH_DIR, '..', 'docs', 'benchmarks.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const [begin, end] = DOCS_MARKERS;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return log(`docs not updated: ${file} has no ${begin} … ${end} section`);
  const body = report.replace(/^# /, '### ').trim();
  writeFileSync(file, `${text.slice(0, from + begin.length)}\n${body}\n${text.slice(to)}`);
  log(`updated ${file}`);
}

/** Writes `summary.md` next to the CPU profiles of a case. */
function summarizeProfiles(dir: string, log: (line: string) => void): void {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  if (!files.length) return log(`  no CPU profile in ${dir}`);
  writeFileSync(join(dir, 'summary.md'), files.map((f) => summarizeProfile(join(dir, f))).join('\n'));
  log(`  profile: ${join(dir, 'summary.md')}`);
}

function run(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).replace(/\n$/, '');
  } catch {
    return undefined;
  }
}

/** The disk under the temporary folder (where the SQLite files live): device, size and whether it rotates. */
function diskOf(folder: string): string {
  const source = run('df', ['-P', folder])?.split('\n')[1]?.split(/\s+/);
  if (!source?.[0]) return 'unknown';
  const device = source[0].replace('/dev/', '');
  const base = device.replace(/p?\d+$/, '');
  const rotational = (
    run('cat', [`/sys/block/${base}/queue/rotational`]) ?? run('cat', [`/sys/block/${device}/queue/rotational`])
  )?.trim();
  const size = `${Math.round(Number(source[1]) / 1024 / 1024)} GiB`;
  const kind = rotational === '0' ? 'non-rotational' : rotational === '1' ? 'reported rotational (virtual disk)' : '';
  return `${source[0]} (${size}${kind ? `, ${kind}` : ''}) mounted on ${source[5]}`;
}

async function postgresInfo(server: string): Promise<Record<string, string>> {
  return withPgClient(async (client) => {
    const out: Record<string, string> = {};
    for (const setting of ['server_version', 'synchronous_commit', 'fsync', 'wal_sync_method', 'shared_buffers']) {
      const { rows } = await client.query<Record<string, string>>(`SHOW ${setting}`);
      out[setting] = Object.values(rows[0] ?? {})[0] ?? '';
    }
    return out;
  }, server);
}

/** The commit measured, and the files under src/ that differ from it (the run measures the working tree). */
function gitState(): { commit?: string; uncommittedSrc: string[] } {
  const root = join(BENCH_DIR, '..');
  const commit = run('git', ['-C', root, 'rev-parse', '--short', 'HEAD'])?.trim();
  const changed = run('git', ['-C', root, 'status', '--porcelain', '--', 'src']) ?? '';
  return {
    ...(commit ? { commit } : {}),
    uncommittedSrc: changed
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3)),
  };
}

function dbosVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(DBOS_PACKAGE, 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function describeGit(git: ReturnType<typeof gitState>): string {
  const dirty = git.uncommittedSrc.length ? ` with uncommitted changes to ${git.uncommittedSrc.join(', ')}` : '';
  return `${git.commit ?? 'an unknown commit'}${dirty}`;
}

/** Runs the benchmark and writes `<outDir>/bench-<time>.{md,json}` and `<outDir>/latest.{md,json}`. */
export async function runBench(options: BenchOptions): Promise<BenchRun> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const sizes = SIZES[options.mode];
  const workloads = options.workloads ?? [...WORKLOADS];
  let stores = options.stores ?? [...STORES];
  let dbos = options.dbos ?? true;
  const pgServer = options.pgServer ?? PG_BENCH_URL;
  const notes: string[] = [];
  const startedAt = new Date();
  const loadAtStart = loadavg();

  if (stores.includes('postgres')) {
    const reason = await pgUnavailableReason(pgServer);
    if (reason) {
      notes.push(`PostgreSQL skipped: ${reason}`);
      stores = stores.filter((s) => s !== 'postgres');
    }
  }
  if (dbos && !stores.includes('postgres')) dbos = false;
  if (dbos) {
    const reason = ensurePeersInstalled(log);
    if (reason) {
      notes.push(`DBOS skipped: ${reason}`);
      dbos = false;
    }
  }
  if (options.dbos === false) notes.push('DBOS not run (--no-dbos).');

  const outDir = options.outDir ?? join(BENCH_DIR, 'results');
  const plan = planCases({ mode: options.mode, workloads, stores, dbos });
  const cases: CaseResult[] = [];
  for (const [i, spec] of plan.entries()) {
    const profileDir = options.profile ? join(outDir, 'profiles', caseName(spec).replace(/[^\w.-]+/g, '-')) : undefined;
    let result = await runCase(spec, pgServer, profileDir);
    if (result.error && !result.timedOut) {
      // Other work on a shared machine (a restarted or busy database) can fail a case: one more try, noted.
      log(`[${i + 1}/${plan.length}] ${caseName(spec)} failed, trying once more: ${result.error.split('\n')[0]}`);
      result = { ...(await runCase(spec, pgServer, profileDir)), retriedAfter: result.error.split('\n')[0]! };
    }
    cases.push(result);
    if (profileDir) summarizeProfiles(profileDir, log);
    const summary = result.error
      ? `FAILED: ${result.error.split('\n')[0]}`
      : result.metrics.map((m) => `${m.key}=${m.value.toFixed(m.value < 100 ? 2 : 0)}`).join(' ');
    log(`[${i + 1}/${plan.length}] ${caseName(spec)} (${result.seconds.toFixed(1)} s) ${summary}`);
  }

  for (const cleanup of failedCleanups.splice(0)) {
    try {
      await cleanup();
    } catch (error) {
      notes.push(
        `a benchmark schema could not be dropped (the next run drops it after an hour): ${(error as Error).message}`,
      );
    }
  }

  const metrics = derive(
    cases.flatMap((c) => c.metrics),
    sizes,
  );
  const finishedAt = new Date();
  const meta: Record<string, unknown> = {
    command: options.command ?? 'npm run bench',
    mode: options.mode,
    startedAt: startedAt.toISOString(),
    seconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    node: process.version,
    git: gitState(),
    cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length} cores`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    disk: diskOf(tmpdir()),
    loadAverage: { start: loadAtStart.map((l) => +l.toFixed(2)), end: loadavg().map((l) => +l.toFixed(2)) },
    stores,
    workloads,
    sizes,
    ...(stores.includes('postgres') ? { postgres: await postgresInfo(pgServer).catch(() => ({})) } : {}),
    ...(dbos ? { dbos: `@dbos-inc/dbos-sdk ${dbosVersion() ?? '?'}` } : {}),
    notes,
  };

  const failures = cases
    .filter((c) => c.error)
    .map((c) => `- ${caseName({ ...c.spec, sizes })}: ${c.error!.split('\n')[0]}`);
  const retried = cases
    .filter((c) => c.retriedAfter)
    .map((c) => `- ${caseName({ ...c.spec, sizes })}: ${c.retriedAfter}`);
  const pg = meta['postgres'] as Record<string, string> | undefined;
  const markdown = [
    `# duraflow benchmark, ${startedAt.toISOString()} (${options.mode})`,
    '',
    `- command: \`${meta['command']}\` (${meta['seconds']} s), duraflow at ${describeGit(meta['git'] as ReturnType<typeof gitState>)}`,
    `- machine: ${meta['cpu']}, ${meta['memory']}, disk ${meta['disk']}, Node ${process.version}`,
    `- load average (1/5/15 min) at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    ...(pg?.['server_version']
      ? [
          `- PostgreSQL ${pg['server_version']} (synchronous_commit=${pg['synchronous_commit']}, fsync=${pg['fsync']}, wal_sync_method=${pg['wal_sync_method']})${dbos ? `; DBOS: ${meta['dbos']}` : ''}`,
        ]
      : []),
    ...notes.map((note) => `- ${note}`),
    '',
    renderTable(metrics, cases, rowDefs(sizes, workloads)),
    '',
    RATIO_LEGEND,
    ...(failures.length ? ['', 'Failed cases:', ...failures] : []),
    ...(retried.length ? ['', 'Cases that failed once and were run again:', ...retried] : []),
    '',
  ].join('\n');

  mkdirSync(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify({ meta, metrics, cases }, null, 2);
  const files = { markdown: join(outDir, `bench-${stamp}.md`), json: join(outDir, `bench-${stamp}.json`) };
  writeFileSync(files.markdown, markdown);
  writeFileSync(files.json, json);
  writeFileSync(join(outDir, 'latest.md'), markdown);
  writeFileSync(join(outDir, 'latest.json'), json);
  if (options.updateDocs) updateDocs(markdown, log);
  return { meta, cases, metrics, markdown, files };
}
