/**
 * The authoring API of durable entities: the context an entity operation receives, the two ways to write an
 * entity (a function called once per operation, or a class whose public methods are the operations), and the
 * typed reference `app.entity(...)` returns.
 */
import { EntityId } from './entity-id.js';
import type { Logger } from './logger.js';
import type { OrchestrationRef } from './orchestration-context.js';

/** Options of a signal sent from an entity or a client. */
export interface SignalEntityOptions {
  /** Deliver the signal no earlier than this time (scheduled signals keep no FIFO order, as in Durable Functions). */
  scheduledTime?: Date;
}

/** What one entity operation may do. A function entity receives it as its only argument. */
export interface EntityContext<TState = any> {
  /** The entity's name, lower-cased. */
  readonly entityName: string;
  readonly entityKey: string;
  readonly entityId: EntityId;
  /** The operation being executed. */
  readonly operationName: string;
  /** True when the entity had no state before this operation. */
  readonly isNewlyConstructed: boolean;
  /** A logger for the operation. */
  readonly log: Logger;
  /** The operation's input (decoded JSON). */
  getInput<T = any>(): T;
  /**
   * The current state; when the entity has none, `initializer()` becomes the state (so in-place changes to it
   * are kept), or `undefined` without an initializer.
   */
  getState<T = TState>(initializer?: () => NoInfer<T>): T | undefined;
  /** Replaces the state; the entity exists from now on. */
  setState(state: TState): void;
  /** Deletes the state: the entity no longer exists (and disappears from listings). */
  deleteState(): void;
  /** The value a caller (`ctx.callEntity`) receives. A function entity may also return it. */
  setResult(result: unknown): void;
  /** Sends a one-way operation to an entity (sent only if this operation succeeds). */
  signalEntity(entityId: EntityId, operationName: string, input?: unknown, options?: SignalEntityOptions): void;
  /** Starts an orchestration (only if this operation succeeds); returns its instance id. */
  startNewOrchestration(name: string | OrchestrationRef, input?: unknown, instanceId?: string): string;
}

/** A function entity: called once per operation; may return the result (or call `ctx.setResult`). */
export type EntityFunction<TState = any> = (ctx: EntityContext<TState>) => unknown;

/**
 * A class entity: a fresh instance is filled with the stored state (its own fields), the method named by
 * the operation is called as `method(input, ctx)`, its return value is the result, and the instance's fields
 * are saved as the new state. An operation `delete` without such a method deletes the entity.
 */
export type EntityClass = new () => object;

/** A typed handle on a registered entity. */
export interface EntityRef {
  readonly kind: 'entity';
  /** The entity name, lower-cased. */
  readonly name: string;
  /** The id of this entity with `key`. */
  id(key: string): EntityId;
}

/** Builds the reference `app.entity(...)` returns. */
export function entityRef(name: string): EntityRef {
  const lower = name.toLowerCase();
  return { kind: 'entity', name: lower, id: (key: string) => new EntityId(lower, key) };
}

/** True when `fn` is a class (an entity written as a class) rather than a plain function. */
export function isEntityClass(fn: unknown): fn is EntityClass {
  return typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}
