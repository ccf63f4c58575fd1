/** `createClient`: a durable client from any process, over a store URL or a host's HTTP management API. */
import { acquireStore, resolveStoreUrl } from '../store/open-store.js';
import { ValidationError } from '../sdk/errors.js';
import { HttpClient } from './http-client.js';
import { StoreClient } from './store-client.js';
import type { DurableClient } from '../sdk/durable-client.js';

/** Options of {@link createClient}. */
export interface CreateClientOptions {
  /** Store URL (default env `DURAFLOW_STORE`, else the default SQLite file). */
  store?: string;
  /** Base URL of a running duraflow host (uses the HTTP management API instead of the store). */
  url?: string;
  /** API key of the host (with `url`). */
  apiKey?: string;
  taskHub?: string;
  maxPayloadBytes?: number;
}

/** Creates a client (`const client = await createClient({ store })`); `close()` it to release its connections. */
export async function createClient(options: CreateClientOptions = {}): Promise<DurableClient> {
  if (options.url !== undefined) {
    if (options.store !== undefined) throw new ValidationError('createClient takes either { store } or { url }, not both.');
    return new HttpClient({
      url: options.url,
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
      ...(options.taskHub !== undefined ? { taskHub: options.taskHub } : {}),
    });
  }
  const handle = await acquireStore(resolveStoreUrl(options.store));
  return new StoreClient({
    store: handle.store,
    taskHub: options.taskHub ?? 'default',
    ...(options.maxPayloadBytes !== undefined ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
    onClose: () => handle.release(),
  });
}
