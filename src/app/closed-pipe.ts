/**
 * A closed stdout ends the CLI quietly: `duraflow instances list | head -4` closes the pipe after four lines,
 * and the next write fails with EPIPE. Without a listener that error would end the process with a stack trace.
 */

let installed = false;

/** Makes a write to a closed stdout (or stderr) end the process with `exitCode` and no output (once per process). */
export function endQuietlyOnClosedPipe(exitCode = 0): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') process.exit(exitCode);
      throw error;
    });
  }
}
