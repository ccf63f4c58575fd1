/**
 * Errors of the HTTP host and their responses. Error bodies follow the extension's shape (`Message`,
 * `ExceptionMessage`, `ExceptionType`) plus the typed error's details (instance id, status, registered
 * names, size and limit) so the remote client can rebuild the same typed error. Stacks are never sent.
 */
import {
  DuraflowError,
  InstanceAlreadyExistsError,
  InstanceNotFoundError,
  InvalidInstanceStateError,
  PayloadTooLargeError,
  UnknownFunctionError,
  httpStatusOfError,
} from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';

/** A bad request that is not one of the SDK's typed errors (bad query value, wrong content type, …). */
export class HttpError extends DuraflowError {
  readonly status: number;
  readonly type: string;
  constructor(status: number, message: string, type = 'ValidationError') {
    super(message);
    this.status = status;
    this.type = type;
  }
}

/** The JSON body of an error response. */
export function errorBody(type: string, message: string, details: Record<string, unknown> = {}): Record<string, unknown> {
  return { Message: message, ExceptionMessage: message, ExceptionType: type, ...details };
}

/** The HTTP status of an error. */
export function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  return httpStatusOfError(error) ?? 500;
}

/** Turns any error into a JSON response; unexpected errors become a 500 without internals, and are logged. */
export function errorResponse(error: unknown, logger: Logger): Response {
  const status = statusOf(error);
  let body: Record<string, unknown>;
  if (status === 500) {
    logger.error('the HTTP host failed to handle a request', error);
    body = errorBody('InternalServerError', 'An internal error occurred while processing the request.');
  } else {
    const e = error as Error;
    const details: Record<string, unknown> = {};
    if (e instanceof InstanceNotFoundError || e instanceof InstanceAlreadyExistsError) details['instanceId'] = e.instanceId;
    if (e instanceof InvalidInstanceStateError) Object.assign(details, { instanceId: e.instanceId, instanceStatus: e.status });
    if (e instanceof UnknownFunctionError) {
      Object.assign(details, { functionName: e.functionName, registeredNames: e.registeredNames });
      if (e.version !== undefined) Object.assign(details, { version: e.version, registeredVersions: e.registeredVersions });
    }
    if (e instanceof PayloadTooLargeError) Object.assign(details, { size: e.size, limit: e.limit });
    body = errorBody(e instanceof HttpError ? e.type : e.name, e.message, details);
  }
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
}
