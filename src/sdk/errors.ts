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
    // duraflow's own functions (BuiltIn::HttpActivity) are not for users to call by name.
    const shown = userFacingNames(registeredNames);
    const list = (items: readonly string[]) => (items.length ? items.map((n) => `'${n}'`).join(', ') : '(none)');
    super(
      versions
        ? `The ${kind} function '${functionName}' has no registration for ${versions.version ? `version '${versions.version}'` : 'instances without a version'}. ` +
            `Registered versions of '${functionName}': ${list(versions.registeredVersions)}.`
        : `The ${kind} function '${functionName}' is not registered. Registered ${kind} functions: ${list(shown)}.`,
    );
    this.functionName = functionName;
    this.registeredNames = shown;
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

/** No schedule with the given id exists in the task hub. */
export class ScheduleNotFoundError extends DuraflowError {
  readonly scheduleId: string;
  constructor(scheduleId: string) {
    super(`No schedule with id '${scheduleId}' was found.`);
    this.scheduleId = scheduleId;
  }
}

/** `createSchedule` named a schedule id that is taken. */
export class ScheduleAlreadyExistsError extends DuraflowError {
  readonly scheduleId: string;
  constructor(scheduleId: string) {
    super(`A schedule with id '${scheduleId}' already exists (change it with updateSchedule).`);
    this.scheduleId = scheduleId;
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

/**
 * An activity attempt ran longer than its timeout (`app.activity(name, fn, { timeoutMs })`, else the worker's
 * `activityTimeoutMs`, default 30 min). The attempt fails with this error and the orchestration's retry policy
 * decides what happens next. The activity's code cannot be stopped from outside: its `ctx.signal` is aborted,
 * and whatever it still does is ignored.
 */
export class ActivityTimeoutError extends DuraflowError {
  readonly activityName: string;
  readonly timeoutMs: number;
  constructor(activityName: string, taskId: number, timeoutMs: number) {
    super(
      `Activity '${activityName}' (task #${taskId}) did not finish within its timeout of ${timeoutMs} ms; the attempt was ` +
        'abandoned (set { timeoutMs } on app.activity, or the worker\'s activityTimeoutMs, to allow longer).',
    );
    this.activityName = activityName;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * An entity operation was still pending when the time its batch may await ran out (the worker's
 * `entityOperationTimeoutMs`, default 10 s). The operation is rolled back and its caller gets this error.
 */
export class EntityOperationTimeoutError extends DuraflowError {
  readonly operationName: string;
  readonly timeoutMs: number;
  constructor(entity: string, operationName: string, timeoutMs: number) {
    super(
      `Operation '${operationName}' of entity '${entity}' did not finish within ${timeoutMs} ms (an entity's operations ` +
        'may await that long per batch); it was rolled back. Do slow I/O in an activity, not in an entity operation.',
    );
    this.operationName = operationName;
    this.timeoutMs = timeoutMs;
  }
}

/** What is wrong with a store, as {@link StoreError} names it. */
export type StoreErrorReason = 'disk-full' | 'read-only' | 'corrupt' | 'cannot-open' | 'io-error' | 'missing' | 'unreachable' | 'refused' | 'outdated';

/**
 * The store failed for a reason an operator has to fix — a full disk, a read-only or corrupt SQLite file, a
 * PostgreSQL server that cannot be reached or refuses the connection, a store opened read-only whose schema is
 * older than this code reads (`outdated`: a writer migrates it on open). The message says which, with the path or
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

/**
 * Turns any thrown value into failure details, keeping the type, message, stack and cause chain. Never throws:
 * user code can throw anything (`null`, an object without a prototype, an error whose getters throw), and a
 * failure that cannot be described must still fail its task rather than the worker.
 */
export function toFailureDetails(error: unknown, depth = 0): FailureDetails {
  try {
    return describeFailure(error, depth);
  } catch {
    return { errorType: 'Error', message: `(a thrown value that could not be read: ${safeString(error)})` };
  }
}

function describeFailure(error: unknown, depth: number): FailureDetails {
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
    const details: FailureDetails = { errorType: text(() => error.name) || 'Error', message: text(() => error.message) };
    const stack = text(() => error.stack);
    if (stack) details.stack = stack;
    const cause = read(() => error.cause);
    if (cause !== undefined && depth < 8) details.inner = toFailureDetails(cause, depth + 1);
    if (read(() => (error as { isNonRetriable?: unknown }).isNonRetriable) === true) details.isNonRetriable = true;
    return details;
  }
  return { errorType: typeof error, message: safeString(error) };
}

/** A property read that may throw (a getter of user code): undefined then. */
function read(get: () => unknown): unknown {
  try {
    return get();
  } catch {
    return undefined;
  }
}

/** A string property of user code, '' when it is missing, not a string, or its getter throws. */
function text(get: () => unknown): string {
  const value = read(get);
  return typeof value === 'string' ? value : value === undefined ? '' : safeString(value);
}

/** `String(value)`, or a description when that throws (`Object.create(null)`, a throwing `toString`). */
export function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return `[${typeof value}]`;
  }
}

/**
 * The HTTP status the management API (and the dashboard) answer for a typed error, as the reference gives
 * them; `undefined` for an error that is not one of the SDK's (a 500).
 */
export function httpStatusOfError(error: unknown): number | undefined {
  if (error instanceof InstanceNotFoundError || error instanceof ScheduleNotFoundError) return 404;
  // Gone: the instance finished; Conflict: it is alive but not in a state that allows the operation.
  if (error instanceof InvalidInstanceStateError) return isTerminalStatus(error.status as RuntimeStatus) ? 410 : 409;
  if (error instanceof InstanceAlreadyExistsError || error instanceof ScheduleAlreadyExistsError) return 409;
  if (error instanceof PayloadTooLargeError) return 413;
  if (error instanceof UnknownFunctionError || error instanceof ValidationError || error instanceof SerializationError) return 400;
  return undefined;
}
