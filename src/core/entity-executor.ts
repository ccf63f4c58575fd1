/**
 * The entity executor: runs a batch of operations of one entity against its state, one at a time in order.
 * Pure: no I/O, no clocks, no randomness (ids come from the host). This is the entity half of the executor
 * seam (DESIGN §2): (state, operations) → (new state, one result per operation, outgoing actions).
 *
 * An operation that throws is rolled back on its own (.NET's `rollbackEntityOperationsOnExceptions`): its
 * state changes, signals and orchestration starts are dropped, its caller gets the error, and the batch goes
 * on with the state as the previous operation left it. The state is serialized after every operation that
 * touched it, which both checks it (a `SerializationError` or `PayloadTooLargeError` fails that operation)
 * and gives the rollback point.
 */
import type { FailureDetails } from '../sdk/history.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, deserialize, serialize } from './payload.js';
import { EntityId, checkOperationName, checkScheduledTime, toEntityId } from '../sdk/entity-id.js';
import type { EntityClass, EntityContext, EntityFunction, SignalEntityOptions } from '../sdk/entity-context.js';
import { isEntityClass } from '../sdk/entity-context.js';
import { UnknownFunctionError, ValidationError, toFailureDetails } from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import { silentLogger, withFields } from '../sdk/logger.js';
import { validateInstanceId } from '../sdk/instance-id.js';
import { isThenable } from './foreign-values.js';
import type { OrchestrationRef } from '../sdk/orchestration-context.js';

/** What the entity executor needs from its host. */
export interface EntityExecutorOptions {
  /** Finds the entity implementation for a (lower-cased) name. */
  resolve: (name: string) => EntityFunction | EntityClass | undefined;
  /** Names to list when an entity name is unknown. */
  registeredNames?: () => readonly string[];
  /** New unique ids (orchestration instance ids, request ids). */
  newId: () => string;
  /** Whether an orchestration name is served, for `startNewOrchestration` (default: every name). */
  isKnownOrchestration?: (name: string) => boolean;
  knownOrchestrations?: () => readonly string[];
  maxPayloadBytes?: number;
  logger?: Logger;
  /**
   * Awaits an operation that returned a Promise. The host puts its time limit here (the core has no clock); it
   * rejects when the limit passes, which fails and rolls back the operation. Default: wait as long as it takes.
   */
  awaitOperation?: (pending: PromiseLike<unknown>, operation: EntityOperation) => Promise<unknown>;
}

/** An entity's stored state: whether it exists, and its value as JSON text. */
export interface EntityStateSnapshot {
  exists: boolean;
  state?: string;
}

/** One operation to execute. */
export interface EntityOperation {
  name: string;
  /** JSON text. */
  input?: string;
}

/** What one operation produced for its caller. */
export interface EntityOperationResult {
  /** JSON text of the result. */
  result?: string;
  failureDetails?: FailureDetails;
}

/** A message an operation sends (kept only if the operation succeeds). */
export type EntityAction =
  | {
      type: 'SignalEntity';
      /** Index of the operation that sent it. */
      operation: number;
      /** Instance id of the target entity, `@name@key`. */
      target: string;
      name: string;
      input?: string;
      /** ISO-8601. */
      scheduledTime?: string;
    }
  | { type: 'StartOrchestration'; operation: number; name: string; instanceId: string; version?: string; input?: string };

/** Outcome of a batch. */
export interface EntityBatchResult extends EntityStateSnapshot {
  /** One per operation, in order. */
  results: EntityOperationResult[];
  /** Actions of the successful operations, in order. */
  actions: EntityAction[];
}

/** Executes batches of entity operations. */
export class EntityExecutor {
  readonly #limit: number;
  readonly #logger: Logger;

