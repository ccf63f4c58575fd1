/**
 * Typed errors. Each has a stable `name` so callers (and other processes, through failure details)
 * can tell them apart without `instanceof`.
 */
import { isTerminalStatus, type FailureDetails, type RuntimeStatus } from './history.js';

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
export class NonDeterministicOrchestrationError extends DuraflowError {
  /** What history recorded at the divergence (e.g. `callActivity('charge') #0`), when known. */
  readonly recorded: string | undefined;
  /** What the code does there now (e.g. `callActivity('chargeCard') #0`, or `nothing`), when known. */
  readonly current: string | undefined;
  constructor(message: string, divergence: { recorded?: string; current?: string } = {}) {
    super(message);
    this.recorded = divergence.recorded;
    this.current = divergence.current;
  }
}

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

/** A name that no registered function (or no worker of the task hub) serves, or a version of it that none serves. */
export class UnknownFunctionError extends DuraflowError {
  readonly functionName: string;
  readonly registeredNames: string[];
  /** The version asked for, when the name is served but not that version. */
  readonly version: string | undefined;
  /** The versions of `functionName` that are served (with `version`). */
  readonly registeredVersions: string[] | undefined;
  constructor(kind: string, functionName: string, registeredNames: readonly string[], versions?: { version: string; registeredVersions: readonly string[] }) {
    const list = (items: readonly string[]) => (items.length ? items.map((n) => `'${n}'`).join(', ') : '(none)');
    super(
      versions
        ? `The ${kind} function '${functionName}' has no registration for ${versions.version ? `version '${versions.version}'` : 'instances without a version'}. ` +
            `Registered versions of '${functionName}': ${list(versions.registeredVersions)}.`
        : `The ${kind} function '${functionName}' is not registered. Registered ${kind} functions: ${list(registeredNames)}.`,
    );
    this.functionName = functionName;
    this.registeredNames = [...registeredNames];
    this.version = versions?.version;
    this.registeredVersions = versions ? [...versions.registeredVersions] : undefined;
  }
}

/**
 * A worker whose versioning strategy does not accept an instance's version, with `failureStrategy: 'Fail'`,
 * failed the instance with this error (its message names both versions).
 */
export class VersionMismatchError extends DuraflowError {}

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
