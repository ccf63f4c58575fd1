/**
 * What a growing SQLite WAL costs a commit, and what `WalSpace.reserve` (a starting worker's WAL grown to its
 * checkpoint size) buys back: `npx tsx bench/wal-growth.ts [rounds] [pages]`. Each round makes two fresh files,
 * one plain and one reserved, and times the same `pages`-page commits (WAL, synchronous=FULL) on each until the
 * plain one's WAL reaches its checkpoint size; it prints the medians and their ratio per round.
 */
import { WalSpace } from '../src/store/sqlite/wal-space.js';
import { percentiles } from './metrics.js';
import { freshWalDatabase } from './stores.js';

const rounds = Number(process.argv[2] ?? 5);
const pages = Number(process.argv[3] ?? 10);

/** Median commit time in ms of the first `commits` commits of `pages` rows of ~3 KB each (a page each). */
function commitTimes(reserve: boolean, commits: number): number {
  const { db, path, close } = freshWalDatabase();
  try {
    const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < pages; i++) insert.run(i, 'x'.repeat(3000));
    })();
    if (reserve) new WalSpace(db, path, 0).reserve();
    const update = db.prepare('UPDATE t SET v = ? WHERE id = ?');
    const commit = db.transaction((k: number) => {
      for (let i = 0; i < pages; i++) update.run(String(k).padEnd(3000, 'y'), i);
    });
    commit(-1); // not timed: writes out what the reserve wrote
    const times: number[] = [];
    for (let k = 0; k < commits; k++) {
      const t0 = performance.now();
      commit(k);
      times.push(performance.now() - t0);
    }
    return percentiles(times).p50;
  } finally {
    close();
  }
}

// Until the plain file's WAL reaches 1000 frames (SQLite's checkpoint), its commits append.
const commits = Math.floor(900 / (pages + 1));
console.log(`${commits} commits of ${pages} pages each, median ms per commit`);
for (let round = 0; round < rounds; round++) {
  const growing = commitTimes(false, commits);
  const reserved = commitTimes(true, commits);
  console.log(`round ${round + 1}: growing WAL ${growing.toFixed(3)}, reserved WAL ${reserved.toFixed(3)}, reserved ÷ growing ${(reserved / growing).toFixed(2)}`);
}
