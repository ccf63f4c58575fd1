/**
 * A SQLite file damaged at rest — a valid header, but pages overwritten with garbage (a bad disk, a copy cut
 * short, a stray write) — is refused when a host or worker starts on it (`PRAGMA quick_check`), with the path
 * and what is wrong, instead of starting and answering 500s when a request reaches a damaged page.
 */
import assert from 'node:assert/strict';
import { openSync, closeSync, writeSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { DFApp, StoreError, createClient } from '../../src/index.js';
import { assertOneLineError, cli } from '../cli/cli-support.js';
import { sqliteTestStore } from '../support/stores.js';

const PAGE = 4096;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A store with `count` instances (enough rows for the instances table to span many pages), closed. */
async function storeWithInstances(count: number): Promise<{ url: string; path: string; cleanup: () => Promise<void> }> {
  const created = await sqliteTestStore.create();
  const client = await createClient({ store: created.url });
  for (let n = 0; n < count; n++) await client.startNew('hello', { instanceId: `i${n}`, input: 'x'.repeat(1000) });
  await client.close(); // the last connection: the WAL is checkpointed into the file and removed
  return { ...created, path: resolve(created.url.slice('sqlite:'.length)) };
}

/** Overwrites `pages` whole pages in the middle of the file with pseudo-random bytes; the header (page 1) is intact. */
function damagePages(path: string, pages: number): void {
  const total = statSync(path).size / PAGE;
  assert.ok(total > pages + 4, `the file has ${total} pages`);
  let seed = 0x2545f491;
  const garbage = Buffer.alloc(PAGE * pages);
  for (let i = 0; i < garbage.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    garbage[i] = seed >>> 24;
  }
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, garbage, 0, garbage.length, Math.floor(total / 2) * PAGE);
  } finally {
    closeSync(fd);
  }
}

describe('a SQLite file with damaged pages', () => {
  test('duraflow start and duraflow worker refuse it: "database file is corrupt: <path> (quick_check: …)"', { timeout: 120_000 }, async () => {
    const store = await storeWithInstances(300);
    damagePages(store.path, 3);
    try {
      const corrupt = new RegExp(`^duraflow: database file is corrupt: ${escape(store.path)} \\(quick_check: .+\\); restore it from a backup`);
      // Without the check the host starts (and lists answer 500s): the run would not end, so a bounded wait.
      assertOneLineError(await cli(['start', 'samples/app.ts', '--port', '0', '--store', store.url, '--log-level', 'error'], { timeoutMs: 30_000 }), corrupt);
      assertOneLineError(await cli(['worker', 'samples/app.ts', '--store', store.url, '--log-level', 'error'], { timeoutMs: 30_000 }), corrupt);
    } finally {
      await store.cleanup();
    }
  });

  test('app.start() and app.startWorker() reject with a StoreError (reason corrupt)', { timeout: 60_000 }, async () => {
    const store = await storeWithInstances(300);
    damagePages(store.path, 3);
    const app = new DFApp({ store: store.url });
    app.orchestration('hello', function* () {
      return 'hi';
    });
    try {
      for (const start of [() => app.start({ port: 0 }), () => app.startWorker()]) {
        await assert.rejects(start(), (error: unknown) => {
          assert.ok(error instanceof StoreError, String(error));
          assert.equal(error.reason, 'corrupt');
          assert.match(error.message, new RegExp(`^database file is corrupt: ${escape(store.path)} \\(quick_check: `));
          return true;
        });
      }
    } finally {
      await store.cleanup();
    }
  });

  test('a sound file passes the check: the host starts', { timeout: 60_000 }, async () => {
    const store = await storeWithInstances(20);
    const app = new DFApp({ store: store.url });
    app.orchestration('hello', function* () {
      return 'hi';
    });
    const host = await app.start({ port: 0 });
    try {
      assert.equal((await host.client.getStatus('i3'))?.instanceId, 'i3');
    } finally {
      await host.stop();
      await store.cleanup();
    }
  });
});
