/** Real small file systems for the fault tests: a tmpfs to mount and fill (needs root). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Mounts a tmpfs of `size` at a fresh directory named `prefix…`; undefined when this process may not mount (not root). */
export function mountTmpfs(size: string, prefix: string): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

/** Writes to `fd` until nothing more fits on its file system, in chunks of each of `chunkSizes` in turn. */
export function fill(fd: number, chunkSizes: number[]): void {
  for (const chunk of chunkSizes.map((size) => Buffer.alloc(size))) {
    for (;;) {
      try {
        writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw error;
      }
    }
  }
}

/** Whether this process can mount a tmpfs (mounts and unmounts a small one to find out). */
export function canMountTmpfs(): boolean {
  const probe = mountTmpfs('64k', 'duraflow-probe-');
  if (!probe) return false;
  execFileSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return true;
}
