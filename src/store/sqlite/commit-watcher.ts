/**
 * Notices across processes for SQLite: a watch on the database's directory reports writes to the database
 * file and its WAL, and `PRAGMA data_version` — which changes only when another connection committed — tells
 * whether another process committed since the last look. The directory is watched, not the WAL file, so a
 * WAL deleted and created again (last connection closed, another one opened) stays covered.
 *
 * While the store keeps writing itself, the watch is paused: nearly all its events would be the store's own
 * writes (one per WAL frame), and `data_version` is checked after each of the store's own commits instead,
 * which costs one pragma. The watch resumes once the store has not written for {@link BUSY_MS}.
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

/** How long after the store's own last write the watch resumes. */
const BUSY_MS = 20;

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
  #eventSinceCheck = false;
  /** Between start and stop (there are subscribers), whether the watch itself runs or is paused. */
  #active = false;
  #lastOwnWrite = 0;
  #resume: NodeJS.Timeout | undefined;

  /**
   * @param path the database file.
   * @param dataVersion reads `PRAGMA data_version` on the store's connection.
   * @param onCommit called (at most once per check) when another connection committed.
   * @param recheckDelaysMs the looks after an event (tests shorten or stretch them).
   */
  constructor(
    path: string,
    private readonly dataVersion: () => number,
    private readonly onCommit: () => void,
    private readonly logger: Logger,
    private readonly recheckDelaysMs: readonly number[] = RECHECK_DELAYS_MS,
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

  /** True while the watch is on (not paused, not stopped). */
  get watching(): boolean {
    return this.#watcher !== undefined;
  }

  /** Starts watching (no-op when started already or unsupported). */
  start(): void {
    if (this.#active || !this.supported) return;
    this.#active = true;
    this.#version = this.dataVersion();
    this.#open();
  }

  /** Stops watching and cancels pending checks. */
  stop(): void {
    this.#active = false;
    this.#close();
    clearTimeout(this.#recheck);
    this.#recheck = undefined;
    clearTimeout(this.#resume);
    this.#resume = undefined;
  }

  /** The store committed a write of its own: pause the watch while writes keep coming, and look for others' commits now. */
  afterOwnWrite(): void {
    if (!this.#active) return;
    this.#lastOwnWrite = performance.now();
    this.#close();
    this.#check();
    if (!this.#resume) this.#scheduleResume(BUSY_MS);
  }

  #scheduleResume(delay: number): void {
    this.#resume = setTimeout(() => {
      this.#resume = undefined;
      const quiet = performance.now() - this.#lastOwnWrite;
      if (!this.#active) return;
      if (quiet < BUSY_MS) this.#scheduleResume(BUSY_MS - quiet);
      else this.#open();
    }, delay);
    this.#resume.unref();
  }

  #open(): void {
    if (this.#watcher || !this.#active) return;
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
    } catch (error) {
      this.#unsupported(error);
      this.stop();
      return;
    }
    // A commit made while nothing watched (starting, or paused) raises no event of its own: look anyway.
    this.#changed();
  }

  #close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /**
   * A file event: check once in this turn of the event loop. One commit raises many events, so an event only
   * sets a flag and queues at most one check.
   */
  #changed(): void {
    this.#eventSinceCheck = true;
    if (this.#checkQueued) return;
    this.#checkQueued = true;
    // Not unref'd: Node runs an unref'd immediate only after the next I/O or timer, so a check queued from a
    // timer (the watch resuming) would wait for whatever wakes the loop next — up to the 5 s poll.
    setImmediate(() => {
      this.#checkQueued = false;
      this.#check();
    });
  }

  #check(): void {
    if (!this.#active) return;
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
    // Re-checks (see RECHECK_DELAYS_MS) count from the latest event, one timer at a time: a new event
    // restarts them from the shortest delay (a long one still pending from an earlier event would otherwise
    // hold back the look that finds this commit).
    if (this.#eventSinceCheck) {
      this.#attempt = 0;
      clearTimeout(this.#recheck);
      this.#recheck = undefined;
    }
    this.#eventSinceCheck = false;
    if (this.#recheck || !this.#watcher) return;
    const delay = this.recheckDelaysMs[this.#attempt++];
    if (delay === undefined) return;
    this.#recheck = setTimeout(() => {
      this.#recheck = undefined;
      this.#check();
    }, delay);
    this.#recheck.unref();
  }

  #unsupported(error: unknown): void {
    this.#supported = false;
    this.logger.debug(`SQLite commit watch on ${this.#dir} unavailable, polling instead`, error);
  }
}
