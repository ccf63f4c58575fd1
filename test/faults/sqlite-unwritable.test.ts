/**
 * The SQLite files of a running host made unwritable (`chattr +i` on the database, its WAL and its WAL index, as
 * root): writes fail with a StoreError that names the file, and SIGTERM ends the host with a logged store error
 * and a non-zero exit code — not SIGBUS, which closing the database would raise by writing the WAL index through
 * its memory mapping. Made writable again, the store opens with everything the host committed. And a loop-mounted
 * ext4 file system (errors=remount-ro) that meets an error under the host: writes fail as a named I/O error.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { acquireStore } from '../../src/store/open-store.js';
import { CLI } from '../cli/cli-support.js';
import { Child, killAllChildren, waitFor } from '../support/child-processes.js';
import { sqliteTestStore } from '../support/stores.js';

const API = '/runtime/webhooks/durabletask';
const isRoot = process.getuid?.() === 0;

function chattr(flag: '+i' | '-i', files: string[]): void {
  execFileSync('chattr', [flag, ...files]);
}

/** Mounts a fresh 64 MB ext4 image (errors=remount-ro) at a fresh directory; undefined where that cannot be done. */
function mountExt4(): { dir: string; image: string; errorTrigger: string } | undefined {
  if (!isRoot) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'duraflow-ext4-'));
  const image = `${dir}.img`;
  try {
    execFileSync('truncate', ['-s', '64M', image]);
    execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'ignore' });
    execFileSync('mount', ['-o', 'loop,errors=remount-ro', image, dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    rmSync(image, { force: true });
    return undefined;
  }
  const device = execFileSync('findmnt', ['-n', '-o', 'SOURCE', dir]).toString().trim();
  const errorTrigger = `/sys/fs/ext4/${basename(device)}/trigger_fs_error`;
  if (!existsSync(errorTrigger)) {
    unmountExt4({ dir, image });
    return undefined;
  }
  return { dir, image, errorTrigger };
}

function unmountExt4({ dir, image }: { dir: string; image: string }): void {
  execFileSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  rmSync(image, { force: true });
}

/** Starts `duraflow start samples/app.ts` on `url`; returns the child and its base URL. */
async function startHost(url: string): Promise<{ host: Child; base: string }> {
  const host = new Child(CLI, ['start', 'samples/app.ts', '--port', '0', '--store', url, '--log-format', 'json']);
  const listening = await host.waitForLine((l) => l.startsWith('duraflow host listening on '), 30_000, 'the host to listen');
  return { host, base: /listening on (http:\/\/[^ ]+)/.exec(listening)![1]! };
}

describe('SQLite files made unwritable under a running host', { skip: isRoot ? false : 'chattr +i needs root' }, () => {
  after(killAllChildren);

  test('writes fail naming the file; SIGTERM ends the host with a store error and exit code 1, no SIGBUS', { timeout: 90_000 }, async () => {
    const created = await sqliteTestStore.create();
    const path = resolve(created.url.slice('sqlite:'.length));
    const files = [path, `${path}-wal`, `${path}-shm`];
    const host = new Child(CLI, ['start', 'samples/app.ts', '--port', '0', '--store', created.url, '--log-format', 'json']);
    let immutable = false;
    try {
      const listening = await host.waitForLine((l) => l.startsWith('duraflow host listening on '), 30_000, 'the host to listen');
      const url = /listening on (http:\/\/[^ ]+)/.exec(listening)![1]!;
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) {
        const response = await fetch(`${url}${API}/orchestrators/helloCities`, { method: 'POST' });
        assert.equal(response.status, 202);
        ids.push(((await response.json()) as { id: string }).id);
      }
      const status = async (id: string) => ((await (await fetch(`${url}${API}/instances/${id}`)).json()) as { runtimeStatus: string }).runtimeStatus;
      await waitFor(async () => (await Promise.all(ids.map(status))).every((s) => s === 'Completed'), 30_000, 'the instances to complete');

      chattr('+i', files);
      immutable = true;
      const refused = await waitFor(async () => {
        const response = await fetch(`${url}${API}/orchestrators/helloCities`, { method: 'POST' });
        const body = (await response.json()) as Record<string, unknown>;
        return response.status === 500 && body['reason'] === 'read-only' ? body : undefined;
      }, 10_000, 'a start refused as read-only');
      assert.equal(refused['ExceptionType'], 'StoreError');
      assert.match(String(refused['Message']), new RegExp(`^the SQLite store's files cannot be written: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-wal|-shm)? \\(EPERM: operation not permitted`));
      await new Promise((done) => setTimeout(done, 1500)); // heartbeats and polls meet the unwritable files too

      host.signal('SIGTERM');
      const exit = await host.waitForExit(30_000);
      assert.deepEqual(exit, { code: 1, signal: null }, `stderr: ${host.stderr.slice(-3000)}`);
      assert.match(host.stderr, /duraflow: the SQLite store's files cannot be written: .*; the store was left open, not closed/);
    } finally {
      if (immutable) chattr('-i', files);
      await host.kill();
    }
    // Writable again: what the host committed is there (the WAL it left is recovered).
    const handle = await acquireStore(created.url);
    try {
      const { instances } = await handle.store.hub('default').queryInstances({ runtimeStatus: ['Completed'] });
      assert.equal(instances.length, 5);
    } finally {
      await handle.release();
      await created.cleanup();
    }
  });

  test('an ext4 file system that meets an error and goes read-only: writes fail as an I/O error naming the file', { timeout: 90_000 }, async (t) => {
    const fs = mountExt4();
    if (!fs) return t.skip('no loop device, mkfs.ext4 or ext4 error trigger here');
    const path = join(fs.dir, 'store.db');
    const { host, base } = await startHost(`sqlite:${path}`);
    try {
      assert.equal((await fetch(`${base}${API}/orchestrators/helloCities`, { method: 'POST' })).status, 202);
      writeFileSync(fs.errorTrigger, 'duraflow test'); // ext4 records an error and remounts itself read-only
      const refused = await waitFor(async () => {
        const response = await fetch(`${base}${API}/orchestrators/helloCities`, { method: 'POST' });
        return response.status === 500 ? ((await response.json()) as Record<string, unknown>) : undefined;
      }, 10_000, 'a start refused');
      assert.deepEqual([refused['ExceptionType'], refused['reason']], ['StoreError', 'io-error']);
      assert.match(String(refused['Message']), new RegExp(`^I/O error on the SQLite store ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(SQLITE_IOERR`));
      host.signal('SIGTERM');
      const exit = await host.waitForExit(30_000);
      assert.equal(exit.signal, null, `no crash; stderr: ${host.stderr.slice(-2000)}`);
    } finally {
      await host.kill();
      unmountExt4(fs);
    }
  });
});
