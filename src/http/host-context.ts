/** What the routers of the HTTP host share: the app, the store, the key and one client per task hub. */
import { StoreClient } from '../client/store-client.js';
import type { AuthLevel } from '../sdk/blueprint.js';
import type { Registry } from '../sdk/registry.js';
import type { Logger } from '../sdk/logger.js';
import type { Store } from '../store/store.js';
import { LruCache, MAX_CACHED_HUBS } from '../store/lru-cache.js';

/** What the host serves of an app (a `DFApp` is one): its functions and routes, its task hub and options. */
export interface HostedApp {
  readonly registry: Registry;
  readonly taskHub: string;
  /** Auth level of routes registered without one. */
  readonly httpAuthLevel: AuthLevel;
  readonly options: {
    readonly logger?: Logger;
    readonly apiKey?: string;
    readonly maxPayloadBytes?: number;
    /** Extra host names the server answers to (see `allowed-hosts.ts`). */
    readonly allowedHosts?: readonly string[];
    /** Origins whose pages may call the API from a browser (see `cross-origin.ts`). */
    readonly cors?: { readonly origins: readonly string[] };
  };
}

/** Shared state of one HTTP host. */
export interface HostContext {
  app: HostedApp;
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
  // Requests may name any task hub: the clients are kept in a bounded cache (they are cheap to rebuild).
  const clients = new LruCache<string, StoreClient>(MAX_CACHED_HUBS);
  return {
    ...fields,
    clientFor: (taskHub) =>
      clients.getOrCreate(
        taskHub,
        () =>
          new StoreClient({
            store: fields.store,
            taskHub,
            ...(taskHub === fields.app.taskHub ? { registry: fields.app.registry } : {}),
            ...(fields.maxPayloadBytes !== undefined ? { maxPayloadBytes: fields.maxPayloadBytes } : {}),
            baseUrl: baseUrl(),
          }),
      ),
  };
}
