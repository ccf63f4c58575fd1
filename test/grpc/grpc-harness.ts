/**
 * Test helpers for the gRPC sidecar: a duraflow host with `grpcPort: 0` on a fresh test store, Microsoft's
 * durabletask-js worker and client pointed at it, and a raw protocol client (our own `.proto`) for tests that
 * play the worker themselves.
 */
import { NoOpLogger, TaskHubGrpcClient, TaskHubGrpcWorker } from '@microsoft/durabletask-js';
import type * as GrpcJs from '@grpc/grpc-js';
import { DFApp, type Host, type StartOptions } from '../../src/index.js';
import { loadSidecarProtocol } from '../../src/grpc/service-definition.js';
import { acquireStore } from '../../src/store/open-store.js';
import { ANY_NAME } from '../../src/store/store.js';
import type { TestStore } from '../support/stores.js';

/** A running host with its gRPC sidecar. */
export interface GrpcHost {
  app: DFApp;
  host: Host;
  storeUrl: string;
  address: string;
  stop(): Promise<void>;
}

/** Starts `app` (built for the store URL) with the HTTP host on port 0 and the sidecar on a free port. */
export async function startGrpcHost(store: TestStore, make: (storeUrl: string) => DFApp = (url) => new DFApp({ store: url }), start: StartOptions = {}): Promise<GrpcHost> {
  const { url, cleanup } = await store.create();
  const app = make(url);
  app.options.worker = { pollIntervalMs: 50, ...app.options.worker };
  const host = await app.start({ port: 0, grpcPort: 0, ...start, grpc: { pollIntervalMs: 50, ...start.grpc } });
  return {
    app,
    host,
    storeUrl: url,
    address: host.grpcAddress!,
    async stop() {
      await host.stop();
      await cleanup();
    },
  };
}

/** A durabletask-js worker (quiet), configured by `setup`, started. */
export async function startSdkWorker(
  address: string,
  setup: (worker: TaskHubGrpcWorker) => void,
  options: { workItemFilters?: 'auto'; taskHub?: string } = {},
): Promise<TaskHubGrpcWorker> {
  const worker = new TaskHubGrpcWorker({
    hostAddress: address,
    logger: new NoOpLogger(),
    shutdownTimeoutMs: 5000,
    ...(options.workItemFilters ? { workItemFilters: options.workItemFilters } : {}),
    ...(options.taskHub ? { metadataGenerator: hubMetadata(options.taskHub) } : {}),
  });
  setup(worker);
  await worker.start();
  return worker;
}

/**
 * Waits until the hub's worker registry shows what a connected gRPC worker serves (`GetWorkItems` is opened
 * after `worker.start()` returns): `names` of each kind, or any name for a worker without filters; then until
 * the in-process worker's cache of the registry (at most a second old) has caught up.
 */
export async function waitForRegistration(storeUrl: string, names: string[] = [ANY_NAME], taskHub = 'default'): Promise<void> {
  const handle = await acquireStore(storeUrl);
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const served = await handle.store.hub(taskHub).getRegisteredNames();
      const all = [...(served?.orchestrations ?? []), ...(served?.activities ?? []), ...(served?.entities ?? [])];
      if (names.every((n) => all.includes(n))) {
        // Workers re-read the registry at most once a second before they refuse a name; let them see it.
        await new Promise((resolve) => setTimeout(resolve, 1100));
        return;
      }
      if (Date.now() > deadline) throw new Error(`the gRPC worker never registered ${names.join(', ')} (registered: ${all.join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await handle.release();
  }
}

/** A durabletask-js client (quiet). */
export function sdkClient(address: string, taskHub?: string): TaskHubGrpcClient {
  return new TaskHubGrpcClient({ hostAddress: address, logger: new NoOpLogger(), ...(taskHub ? { metadataGenerator: hubMetadata(taskHub) } : {}) });
}

function hubMetadata(taskHub: string): () => Promise<GrpcJs.Metadata> {
  return async () => {
    const { grpc } = await loadSidecarProtocol();
    const metadata = new grpc.Metadata();
    metadata.set('taskhub', taskHub);
    return metadata;
  };
}

/** A raw TaskHubSidecarService client: `call(method, request)` for unary calls, `stream(...)` for server streams. */
export interface RawClient {
  grpc: typeof GrpcJs;
  call<T = any>(method: string, request: object, metadata?: Record<string, string>, deadlineMs?: number): Promise<T>;
  stream(method: string, request: object, metadata?: Record<string, string>): GrpcJs.ClientReadableStream<any>;
  close(): void;
}

/** Connects a raw client to `address`. */
export async function rawClient(address: string): Promise<RawClient> {
  const { grpc, Client } = await loadSidecarProtocol();
  const client = new Client(address, grpc.credentials.createInsecure()) as GrpcJs.Client & Record<string, (...args: any[]) => any>;
  const meta = (entries: Record<string, string> = {}) => {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
    return metadata;
  };
  return {
    grpc,
    call(method, request, metadata, deadlineMs) {
      return new Promise((resolve, reject) => {
        const options = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
        client[method]!(request, meta(metadata), options, (error: Error | null, response: unknown) => (error ? reject(error) : resolve(response as never)));
      });
    },
    stream(method, request, metadata) {
      return client[method]!(request, meta(metadata)) as GrpcJs.ClientReadableStream<any>;
    },
    close: () => client.close(),
  };
}

/** Collects the work items of a `GetWorkItems` stream (health pings counted apart). */
export class WorkItemInbox {
  readonly items: any[] = [];
  pings = 0;
  ended = false;
  error: Error | undefined;
  #waiters: (() => void)[] = [];

  constructor(readonly stream: GrpcJs.ClientReadableStream<any>) {
    stream.on('data', (item: any) => {
      if (item.healthPing) this.pings++;
      else this.items.push(item);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    stream.on('error', (error: Error) => {
      this.error = error;
      for (const wake of this.#waiters.splice(0)) wake();
    });
    stream.on('end', () => {
      this.ended = true;
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Waits until `check` holds; fails after `timeoutMs`. */
  async until<T>(check: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined && value !== false) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}${this.error ? ` (stream error: ${this.error.message})` : ''}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next work item after the first `seen` ones. */
  next(seen: number, timeoutMs = 10_000): Promise<any> {
    return this.until(() => this.items[seen], timeoutMs, `work item #${seen + 1}`);
  }

  cancel(): void {
    this.stream.cancel();
  }
}

/** Reads a JSON `StringValue`. */
export function json(value: { value?: string } | undefined): unknown {
  return value?.value === undefined || value.value === '' ? undefined : JSON.parse(value.value);
}
