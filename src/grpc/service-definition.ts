/**
 * Loads `@grpc/grpc-js` and the TaskHubSidecarService definition (our `task-hub-sidecar.proto`) on first use, so
 * an app that never enables gRPC never loads either.
 */
import { fileURLToPath } from 'node:url';
import type * as GrpcJs from '@grpc/grpc-js';

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
    return { grpc, service: Client.service, Client };
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}
