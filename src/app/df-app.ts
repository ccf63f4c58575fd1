/**
 * DFApp: the application. Register functions on it, then `start()` a host (worker + HTTP server),
 * `startWorker()` for a worker only, or use `client` helpers.
 */
import { StoreClient } from '../client/store-client.js';
import type { DurableClient } from '../sdk/durable-client.js';
import { acquireStore, resolveStoreUrl, type OpenStoreOptions, type StoreHandle } from '../store/open-store.js';
import { startWorker, type WorkerHandle, type WorkerOptions } from '../runtime/worker.js';
import { withBuiltInActivities, type TokenProvider } from '../runtime/http-activity.js';
import type { GrpcSidecarTuning } from '../grpc/sidecar-server.js';
import type { HttpListenOptions } from '../http/host.js';
import type { CorsOptions } from '../http/cross-origin.js';
import { Blueprint, type BlueprintOptions } from '../sdk/blueprint.js';
import { withFields, type Logger } from '../sdk/logger.js';
import { checkVersioningOptions, type VersioningOptions } from '../sdk/versioning.js';

/** Options of a {@link DFApp}. */
export interface DFAppOptions extends BlueprintOptions {
  /** `sqlite:<path>`, `sqlite::memory:` or `postgres://…`; default `DURAFLOW_STORE`, else `sqlite:.duraflow/duraflow.db`. */
  store?: string;
  /** Isolates instances within one store (default `default`). */
  taskHub?: string;
  /** Largest input, output, event or state in bytes (default 1 MiB). */
  maxPayloadBytes?: number;
  /**
   * Gets what the app's worker, HTTP host and store report: failed instances, route handler errors, store
   * errors, lease takeovers, `ctx.log`. Without one an app started from code logs nothing; `duraflow start`
   * and `duraflow worker` install a pino logger on stderr.
   */
  logger?: Logger;
  /** Worker tuning. */
  worker?: WorkerOptions;
  /** API key for the HTTP host (default env `DURAFLOW_API_KEY`). */
  apiKey?: string;
  /**
   * Host names the HTTP host answers to besides localhost, IP addresses and the name it is bound to — the
   * guard against DNS rebinding; any other `Host` gets 421. `'box.example.com'`, `'.example.com'` (the domain
   * and its subdomains), `'*'` (any name: only behind a proxy that checks `Host` itself). No ports.
   */
  allowedHosts?: string[];
  /**
   * Browser pages on other origins that may call the management API and the app's routes (CORS). Any other
   * page's cross-origin request is refused with 403, the guard against cross-site request forgery; clients
   * that are not browsers (curl, SDK clients, `createClient({ url })`) send no `Origin` and are not affected.
   */
  cors?: CorsOptions;
  /**
   * Bearer tokens for `ctx.callHttp({ tokenSource })`: called with the token source's resource (a string
   * token source is the resource itself); the result is sent as `Authorization: Bearer <token>`.
   */
  tokenProvider?: TokenProvider;
  /**
   * Orchestration versioning (Durable Functions' model): the version new instances get, and which instance
   * versions this app's workers run. See "Deploying changes" in the README.
   */
  versioning?: VersioningOptions;
}

/** Options of `app.start()`. */
export interface StartOptions extends HttpListenOptions {  /**
   * Also serve the Durable Task sidecar protocol (gRPC `TaskHubSidecarService`) on this port, so Python and
   * JavaScript durabletask SDK workers and clients use this app's engine and store (4001 is their default; 0
   * picks a free port). Off unless set.
   */
  grpcPort?: number;
  /** Address of the gRPC server (default: `hostname`, else 127.0.0.1). */
  grpcHostname?: string;
  /** Tuning of the gRPC sidecar. */
  grpc?: GrpcSidecarTuning;
}

/** A running worker with its HTTP server. */
export interface Host {
  readonly client: DurableClient;
  /** The server's base URL, e.g. `http://127.0.0.1:7071`. */
  readonly url: string;
  /** `host:port` of the gRPC sidecar, when started with `grpcPort`. */
  readonly grpcAddress?: string;
  /** Stops the server and the worker, draining in-flight work. */
  stop(): Promise<void>;
}

/** A running worker without HTTP. */
export interface Worker {
  readonly client: DurableClient;
  readonly workerId: string;
  stop(): Promise<void>;
}

/** The duraflow application. */
export class DFApp extends Blueprint {
  /** The app's options; the CLI overrides `store` and `taskHub` here before starting. */
  readonly options: DFAppOptions;

  constructor(options: DFAppOptions = {}) {
    super(options);
    const versioning = checkVersioningOptions(options.versioning);
    this.options = { ...options, ...(versioning ? { versioning: { ...versioning } } : {}) };
  }

