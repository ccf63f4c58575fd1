/**
 * Scale-out: N "hello" orchestrations (3 activities each) run by 1, 2 and 4 `duraflow worker` processes on
 * PostgreSQL, next to the same workload on SQLite (one worker process), plus the raw commit rate of each store.
 *
 *   npx tsx bench/scale-out.ts [--n 1000] [--workers 1,2,4]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createClient } from '../src/index.js';
import { dropSchema, freshSqlite, newSchemaName, pgUnavailableReason, schemaUrl } from './stores.js';
import { REPO_ROOT } from './processes.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const N = Number(arg('n', '1000'));
const WORKER_COUNTS = arg('workers', '1,2,4').split(',').map(Number);

async function startWorker(store: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/duraflow.js', 'worker', 'bench/hello-app.ts', '--store', store], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!out.includes('running') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (!out.includes('running')) throw new Error(`worker did not start: ${out}`);
  return child;
}

/** Starts N instances from this process and returns orchestrations per second (first start → last completion). */
async function run(store: string, workers: number): Promise<number> {
  const children = [];
  for (let i = 0; i < workers; i++) children.push(await startWorker(store));
  const client = await createClient({ store });
  try {
    const started = Date.now();
    for (let i = 0; i < N; i += 100) {
      await Promise.all(Array.from({ length: Math.min(100, N - i) }, () => client.startNew('hello')));
    }
    const deadline = Date.now() + 300_000;
    let done: Awaited<ReturnType<typeof client.getStatusBy>> = [];
    while (Date.now() < deadline) {
      done = await client.getStatusBy({ runtimeStatus: ['Completed'] });
      if (done.length >= N) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (done.length < N) throw new Error(`only ${done.length} of ${N} completed`);
    const last = Math.max(...done.map((s) => s.lastUpdatedTime.getTime()));
    return N / ((last - started) / 1000);
  } finally {
    await client.close();
    for (const child of children) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
}

const rows: string[] = [];
const sqlite = freshSqlite();
try {
  rows.push(`| SQLite | 1 | ${(await run(sqlite.url, 1)).toFixed(0)} |`);
} finally {
  sqlite.cleanup();
}
const unavailable = await pgUnavailableReason();
if (unavailable) {
  rows.push(`| PostgreSQL | – | skipped: ${unavailable} |`);
} else {
  for (const workers of WORKER_COUNTS) {
    const schema = newSchemaName('scaleout');
    try {
      rows.push(`| PostgreSQL | ${workers} | ${(await run(schemaUrl(schema), workers)).toFixed(0)} |`);
    } finally {
      await dropSchema(schema);
    }
  }
}
process.stdout.write(`hello × ${N} (3 activities each), started from a client process\n\n| store | worker processes | orchestrations/s |\n|---|---|---|\n${rows.join('\n')}\n`);
