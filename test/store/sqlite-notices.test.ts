/**
 * Notices across processes on SQLite: commits of another connection on the same file (the commit watcher of
 * src/store/sqlite/commit-watcher.ts) wake subscribers, and a worker in another process with a one-minute
 * poll runs new work at once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { silentLogger } from '../../src/sdk/logger.js';
import { CommitWatcher } from '../../src/store/sqlite/commit-watcher.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { StoreNotice } from '../../src/store/store.js';
import { createFaultEnv, fixture, type FaultEnv } from '../faults/fault-env.js';
import { Child, killAllChildren, waitFor } from '../support/child-processes.js';
import { sqliteTestStore } from '../support/stores.js';
import { claimOne, commitOf, eventually, sleep, startRequest } from './conformance-fixtures.js';

const FOREIGN = ['activities', 'instances', 'orchestrations', 'schedules', 'timers'];

function kinds(notices: StoreNotice[]): string[] {
  return notices.map((n) => n.kind).sort();
}

/**
 * Runs a commit watcher over a fresh directory with a scripted `dataVersion`: once `ready()` holds and
 * `beforeWrite` is done, writes one WAL frame, and answers how many commits it had reported when it first
 * reported one.
 */
async function commitsAfterOneFrame(
  dataVersion: () => number,
  ready: () => boolean,
  beforeWrite: () => void | Promise<void>,
  recheckDelaysMs?: readonly number[],
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'duraflow-watch-'));
  let commits = 0;
  const watcher = new CommitWatcher(join(dir, 'db.sqlite'), dataVersion, () => commits++, silentLogger, recheckDelaysMs);
  try {
    watcher.start();
    await eventually(async () => (ready() ? true : undefined), 'the looks after starting');
    await beforeWrite();
    appendFileSync(join(dir, 'db.sqlite-wal'), 'frame');
    await eventually(async () => (commits > 0 ? true : undefined), 'the commit to be noticed without another file event');
    return commits;
  } finally {
    watcher.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('SQLite notices across connections', () => {
  test('a second store on the same file hears the first one commit (every subscribed hub), and no store hears its own commits', async () => {
    const path = join(tmpdir(), `duraflow-notices-${randomUUID()}.db`);
    const a = new SqliteStore(path);
    const b = new SqliteStore(path);
    const byA: StoreNotice[] = [];
    const byB: StoreNotice[] = [];
    const byBOtherHub: StoreNotice[] = [];
    const unsubscribe = [
      a.subscribe('h', (n) => byA.push(n)),
      b.subscribe('h', (n) => byB.push(n)),
      b.subscribe('other', (n) => byBOtherHub.push(n)),
    ];
    try {
      assert.equal(a.crossProcessNotices, true);
      await a.hub('h').createInstance(startRequest('x'));
      await eventually(async () => (byB.length ? true : undefined), "B to hear A's commit");
      assert.deepEqual(kinds(byB), FOREIGN);
      assert.deepEqual(kinds(byBOtherHub), FOREIGN, 'it cannot tell the hub, so every subscribed hub looks again');
      // A's own watch saw the same file events (in the same turn as B's), but its data_version did not change.
      assert.deepEqual(kinds(byA), ['instance', 'orchestrations'], 'A hears only its own in-process notices');

      byA.length = 0;
      byB.length = 0;
      const item = await claimOne(b.hub('h'), 'x');
      await b.hub('h').commitEpisodes([commitOf(item, { instance: { status: 'Completed', output: '1' } })]);
      await eventually(async () => (byA.some((n) => n.kind === 'instances') ? true : undefined), "A to hear B's commits");
      assert.deepEqual(kinds(byB), ['instance'], 'B hears only its own in-process notice (Completed)');
    } finally {
      for (const off of unsubscribe) off();
      await a.close();
      await b.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    }
  });

  test('a store that keeps writing (its watch paused) still hears another store commit, and watches again once quiet', async () => {
    const path = join(tmpdir(), `duraflow-busy-${randomUUID()}.db`);
    const busy = new SqliteStore(path);
    const other = new SqliteStore(path);
    const heard: StoreNotice[] = [];
    let stop = false;
    let heardWhileWriting = false;
    const off = busy.subscribe('h', (n) => {
      if (n.kind !== 'instances') return;
      heard.push(n);
      if (!stop) heardWhileWriting = true;
    });
    try {
      let writes = 0;
      const writing = (async () => {
        while (!stop) await busy.hub('h').createInstance(startRequest(`busy-${writes++}`));
      })();
      await eventually(async () => (writes > 20 ? true : undefined), 'the busy store writing');
      await other.hub('h').createInstance(startRequest('from-other'));
      // The check after each of its own commits finds it (the watch itself is paused while it writes).
      await eventually(async () => (heard.length ? true : undefined), 'the busy store to hear the other commit');
      stop = true;
      await writing;
      assert.ok(heardWhileWriting);
      heard.length = 0;
      await new Promise((resolve) => setTimeout(resolve, 100));
      await other.hub('h').createInstance(startRequest('from-other-2'));
      await eventually(async () => (heard.length ? true : undefined), 'heard through the resumed watch');
    } finally {
      off();
      await busy.close();
      await other.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    }
  });

  test('a commit published after its file event (the writer syncs its WAL first) is still noticed', async () => {
    let calls = 0;
    let published = false;
    let walWritten = false;
    // The first look after the WAL write still sees the old version; the commit shows up only after it.
    const dataVersion = () => {
      calls++;
      if (!walWritten) return 1;
      if (published) return 2;
      published = true;
      return 1;
    };
    const commits = await commitsAfterOneFrame(dataVersion, () => calls >= 2, () => void (walWritten = true));
    assert.equal(commits, 1);
  });

  test('a file event restarts the re-checks from the shortest delay, even while a long one is pending', async () => {
    let version = 1;
    let looks = 0;
    let publishOnLook = Number.POSITIVE_INFINITY;
    // The commit becomes visible only on the second look after its file event (the first comes too early).
    const dataVersion = () => {
      looks++;
      if (looks >= publishOnLook) version = 2;
      return version;
    };
    // After the start's look and one 1 ms re-check, the next re-check is a minute away: only a restart at the
    // file event finds the commit in time.
    const commits = await commitsAfterOneFrame(
      dataVersion,
      () => looks >= 2,
      async () => {
        await sleep(20);
        publishOnLook = looks + 2;
      },
      [1, 60_000],
    );
    assert.equal(commits, 1);
  });

  test('a commit made while the watch was paused is reported when it resumes, even with nothing else going on', async () => {
    // Nothing else in that process wakes its event loop, which is where a check queued as an unref'd
    // immediate was stuck until the next timer (in a worker: the 5-second poll).
    const dir = mkdtempSync(join(tmpdir(), 'duraflow-resume-'));
    try {
      const child = new Child(fixture('resumed-watch.ts'), [dir]);
      const exit = await child.exited;
      assert.equal(exit.code, 0, child.stderr);
      assert.deepEqual(child.lines.filter(Boolean), ['heard']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an in-memory store has no notices from elsewhere', async () => {
    const store = new SqliteStore(':memory:');
    assert.equal(store.crossProcessNotices, false);
    await store.close();
  });
});

describe('a SQLite worker in another process', () => {
  let env: FaultEnv | undefined;
  after(async () => {
    await killAllChildren();
    await env?.dispose();
  });

  test('is woken by a start and by an event from this process, not by its one-minute poll', { timeout: 90_000 }, async () => {
    env = await createFaultEnv(sqliteTestStore);
    const worker = await env.startWorker({ worker: { pollIntervalMs: 60_000 } });

    // The first instance may be found while the worker is still starting up; the second comes once it idles.
    for (const n of [1, 3]) {
      const id = await env.client.startNew('mixed', { input: n });
      const done = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      assert.equal(done.runtimeStatus, 'Completed', 'completed long before the poll would have found it');
      assert.deepEqual(done.output, { a: 2 * n, fan: [0, 1, 2, 3, 4].map((i) => 2 * (2 * n + i)), c: 4 * (10 * n + 10) });
    }

    // Again once the worker has long been idle: an event raised here.
    const waiting = await env.client.startNew('waitEvent');
    await waitFor(async () => (await env!.client.getStatus(waiting))?.runtimeStatus === 'Running', 20_000, 'the orchestration to wait');
    await env.client.raiseEvent(waiting, 'go', 42);
    const raised = await env.client.waitForCompletion(waiting, { timeoutInMilliseconds: 20_000 });
    assert.equal(raised.runtimeStatus, 'Completed');
    assert.equal(raised.output, 42);

    worker.signal('SIGTERM');
    assert.equal((await worker.waitForExit(20_000)).code, 0);
  });
});
