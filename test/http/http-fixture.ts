/**
 * A real host on 127.0.0.1 (port 0) over a fresh SQLite store for the HTTP tests, with a store-backed
 * client to look behind the API (e.g. to prove that a refused request wrote nothing).
 */
import { request as httpRequest } from 'node:http';
import { createClient, DFApp, type DFAppOptions, type DurableClient } from '../../src/index.js';
import { sqliteTestStore, type TestStore } from '../support/stores.js';

/** A running host for one test file. */
export interface TestHost {
  app: DFApp;
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** `${url}/runtime/webhooks/durabletask` */
  base: string;
  /** Reads the store directly. */
  store: DurableClient;
  /** The URL of the host's store (for `duraflow --store`). */
  storeUrl: string;
  /** Number of instances in the app's task hub. */
  count(): Promise<number>;
  stop(): Promise<void>;
}

/** Options of {@link startTestHost}. */
export interface TestHostOptions {
  app?: Omit<DFAppOptions, 'store'>;
  setup?: (app: DFApp) => void;
  /** The store kind (default SQLite). */
  store?: TestStore;
}

/** Registers the standard test functions. */
export function registerStandardFunctions(app: DFApp): void {
  app.activity('greet', (name: string) => `Hello ${name}!`);
  app.orchestration('hello', function* (ctx) {
    return yield ctx.callActivity('greet', ctx.getInput<string>());
  });
  app.orchestration('echo', (ctx) => ctx.getInput());
  app.orchestration('waiter', function* (ctx) {
    return yield ctx.waitForExternalEvent('go');
  });
  app.orchestration('fails', () => {
    throw new Error('boom on purpose');
  });
}

/** Starts a host with the standard functions (plus `setup`). */
export async function startTestHost(options: TestHostOptions = {}): Promise<TestHost> {
  const { url: storeUrl, cleanup } = await (options.store ?? sqliteTestStore).create();
  const app = new DFApp({ worker: { pollIntervalMs: 50 }, ...options.app, store: storeUrl });
  registerStandardFunctions(app);
  options.setup?.(app);
  const host = await app.start({ port: 0 });
  const store = await createClient({ store: storeUrl, taskHub: app.taskHub });
  return {
    app,
    url: host.url,
    base: `${host.url}/runtime/webhooks/durabletask`,
    store,
    storeUrl,
    count: async () => (await store.getStatusAll()).length,
    async stop() {
      await store.close();
      await host.stop();
      await cleanup();
    },
  };
}

/** A parsed response. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** Sends a request and reads the whole answer. */
export async function call(url: string, init: RequestInit = {}): Promise<ApiResponse> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** POST with a JSON body. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return call(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
}

/** A request through node:http, for headers fetch will not send as given (e.g. `Host`). */
export function rawCall(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
