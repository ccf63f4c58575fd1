/**
 * The quick-start demo: starts the sample app on the embedded SQLite store (.duraflow/duraflow.db),
 * runs every pattern, prints each orchestration's progress and result, then keeps the host running so the
 * dashboard can be explored (Ctrl+C stops it; `--exit` exits right after the runs).
 *
 *   npm install && npm run demo
 */
import type { Host } from '../src/index.js';
import { createSampleApp } from './app.js';

const app = createSampleApp();
const exitWhenDone = process.argv.includes('--exit');

/** Port 7071 (the Durable Functions default) when free, else any free port. */
async function startHost(): Promise<Host> {
  const port = process.env['PORT'] === undefined ? 7071 : Number(process.env['PORT']);
  try {
    return await app.start({ port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return app.start({ port: 0 });
  }
}

const host = await startHost();
const { client } = host;
console.log(`duraflow demo — store ${app.storeUrl}\n  dashboard: ${host.url}/dashboard\n  HTTP API:  ${host.url}/runtime/webhooks/durabletask/instances\n`);

async function run(title: string, name: string, input?: unknown, whileRunning?: (id: string) => Promise<void>): Promise<void> {
  const started = Date.now();
  const id = await client.startNew(name, { input });
  console.log(`▶ ${title}: started '${name}' as ${id}`);
  await whileRunning?.(id);
  const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 30_000 });
  const history = await client.getStatus(id, { showHistory: true });
  const steps = history?.history?.filter((e) => e.eventType === 'TaskCompleted' || e.eventType === 'TaskFailed').length ?? 0;
  console.log(`  ${status.runtimeStatus} in ${Date.now() - started} ms after ${steps} activity results`);
  console.log(`  output: ${JSON.stringify(status.output)}\n`);
}

await run('function chaining', 'helloCities');
await run('fan-out/fan-in over 20 files', 'totalBytes', 20);
await run('monitor polling every 200 ms', 'monitorJob', { jobId: `job-${Date.now()}`, pollIntervalMs: 200, maxPolls: 10 });
await run('human interaction, approved', 'approvalWorkflow', { requestId: 'PO-1', timeoutMs: 10_000 }, async (id) => {
  await new Promise((resolve) => setTimeout(resolve, 300));
  console.log(`  raising 'approval' on ${id}`);
  await client.raiseEvent(id, 'approval', { approved: true, by: 'ada' });
});
await run('human interaction, timed out', 'approvalWorkflow', { requestId: 'PO-2', timeoutMs: 500 });
await run('error handling, all steps succeed', 'orchestratePipeline', {});
await run('error handling, Process fails → CleanUp', 'orchestratePipeline', { failAt: 'Process' });

const counts = new Map<string, number>();
for (const s of await client.getStatusAll()) counts.set(s.runtimeStatus, (counts.get(s.runtimeStatus) ?? 0) + 1);
console.log(`instances in ${app.storeUrl}: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}`);
if (exitWhenDone) {
  await host.stop();
} else {
  console.log(`\nThe host keeps running: open ${host.url}/dashboard to see every instance and its history,`);
  console.log(`or start one over HTTP: curl -X POST ${host.url}/api/start/helloCities — Ctrl+C stops it.`);
  const stop = async () => {
    await host.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
