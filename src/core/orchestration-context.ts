/**
 * The `ctx` object user orchestrators receive: a thin facade over the executor, which owns the state. Every
 * task it returns carries the executor's {@link AwaitWatch}, and a call made between episodes (only an outside
 * promise can resume code then) schedules nothing: it is noted, and the instance fails at its next episode.
 */
import { uuidV5 } from './uuid.js';
import { ValidationError } from '../sdk/errors.js';
import { checkVersion } from '../sdk/versioning.js';
import { checkPriority } from '../sdk/flow-control.js';
import type { EntityId } from '../sdk/entity-id.js';
import type { Logger } from '../sdk/logger.js';
import { gatedLogger, withFields } from '../sdk/logger.js';
import type {
  ActivityCallOptions,
  ActivityTarget,
  ArgOf,
  DurableHttpRequest,
  DurableHttpResponse,
  OrchestrationContext,
  OrchestrationTarget,
  ResultOf,
  SubOrchestrationOptions,
  TaskValues,
} from '../sdk/orchestration-context.js';
import { checkTags, type InstanceTags } from '../sdk/tags.js';
import { RetryOptions } from '../sdk/retry-options.js';
import type { Task, TimerTask } from '../sdk/task.js';
import { Task as TaskClass, WhenAllTask, WhenAnyTask } from '../sdk/task.js';
import { deserialize } from './payload.js';
import { defuse, describeValue } from './foreign-values.js';
import { DurableHttpTask, checkHttpRequest, type DurableHttpScheduler } from './durable-http.js';
import type { ExecutionStartedEvent } from '../sdk/history.js';
import type { CompletableTask } from '../sdk/task.js';
import type { OrchestrationEntities } from './orchestration-entities.js';
import type { AwaitWatch } from './orchestrator-drivers.js';
import { CompletableTask as CompletableTaskClass, TimerTask as TimerTaskClass, type Unthenable } from '../sdk/task.js';

/**
 * What the context needs from the executor that owns the state (the executor implements it). An interface, so
 * the context does not import the executor that creates it.
 */
export interface ContextHost extends DurableHttpScheduler {
  readonly logger: Logger;
  readonly isReplaying: boolean;
  readonly started: ExecutionStartedEvent | undefined;
  readonly input: unknown;
  readonly customStatusText: string | undefined;
  readonly willContinueAsNew: boolean;
  readonly entities: OrchestrationEntities;
  readonly httpPollDelayMs: number;
  readonly watch: AwaitWatch;
  scheduleActivity(name: string, input: unknown, priority?: number): CompletableTask<unknown>;
  scheduleSubOrchestration(name: string, input: unknown, instanceId: string | undefined, version?: string, tags?: InstanceTags): CompletableTask<unknown>;
  isPatched(patchId: string): boolean;
  deprecatePatch(patchId: string): void;
  createTimer(fireAt: Date): TimerTask;
  waitForExternalEvent(name: string): CompletableTask<unknown>;
  withRetry<T>(options: RetryOptions, attempt: () => CompletableTask<T>): Task<T>;
  continueAsNew(input: unknown): void;
  setCustomStatus(value: unknown): void;
  nextUuidName(): string;
}
import type { EntityLock } from '../sdk/orchestration-context.js';

function targetName(target: unknown, kind: 'activity' | 'orchestration'): string {
  if (typeof target === 'string' && target.length > 0) return target;
  if (typeof target === 'object' && target !== null && 'kind' in target && 'name' in target) {
    const ref = target as { kind: string; name: string };
    if (ref.kind !== kind) throw new ValidationError(`Expected an ${kind} but got the ${ref.kind} '${ref.name}'.`);
    return ref.name;
  }
  throw new ValidationError(`Expected an ${kind} name or reference, got ${typeof target}.`);
}

