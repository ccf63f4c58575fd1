/**
 * Starts an app's worker on a fresh store for one test and tears everything down afterwards.
 */
import type { DFApp, DurableClient, WorkerOptions } from '../../src/index.js';
import type { TestStore } from './stores.js';

/** A running app for one test. */
export interface RunningApp {
  client: DurableClient;
  url: string;
  stop(): Promise<void>;
}

/** Builds the app with `make(storeUrl)`, starts its worker, and returns a client. */
export async function runApp(
  store: TestStore,
  make: (storeUrl: string) => DFApp,
  options: WorkerOptions = {},
): Promise<RunningApp> {
  const { url, cleanup } = await store.create();
  const app = make(url);
  const worker = await app.startWorker({ pollIntervalMs: 50, ...options });
  return {
    client: worker.client,
    url,
    async stop() {
      await worker.stop();
      await cleanup();
    },
  };
}
