/**
 * Flow control with two real worker processes on PostgreSQL (issue 21): the limits hold across processes because
 * the store enforces them. Measured by the activities themselves (each appends its start and end to a file):
 * never more than 2 `keyed` runs at once per tenant, while other tenants and unlimited activities run beside them;
 * `rated` starts stay within ±10% of 5 per second over 10 s.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient } from '../../src/index.js';
import { Child, killAllChildren } from '../support/child-processes.js';
import { testStores } from '../support/stores.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/flow-worker.ts', import.meta.url));

interface Run {
  activity: string;
  tenant: string;
  pid: number;
  start: number;
  end: number;
}

async function worker(url: string, log: string): Promise<Child> {
  const child = new Child(FIXTURE, [url, log]);
  await child.waitForLine((line) => line.startsWith('ready'), 60_000, 'ready');
  return child;
}

function runsIn(log: string): Run[] {
  return readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Run);
}

/** The most runs that overlapped at any moment (an end at the same millisecond as a start does not overlap it). */
function mostAtOnce(runs: Run[]): number {
  const edges = runs.flatMap((r) => [[r.start, 1] as const, [r.end, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, (now += step));
  return most;
}

const postgres = testStores().find((s) => s.name === 'postgres');

describe('flow control with two worker processes on PostgreSQL', { skip: postgres ? false : 'no PostgreSQL server' }, () => {
  after(killAllChildren);

  test('a limit of 2 per key holds across workers, other keys and names unaffected; a rate holds within 10%', { timeout: 180_000 }, async () => {
    const { url, cleanup } = await postgres!.create();
    const log = join(tmpdir(), `duraflow-flow-${randomUUID()}.jsonl`);
    writeFileSync(log, '');
    const client = await createClient({ store: url });
    const workers: Child[] = [];
    try {
      workers.push(...(await Promise.all([worker(url, log), worker(url, log)])));
      // Concurrency: 3 tenants × 8 runs of `keyed`, and 8 of `free`, all at once.
      const calls = [
        ...['a', 'b', 'c'].flatMap((tenant) => Array.from({ length: 8 }, () => ({ activity: 'keyed', tenant, ms: 150 }))),
        ...Array.from({ length: 8 }, () => ({ activity: 'free', tenant: 'free', ms: 150 })),
      ];
      const fan = await client.startNew('fan', { input: calls });
      const done = await client.waitForCompletion(fan, { timeoutInMilliseconds: 90_000 });
      assert.equal(done.runtimeStatus, 'Completed', JSON.stringify(done.output));
      const runs = runsIn(log);
      for (const tenant of ['a', 'b', 'c']) {
        const mine = runs.filter((r) => r.activity === 'keyed' && r.tenant === tenant);
        assert.equal(mine.length, 8);
        assert.equal(mostAtOnce(mine), 2, `tenant ${tenant}: at most 2 at once, and 2 were reached`);
      }
      const keyed = runs.filter((r) => r.activity === 'keyed');
      assert.equal(new Set(keyed.map((r) => r.pid)).size, 2, 'both workers ran keyed activities');
      assert.ok(mostAtOnce(keyed) > 2, `tenants ran beside each other: ${mostAtOnce(keyed)} at once`);
      assert.ok(mostAtOnce(runs.filter((r) => r.activity === 'free')) > 2, 'the unlimited activity is not held to the limit');

      // Rate: a backlog of 80 `rated` runs at 5 per second; count the starts in the 10 s after the first one.
      writeFileSync(log, '');
      const rated = await client.startNew('fan', { input: Array.from({ length: 80 }, () => ({ activity: 'rated', tenant: 'r', ms: 5 })) });
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      const starts = runsIn(log).map((r) => r.start).sort((x, y) => x - y);
      assert.ok(starts.length > 0, 'rated activities ran');
      const inTen = starts.filter((t) => t < starts[0]! + 10_000).length;
      assert.ok(inTen >= 45 && inTen <= 55, `5/s over 10 s = 50 starts ±10%, got ${inTen}`);
      console.log(`# rated: ${inTen} starts in the 10 s after the first`);
      // And no sliding second held more than 5 (a start is stamped when the activity begins, a little after its
      // claim: 100 ms of slack for a loaded machine).
      for (let i = 5; i < starts.length; i++) assert.ok(starts[i]! - starts[i - 5]! >= 900, `6 starts within a second at ${i}`);
      await client.terminate(rated, 'done measuring');
    } finally {
      for (const child of workers) child.signal('SIGTERM');
      await Promise.all(workers.map((w) => w.waitForExit(30_000).catch(() => undefined)));
      await client.close();
      await cleanup();
      rmSync(log, { force: true });
    }
  });
});