/** The instance id, version and tags of a sub-orchestration call, from its positional or object form, checked. */
function childOptions(
  target: unknown,
  instanceIdOrOptions: unknown,
  version: unknown,
): { instanceId: string | undefined; version: string | undefined; tags: InstanceTags | undefined } {
  if (instanceIdOrOptions === undefined || instanceIdOrOptions === null || typeof instanceIdOrOptions === 'string') {
    return { instanceId: instanceIdOrOptions ?? undefined, version: childVersion(target, version), tags: undefined };
  }
  if (typeof instanceIdOrOptions !== 'object' || Array.isArray(instanceIdOrOptions)) {
    throw new ValidationError('The third argument of callSubOrchestrator is an instance id or an options object ({ instanceId?, version?, tags? }).');
  }
  const options = instanceIdOrOptions as SubOrchestrationOptions;
  if (options.instanceId !== undefined && typeof options.instanceId !== 'string') throw new ValidationError('instanceId must be a string.');
  return {
    instanceId: options.instanceId,
    version: childVersion(target, options.version ?? version),
    tags: checkTags(options.tags),
  };
}

/** The version a sub-orchestration call asks for: the explicit one, else a versioned reference's. */
function childVersion(target: unknown, version: unknown): string | undefined {
  if (version !== undefined) return checkVersion(version, 'The version of a sub-orchestration');
  if (typeof target === 'object' && target !== null && typeof (target as { version?: unknown }).version === 'string') {
    return (target as { version: string }).version;
  }
  return undefined;
}

function checkTasks(tasks: unknown, what: string): readonly Task<unknown>[] {
  if (!Array.isArray(tasks)) throw new ValidationError(`${what} needs an array of tasks.`);
  const items: unknown[] = [...tasks];
  const bad = items.findIndex((t) => !(t instanceof TaskClass));
  if (bad >= 0) {
    // A refused Promise must not reject unhandled later; nor may any of its neighbours.
    for (const t of items) defuse(t);
    throw new ValidationError(
      `${what} accepts only tasks from the context; item ${bad} is ${describeValue(items[bad])}. Do I/O in an activity.`,
    );
  }
  return items as Task<unknown>[];
}