  constructor(private readonly options: EntityExecutorOptions) {
    this.#limit = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Runs `operations` in order on `start`; never throws for a failing operation. */
  async executeBatch(
    entityId: EntityId,
    start: EntityStateSnapshot,
    operations: readonly EntityOperation[],
  ): Promise<EntityBatchResult> {
    const impl = this.options.resolve(entityId.name.toLowerCase());
    const state = new BatchState(start, isEntityClass(impl) ? impl : undefined);
    const results: EntityOperationResult[] = [];
    const actions: EntityAction[] = [];
    for (let index = 0; index < operations.length; index++) {
      const operation = operations[index]!;
      const log = withFields(this.#logger, { instanceId: entityId.toString(), name: entityId.name, operation: operation.name });
      const ctx = new OperationContext(this.options, this.#limit, log, entityId, operation, index, state);
      try {
        if (!impl) throw new UnknownFunctionError('entity', entityId.name, this.options.registeredNames?.() ?? []);
        let returned = isEntityClass(impl) ? runClassOperation(impl, ctx, operation, state) : impl(ctx);
        if (isThenable(returned)) returned = await (this.options.awaitOperation?.(returned, operation) ?? returned);
        const value = ctx.resultSet ? ctx.result : returned;
        const result = serialize(value, `result of operation '${operation.name}' of entity '${entityId}'`, this.#limit);
        state.commit(`state of entity '${entityId}'`, this.#limit);
        results.push(result !== undefined ? { result } : {});
        actions.push(...ctx.actions);
      } catch (error) {
        state.rollback();
        results.push({ failureDetails: toFailureDetails(error) });
      } finally {
        // An operation given up on may still run: what it does to its ctx afterwards must not reach the next one.
        ctx.close();
      }
    }
    return { ...state.snapshot(), results, actions };
  }
}

/** The state during a batch: the last committed JSON text, and the live value operations work on. */
class BatchState {
  exists: boolean;
  #text: string | undefined;
  #committedExists: boolean;
  /** The decoded value (or class instance); valid when `#live` is true. */
  #value: unknown;
  #live = false;
  /** True when the current operation may have changed the value. */
  #touched = false;

  constructor(
    start: EntityStateSnapshot,
    readonly entityClass: EntityClass | undefined,
  ) {
    this.exists = this.#committedExists = start.exists;
    this.#text = start.exists ? start.state : undefined;
  }

  /** The value, decoded on first use (a class entity gets a fresh instance filled with it). */
  get(): unknown {
    this.#touched = true;
    if (!this.#live) {
      this.#value = this.exists ? this.#decode(this.#text) : undefined;
      this.#live = true;
    }
    if (this.entityClass && !this.exists) {
      // A class entity is constructed by its first operation (unless that operation deletes it).
      this.#value = new this.entityClass();
      this.exists = true;
    }
    return this.#value;
  }

  set(value: unknown): void {
    this.#touched = true;
    this.exists = true;
    this.#value =
      this.entityClass && !(value instanceof this.entityClass) ? this.#decode(JSON.stringify(value ?? {})) : value;
    this.#live = true;
  }

  delete(): void {
    this.#touched = true;
    this.exists = false;
    this.#value = undefined;
    this.#live = true;
  }

  /** Serializes the value after a successful operation (this is where unserializable state fails it). */
  commit(where: string, limit: number): void {
    if (this.#touched) this.#text = this.exists && this.#live ? serialize(this.#value, where, limit) : undefined;
    this.#committedExists = this.exists;
    this.#touched = false;
  }

  /** Returns to the state after the last successful operation. */
  rollback(): void {
    this.exists = this.#committedExists;
    this.#live = false;
    this.#value = undefined;
    this.#touched = false;
  }

  snapshot(): EntityStateSnapshot {
    return this.exists
      ? { exists: true, ...(this.#text !== undefined ? { state: this.#text } : {}) }
      : { exists: false };
  }

  #decode(text: string | undefined): unknown {
    const data = deserialize(text);
    if (!this.entityClass) return data;
    const instance = new this.entityClass();
    if (typeof data === 'object' && data !== null) Object.assign(instance, data);
    return instance;
  }
}

/** The `ctx` of one operation. */
class OperationContext implements EntityContext<any> {
  readonly entityName: string;
  readonly entityKey: string;
  readonly isNewlyConstructed: boolean;
  readonly actions: EntityAction[] = [];
  result: unknown;
  resultSet = false;
  #closed = false;

  constructor(
    private readonly options: EntityExecutorOptions,
    private readonly limit: number,
    readonly log: Logger,
    readonly entityId: EntityId,
    private readonly operation: EntityOperation,
    private readonly index: number,
    private readonly state: BatchState,
  ) {
    this.entityName = entityId.name.toLowerCase();
    this.entityKey = entityId.key;
    this.isNewlyConstructed = !state.exists;
  }

  /** Ends the operation: later calls on this ctx throw (the batch has moved on). */
  close(): void {
    this.#closed = true;
  }
  #checkOpen(): void {
    if (this.#closed) {
      throw new ValidationError(
        `Operation '${this.operation.name}' of entity '${this.entityId}' has ended (it timed out or already returned); its ctx can no longer be used.`,
      );
    }
  }
  get operationName(): string {
    return this.operation.name;
  }
  getInput<T = any>(): T {
    return deserialize<T>(this.operation.input);
  }
  getState<T = any>(initializer?: () => NoInfer<T>): T | undefined {
    this.#checkOpen();
    if (!this.state.exists && !this.state.entityClass) {
      if (!initializer) return undefined;
      this.state.set(initializer());
    }
    return this.state.get() as T;
  }
  setState(state: unknown): void {
    this.#checkOpen();
    this.state.set(state);
  }
  deleteState(): void {
    this.#checkOpen();
    this.state.delete();
  }
  setResult(result: unknown): void {
    this.#checkOpen();
    this.result = result;
    this.resultSet = true;
  }
  signalEntity(entityId: EntityId, operationName: string, input?: unknown, options: SignalEntityOptions = {}): void {
    this.#checkOpen();
    const target = toEntityId(entityId);
    checkOperationName(operationName);
    const scheduledTime = checkScheduledTime(options.scheduledTime);
    const inputText = serialize(input, `input of operation '${operationName}' on entity '${target}'`, this.limit);
    this.actions.push({
      type: 'SignalEntity',
      operation: this.index,
      target: target.toString(),
      name: operationName,
      ...(inputText !== undefined ? { input: inputText } : {}),
      ...(scheduledTime ? { scheduledTime } : {}),
    });
  }
  startNewOrchestration(target: string | OrchestrationRef, input?: unknown, instanceId?: string): string {
    this.#checkOpen();
    const name = typeof target === 'string' ? target : target?.kind === 'orchestration' ? target.name : undefined;
    if (typeof name !== 'string' || name.length === 0)
      throw new ValidationError('startNewOrchestration needs an orchestration name or reference.');
    if (this.options.isKnownOrchestration && !this.options.isKnownOrchestration(name)) {
      throw new UnknownFunctionError('orchestration', name, this.options.knownOrchestrations?.() ?? []);
    }
    if (instanceId !== undefined) validateInstanceId(instanceId);
    const id = instanceId ?? this.options.newId();
    const inputText = serialize(input, `input of orchestration '${name}'`, this.limit);
    const version = typeof target === 'object' ? target.version : undefined;
    this.actions.push({
      type: 'StartOrchestration',
      operation: this.index,
      name,
      instanceId: id,
      ...(version !== undefined ? { version } : {}),
      ...(inputText !== undefined ? { input: inputText } : {}),
    });
    return id;
  }
}

/** Calls the method named by the operation on the class instance holding the state. */
function runClassOperation(
  entityClass: EntityClass,
  ctx: OperationContext,
  operation: EntityOperation,
  state: BatchState,
): unknown {
  const method = findMethod(entityClass, operation.name);
  if (!method) {
    if (operation.name.toLowerCase() === 'delete') {
      state.delete();
      return undefined;
    }
    const names = publicMethods(entityClass).join(', ') || '(none)';
    throw new ValidationError(
      `Entity '${ctx.entityId.name}' has no operation '${operation.name}'. Operations: ${names}.`,
    );
  }
  return method.call(state.get(), ctx.getInput(), ctx);
}

function publicMethods(entityClass: EntityClass): string[] {
  const names = new Set<string>();
  for (
    let proto = entityClass.prototype as object | null;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (name !== 'constructor' && !name.startsWith('_') && typeof descriptor?.value === 'function') names.add(name);
    }
  }
  return [...names];
}

/** The public method named `name` (exact match first, then case-insensitive, as .NET dispatches). */
function findMethod(entityClass: EntityClass, name: string): ((...args: unknown[]) => unknown) | undefined {
  const methods = publicMethods(entityClass);
  const match = methods.includes(name) ? name : methods.find((m) => m.toLowerCase() === name.toLowerCase());
  return match === undefined
    ? undefined
    : ((entityClass.prototype as Record<string, unknown>)[match] as (...args: unknown[]) => unknown);
}

