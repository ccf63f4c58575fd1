/**
 * Durable tasks: what every scheduling call of an orchestration context returns.
 *
 * In a generator orchestrator `yield task` gives the task's value (or throws its failure); `yield* task` gives
 * the same value with its TypeScript type, because a task is iterable: it yields itself once and returns what
 * the driver sends back. In an `async` orchestrator `await task` does the same, because a task is a thenable:
 * the executor itself calls the continuations `then` registered when the task's history event is applied.
 */
/** Lifecycle of a task. */
export type TaskState = 'pending' | 'completed' | 'failed';

/**
 * @internal What the executor that handed a task out learns of awaits on it (set by the context; the executor
 * counts waiting continuations to tell "blocked on duraflow tasks" from "blocked on something else").
 */
export interface TaskObserver {
  /** `then` was called on the task; `pending` when the continuation now waits for it. */
  _onThen(pending: boolean): void;
  /** A task settled and ran `count` continuations registered while it was pending. */
  _onResumed(count: number): void;
}

/** A task settled by an event is handed to await as itself (a `taskAny` winner), never adopted as a thenable. */
export type Unthenable<T> = T extends unknown ? Omit<T, 'then'> : never;

interface Continuation {
  onFulfilled: ((value: any) => unknown) | null | undefined;
  onRejected: ((reason: any) => unknown) | null | undefined;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  promise: Promise<unknown>;
}

const ignore = (): void => {};

/** A durable task whose value is a `T`. */
export abstract class Task<T = unknown> {
  #state: TaskState = 'pending';
  #result: T | undefined;
  #error: Error | undefined;
  #parents: CompositeTask<unknown>[] = [];
  #continuations: Continuation[] | undefined;
  /** @internal Set by the orchestration context on every task it returns. */
  _observer: TaskObserver | undefined;

  /** True once the task succeeded or failed. */
  get isCompleted(): boolean {
    return this.#state !== 'pending';
  }
  /** True when the task failed. */
  get isFaulted(): boolean {
    return this.#state === 'failed';
  }
  /** The task's value once it succeeded, else `undefined`. */
  get result(): T | undefined {
    return this.#result;
  }
  /** The task's error once it failed, else `undefined`. */
  get error(): Error | undefined {
    return this.#error;
  }
  /** Current state. */
  get state(): TaskState {
    return this.#state;
  }

  /** Lets `yield* task` give a typed value. */
  *[Symbol.iterator](): Generator<Task<T>, T, unknown> {
    return (yield this) as T;
  }

  /**
   * Lets `await task` give the value (or throw the failure), and `Promise.all`/`race`/`allSettled` take tasks.
   * The continuation runs when the executor applies the task's history event (at once for a settled task), so no
   * timer or outside promise decides when an orchestrator resumes.
   */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    let resolve!: (value: unknown) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const continuation: Continuation = { onFulfilled, onRejected, resolve, reject, promise };
    const pending = this.#state === 'pending';
    this._observer?._onThen(pending);
    if (pending) (this.#continuations ??= []).push(continuation);
    else this.#run(continuation);
    return promise as Promise<R1 | R2>;
  }