  /** The task hub this app's worker serves (default `default`). */
  get taskHub(): string {
    return this.options.taskHub ?? 'default';
  }

  /** Adds every function and route of a blueprint to this app. */
  registerFunctions(blueprint: Blueprint): void {
    this.registry.merge(blueprint.registry);
  }

  /** The store URL this app uses. */
  get storeUrl(): string {
    return resolveStoreUrl(this.options.store);
  }

  /** Starts a worker (no HTTP server). */
  async startWorker(options: WorkerOptions = {}): Promise<Worker> {
    const handle = await acquireStore(this.storeUrl, this.#storeOptions());
    try {
      const worker = await this.#startWorker(handle, options);
      const client = this.#client(handle);
      return {
        client,
        workerId: worker.workerId,
        stop: async () => {
          await worker.stop();
          await handle.release();
        },
      };
    } catch (error) {
      await handle.release();
      throw error;
    }
  }

  /** Starts a worker and the HTTP server (management API, user routes). */
  async start(options: StartOptions = {}): Promise<Host> {
    const handle = await acquireStore(this.storeUrl, this.#storeOptions());
    let worker: WorkerHandle | undefined;
    try {
      worker = await this.#startWorker(handle, {});
      const { startHttpHost } = await import('../http/host.js');
      const running = worker;
      const server = await startHttpHost(this, handle.store, {
        ...options,
        notReadyReason: () => (running.stopping ? 'worker stopped' : undefined),
      });
      let sidecar;
      try {
        sidecar = options.grpcPort === undefined ? undefined : await this.#startSidecar(handle, options);
      } catch (error) {
        await server.close();
        throw error;
      }
      const client = this.#client(handle, server.url);
      return {
        client,
        url: server.url,
        ...(sidecar ? { grpcAddress: sidecar.address } : {}),
        stop: async () => {
          await sidecar?.stop();
          await server.close();
          await worker!.stop();
          await handle.release();
        },
      };
    } catch (error) {
      await worker?.stop();
      await handle.release();
      throw error;
    }
  }

  /** The gRPC sidecar on the same store and task hub; it loads `@grpc/grpc-js` only now. */
  async #startSidecar(handle: StoreHandle, options: StartOptions) {
    const { startGrpcSidecar } = await import('../grpc/sidecar-server.js');
    return startGrpcSidecar({
      store: handle.store,
      taskHub: this.taskHub,
      registry: withBuiltInActivities(this.registry, { ...(this.options.tokenProvider ? { tokenProvider: this.options.tokenProvider } : {}), ...this.options.worker }),
      ...(options.grpcPort !== undefined ? { port: options.grpcPort } : {}),
      hostname: options.grpcHostname ?? options.hostname ?? '127.0.0.1',
      ...(this.options.apiKey !== undefined ? { apiKey: this.options.apiKey } : {}),
      ...(this.options.logger ? { logger: withFields(this.options.logger, { taskHub: this.taskHub }) } : {}),
      ...(this.options.maxPayloadBytes !== undefined ? { maxPayloadBytes: this.options.maxPayloadBytes } : {}),
      ...(this.options.versioning ? { versioning: this.options.versioning } : {}),
      ...options.grpc,
    });
  }

  /** How the host and worker open the store: checked before they start on it (see OpenStoreOptions.verify). */
  #storeOptions(): OpenStoreOptions {
    return { verify: true, ...(this.options.logger ? { logger: this.options.logger } : {}) };
  }

  #startWorker(handle: StoreHandle, options: WorkerOptions): Promise<WorkerHandle> {
    return startWorker(handle.store, this.taskHub, this.registry, {
      ...(this.options.logger ? { logger: this.options.logger } : {}),
      ...(this.options.maxPayloadBytes !== undefined ? { maxPayloadBytes: this.options.maxPayloadBytes } : {}),
      ...(this.options.tokenProvider ? { tokenProvider: this.options.tokenProvider } : {}),
      ...(this.options.versioning ? { versioning: this.options.versioning } : {}),
      ...this.options.worker,
      ...options,
    });
  }

  #client(handle: StoreHandle, baseUrl?: string): DurableClient {
    return new StoreClient({
      store: handle.store,
      taskHub: this.taskHub,
      registry: this.registry,
      ...(this.options.versioning?.defaultVersion !== undefined ? { defaultVersion: this.options.versioning.defaultVersion } : {}),
      ...(this.options.maxPayloadBytes !== undefined ? { maxPayloadBytes: this.options.maxPayloadBytes } : {}),
      ...(baseUrl ? { baseUrl } : {}),
    });
  }
}
