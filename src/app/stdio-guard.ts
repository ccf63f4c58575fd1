/**
 * What a failed write to stdout or stderr does in the CLI.
 *
 * A closed pipe ends the CLI quietly: `duraflow instances list | head -4` closes the pipe after four lines, and
 * the next write fails with EPIPE. Without a listener that error would end the process with a stack trace.
 *
 * Any other failure (a full disk: ENOSPC, a read-only one: EROFS, EIO…) is counted and the output dropped. Node
 * reports a failed write to stdio as an 'error' event and keeps the stream usable (stdio streams are never
 * destroyed), so the next write may succeed once the disk has room. The listener must not throw or log: a throw
 * becomes an uncaught exception, the process guards log it, that write fails too, and the process spins on
 * its own log line forever, on the next-tick queue where not even SIGTERM gets through.
 */
import { duraflowMetrics } from '../telemetry/metrics.js';

/** The two streams guarded. */
export type StdioName = 'stdout' | 'stderr';

const failed: Record<StdioName, number> = { stdout: 0, stderr: 0 };
const lastCode: Record<StdioName, string | undefined> = { stdout: undefined, stderr: undefined };
let installed = false;

/** True for the errors of a reader that went away (the output has no one to go to; not a failure of ours). */
function isClosedPipe(error: NodeJS.ErrnoException): boolean {
  return error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED';
}

/**
 * Guards stdout and stderr (once per process): a write to a closed pipe ends the process with `exitCode` and no
 * output; any other failed write is counted ({@link stdioWriteFailures}, `duraflow_output_writes_failed_total`
 * in `/metrics`) and dropped.
 */
export function guardStdio(exitCode = 0): void {
  if (installed) return;
  installed = true;
  for (const name of ['stdout', 'stderr'] as const) {
    process[name].on('error', (error: NodeJS.ErrnoException) => {
      if (isClosedPipe(error)) process.exit(exitCode);
      failed[name] += 1;
      lastCode[name] = error.code ?? error.name;
      try {
        duraflowMetrics().outputWritesFailed.inc({ stream: name });
      } catch {
        // counting must never throw from here either
      }
    });
  }
}

/** How many writes to each stream failed (and were dropped) since the process started, with the last error code. */
export function stdioWriteFailures(name: StdioName): { count: number; code: string | undefined } {
  return { count: failed[name], code: lastCode[name] };
}

/** Resolves when what was written to `name` so far has been handed to the system (or failed). */
export function flushed(name: StdioName): Promise<void> {
  return new Promise((resolve) => {
    const stream = process[name];
    // Nothing queued (a file or TTY writes synchronously, or write was replaced): a failed write's 'error' is
    // emitted on the next tick, so one turn of the loop is enough — and no callback is awaited that may never come.
    if (stream.writableLength === 0) {
      setImmediate(resolve);
      return;
    }
    try {
      stream.write('', () => resolve());
    } catch {
      resolve();
    }
  });
}
