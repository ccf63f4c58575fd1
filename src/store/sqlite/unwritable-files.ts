/**
 * A SQLite store whose files stop being writable while it is open: made immutable (`chattr +i`), or their file
 * system remounted read-only. SQLite maps the WAL index (`-shm`) into memory and writes it through that mapping;
 * once the file may not be written the kernel answers such a write with SIGBUS, which ends the process. Writes
 * fail first (`SQLITE_IOERR`), and closing the connection would checkpoint — writing the mapping — so a store
 * that finds its files unwritable refuses further writes without touching SQLite, names the fault, and at close
 * leaves the connection open until the process exits (the committed work stays in the WAL, recovered at the
 * next open).
 */
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { StoreError } from '../../sdk/errors.js';

/**
 * True for the I/O errors of a write that may have failed because a file can no longer be written. (A file that
 * could not be written when it was opened gives SQLITE_READONLY instead: SQLite opened it read-only and knows.)
 */
export function mayBeUnwritable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_IOERR');
}

const WRITABLE_AGAIN = 'make them writable again (chattr -i, a read-write mount) and the work goes on';

/**
 * The first of the database, its WAL and its WAL index that this process may not write, as a `StoreError` whose
 * message ends with `advice` (by default: make them writable and the work goes on).
 */
export function unwritableFileError(path: string, advice = WRITABLE_AGAIN): StoreError | undefined {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      accessSync(file, constants.W_OK);
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      if (code === 'ENOENT') continue; // -wal and -shm exist only while the database is open in WAL mode
      return new StoreError(
        'read-only',
        `the SQLite store's files cannot be written: ${resolve(file)} (${message}); ${advice}`,
        { cause: error, ...(code ? { code } : {}) },
      );
    }
  }
  return undefined;
}

const leftOpen = new Set<Database.Database>();

/**
 * Keeps `db` open until the process exits, and ends the process then without better-sqlite3's teardown, which
 * closes every open database (closing checkpoints through the unwritable WAL index: SIGBUS). Also a strong
 * reference, so no garbage collection closes it either.
 */
export function leaveOpenUntilExit(db: Database.Database): void {
  if (leftOpen.size === 0) {
    // process.exit() inside an 'exit' listener ends the process at once, skipping the environment teardown (and
    // any 'exit' listener added after this one).
    process.on('exit', (code) => process.exit(code));
  }
  leftOpen.add(db);
}
