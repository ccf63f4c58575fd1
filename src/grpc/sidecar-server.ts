/**
 * duraflow as a Durable Task sidecar: a gRPC server speaking `TaskHubSidecarService`, so workers and clients of
 * Microsoft's durabletask SDKs (Python `durabletask`, JavaScript `@microsoft/durabletask-js`, …) run on duraflow's
 * engine and stores next to TypeScript functions.
 *
 * Plaintext HTTP/2 on 127.0.0.1 by default (a non-loopback address needs an API key). With an API key every call
 * must carry it as `authorization: Bearer <key>` metadata (or `x-functions-key`). The optional `taskhub` metadata
 * selects the task hub (default: the app's).
 */
import { hostname as machineName } from 'node:os';
import type * as GrpcJs from '@grpc/grpc-js';
import { isTerminalStatus } from '../sdk/history.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../core/payload.js';
import { StoreClient } from '../client/store-client.js';
import { ValidationError } from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import { silentLogger } from '../sdk/logger.js';
import { Registry } from '../sdk/registry.js';
import type { VersioningOptions } from '../sdk/versioning.js';
import type { Store } from '../store/store.js';
import * as client from './client-service.js';
import type { WorkKind } from './completion-token.js';
import { UnauthenticatedError, toServiceError } from './grpc-errors.js';
import type { PbActivityResponse, PbEntityBatchResult, PbGetWorkItemsRequest, PbOrchestratorResponse, PbWorkItem } from './proto-types.js';
import type { EntityRequestFormat } from './remote-executors.js';
import { RemoteHub } from './remote-hub.js';
import { loadSidecarProtocol } from './service-definition.js';
import { WorkerConnection } from './worker-connection.js';
import { assertSafeBinding, keysMatch, resolveApiKey } from '../sdk/api-key.js';

/** The default port of Durable Task sidecars (what the SDKs connect to without an address). */
export const DEFAULT_GRPC_PORT = 4001;

/** Tuning of the gRPC sidecar; every field has a default. */
export interface GrpcSidecarTuning {
  /** Lease on an instance while a worker runs its episode (default 30 s). */
  orchestrationLeaseMs?: number;
  /** How long a worker may take to answer an orchestration or entity work item before it is re-dispatched (default 80% of the lease). */
  workItemTimeoutMs?: number;
  /** Lease on an activity at a worker, renewed while the worker stays connected (default 60 s). */
  activityLeaseMs?: number;
  /** Longest sleep of the claim loops without a notice (default 5 s where notices cross processes, else 500 ms). */
  pollIntervalMs?: number;
  /** Health pings on each `GetWorkItems` stream (default every 15 s). */
  healthPingMs?: number;
  /** Work items per kind a worker may hold when it does not say (default 100). */
  defaultConcurrency?: number;
  /** Entity work items as V1 `EntityBatchRequest` (default) or V2 `EntityRequest`. */
  entityRequestFormat?: EntityRequestFormat;
  /** Pause before re-dispatching work a worker abandoned (default 1 s). */
  abandonDelayMs?: number;
  /** How long `stop()` waits for work out at workers before giving it back (default 10 s). */
  drainTimeoutMs?: number;
  /** How long workers' results wait to share a durable commit with others (default 2 ms). */
  commitLingerMs?: number;
}

/** Settings of {@link startGrpcSidecar}. */
export interface GrpcSidecarOptions extends GrpcSidecarTuning {
  store: Store;
  /** The task hub of calls without `taskhub` metadata. */
  taskHub: string;
  /** Functions this process serves for `taskHub` (they always run here, never on a gRPC worker). */
  registry?: Registry;
  /** Port (default 4001; 0 picks a free one). */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  hostname?: string;
  /** API key (default env `DURAFLOW_API_KEY`). */
  apiKey?: string;
  logger?: Logger;
  maxPayloadBytes?: number;
  /** The app's versioning: the default version of starts, and which versions `registry`'s functions run here. */
  versioning?: VersioningOptions;
}

