/**
 * The idle worker of the cross-process dispatch case: `dispatch-worker.ts <store url>`. Runs the benchmark app's
 * worker with default options and reports over IPC when each `probe` activity starts running.
 */
import { answerPings, type WorkerMessage } from './clock-sync.js';
import { benchApp, setProbeSink } from './workloads.js';

const url = process.argv[2];
if (!url) throw new Error('usage: dispatch-worker.ts <store url>');
answerPings();
setProbeSink((t0, at) => process.send?.({ type: 'probe', t0, at } satisfies WorkerMessage));
try {
  const worker = await benchApp(url).startWorker();
  process.on('SIGTERM', () => void worker.stop().then(() => process.exit(0)));
  process.send?.({ type: 'ready' } satisfies WorkerMessage);
} catch (error) {
  process.send?.({ type: 'error', message: (error as Error).message } satisfies WorkerMessage);
  process.exitCode = 1;
}
