/**
 * Notices across processes for SQLite: a watch on the database's directory reports writes to the database
 * file and its WAL, and `PRAGMA data_version` — which changes only when another connection committed — tells
 * whether another process committed since the last look. The directory is watched, not the WAL file, so a
 * WAL deleted and created again (last connection closed, another one opened) stays covered.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../../sdk/logger.js';

/**
 * Looks again this long (ms, one after the other) after the last file event. A writer writes its WAL frames,
 * syncs them and only then publishes the commit in the WAL index, so the event can arrive before the commit
 * is visible; without a second look that commit would wait for the poll. About one second in all.
 */
const RECHECK_DELAYS_MS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** Watches one SQLite file for commits of other processes. */
export class CommitWatcher {
  readonly #dir: string;
  readonly #names: Set<string>;
  #supported: boolean | undefined;
  #watcher: FSWatcher | undefined;
  #version = 0;
  #checkQueued = false;
  #recheck: NodeJS.Timeout | undefined;
  #attempt = 0;

  /**
   * @param path the database file.
   * @param dataVersion reads `PRAGMA data_version` on the store's connection.
   * @param onCommit called (at most once per check) when another connection committed.
   */
  constructor(
    path: string,
    private readonly dataVersion: () => number,
    private readonly onCommit: () => void,
    private readonly logger: Logger,
  ) {
    this.#dir = dirname(path);
    this.#names = new Set([basename(path), `${basename(path)}-wal`]);
  }

  /** False when this platform or file system cannot watch the directory (then only polling finds others' work). */
  get supported(): boolean {
    if (this.#supported === undefined) {
      try {
        watch(this.#dir, { persistent: false }).close();
        this.#supported = true;
      } catch (error) {
        this.#unsupported(error);
      }
    }
    return this.#supported ?? false;
  }

  get watching(): boolean {
    return this.#watcher !== undefined;
  }

  /** Starts watching (no-op when watching already or unsupported). */
  start(): void {
    if (this.#watcher || !this.supported) return;
    try {
      // Not persistent: an idle watch must not keep the process alive.
      const watcher = watch(this.#dir, { persistent: false }, (_event, name) => {
        if (name === null || this.#names.has(name)) this.#changed();
      });
      watcher.on('error', (error) => {
        this.#unsupported(error);
        this.stop();
      });
      this.#watcher = watcher;
      this.#version = this.dataVersion();
    } catch (error) {
      this.#unsupported(error);
      this.stop();
      return;
    }
    // A commit that was being written while the watch started raises no event of its own: look anyway.
    this.#changed();
  }

  /** Stops watching and cancels pending checks. */
  stop(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    clearTimeout(this.#recheck);
    this.#recheck = undefined;
  }

  /** A file event: check once in this turn of the event loop (one commit raises many events), then re-check. */
  #changed(): void {
    clearTimeout(this.#recheck);
    this.#recheck = undefined;
    this.#attempt = 0;
    if (this.#checkQueued) return;
    this.#checkQueued = true;
    setImmediate(() => {
      this.#checkQueued = false;
      this.#check();
    }).unref();
  }

  #check(): void {
    if (!this.#watcher) return;
    let version: number;
    try {
      version = this.dataVersion();
    } catch (error) {
      // The connection is closing or broken: polling carries on.
      this.logger.debug('SQLite commit watch: data_version failed', error);
      return;
    }
    if (version !== this.#version) {
      this.#version = version;
      try {
        this.onCommit();
      } catch (error) {
        this.logger.error('a store notice listener failed', error);
      }
    }
    const delay = RECHECK_DELAYS_MS[this.#attempt++];
    if (delay !== undefined && this.#watcher) {
      this.#recheck = setTimeout(() => this.#check(), delay);
      this.#recheck.unref();
    }
  }

  #unsupported(error: unknown): void {
    this.#supported = false;
    this.logger.debug(`SQLite commit watch on ${this.#dir} unavailable, polling instead`, error);
  }
}
