/**
 * The idle DBOS process of the cross-process dispatch case: `dbos-dispatch-worker.ts <server url> <schema>`.
 * Launches DBOS with default settings, serves the benchmark queue, and reports over IPC when a probe step runs.
 */
import { answerPings, type WorkerMessage } from '../clock-sync.js';
import { loadDbos } from './dbos-api.js';
import { DBOS_QUEUE, dbosConfig, registerWorkflows } from './dbos.js';

const [server, schema] = process.argv.slice(2);
if (!server || !schema) throw new Error('usage: dbos-dispatch-worker.ts <server url> <schema>');
answerPings();
try {
  const { DBOS } = await loadDbos();
  registerWorkflows(DBOS, (t0, at) => process.send?.({ type: 'probe', t0, at } satisfies WorkerMessage));
  DBOS.setConfig(dbosConfig(server, schema));
  await DBOS.launch();
  await DBOS.registerQueue(DBOS_QUEUE);
  process.on('SIGTERM', () => void DBOS.shutdown().then(() => process.exit(0)));
  process.send?.({ type: 'ready' } satisfies WorkerMessage);
} catch (error) {
  process.send?.({ type: 'error', message: (error as Error).message } satisfies WorkerMessage);
  process.exitCode = 1;
}
