/**
 * Errors of the HTTP host and their responses. Error bodies follow the extension's shape (`Message`,
 * `ExceptionMessage`, `ExceptionType`) plus the typed error's details (instance id, status, registered
 * names, size and limit) so the remote client can rebuild the same typed error. Stacks are never sent.
 */
import { randomUUID } from 'node:crypto';
import {
  DuraflowError,
  InstanceAlreadyExistsError,
  InstanceNotFoundError,
  InvalidInstanceStateError,
  PayloadTooLargeError,
  ScheduleAlreadyExistsError,
  ScheduleNotFoundError,
  StoreError,
  UnknownFunctionError,
  httpStatusOfError,
} from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import { storeErrorGate } from '../store/store-outage.js';

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

/** A short id that ties a 500 response to its log record (which has the message and stack). */
export function newErrorId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 12);
}

/** The request an error response answers, for the log. */
export interface RequestInfo {
  method: string;
  path: string;
}

/**
 * Turns any error into a JSON response. Unexpected errors become a 500 that says what failed: a store error
 * names its cause (a full disk, a corrupt file, an unreachable server); any other gives its type and the
 * `errorId` under which the log has its message and stack.
 */
export function errorResponse(error: unknown, logger: Logger, request?: RequestInfo): Response {
  const status = statusOf(error);
  let body: Record<string, unknown>;
  if (status === 500) {
    const e = error instanceof Error ? error : new Error(String(error));
    if (e instanceof StoreError) {
      // Every request fails while the store is out: logged once per window, not once per request.
      const gate = storeErrorGate(logger, 'http', e);
      if (gate.log) logger.error(`store error: ${e.message}${gate.repeats}`, { ...request, reason: e.reason, code: e.code }, e);
      body = errorBody('StoreError', e.message, { reason: e.reason });
    } else {
      // The message may carry internals (SQL, paths, user data): it goes to the log, found by its errorId.
      const errorId = newErrorId();
      logger.error('the HTTP host failed to handle a request', { ...request, errorId }, e);
      body = errorBody(e.name || 'Error', `An internal error (${e.name || 'Error'}) occurred while processing the request; the host's log has the details under errorId ${errorId}.`, { errorId });
    }
  } else {
    const e = error as Error;
    const details: Record<string, unknown> = {};
    if (e instanceof InstanceNotFoundError || e instanceof InstanceAlreadyExistsError) details['instanceId'] = e.instanceId;
    if (e instanceof ScheduleNotFoundError || e instanceof ScheduleAlreadyExistsError) details['scheduleId'] = e.scheduleId;
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
