/**
 * Real child processes for crash tests: spawns `node --import tsx <script>`, collects its output lines,
 * and tracks every live child so an `after` hook can kill whatever a failed test left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const live = new Set<Child>();

/** How a child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running child process. */
export class Child {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<ChildExit>;
  #exit: ChildExit | undefined;
  #lineWaiters: (() => void)[] = [];

  /** `stderrFd`: a file descriptor the child's stderr goes to instead of a pipe (then {@link stderr} stays empty). */
  constructor(script: string, args: string[], env: Record<string, string> = {}, options: { stderrFd?: number } = {}) {
    this.process = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', options.stderrFd ?? 'pipe'],
    });
    live.add(this);
    let partial = '';
    this.process.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const wake of this.#lineWaiters.splice(0)) wake();
    });
    this.process.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-20_000);
    });
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': by then every output line has been read.
      this.process.once('close', (code, signal) => {
        this.#exit = { code, signal };
        live.delete(this);
        for (const wake of this.#lineWaiters.splice(0)) wake();
        resolve(this.#exit);
      });
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  get hasExited(): boolean {
    return this.#exit !== undefined;
  }

  /** Waits for an output line matching `match`; fails on timeout or if the child exits first. */
  async waitForLine(match: (line: string) => boolean, timeoutMs: number, what = 'an output line'): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find(match);
      if (line !== undefined) return line;
      if (this.#exit) throw new Error(`child ${this.pid} exited (${JSON.stringify(this.#exit)}) before ${what}; stderr:\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} from child ${this.pid}; stderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#lineWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends `signal` (no-op once exited). */
  signal(signal: NodeJS.Signals): void {
    if (!this.#exit) this.process.kill(signal);
  }

  /** SIGKILLs the child and waits until it is gone. */
  async kill(): Promise<ChildExit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** Waits for the child to exit; fails after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<ChildExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`child ${this.pid} did not exit within ${timeoutMs} ms; stderr:\n${this.stderr}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Kills every child still running (for `after`/`afterEach` hooks); stopped children are killed too. */
export async function killAllChildren(): Promise<void> {
  const children = [...live];
  for (const child of children) child.signal('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
}

/** Polls `check` until it returns a value other than undefined/false; fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
