/** What the routers of the HTTP host share: the app, the store, the key and one client per task hub. */
import { StoreClient } from '../client/store-client.js';
import type { DFApp } from '../sdk/app.js';
import type { Logger } from '../sdk/logger.js';
import type { Store } from '../store/store.js';

/** Shared state of one HTTP host. */
export interface HostContext {
  app: DFApp;
  store: Store;
  logger: Logger;
  /** The API key, when one is configured. */
  apiKey: string | undefined;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Largest payload (input, event data) accepted. */
  maxPayloadBytes: number | undefined;
  /** A store-backed client for `taskHub` (the app's own functions count as served in the app's hub). */
  clientFor(taskHub: string): StoreClient;
}

/** Builds the context; clients are created on first use so they see the final base URL. */
export function createHostContext(
  fields: Omit<HostContext, 'clientFor'>,
  baseUrl: () => string,
): HostContext {
  const clients = new Map<string, StoreClient>();
  return {
    ...fields,
    clientFor(taskHub) {
      let client = clients.get(taskHub);
      if (!client) {
        client = new StoreClient({
          store: fields.store,
          taskHub,
          ...(taskHub === fields.app.taskHub ? { registry: fields.app.registry } : {}),
          ...(fields.maxPayloadBytes !== undefined ? { maxPayloadBytes: fields.maxPayloadBytes } : {}),
          baseUrl: baseUrl(),
        });
        clients.set(taskHub, client);
      }
      return client;
    },
  };
}
