/**
 * A host whose stderr (its log) is a file on a full disk (a 64 KB tmpfs, as root; `duraflow start` as a child
 * process, the store elsewhere). Every log line fails to write; the host must count and drop them, not spin on
 * re-logging its own failed write: it stays near idle next to a busy loop run alongside, serves HTTP, runs an
 * orchestration, reports the failed writes in /metrics, stops on SIGTERM with exit code 0, and leaves its store
 * intact.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { acquireStore } from '../../src/store/open-store.js';
import { CLI } from '../cli/cli-support.js';
import { Child, killAllChildren, waitFor } from '../support/child-processes.js';
import { fixture } from './fault-env.js';
import { canMountTmpfs, fill, mountTmpfs } from './tmpfs.js';

const API = '/runtime/webhooks/durabletask';
/** A host spinning on its log would accept connections and never answer: fail such a request, not the whole test. */
const answered = (): RequestInit => ({ signal: AbortSignal.timeout(10_000) });

/** CPU time (user + system) of process `pid` so far, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), starting with field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const canMount = canMountTmpfs();

describe('a host whose stderr is a file on a full disk', { skip: canMount ? false : 'mounting a tmpfs needs root' }, () => {
  after(killAllChildren);

  test('drops its log lines without spinning: serves, runs work, counts the failures, stops cleanly', { timeout: 120_000 }, async (t) => {
    const mnt = mountTmpfs('64k', 'duraflow-stderr-')!;
    const dir = mkdtempSync(join(tmpdir(), 'duraflow-faults-'));
    const url = `sqlite:${join(dir, 'store.db')}`;
    const filler = openSync(join(mnt, 'filler'), 'w');
    const logFd = openSync(join(mnt, 'stderr.log'), 'w');
    let busy: ReturnType<typeof spawn> | undefined;
    try {
      fill(filler, [16 * 1024, 512, 1]);
      assert.throws(() => writeSync(logFd, 'x'), { code: 'ENOSPC' }, 'the disk of the log is full');
      // Debug level: every episode and activity logs, so writes keep failing while the host works.
      const host = new Child(CLI, ['start', fixture('host-app.ts'), '--store', url, '--port', '0', '--log-format', 'json', '--log-level', 'debug'], { FAULT_DIR: dir }, { stderrFd: logFd });
      const listening = await host.waitForLine((l) => l.startsWith('duraflow host listening on '), 30_000, 'the host to listen');
      const base = /listening on (http:\/\/[^ ]+)/.exec(listening)![1]!;

      // CPU over ~3 s, next to a busy loop started at the same moment: both compete for the same cores, so the
      // comparison holds on a loaded machine. A host spinning on its failed log write (its
      // startup lines already failed) would use as much as the loop.
      busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
      const [hostBefore, busyBefore] = [cpuTicks(host.pid), cpuTicks(busy.pid!)];
      await new Promise((done) => setTimeout(done, 3000));
      const [hostUsed, busyUsed] = [cpuTicks(host.pid) - hostBefore, cpuTicks(busy.pid!) - busyBefore];
      busy.kill('SIGKILL');
      t.diagnostic(`CPU over ~3 s: host ${hostUsed} ticks, busy loop ${busyUsed} ticks`);
      assert.ok(busyUsed >= 10, `the busy loop ran (${busyUsed} ticks): the comparison means something`);
      assert.ok(hostUsed * 2 < busyUsed, `the host used ${hostUsed} CPU ticks over ~3 s, a busy loop ${busyUsed}`);

      const started = await fetch(`${base}${API}/orchestrators/mixed/full-log`, { ...answered(), method: 'POST', headers: { 'content-type': 'application/json' }, body: '3' });
      assert.equal(started.status, 202);

      const status = await waitFor(
        async () => {
          const body = (await (await fetch(`${base}${API}/instances/full-log`, answered())).json()) as { runtimeStatus: string; output: unknown };
          return body.runtimeStatus === 'Completed' || body.runtimeStatus === 'Failed' ? body : undefined;
        },
        30_000,
        'the orchestration to end',
      );
      const expected = { a: 6, fan: [12, 14, 16, 18, 20], c: 160 };
      assert.deepEqual(status, { ...status, runtimeStatus: 'Completed', output: expected });

      const metrics = await (await fetch(`${base}/metrics`, answered())).text();
      const failed = /^duraflow_output_writes_failed_total\{[^}]*stream="stderr"[^}]*\} (\d+)/m.exec(metrics);
      assert.ok(failed, `/metrics names the failed stderr writes:\n${metrics.split('\n').filter((l) => l.includes('output_writes')).join('\n')}`);
      assert.ok(Number(failed[1]) >= 1, `failed stderr writes: ${failed[1]}`);

      host.signal('SIGTERM');
      assert.deepEqual(await host.waitForExit(30_000), { code: 0, signal: null });

      // The store after the stop: a sound database file, and the instance readable with its result.
      const db = new Database(join(dir, 'store.db'), { readonly: true });
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      } finally {
        db.close();
      }
      const handle = await acquireStore(url);
      try {
        const instance = await handle.store.hub('default').getInstance('full-log');
        assert.equal(instance?.status, 'Completed');
        assert.deepEqual(JSON.parse(instance.output!), expected);
      } finally {
        await handle.release();
      }
    } finally {
      busy?.kill('SIGKILL');
      closeSync(logFd);
      closeSync(filler);
      await killAllChildren();
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