/** Implements {@link OrchestrationContext} for the in-process executor. */
export class OrchestrationContextImpl implements OrchestrationContext<any> {
  readonly log: Logger;
  constructor(private readonly executor: ContextHost) {
    // Silent while replaying; every record names the instance (the id is known once the start event is).
    const named = withFields(executor.logger, () => ({ instanceId: this.instanceId, name: this.name }));
    this.log = gatedLogger(named, () => !executor.isReplaying);
  }
  get instanceId(): string {
    return this.executor.started?.instanceId ?? '';
  }
  get name(): string {
    return this.executor.started?.name ?? '';
  }
  get parentInstanceId(): string | undefined {
    return this.executor.started?.parentInstance?.instanceId;
  }
  get isReplaying(): boolean {
    return this.executor.isReplaying;
  }
  get currentUtcDateTime(): Date {
    return new Date(this.executor.currentUtcDateTime.getTime());
  }
  get version(): string | undefined {
    return this.executor.started?.version;
  }
  get customStatus(): unknown {
    return deserialize(this.executor.customStatusText);
  }
  get willContinueAsNew(): boolean {
    return this.executor.willContinueAsNew;
  }
  getInput<T>(): T {
    return this.executor.input as T;
  }
  /** True (and noted) when orchestrator code calls `ctx.<what>` between episodes. */
  #outside(what: string): boolean {
    const watch = this.executor.watch;
    if (watch.inStep) return false;
    watch.noteStray(`called ctx.${what}`);
    return true;
  }
  /** Marks a task for the executor's watch, or gives a task that never settles to a call made between episodes. */
  #own<T extends Task<any>>(what: string, make: () => T): T {
    if (this.#outside(what)) return new CompletableTaskClass(-1) as unknown as T;
    const task = make();
    task._observer = this.executor.watch;
    return task;
  }
  callActivity<T extends ActivityTarget>(target: T, input?: ArgOf<T>, options?: ActivityCallOptions): Task<ResultOf<T>> {
    return this.#own('callActivity', () => {
      const name = targetName(target, 'activity');
      const priority = callPriority(options);
      return this.executor.scheduleActivity(name, input, priority) as Task<ResultOf<T>>;
    });
  }
  callActivityWithRetry<T extends ActivityTarget>(target: T, retryOptions: RetryOptions, input?: ArgOf<T>, options?: ActivityCallOptions): Task<ResultOf<T>> {
    return this.#own('callActivityWithRetry', () => {
      const name = targetName(target, 'activity');
      checkRetryOptions(retryOptions);
      const priority = callPriority(options);
      return this.executor.withRetry(retryOptions, () => this.executor.scheduleActivity(name, input, priority)) as Task<ResultOf<T>>;
    });
  }
  callSubOrchestrator<T extends OrchestrationTarget>(
    target: T,
    input?: ArgOf<T>,
    instanceIdOrOptions?: string | SubOrchestrationOptions,
    version?: string,
  ): Task<ResultOf<T>> {
    return this.#own('callSubOrchestrator', () => {
      const name = targetName(target, 'orchestration');
      const child = childOptions(target, instanceIdOrOptions, version);
      this.executor.entities.checkSubOrchestration();
      return this.executor.scheduleSubOrchestration(name, input, child.instanceId, child.version, child.tags) as Task<ResultOf<T>>;
    });
  }
  callSubOrchestratorWithRetry<T extends OrchestrationTarget>(
    target: T,
    retryOptions: RetryOptions,
    input?: ArgOf<T>,
    instanceIdOrOptions?: string | SubOrchestrationOptions,
    version?: string,
  ): Task<ResultOf<T>> {
    return this.#own('callSubOrchestratorWithRetry', () => {
      const name = targetName(target, 'orchestration');
      const child = childOptions(target, instanceIdOrOptions, version);
      checkRetryOptions(retryOptions);
      this.executor.entities.checkSubOrchestration();
      return this.executor.withRetry(retryOptions, () =>
        this.executor.scheduleSubOrchestration(name, input, child.instanceId, child.version, child.tags),
      ) as Task<ResultOf<T>>;
    });
  }
  isPatched(patchId: string): boolean {
    if (this.#outside('isPatched')) return false;
    return this.executor.isPatched(patchId);
  }
  deprecatePatch(patchId: string): void {
    if (this.#outside('deprecatePatch')) return;
    this.executor.deprecatePatch(patchId);
  }
  createTimer(fireAt: Date): TimerTask {
    if (this.#outside('createTimer')) return new TimerTaskClass(-1, fireAt, () => {});
    return this.#own('createTimer', () => this.executor.createTimer(fireAt));
  }
  waitForExternalEvent<T = any>(name: string): Task<T> {
    return this.#own('waitForExternalEvent', () => this.executor.waitForExternalEvent(name) as Task<T>);
  }
  taskAll<const T extends readonly Task<any>[]>(tasks: T): Task<TaskValues<T>> {
    return this.#own('taskAll', () => new WhenAllTask(checkTasks(tasks, 'taskAll')) as unknown as Task<TaskValues<T>>);
  }
  taskAny<const T extends readonly Task<any>[]>(tasks: T): Task<Unthenable<T[number]>> {
    return this.#own('taskAny', () => new WhenAnyTask(checkTasks(tasks, 'taskAny')) as unknown as Task<Unthenable<T[number]>>);
  }
  continueAsNew(input: unknown): void {
    if (this.#outside('continueAsNew')) return;
    this.executor.continueAsNew(input);
  }
  setCustomStatus(value: unknown): void {
    if (this.#outside('setCustomStatus')) return;
    this.executor.setCustomStatus(value);
  }
  callEntity<T = any>(entityId: EntityId, operationName: string, input?: unknown): Task<T> {
    return this.#own('callEntity', () => this.executor.entities.callEntity(entityId, operationName, input) as Task<T>);
  }
  signalEntity(entityId: EntityId, operationName: string, input?: unknown): void {
    if (this.#outside('signalEntity')) return;
    this.executor.entities.signalEntity(entityId, operationName, input);
  }
  lock(entities: readonly EntityId[]): Task<EntityLock> {
    return this.#own('lock', () => this.executor.entities.lock(entities));
  }
  callHttp(request: DurableHttpRequest): Task<DurableHttpResponse> {
    return this.#own('callHttp', () => new DurableHttpTask(this.executor, checkHttpRequest(request), this.executor.httpPollDelayMs));
  }
  newUuid(): string {
    this.#outside('newUuid');
    return uuidV5(this.executor.nextUuidName());
  }
}

function checkRetryOptions(options: unknown): void {
  if (!(options instanceof RetryOptions)) throw new ValidationError('retryOptions must be a RetryOptions instance.');
}

/** The checked priority of an activity call's options (a `ValidationError` at the call for a bad one). */
function callPriority(options: ActivityCallOptions | undefined): number | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new ValidationError('The options of an activity call must be an object { priority? }.');
  return checkPriority(options.priority, 'The priority of an activity call');
}
