/**
 * How the instance and entity commands reach a task hub: a store URL (`--store`, a store-backed client) or a
 * running host (`--url` + `--api-key`, the HTTP client). Also the shared parsing of JSON and time arguments.
 */
import type { Command } from 'commander';
import { createClient } from '../client/create-client.js';
import { StoreClient } from '../client/store-client.js';
import { acquireStore, resolveStoreUrl } from '../store/open-store.js';
import type { DurableClient } from '../sdk/durable-client.js';
import { ValidationError } from '../sdk/errors.js';

/** The connection options every instance/entity command takes. */
export interface ConnectionOptions {
  store?: string;
  url?: string;
  apiKey?: string;
  hub?: string;
  json?: boolean;
}

/** Adds `--store`, `--url`, `--api-key`, `--hub` and `--json` to a command. */
export function withConnection(command: Command): Command {
  return command
    .option('--store <url>', "store URL ('sqlite:<path>' or 'postgres://…'; default DURAFLOW_STORE, else sqlite:.duraflow/duraflow.db)")
    .option('--url <url>', 'base URL of a running duraflow host, instead of --store (default DURAFLOW_URL)')
    .option('--api-key <key>', "the host's API key, with --url (default DURAFLOW_API_KEY)")
    .option('--hub <name>', "task hub (default 'default')")
    .option('--json', 'print JSON for scripts instead of tables');
}

/** How a command uses its client. */
export interface ClientUse {
  /** The command only reads: a store that does not exist is an error, never created (no file, directory or schema). */
  readOnly?: boolean;
}

/** A client on the store at `url` that exists already (see {@link ClientUse.readOnly}). */
async function existingStoreClient(url: string, taskHub: string | undefined): Promise<DurableClient> {
  const handle = await acquireStore(url, { mustExist: true });
  return new StoreClient({ store: handle.store, taskHub: taskHub ?? 'default', onClose: () => handle.release() });
}

/** Opens the client the options describe, runs `fn`, and closes the client. */
export async function withClient<T>(options: ConnectionOptions, fn: (client: DurableClient) => Promise<T>, use: ClientUse = {}): Promise<T> {
  const url = options.url ?? (options.store === undefined ? process.env['DURAFLOW_URL'] : undefined);
  if (url !== undefined && options.store !== undefined) throw new ValidationError('Give either --store or --url, not both.');
  const apiKey = options.apiKey ?? process.env['DURAFLOW_API_KEY'];
  const client =
    url === undefined && use.readOnly
      ? await existingStoreClient(resolveStoreUrl(options.store), options.hub)
      : await createClient({
          ...(url !== undefined ? { url, ...(apiKey ? { apiKey } : {}) } : options.store !== undefined ? { store: options.store } : {}),
          ...(options.hub !== undefined ? { taskHub: options.hub } : {}),
        });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Parses a JSON argument (`--input`, `--data`); undefined stays undefined. */
export function parseJsonArg(text: string | undefined, option: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ValidationError(`${option} must be JSON (quote strings: '"text"'): ${(error as Error).message}.`);
  }
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A time argument: ISO-8601 (`2025-01-02`, `2025-01-02T03:04:05Z`) or an age like `90s`, `15m`, `2h`, `7d` (ago). */
export function parseTimeArg(text: string | undefined, option: string, now = Date.now()): Date | undefined {
  if (text === undefined) return undefined;
  const relative = /^(\d+)([smhd])$/.exec(text.trim());
  if (relative) return new Date(now - Number(relative[1]) * UNITS[relative[2]!]!);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (Number.isNaN(ms)) throw new ValidationError(`${option} must be an ISO-8601 time or an age like 15m, 2h, 7d; got '${text}'.`);
  return new Date(ms);
}

/** A positive integer argument. */
export function parseCount(text: string | undefined, option: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n > max) throw new ValidationError(`${option} must be a whole number up to ${max}, got '${text}'.`);
  return n;
}
