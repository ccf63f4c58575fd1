/**
 * The durabletask-js side of `bench/grpc.ts`: the hello workload (an orchestrator calling `sayHello` three times)
 * served by Microsoft's SDK worker in its own process. Usage: `tsx bench/grpc-worker.ts <host:port>`.
 */
import { NoOpLogger, TaskHubGrpcWorker, type OrchestrationContext } from '@microsoft/durabletask-js';

const worker = new TaskHubGrpcWorker({ hostAddress: process.argv[2]!, logger: new NoOpLogger() });
worker.addNamedActivity('sayHello', async (_ctx, city: string) => `Hello ${city}!`);
worker.addNamedOrchestrator('hello', async function* (ctx: OrchestrationContext): any {
  return [yield ctx.callActivity('sayHello', 'Tokyo'), yield ctx.callActivity('sayHello', 'Seattle'), yield ctx.callActivity('sayHello', 'London')];
});
await worker.start();
process.stdout.write('worker-ready\n');
process.on('SIGTERM', () => void worker.stop().then(() => process.exit(0)));
