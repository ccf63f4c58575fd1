/**
 * What the integrity check at host start (`SqliteStore.verify`, `PRAGMA quick_check`) costs on a big store: builds
 * a migrated SQLite store of about M megabytes (instances and history rows written straight into its tables; the
 * API takes minutes for that much), then times the check with the file dropped from the page cache (a host
 * started after a reboot; `dd iflag=nocache`, GNU coreutils) and with it cached (a restart).
 *   npx tsx bench/quick-check.ts [megabytes=200]
 */
import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

const megabytes = Number(process.argv[2] ?? 200);
const path = join(tmpdir(), `duraflow-quick-check-${process.pid}.db`);
const build = new SqliteStore(path, { synchronous: 'OFF' });
const insertInstance = build.db.prepare(
  `INSERT INTO instances (hub, instance_id, name, execution_id, status, input, created_at, updated_at, history_length)
   VALUES ('default', ?, 'hello', ?, 'Completed', ?, ?, ?, 20)`,
);
const insertHistory = build.db.prepare(`INSERT INTO history (hub, instance_id, seq, events) VALUES ('default', ?, ?, ?)`);
const event = JSON.stringify({ eventType: 'TaskCompleted', result: JSON.stringify('x'.repeat(900)), timestamp: new Date().toISOString() });
const batch = build.db.transaction((from: number) => {
  for (let i = from; i < from + 1000; i++) {
    const id = `instance-${String(i).padStart(8, '0')}`;
    insertInstance.run(id, `e${i}`, JSON.stringify({ n: i, s: 'y'.repeat(200) }), Date.now() - i * 1000, Date.now());
    for (let s = 0; s < 10; s++) insertHistory.run(id, s * 2, `[${event},${event}]`);
  }
});
let instances = 0;
while ((build.db.pragma('page_count', { simple: true }) as number) * 4096 < megabytes * 1e6) {
  batch(instances);
  instances += 1000;
}
build.db.pragma('wal_checkpoint(TRUNCATE)');
await build.close();

const size = statSync(path).size;
const time = async (what: string) => {
  const store = new SqliteStore(path);
  const started = performance.now();
  await store.verify();
  const ms = performance.now() - started;
  await store.close();
  console.log(`${what}: ${(ms / 1000).toFixed(2)} s for ${(size / 1e6).toFixed(0)} MB (${instances} instances)`);
};
try {
  execFileSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0'], { stdio: 'ignore' });
  await time('quick_check, file not cached');
  await time('quick_check, file cached');
} finally {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}
