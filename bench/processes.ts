/** Starting the benchmark's TypeScript child processes (each case, and the idle workers of the dispatch cases). */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bench/ folder. */
export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
/** The repository root (children run there so `--import tsx` resolves). */
export const REPO_ROOT = join(BENCH_DIR, '..');

/**
 * Forks `bench/<file>` under tsx with an IPC channel. Output is piped (the caller drains or keeps it);
 * `detached` puts the child in a process group of its own so a timeout can end it with its own children.
 */
export function forkBench(
  file: string,
  args: string[],
  options: { detached?: boolean; execArgv?: string[] } = {},
): ChildProcess {
  return fork(join(BENCH_DIR, file), args, {
    cwd: REPO_ROOT,
    execArgv: ['--import', 'tsx', '--no-deprecation', ...(options.execArgv ?? [])],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: options.detached ?? false,
  });
}

/** Keeps the last `limit` characters written to a stream (for error reports), discarding the rest. */
export function tail(stream: NodeJS.ReadableStream | null, limit = 4000): () => string {
  let kept = '';
  stream?.on('data', (chunk: Buffer) => {
    kept = (kept + chunk.toString()).slice(-limit);
  });
  return () => kept;
}

/** Ends `child` (and, for a detached child, its process group) and waits for it to exit. */
export async function endProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
