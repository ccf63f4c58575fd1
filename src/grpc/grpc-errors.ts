/**
 * duraflow's typed errors as gRPC status codes, so SDK clients see NOT_FOUND, FAILED_PRECONDITION and friends
 * the way they would from any Durable Task sidecar.
 */
import type * as GrpcJs from '@grpc/grpc-js';
import {
  InstanceAlreadyExistsError,
  InstanceNotFoundError,
  InvalidInstanceStateError,
  LeaseLostError,
  PayloadTooLargeError,
  SerializationError,
  UnknownFunctionError,
  ValidationError,
} from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';

/** A completion token that is not (or no longer) valid: the work was re-dispatched or its lease lost. */
export class StaleCompletionError extends LeaseLostError {}

/** The call lacks a valid API key. */
export class UnauthenticatedError extends Error {
  override readonly name = 'UnauthenticatedError';
}

/** A service error for `callback(error)`. */
export function toServiceError(grpc: typeof GrpcJs, error: unknown, logger: Logger): Partial<GrpcJs.StatusObject> & Error {
  const code = statusOf(grpc, error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === grpc.status.INTERNAL) logger.error(`gRPC call failed: ${message}`, error);
  return Object.assign(new Error(message), { code, details: message });
}

function statusOf(grpc: typeof GrpcJs, error: unknown): GrpcJs.status {
  const { status } = grpc;
  if (error instanceof UnauthenticatedError) return status.UNAUTHENTICATED;
  if (error instanceof InstanceNotFoundError) return status.NOT_FOUND;
  if (error instanceof InstanceAlreadyExistsError) return status.ALREADY_EXISTS;
  if (error instanceof InvalidInstanceStateError || error instanceof LeaseLostError) return status.FAILED_PRECONDITION;
  if (error instanceof PayloadTooLargeError) return status.RESOURCE_EXHAUSTED;
  if (error instanceof ValidationError || error instanceof SerializationError || error instanceof UnknownFunctionError) {
    return status.INVALID_ARGUMENT;
  }
  return status.INTERNAL;
}
