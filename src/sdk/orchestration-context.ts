/**
 * Orchestrations: the context an orchestrator function receives (`ctx`), the orchestrator signatures and the
 * typed reference `app.orchestration(...)` returns.
 */
import type { EntityId } from './entity-id.js';
import type { ActivityRef } from './activity.js';
import type { Logger } from './logger.js';
import type { RetryOptions } from './retry-options.js';
import type { Task, TimerTask, Unthenable } from './task.js';
import type { InstanceTags } from './tags.js';

/**
 * An orchestrator: a generator that yields durable tasks. It must be deterministic: the same history
 * must lead to the same sequence of scheduling calls.
 */
export type OrchestratorFunction<TInput = any, TOutput = any> = (
  ctx: OrchestrationContext<TInput>,
  input: TInput,
) => Generator<Task<any>, TOutput, any>;

/**
 * An `async` orchestrator: it awaits durable tasks (every task is a thenable; `Promise.all`, `race` and
 * `allSettled` over tasks work as `taskAll`/`taskAny`) and follows the rules of generators. Awaiting anything
 * else (fetch, setTimeout, a Promise from outside) fails the instance with `NonDeterministicOrchestrationError`.
 */
export type AsyncOrchestratorFunction<TInput = any, TOutput = any> = (ctx: OrchestrationContext<TInput>, input: TInput) => Promise<TOutput>;

/** An orchestrator that schedules nothing: its return value is the output at once. */
export type PlainOrchestratorFunction<TInput = any, TOutput = any> = (ctx: OrchestrationContext<TInput>, input: TInput) => TOutput;

/** A typed handle on a registered orchestration. */
export interface OrchestrationRef<TInput = any, TOutput = any> {
  readonly kind: 'orchestration';
  readonly name: string;
  readonly fn: OrchestratorFunction<TInput, TOutput>;
  /** The version it was registered at (side by side): `startNew(ref)` and `callSubOrchestrator(ref)` start that version. */
  readonly version?: string;
}

/** Input type of an activity or orchestration reference. */
export type InputOf<R> = R extends ActivityRef<infer I, any> ? I : R extends OrchestrationRef<infer I, any> ? I : unknown;
/** Output type of an activity or orchestration reference (unwrapping promises). */
export type OutputOf<R> =
  R extends ActivityRef<any, infer O> ? Awaited<O> : R extends OrchestrationRef<any, infer O> ? O : unknown;

/** A critical section held by an orchestration (`yield ctx.lock([...])`). */
export interface EntityLock {
  /** The locked entities, sorted. */
  readonly entities: readonly EntityId[];
  /** Releases every lock of the section (also done when the orchestration ends). Safe to call twice. */
  release(): void;
}

/** A name, or a typed reference returned by registration. */
export type ActivityTarget = string | ActivityRef;
/** A name, or a typed reference returned by registration. */
export type OrchestrationTarget = string | OrchestrationRef;

/** Value type of calling `target`: typed for references, `any` for names. */
export type ResultOf<T> = T extends string ? any : OutputOf<T>;
/** Input type of calling `target`: typed for references, `unknown` for names. */
export type ArgOf<T> = T extends string ? unknown : InputOf<T>;

/** The values of a tuple (or array) of tasks. */
export type TaskValues<T extends readonly Task<any>[]> = { -readonly [K in keyof T]: T[K] extends Task<infer V> ? V : never };

/**
 * The object form of a sub-orchestration call's third argument (`ctx.callSubOrchestrator(target, input, options)`),
 * for what the positional `instanceId` and `version` cannot say.
 */
export interface SubOrchestrationOptions {
  /** The child's instance id (default: derived from the parent's id and the call's sequence number). */
  instanceId?: string;
  /** The child's version (see `callSubOrchestrator`). */
  version?: string;
  /**
   * The child's own tags. A child inherits its parent's tags (DTFx's rule); these are added to them and win on
   * the same key. Checked as `startNew`'s tags are (a `ValidationError` at the call).
   */
  tags?: InstanceTags;
}

/** The third argument of `ctx.callActivity(target, input, options)`. */
export interface ActivityCallOptions {
  /**
   * An integer: among the waiting activities of this name, higher ones are claimed first; FIFO within a priority;
   * other names take turns with it (default 0). Anything else is a `ValidationError` at the call.
   */
  priority?: number;
}

/** Request of a durable HTTP call (`ctx.callHttp`). */
export interface DurableHttpRequest {
  method: string;
  uri: string;
  content?: unknown;
  headers?: Record<string, string>;
  /** Returns a bearer token for the request (there is no managed identity outside Azure). */
  tokenSource?: string | { resource: string };
  /** Follow 202 + Location polling (default true). */
  asynchronousPatternEnabled?: boolean;
}