/** A running sidecar. */
export interface GrpcSidecar {
  /** The bound port. */
  readonly port: number;
  /** `host:port` for SDK clients and workers. */
  readonly address: string;
  /** Drains work out at workers, closes every stream and stops the server. */
  stop(): Promise<void>;
}

interface HubRuntime {
  remote: RemoteHub;
  context: client.ClientContext;
}

const HUB_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** Starts the gRPC sidecar on `options.store`. */
export async function startGrpcSidecar(options: GrpcSidecarOptions): Promise<GrpcSidecar> {
  const host = options.hostname ?? '127.0.0.1';
  const apiKey = resolveApiKey(options.apiKey);
  assertSafeBinding(host, apiKey);
  const logger = options.logger ?? silentLogger;
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const { grpc, service } = await loadSidecarProtocol();
  const server = new grpc.Server({ 'grpc.keepalive_permit_without_calls': 1, 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const hubs = new Map<string, Promise<HubRuntime>>();
  const connections = new Set<WorkerConnection>();
  let registrationId = '';
  let stopping = false;

  const hubRuntime = (name: string): Promise<HubRuntime> => {
    let runtime = hubs.get(name);
    if (!runtime) {
      runtime = (async () => {
        const own = name === options.taskHub;
        const registry = own ? (options.registry ?? new Registry()) : new Registry();
        const versioning = own ? options.versioning : undefined;
        const orchestrationLeaseMs = options.orchestrationLeaseMs ?? 30_000;
        const remote = new RemoteHub({
          store: options.store,
          hub: name,
          registry,
          logger,
          maxPayloadBytes,
          registrationId,
          orchestrationLeaseMs,
          workItemTimeoutMs: options.workItemTimeoutMs ?? Math.floor(orchestrationLeaseMs * 0.8),
          activityLeaseMs: options.activityLeaseMs ?? 60_000,
          pollIntervalMs: options.pollIntervalMs ?? (options.store.crossProcessNotices ? 5000 : 500),
          batchSize: 100,
          entityRequestFormat: options.entityRequestFormat ?? 'v1',
          abandonDelayMs: options.abandonDelayMs ?? 1000,
          commitLingerMs: options.commitLingerMs ?? 2,
          ...(versioning ? { versioning } : {}),
        });
        await remote.start();
        const defaultVersion = versioning?.defaultVersion;
        const storeClient = new StoreClient({ store: options.store, taskHub: name, registry, maxPayloadBytes, ...(defaultVersion !== undefined ? { defaultVersion } : {}) });
        return { remote, context: { store: options.store, hubName: name, hub: options.store.hub(name), client: storeClient, maxPayloadBytes } };
      })();
      runtime.catch(() => hubs.delete(name));
      hubs.set(name, runtime);
    }
    return runtime;
  };

  /** Checks the key and finds the hub a call addresses. */
  const admit = (metadata: GrpcJs.Metadata): Promise<HubRuntime> => {
    if (stopping) return Promise.reject(Object.assign(new Error('The sidecar is shutting down.'), { code: grpc.status.UNAVAILABLE }));
    if (apiKey !== undefined && !keysMatch(presentedKey(metadata), apiKey)) {
      return Promise.reject(new UnauthenticatedError('A valid API key is required: send it as "authorization: Bearer <key>" metadata.'));
    }
    const hub = firstValue(metadata, 'taskhub') ?? options.taskHub;
    if (!HUB_NAME.test(hub)) return Promise.reject(new ValidationError(`The taskhub metadata must be 1-128 letters, digits, '.', '_' or '-', got '${hub}'.`));
    return hubRuntime(hub);
  };

  /** Errors that already carry a gRPC status pass through; duraflow's typed errors are mapped. */
  const fail = (error: unknown) =>
    typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number'
      ? (error as GrpcJs.ServiceError)
      : toServiceError(grpc, error, logger);

  /** A unary handler over an async function of (request, hub, call). */
  const unary =
    <Req, Res>(fn: (request: Req, hub: HubRuntime, call: GrpcJs.ServerUnaryCall<Req, Res>) => Promise<Res>) =>
    (call: GrpcJs.ServerUnaryCall<Req, Res>, callback: GrpcJs.sendUnaryData<Res>) => {
      admit(call.metadata)
        .then((hub) => fn(call.request, hub, call))
        .then(
          (response) => callback(null, response),
          (error: unknown) => callback(fail(error)),
        );
    };

  const waitCall = (done: (status: Parameters<typeof isTerminalStatus>[0]) => boolean, untilCreated = false) =>
    unary<{ instanceId?: string; getInputsAndOutputs?: boolean }, object>((request, hub, call) => {
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      return client.waitForInstance(hub.context, request.instanceId, request.getInputsAndOutputs === true, done, abort.signal, untilCreated);
    });

  const completion = (kind: WorkKind) =>
    unary<PbOrchestratorResponse & PbActivityResponse & PbEntityBatchResult, object>(async (request, hub) => {
      if (kind === 'orchestration') {
        await hub.remote.completeOrchestration(request);
      } else if (kind === 'activity') await hub.remote.completeActivity(request);
      else await hub.remote.completeEntity(request);
      return {};
    });

  const abandon = (kind: WorkKind) =>
    unary<{ completionToken?: string }, object>(async (request, hub) => {
      hub.remote.abandon(kind, request.completionToken);
      return {};
    });

  const unimplemented = (what: string) =>
    unary<unknown, object>(async () => {
      throw Object.assign(new Error(`${what} is not supported by duraflow.`), { code: grpc.status.UNIMPLEMENTED });
    });

  const handlers: GrpcJs.UntypedServiceImplementation = {
    Hello: unary(async () => ({})),
    StartInstance: unary((request: Parameters<typeof client.startInstance>[1], hub) => client.startInstance(hub.context, request)),
    GetInstance: unary((request: { instanceId?: string; getInputsAndOutputs?: boolean }, hub) =>
      client.getInstance(hub.context, request.instanceId, request.getInputsAndOutputs === true),
    ),
    WaitForInstanceStart: waitCall((status) => status !== 'Pending', true),
    WaitForInstanceCompletion: waitCall((status) => isTerminalStatus(status)),
    RaiseEvent: unary(async (request: Parameters<typeof client.raiseEvent>[1], hub) => {
      await client.raiseEvent(hub.context, request);
      return {};
    }),
    TerminateInstance: unary(async (request: Parameters<typeof client.terminate>[1], hub) => {
      await client.terminate(hub.context, request);
      return {};
    }),
    SuspendInstance: unary(async (request: { instanceId?: string; reason?: { value?: string } }, hub) => {
      await hub.context.client.suspend(request.instanceId ?? '', request.reason?.value);
      return {};
    }),
    ResumeInstance: unary(async (request: { instanceId?: string; reason?: { value?: string } }, hub) => {
      await hub.context.client.resume(request.instanceId ?? '', request.reason?.value);
      return {};
    }),
    RewindInstance: unary(async (request: { instanceId?: string; reason?: { value?: string } }, hub) => {
      await hub.context.client.rewind(request.instanceId ?? '', request.reason?.value);
      return {};
    }),
    RestartInstance: unary((request: Parameters<typeof client.restart>[1], hub) => client.restart(hub.context, request)),
    QueryInstances: unary((request: Parameters<typeof client.queryInstances>[1], hub) => client.queryInstances(hub.context, request)),
    ListInstanceIds: unary((request: Parameters<typeof client.listInstanceIds>[1], hub) => client.listInstanceIds(hub.context, request)),
    PurgeInstances: unary((request: Parameters<typeof client.purge>[1], hub) => client.purge(hub.context, request)),
    SignalEntity: unary(async (request: Parameters<typeof client.signalEntity>[1], hub) => {
      await client.signalEntity(hub.context, request);
      return {};
    }),
    GetEntity: unary((request: Parameters<typeof client.getEntity>[1], hub) => client.getEntity(hub.context, request)),
    QueryEntities: unary((request: Parameters<typeof client.queryEntities>[1], hub) => client.queryEntities(hub.context, request)),
    CleanEntityStorage: unary((request: Parameters<typeof client.cleanEntityStorage>[1], hub) => client.cleanEntityStorage(hub.context, request)),
    CreateTaskHub: unary(async () => ({})), // task hubs come into being with their first instance
    DeleteTaskHub: unimplemented('DeleteTaskHub'),
    SkipGracefulOrchestrationTerminations: unimplemented('SkipGracefulOrchestrationTerminations'),
    CompleteOrchestratorTask: completion('orchestration'),
    CompleteActivityTask: completion('activity'),
    CompleteEntityTask: completion('entity'),
    AbandonTaskOrchestratorWorkItem: abandon('orchestration'),
    AbandonTaskActivityWorkItem: abandon('activity'),
    AbandonTaskEntityWorkItem: abandon('entity'),

    GetWorkItems: (call: GrpcJs.ServerWritableStream<PbGetWorkItemsRequest, PbWorkItem>) => {
      admit(call.metadata).then(
        async (hub) => {
          const worker = new WorkerConnection(
            call,
            call.request,
            { defaultConcurrency: options.defaultConcurrency ?? 100, healthPingMs: options.healthPingMs ?? 15_000 },
            (closed) => {
              connections.delete(closed);
              hub.remote.removeWorker(closed);
            },
          );
          if (worker.closed) return;
          connections.add(worker);
          await hub.remote.addWorker(worker);
          logger.info(`gRPC worker ${worker.id} connected to task hub '${hub.context.hubName}'${worker.filters ? '' : ' (no work-item filters)'}`);
        },
        (error: unknown) => call.emit('error', fail(error)),
      ).catch((error: unknown) => {
        // Registering the worker's names failed (the store went away): the worker reconnects and tries again.
        logger.warn(`could not register a gRPC worker: ${(error as Error).message}`);
        call.emit('error', fail(error));
      });
    },

    StreamInstanceHistory: (call: GrpcJs.ServerWritableStream<{ instanceId?: string }, object>) => {
      admit(call.metadata)
        .then((hub) => client.instanceHistory(hub.context, call.request.instanceId))
        .then(
          (events) => {
            if (call.cancelled) return;
            for (let i = 0; i < events.length || i === 0; i += 200) call.write({ events: events.slice(i, i + 200) });
            call.end();
          },
          (error: unknown) => call.emit('error', fail(error)),
        )
        .catch((error: unknown) => logger.warn(`could not stream a history: ${(error as Error).message}`));
    },
  };

  server.addService(service, handlers);
  const port = await new Promise<number>((resolve, reject) => {
    const address = `${host.includes(':') ? `[${host}]` : host}:${options.port ?? DEFAULT_GRPC_PORT}`;
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  registrationId = `grpc-sidecar@${machineName()}:${port}`;
  await hubRuntime(options.taskHub);
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;

  let stopped: Promise<void> | undefined;
  return {
    port,
    address,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        const runtimes = await Promise.all([...hubs.values()].map((h) => h.catch(() => undefined)));
        await Promise.all(runtimes.map((r) => r?.remote.stop(options.drainTimeoutMs ?? 10_000)));
        for (const connection of [...connections]) connection.end();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, 2000);
          force.unref();
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
      })();
      return stopped;
    },
  };
}

function firstValue(metadata: GrpcJs.Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return value === undefined ? undefined : String(value);
}

/** The API key a call presents: `authorization: Bearer <key>`, else `x-functions-key`. */
function presentedKey(metadata: GrpcJs.Metadata): string | undefined {
  const bearer = firstValue(metadata, 'authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
  return bearer?.trim() ?? firstValue(metadata, 'x-functions-key');
}
