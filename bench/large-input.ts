/**
 * What a large orchestration input costs per step on PostgreSQL: one orchestration of N sequential activities
 * started with a random (incompressible) input of S bytes; steps/s and WAL bytes per step (from
 * `pg_current_wal_lsn()`, so the server's whole WAL: run it on an otherwise idle server).
 *   npx tsx bench/large-input.ts [steps=300] [bytes=100000]
 */
import { randomBytes } from 'node:crypto';
import { DFApp } from '../src/index.js';
import { dropSchema, newSchemaName, schemaUrl, withPgClient } from './stores.js';

const steps = Number(process.argv[2] ?? 300);
const bytes = Number(process.argv[3] ?? 100_000);
const schema = newSchemaName('input');
const app = new DFApp({ store: schemaUrl(schema) });
app.activity('inc', (n: number) => n + 1);
app.orchestration('carry', function* (ctx) {
  const { steps } = ctx.getInput<{ steps: number }>()!;
  let n = 0;
  for (let i = 0; i < steps; i++) n = (yield ctx.callActivity('inc', n)) as number;
  return n;
});
const payload = () => randomBytes(Math.ceil(bytes / 2)).toString('hex').slice(0, bytes);
const walPosition = () => withPgClient(async (c) => (await c.query<{ lsn: string }>('SELECT pg_current_wal_lsn() AS lsn')).rows[0]!.lsn);

const worker = await app.startWorker();
try {
  // Warm-up, then the timed run with a fresh payload.
  await worker.client.waitForCompletion(await worker.client.startNew('carry', { input: { steps: 50, payload: payload() } }));
  const before = await walPosition();
  const started = performance.now();
  const id = await worker.client.startNew('carry', { input: { steps, payload: payload() } });
  await worker.client.waitForCompletion(id, { timeoutInMilliseconds: 600_000 });
  const ms = performance.now() - started;
  const wal = await withPgClient(
    async (c) => (await c.query<{ d: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS d', [before])).rows[0]!.d,
  );
  process.stdout.write(
    `${steps} steps with a ${(bytes / 1000).toFixed(0)} KB input: ${(steps / (ms / 1000)).toFixed(0)} steps/s, ` +
      `${(Number(wal) / steps / 1024).toFixed(1)} KB of WAL per step\n`,
  );
} finally {
  await worker.stop();
  await dropSchema(schema);
}
