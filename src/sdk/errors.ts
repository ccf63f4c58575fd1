/**
 * Typed errors. Each has a stable `name` so callers (and other processes, through failure details)
 * can tell them apart without `instanceof`.
 */
import { isTerminalStatus, type FailureDetails, type RuntimeStatus } from './history.js';
import { userFacingNames } from './internal-names.js';

/** Base class: sets `name` from the subclass so it survives minification and serialization. */
export class DuraflowError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A task (activity, sub-orchestration, entity call) failed; `failureDetails` keeps the original error. */
export class TaskFailedError extends DuraflowError {
  readonly failureDetails: FailureDetails;
  /** The sequence id of the failed task in the orchestration's history. */
  readonly taskId: number;
  constructor(message: string, failureDetails: FailureDetails, taskId = -1) {
    super(message);
    this.failureDetails = failureDetails;
    this.taskId = taskId;
  }
}

/** Replay produced a different action than the one recorded in history. */
export class NonDeterministicOrchestrationError extends DuraflowError {}

/** No instance with the given id exists in the task hub. */
export class InstanceNotFoundError extends DuraflowError {
  readonly instanceId: string;
  constructor(instanceId: string) {
    super(`No instance with id '${instanceId}' was found.`);
    this.instanceId = instanceId;
  }
}

/** The operation is not allowed in the instance's current status. */
export class InvalidInstanceStateError extends DuraflowError {
  readonly instanceId: string;
  readonly status: string;
  constructor(instanceId: string, status: string, message: string) {
    super(message);
    this.instanceId = instanceId;
    this.status = status;
  }
}

/** A start named an instance id that is already running. */
export class InstanceAlreadyExistsError extends DuraflowError {
  readonly instanceId: string;
  constructor(instanceId: string, status: string) {
    super(`An instance with id '${instanceId}' already exists and is ${status}.`);
    this.instanceId = instanceId;
  }
}

/** A name that no registered function (or no worker of the task hub) serves. */
export class UnknownFunctionError extends DuraflowError {
  readonly functionName: string;
  readonly registeredNames: string[];
  constructor(kind: string, functionName: string, registeredNames: readonly string[]) {
    // duraflow's own functions (BuiltIn::HttpActivity) are not for users to call by name.
    const shown = userFacingNames(registeredNames);
    const names = shown.length ? shown.map((n) => `'${n}'`).join(', ') : '(none)';
    super(`The ${kind} function '${functionName}' is not registered. Registered ${kind} functions: ${names}.`);
    this.functionName = functionName;
    this.registeredNames = shown;
  }
}

/** A payload (input, output, event data, state) exceeds the configured limit. */
export class PayloadTooLargeError extends DuraflowError {
  readonly size: number;
  readonly limit: number;
  constructor(what: string, size: number, limit: number) {
    super(`The ${what} is ${size} bytes, over the limit of ${limit} bytes.`);
    this.size = size;
    this.limit = limit;
  }
}

/** A value JSON cannot carry (BigInt, cycles, functions, symbols, non-finite numbers, Map/Set). */
export class SerializationError extends DuraflowError {}

/** An invalid argument given to the API (bad instance id, bad retry options, …). */
export class ValidationError extends DuraflowError {}

/**
 * An orchestration broke a rule of entity critical sections: it asked for locks while holding (or acquiring)
 * locks, called an entity it has not locked, called a locked entity twice at once, signalled an entity it has
 * locked, or started a sub-orchestration while holding locks.
 */
export class LockingRulesViolationError extends DuraflowError {}

/** A commit was refused because another worker took over the lease (fencing). */
export class LeaseLostError extends DuraflowError {}

/** What is wrong with a store, as {@link StoreError} names it. */
export type StoreErrorReason = 'disk-full' | 'read-only' | 'corrupt' | 'cannot-open' | 'missing' | 'unreachable' | 'refused';

/**
 * The store failed for a reason an operator has to fix — a full disk, a read-only or corrupt SQLite file, a
 * PostgreSQL server that cannot be reached or refuses the connection. The message says which, with the path or
 * address; `cause` keeps the driver's error and `code` its code (`SQLITE_FULL`, `ECONNREFUSED`, a SQLSTATE).
 */
export class StoreError extends DuraflowError {
  readonly reason: StoreErrorReason;
  readonly code: string | undefined;
  constructor(reason: StoreErrorReason, message: string, options?: ErrorOptions & { code?: string }) {
    super(message, options);
    this.reason = reason;
    this.code = options?.code;
  }
}

/** Turns any thrown value into failure details, keeping the type, message, stack and cause chain. */
export function toFailureDetails(error: unknown, depth = 0): FailureDetails {
  if (error instanceof TaskFailedError && depth === 0) {
    // Re-thrown task failures keep the original details as the inner failure.
    return {
      errorType: error.name,
      message: error.message,
      ...(error.stack ? { stack: error.stack } : {}),
      inner: error.failureDetails,
    };
  }
  if (error instanceof Error) {
    const details: FailureDetails = { errorType: error.name || 'Error', message: error.message };
    if (error.stack) details.stack = error.stack;
    if (error.cause !== undefined && depth < 8) details.inner = toFailureDetails(error.cause, depth + 1);
    if ((error as { isNonRetriable?: unknown }).isNonRetriable === true) details.isNonRetriable = true;
    return details;
  }
  return { errorType: typeof error, message: String(error) };
}

/**
 * The HTTP status the management API (and the dashboard) answer for a typed error, as the reference gives
 * them; `undefined` for an error that is not one of the SDK's (a 500).
 */
export function httpStatusOfError(error: unknown): number | undefined {
  if (error instanceof InstanceNotFoundError) return 404;
  // Gone: the instance finished; Conflict: it is alive but not in a state that allows the operation.
  if (error instanceof InvalidInstanceStateError) return isTerminalStatus(error.status as RuntimeStatus) ? 410 : 409;
  if (error instanceof InstanceAlreadyExistsError) return 409;
  if (error instanceof PayloadTooLargeError) return 413;
  if (error instanceof UnknownFunctionError || error instanceof ValidationError || error instanceof SerializationError) return 400;
  return undefined;
}
