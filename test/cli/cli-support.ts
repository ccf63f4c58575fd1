/**
 * What the CLI test files share: running `duraflow` as a real child process, asserting one-line errors, and a
 * host of the dashboard test app on a fresh SQLite store (one per test file, so the files run in parallel).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { DurableClient } from '../../src/index.js';
import { main } from '../../src/app/cli.js';
import type { Host } from '../../src/app/df-app.js';
import { sqliteTestStore } from '../support/stores.js';
import { createDashboardApp } from '../dashboard/dashboard-app.js';

/** The `duraflow` command of this repository. */
export const CLI = new URL('../../bin/duraflow.js', import.meta.url).pathname;
/** The API key of the test host. */
export const KEY = 'cli-test-key';

/** How a CLI run ended. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (bounded by `timeoutMs`), without the DURAFLOW_* variables of this process. */
export function cli(args: string[], options: { timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['DURAFLOW_URL', 'DURAFLOW_API_KEY', 'DURAFLOW_STORE']) delete env[name];
    Object.assign(env, options.env);
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env, ...(options.cwd ? { cwd: options.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`duraflow ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Runs the CLI's `main` in this process, capturing what it writes: for what the command decides before it
 * touches a store or a port (help texts, option checks), at a fraction of a child process's cost. Calls must
 * not overlap (stdout and stderr are swapped while one runs).
 */
export async function runMain(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += chunk.toString()), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += chunk.toString()), true)) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'duraflow', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** Asserts a failed run printed exactly one `duraflow: …` line matching `pattern`. */
export function assertOneLineError(run: Run, pattern: RegExp): void {
  assert.notEqual(run.code, 0, `expected a failure; stdout: ${run.stdout}`);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one error line, got: ${run.stderr}`);
  assert.match(lines[0]!, pattern);
}

/** A running host of the dashboard test app, with the CLI arguments that reach it. */
export interface CliHost {
  host: Host;
  client: DurableClient;
  storeUrl: string;
  /** `--store <url>` of the host's store. */
  S: string[];
  /** `--url <host> --api-key <key>`. */
  U: string[];
  stop(): Promise<void>;
}

/** Starts the dashboard test app on a fresh SQLite store, protected by {@link KEY}. */
export async function startCliHost(): Promise<CliHost> {
  const store = await sqliteTestStore.create();
  const host = await createDashboardApp(store.url, KEY, { worker: { pollIntervalMs: 50 } }).start({ port: 0 });
  return {
    host,
    client: host.client,
    storeUrl: store.url,
    S: ['--store', store.url],
    U: ['--url', host.url, '--api-key', KEY],
    async stop() {
      await host.stop();
      await store.cleanup();
    },
  };
}

/** Waits until instance `id` has `status`. */
export async function waitForStatus(client: DurableClient, id: string, status: string): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if ((await client.getStatus(id))?.runtimeStatus === status) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${id} never reached ${status}`);
}