  /** @internal Marks the task succeeded and notifies compound parents. */
  _complete(value: T): void {
    if (this.#state !== 'pending') return;
    this.#state = 'completed';
    this.#result = value;
    this.#notifyParents();
    this.#resumeContinuations();
  }
  /** @internal Marks the task failed and notifies compound parents. */
  _fail(error: Error): void {
    if (this.#state !== 'pending') return;
    this.#state = 'failed';
    this.#error = error;
    this.#notifyParents();
    this.#resumeContinuations();
  }
  #resumeContinuations(): void {
    const continuations = this.#continuations;
    if (!continuations) return;
    this.#continuations = undefined;
    this._observer?._onResumed(continuations.length);
    for (const continuation of continuations) this.#run(continuation);
  }
  #run(c: Continuation): void {
    const failed = this.#state === 'failed';
    const handler = failed ? c.onRejected : c.onFulfilled;
    try {
      if (typeof handler === 'function') settleWith(c.resolve, handler, failed ? this.#error : this.#result);
      else if (!failed) settleWith(c.resolve, undefined, this.#result);
      else rejectQuietly(c, this.#error);
    } catch (error) {
      rejectQuietly(c, error);
    }
  }
  /** @internal */
  _addParent(parent: CompositeTask<unknown>): void {
    this.#parents.push(parent);
  }
  #notifyParents(): void {
    for (const parent of this.#parents) parent._onChildCompleted(this);
  }
}

/** A task completed by one history event (activity, sub-orchestration, event, timer). */
export class CompletableTask<T = unknown> extends Task<T> {
  /** The sequence id (or, for external events, -1). */
  readonly id: number;
  constructor(id: number) {
    super();
    this.id = id;
  }
}

/** A durable timer; `cancel()` stops it from holding the orchestration open. */
export class TimerTask extends CompletableTask<void> {
  readonly fireAt: Date;
  #canceled = false;
  readonly #onCancel: (timer: TimerTask) => void;
  /** @internal */
  constructor(id: number, fireAt: Date, onCancel: (timer: TimerTask) => void) {
    super(id);
    this.fireAt = fireAt;
    this.#onCancel = onCancel;
  }
  /** True once cancelled. */
  get isCanceled(): boolean {
    return this.#canceled;
  }
  /** Cancels a pending timer; cancelling a fired timer is an error. */
  cancel(): void {
    if (this.isCompleted) throw new Error('Cannot cancel a timer that has already fired.');
    if (this.#canceled) return;
    this.#canceled = true;
    this.#onCancel(this);
  }
}

/** A task made of other tasks. */
export abstract class CompositeTask<T> extends Task<T> {
  readonly children: readonly Task<unknown>[];
  constructor(children: readonly Task<unknown>[]) {
    super();
    this.children = children;
    for (const child of children) child._addParent(this as CompositeTask<unknown>);
  }
  /** @internal */
  abstract _onChildCompleted(child: Task<unknown>): void;
}

/** Completes when all children succeeded (values in input order) or fails with the first failure. */
export class WhenAllTask<T> extends CompositeTask<T[]> {
  #done = 0;
  constructor(children: readonly Task<T>[]) {
    super(children);
    for (const child of children) if (child.isCompleted) this._onChildCompleted(child);
    if (children.length === 0) this._complete([]);
  }
  /** @internal */
  override _onChildCompleted(child: Task<unknown>): void {
    if (this.isCompleted) return;
    if (child.isFaulted) {
      this._fail(child.error ?? new Error('A task failed.'));
      return;
    }
    this.#done++;
    if (this.#done === this.children.length) this._complete(this.children.map((c) => c.result as T));
  }
}

/** Completes with the first child to complete (success or failure); its value is that child task. */
export class WhenAnyTask<T> extends CompositeTask<Task<T>> {
  constructor(children: readonly Task<T>[]) {
    if (children.length === 0) throw new Error('taskAny needs at least one task.');
    super(children);
    const first = children.find((c) => c.isCompleted);
    if (first) this._complete(first);
  }
  /** @internal */
  override _onChildCompleted(child: Task<unknown>): void {
    if (!this.isCompleted) this._complete(child as Task<T>);
  }
}

/**
 * A task retried by a policy: attempts and the timers between them are children added as they happen.
 * The policy itself lives in the executor, which calls `_attemptFailed` / `_timerFired`.
 */
export class RetryableTask<T> extends Task<T> {
  /** Number of attempts made so far. */
  attempts = 1;
  /** @internal */
  constructor(
    private readonly onAttemptFailed: (task: RetryableTask<T>, error: Error) => void,
    private readonly onTimerFired: (task: RetryableTask<T>) => void,
  ) {
    super();
  }
  /** @internal Wires a new attempt (or retry timer) to this task. */
  _watch(child: Task<unknown>, kind: 'attempt' | 'timer'): void {
    const relay = new RelayTask(child, (c) => {
      if (this.isCompleted) return;
      if (kind === 'timer') this.onTimerFired(this);
      else if (c.isFaulted) this.onAttemptFailed(this, c.error ?? new Error('Attempt failed.'));
      else this._complete(c.result as T);
    });
    void relay;
  }
}

/** Forwards a child's completion to a callback (used to observe attempts without exposing them). */
class RelayTask extends CompositeTask<void> {
  constructor(
    child: Task<unknown>,
    private readonly callback: (child: Task<unknown>) => void,
  ) {
    super([child]);
  }
  /** @internal */
  override _onChildCompleted(child: Task<unknown>): void {
    this.callback(child);
  }
}

/**
 * Calls `handler(value)` (or passes `value`) into `resolve`. A task value (a `taskAny` winner) is handed over as
 * itself: while `resolve` looks for its `then` it finds none, so the promise does not adopt the winner's value.
 */
function settleWith(resolve: (value: unknown) => void, handler: ((value: any) => unknown) | undefined, value: unknown): void {
  const shadow = value instanceof Task;
  if (shadow) Object.defineProperty(value, 'then', { value: undefined, configurable: true });
  try {
    resolve(handler ? handler(value) : value);
  } finally {
    if (shadow) delete (value as { then?: unknown }).then;
  }
}

/** Rejects the promise `then` returned; nobody may be listening, and an unhandled rejection would end the worker. */
function rejectQuietly(c: Continuation, reason: unknown): void {
  c.promise.then(undefined, ignore);
  c.reject(reason);
}

/** True when `value` is a duraflow task. */
export function isTask(value: unknown): value is Task<unknown> {
  return value instanceof Task;
}
