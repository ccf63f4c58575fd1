/**
 * Loads `@grpc/grpc-js` and the TaskHubSidecarService definition (our `task-hub-sidecar.proto`) on first use, so
 * an app that never enables gRPC never loads either.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as GrpcJs from '@grpc/grpc-js';
import type { PbWorkItem } from './proto-types.js';

/** The gRPC library and the service definition, loaded together. */
export interface SidecarProtocol {
  grpc: typeof GrpcJs;
  service: GrpcJs.ServiceDefinition;
  /** Client constructor (tests and tools drive the service with it). */
  Client: GrpcJs.ServiceClientConstructor;
}

/** Decoding options; `proto-types.ts` describes the objects they produce. */
export const PROTO_LOADER_OPTIONS = {
  keepCase: true,
  longs: Number,
  enums: Number,
  defaults: false,
  oneofs: true,
  arrays: true,
} as const;

/** Path of the `.proto` file (next to this module in `src/` and in `dist/`). */
export const SIDECAR_PROTO_PATH = fileURLToPath(new URL('./task-hub-sidecar.proto', import.meta.url));

let loading: Promise<SidecarProtocol> | undefined;

/** Loads the protocol once per process. */
export function loadSidecarProtocol(): Promise<SidecarProtocol> {
  loading ??= (async () => {
    const grpcModule = (await import('@grpc/grpc-js')) as typeof GrpcJs & { default?: typeof GrpcJs };
    const grpc = grpcModule.default ?? grpcModule;
    const loaderModule = (await import('@grpc/proto-loader')) as typeof import('@grpc/proto-loader') & {
      default?: typeof import('@grpc/proto-loader');
    };
    const loader = loaderModule.default ?? loaderModule;
    const definition = loader.loadSync(SIDECAR_PROTO_PATH, PROTO_LOADER_OPTIONS);
    const Client = grpc.loadPackageDefinition(definition)['TaskHubSidecarService'] as GrpcJs.ServiceClientConstructor;
    const getWorkItems = Client.service['GetWorkItems']!;
    const service = { ...Client.service, GetWorkItems: { ...getWorkItems, responseSerialize: workItemEncoder() } };
    return { grpc, service, Client };
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}

/**
 * Encodes work items straight from the objects `remote-hub.ts` builds. proto-loader's serializer first copies
 * every message through protobufjs `fromObject` (type coercion the sidecar's own well-typed objects never need),
 * and an orchestrator request carries the instance's whole history every episode: each history event object is
 * encoded once and its bytes reused while the executor's past-event cache hands the same object out again
 * (`remote-executors.ts`). The protobufjs here is the one proto-loader loads the same file with.
 */
function workItemEncoder(): (item: unknown) => Buffer {
  const requireFromLoader = createRequire(createRequire(import.meta.url).resolve('@grpc/proto-loader'));
  const protobuf = requireFromLoader('protobufjs') as typeof import('protobufjs');
  const root = new protobuf.Root().loadSync(SIDECAR_PROTO_PATH, { keepCase: true });
  const WorkItem = root.lookupType('WorkItem');
  const OrchestratorRequest = root.lookupType('OrchestratorRequest');
  const HistoryEvent = root.lookupType('HistoryEvent');
  const encoded = new WeakMap<object, Uint8Array>();
  const eventBytes = (event: object) => {
    let bytes = encoded.get(event);
    if (!bytes) encoded.set(event, (bytes = HistoryEvent.encode(event as Record<string, unknown>).finish()));
    return bytes;
  };
  const toBuffer = (bytes: Uint8Array) => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  return (item) => {
    const { orchestratorRequest: request, completionToken } = item as PbWorkItem;
    if (!request) return toBuffer(WorkItem.encode(item as Record<string, unknown>).finish());
    // Field numbers from task-hub-sidecar.proto: WorkItem.orchestratorRequest = 1, completionToken = 10;
    // OrchestratorRequest.pastEvents = 3, newEvents = 4 (each a length-delimited HistoryEvent).
    const { pastEvents, newEvents, ...head } = request;
    const writer = protobuf.Writer.create();
    writer.uint32((1 << 3) | 2).fork();
    OrchestratorRequest.encode(head, writer);
    for (const event of pastEvents ?? []) writer.uint32((3 << 3) | 2).bytes(eventBytes(event));
    for (const event of newEvents ?? []) writer.uint32((4 << 3) | 2).bytes(eventBytes(event));
    writer.ldelim();
    if (completionToken) writer.uint32((10 << 3) | 2).string(completionToken);
    return toBuffer(writer.finish());
  };
}
