/**
 * A disk that fills under a running SQLite host (a tmpfs of a few MB, as root; `duraflow start` as a child
 * process). Freed a little, the work in flight when it filled finishes within seconds (its results are kept and
 * recorded again, not run again when leases expire); a WAL grown since its last checkpoint is checkpointed and
 * truncated when a commit fails for a full disk, so its space goes back to the work. The full disk is logged
 * rate-limited (not one line per failed write) and one "store recovered" line says when writes succeed again.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CLI } from '../cli/cli-support.js';
import { Child, killAllChildren, waitFor } from '../support/child-processes.js';
import { parseLogs, type LogRecord } from '../support/log-capture.js';
import { fixture } from './fault-env.js';
import { canMountTmpfs, fill, mountTmpfs } from './tmpfs.js';
import { readInvocations } from './fixtures/fault-app.js';

const API = '/runtime/webhooks/durabletask';

const canMount = canMountTmpfs();

/** A `duraflow start` of the fault app on a store in a fresh 16 MB tmpfs, with its whole log. */
interface DiskWorld {
  mnt: string;
  db: string;
  dir: string;
  base: string;
  host: Child;
  stderr: () => string;
  start(orchestration: string, key: string, input: unknown): Promise<Response>;
  statuses(ids: string[]): Promise<string[]>;
  /** A file filling the disk (opened by {@link fillDisk}). */
  filler?: number;
  fillDisk(): void;
  /** Frees `bytes` of the filler. */
  free(bytes: number): void;
  /** Stops the host (SIGTERM) and returns its log records. */
  stop(): Promise<LogRecord[]>;
  dispose(): Promise<void>;
}

async function diskWorld(): Promise<DiskWorld> {
  const mnt = mountTmpfs('16m', 'duraflow-disk-')!;
  const dir = mkdtempSync(join(tmpdir(), 'duraflow-faults-'));
  const db = join(mnt, 'store.db');
  const host = new Child(CLI, ['start', fixture('host-app.ts'), '--store', `sqlite:${db}`, '--port', '0', '--log-format', 'json'], { FAULT_DIR: dir });
  let stderr = '';
  host.process.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const listening = await host.waitForLine((l) => l.startsWith('duraflow host listening on '), 30_000, 'the host to listen');
  const base = /listening on (http:\/\/[^ ]+)/.exec(listening)![1]!;
  const world: DiskWorld = {
    mnt,
    db,
    dir,
    base,
    host,
    stderr: () => stderr,
    start: (orchestration, key, input) =>
      fetch(`${base}${API}/orchestrators/${orchestration}/${key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) }),
    statuses: (ids) => Promise.all(ids.map(async (id) => ((await (await fetch(`${base}${API}/instances/${id}`)).json()) as { runtimeStatus: string }).runtimeStatus)),
    fillDisk() {
      world.filler ??= openSync(join(mnt, 'filler'), 'w');
      fill(world.filler, [256 * 1024, 4096]);
    },
    free(bytes) {
      ftruncateSync(world.filler!, Math.max(0, fstatSync(world.filler!).size - bytes));
    },
    async stop() {
      host.signal('SIGTERM');
      assert.deepEqual(await host.waitForExit(30_000), { code: 0, signal: null }, stderr.slice(-3000));
      return parseLogs(stderr, 'json');
    },
    async dispose() {
      if (world.filler !== undefined) closeSync(world.filler);
      await host.kill();
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Asserts the full disk was logged, but not once per failed write, and that one line said writes succeed again. */
function assertOutageLogged(records: LogRecord[]): void {
  const full = records.filter((r) => /disk is full/.test(r.msg));
  assert.ok(full.length >= 1, 'the full disk is logged');
  assert.ok(full.length <= 12, `${full.length} records name the full disk:\n${full.map((r) => r.msg).join('\n')}`);
  const recovered = records.filter((r) => /^store recovered: writes succeed again after [\d.]+ s of store errors \(\d+ failed calls\)$/.test(r.msg));
  assert.equal(recovered.length, 1, records.map((r) => r.msg).join('\n'));
  assert.equal(recovered[0]!.level, 'info');
  assert.equal(recovered[0]!.fields['reason'], 'disk-full');
}

describe('a disk that fills under a running SQLite host', { skip: canMount ? false : 'mounting a tmpfs needs root' }, () => {
  after(killAllChildren);

  test('freed a little: the work in flight finishes within seconds, not when its leases expire', { timeout: 120_000 }, async (t) => {
    const world = await diskWorld();
    try {
      const ids = Array.from({ length: 30 }, (_, n) => `slow-${n}`);
      for (const id of ids) assert.equal((await world.start('slowOne', id, { key: id, ms: 1500 })).status, 202);
      await waitFor(() => readInvocations(world.dir).length >= ids.length, 30_000, 'every activity to run');
      world.fillDisk();
      // The activities end while the disk is full: their results cannot be recorded.
      await new Promise((done) => setTimeout(done, 4000));
      const refused = await world.start('slowOne', 'while-full', { key: 'x', ms: 1 });
      assert.equal(refused.status, 500);
      assert.equal(((await refused.json()) as Record<string, unknown>)['reason'], 'disk-full');

      world.free(512 * 1024);
      const freedAt = Date.now();
      await waitFor(async () => (await world.statuses(ids)).every((s) => s === 'Completed'), 60_000, 'every instance to complete');
      const recoveredInMs = Date.now() - freedAt;
      t.diagnostic(`every instance completed ${recoveredInMs} ms after 512 KB were freed`);
      assert.ok(recoveredInMs < 10_000, `every instance completed ${recoveredInMs} ms after space was freed`);
      assertOutageLogged(await world.stop());
    } finally {
      await world.dispose();
    }
  });

  test('a grown WAL is checkpointed and truncated when a commit fails for a full disk: the work goes on', { timeout: 120_000 }, async (t) => {
    const world = await diskWorld();
    try {
      // A WAL grown since its last checkpoint, as at any moment of a busy store (SQLite checkpoints every 1000
      // pages): 600 one-page commits, every one a new version of a page the database file already has.
      const db = new Database(world.db);
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE ballast (x BLOB)');
      db.prepare('INSERT INTO ballast VALUES (randomblob(3000))').run();
      db.pragma('wal_checkpoint(TRUNCATE)');
      const update = db.prepare('UPDATE ballast SET x = randomblob(3000)');
      for (let n = 0; n < 600; n++) update.run();
      db.close(); // not the last connection: no checkpoint
      world.fillDisk();
      const filledAt = Date.now();
      // Work that needs far more WAL than is left: without a checkpoint it would wait for space forever.
      const ids = Array.from({ length: 60 }, (_, n) => `after-${n}`);
      for (const id of ids) {
        await waitFor(async () => (await world.start('slowOne', id, { key: id, ms: 1 })).status === 202, 20_000, `the start of ${id}`);
      }
      await waitFor(async () => (await world.statuses(ids)).every((s) => s === 'Completed'), 30_000, 'every instance to complete');
      t.diagnostic(`60 instances completed ${Date.now() - filledAt} ms after the disk filled`);
      assertOutageLogged(await world.stop());
    } finally {
      await world.dispose();
    }
  });
});