/** Result of a durable HTTP call. */
export interface DurableHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  content: string;
}

/** Everything an orchestrator may do. All scheduling calls return durable tasks. */
export interface OrchestrationContext<TInput = unknown> {
  readonly instanceId: string;
  readonly parentInstanceId: string | undefined;
  /** True while the code re-executes steps already recorded in history. */
  readonly isReplaying: boolean;
  /** Deterministic "now": the start time of the current episode. */
  readonly currentUtcDateTime: Date;
  readonly version: string | undefined;
  readonly customStatus: unknown;
  readonly willContinueAsNew: boolean;
  /** The orchestration's name. */
  readonly name: string;
  /** A logger that is silent while replaying. */
  readonly log: Logger;
  getInput<T = TInput>(): T;
  /** Schedules an activity; `options.priority` (an integer, default 0) puts it ahead of its name's lower ones. */
  callActivity<T extends ActivityTarget>(target: T, input?: ArgOf<T>, options?: ActivityCallOptions): Task<ResultOf<T>>;
  callActivityWithRetry<T extends ActivityTarget>(
    target: T,
    retryOptions: RetryOptions,
    input?: ArgOf<T>,
    options?: ActivityCallOptions,
  ): Task<ResultOf<T>>;
  /**
   * Starts a sub-orchestration and waits for its output. `version` picks the child's version (as in the Python
   * SDK's `call_sub_orchestrator(name, input_, instance_id, version)`); without it the child gets the version of a
   * versioned reference, else the app's `versioning.defaultVersion`, else the newest version registered for the name.
   * The third argument is the child's instance id, or {@link SubOrchestrationOptions} (`{ instanceId?, version?,
   * tags? }`); a `version` given in both places is the options' one.
   */
  callSubOrchestrator<T extends OrchestrationTarget>(
    target: T,
    input?: ArgOf<T>,
    instanceIdOrOptions?: string | SubOrchestrationOptions,
    version?: string,
  ): Task<ResultOf<T>>;
  callSubOrchestratorWithRetry<T extends OrchestrationTarget>(
    target: T,
    retryOptions: RetryOptions,
    input?: ArgOf<T>,
    instanceIdOrOptions?: string | SubOrchestrationOptions,
    version?: string,
  ): Task<ResultOf<T>>;
  /**
   * Patching a running orchestration: `true` when this execution runs the code of the patch `patchId` — it reached
   * this call live, or its history recorded the patch — and `false` while replaying a history recorded before the
   * patch existed. The first live call records a marker in history; a later replay of that history on code
   * without the call fails as non-deterministic. Keep both branches until no instance started before the patch
   * is left, then replace the call with {@link deprecatePatch}.
   */
  isPatched(patchId: string): boolean;
  /**
   * Marks `patchId` as deprecated: the code keeps only the patched branch. Histories with the patch's marker
   * (and without it) replay, and new executions record a deprecated marker, which code without any call for
   * the patch replays too. Remove the call once no instance that ran `isPatched` is left.
   */
  deprecatePatch(patchId: string): void;
  createTimer(fireAt: Date): TimerTask;
  waitForExternalEvent<T = any>(name: string): Task<T>;
  /** Completes with all values (in input order) or fails with the first failure. */
  taskAll<const T extends readonly Task<any>[]>(tasks: T): Task<TaskValues<T>>;
  /**
   * Completes with the first task to complete: the task itself, so compare it with `===` (`await` and `yield` both
   * give the task, never its value; `Promise.race` over the same tasks gives the value).
   */
  taskAny<const T extends readonly Task<any>[]>(tasks: T): Task<Unthenable<T[number]>>;
  continueAsNew(input: unknown): void;
  setCustomStatus(value: unknown): void;
  /** Calls an entity operation; the task gives its result or fails with its error (a `TaskFailedError`). */
  callEntity<T = any>(entityId: EntityId, operationName: string, input?: unknown): Task<T>;
  /** Sends a one-way operation to an entity. */
  signalEntity(entityId: EntityId, operationName: string, input?: unknown): void;
  /**
   * Enters a critical section: `const lock = yield ctx.lock([a, b])` locks the entities (in sorted order, so two
   * sections never deadlock) until `lock.release()` or the end of the orchestration. Inside it the orchestration
   * may call only the locked entities, may not signal them, and may not start sub-orchestrations or nest locks
   * (`LockingRulesViolationError`).
   */
  lock(entities: readonly EntityId[]): Task<EntityLock>;
  callHttp(request: DurableHttpRequest): Task<DurableHttpResponse>;
  /** A deterministic UUID, different on every call, the same on replay. */
  newUuid(): string;
}
