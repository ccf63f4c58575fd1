/**
 * The durabletask-js side of `bench/grpc.ts`: the hello workload (an orchestrator calling `sayHello` three times)
 * served by Microsoft's SDK worker in its own process. Usage: `tsx bench/grpc-worker.ts <host:port> [console]`:
 * quiet (`NoOpLogger`) unless `console`, the SDK's default logger (a line per work item and per history event).
 * On SIGUSR2 it prints `cpu <µs>` (its user + system CPU time so far), so the bench can tell its CPU per
 * orchestration without a profiler.
 */
import { NoOpLogger, TaskHubGrpcWorker, type OrchestrationContext } from '@microsoft/durabletask-js';

const quiet = process.argv[3] !== 'console';
const worker = new TaskHubGrpcWorker({ hostAddress: process.argv[2]!, ...(quiet ? { logger: new NoOpLogger() } : {}) });
worker.addNamedActivity('sayHello', async (_ctx, city: string) => `Hello ${city}!`);
worker.addNamedOrchestrator('hello', async function* (ctx: OrchestrationContext): any {
  return [yield ctx.callActivity('sayHello', 'Tokyo'), yield ctx.callActivity('sayHello', 'Seattle'), yield ctx.callActivity('sayHello', 'London')];
});
process.on('SIGUSR2', () => {
  const { user, system } = process.cpuUsage();
  process.stdout.write(`\ncpu ${user + system}\n`);
});
await worker.start();
process.stdout.write('worker-ready\n');
process.on('SIGTERM', () => void worker.stop().then(() => process.exit(0)));
