/**
 * Driving an orchestrator's code: a generator (`function*`, resumed synchronously with each task's outcome) or
 * an `async` function (resumed by the continuations its awaits registered on tasks, which run as native
 * promise jobs). The executor applies history events; a driver turns what they settled into progress of the
 * user's code and tells the executor when that code returned, failed or continued as new.
 *
 * Why an async step must drain the microtask queue, and how: `await task` always resumes in a promise job, never
 * inside the call that settled the task, so after an event that woke an `async` orchestrator the episode waits
 * until the microtask queue is empty ({@link afterMicrotasks}, before any timer or I/O callback), so the
 * orchestrator has run exactly as far as the events applied so far allow, on every replay alike. Nothing else is waited for:
 * if the code is then blocked with no continuation on any pending duraflow task, it awaits something the
 * history cannot reproduce (fetch, setTimeout, an outside Promise) and the instance fails.
 */
import { NonDeterministicOrchestrationError } from '../sdk/errors.js';
import type { Task, TaskObserver } from '../sdk/task.js';
import { isTask } from '../sdk/task.js';
import { defuse, describeValue, isThenable } from './foreign-values.js';

/** What a driver reports to (and reads of) the executor that owns it. */
export interface DriverHost {
  /** The orchestration's name and instance id, for messages. */
  readonly where: string;
  readonly willContinueAsNew: boolean;
  /** True once the code returned or the execution ended: nothing more is driven. */
  readonly stopped: boolean;
  returned(value: unknown): void;
  fail(error: unknown): void;
  continuedAsNew(): void;
}

/** Runs one orchestrator's code as far as the settled tasks allow. */
export interface OrchestratorDriver {
  /** True for `async` code, whose progress needs a drain of the microtask queue after an event woke it. */
  readonly isAsync: boolean;
  /** Resumes the code with whatever settled (a generator runs synchronously; async code runs in promise jobs). */
  resume(): void;
  /** After a drain: the code ran as far as it can; refuse it if it waits for something that is not a task. */
  afterDrain(): void;
}

/**
 * Where the executor stands in an episode and what it learns of awaits on its tasks: the context marks every
 * task it returns with this observer.
 */
export class AwaitWatch implements TaskObserver {
  /** True while an episode runs (including its drains): orchestrator code may run only then. */
  inStep = false;
  /** Continuations registered on tasks that are still pending. */
  awaiting = 0;
  /** A continuation ran or async code started: the episode drains before the next event. */
  woke = false;
  /** What the code did outside an episode, the first time it did (the instance fails at its next episode). */
  stray: string | undefined;

  /** @internal */
  _onThen(pending: boolean): void {
    if (!this.inStep) this.noteStray('awaited a task');
    if (pending) this.awaiting++;
    else this.woke = true;
  }
  /** @internal */
  _onResumed(count: number): void {
    this.awaiting -= count;
    this.woke = true;
  }
  /** Records orchestrator code running between episodes: only an outside promise can have resumed it. */
  noteStray(what: string): void {
    this.stray ??= what;
  }
}

/**
 * Calls `then` once the microtask queue is empty, before any timer or I/O callback runs. In Node a
 * `process.nextTick` callback queued from a microtask runs only after the queue has drained (ticks run between
 * microtask checkpoints, and a checkpoint drains the queue), so the orchestrator's promise jobs, however deep,
 * have all run, and no outside promise (fetch, setTimeout) can settle meanwhile. (A tick queued from a tick
 * would run before the microtasks: hence the hop through a microtask.) Elsewhere one macrotask is the fallback.
 */
export function afterMicrotasks(then: () => void): void {
  // A scheduling primitive of the host, not a clock and not I/O.
  const host = globalThis as { process?: { nextTick?: (callback: () => void) => void }; setTimeout: (callback: () => void, ms: number) => unknown };
  const process = host.process;
  if (typeof process?.nextTick === 'function') queueMicrotask(() => process.nextTick!(then));
  else host.setTimeout(then, 0);
}

/**
 * Picks the driver for what the orchestrator function returned: a generator, a promise (an `async` function,
 * or any thenable, a task among them), or `undefined` for a plain value (the output at once).
 */
export function driverFor(result: unknown, host: DriverHost, watch: AwaitWatch): OrchestratorDriver | undefined {
  if (isGenerator(result)) return new GeneratorDriver(result, host);
  if (isAsyncIterable(result)) {
    defuse(result);
    throw new TypeError(
      `Orchestrator ${host.where} returned an async generator: write orchestrators as generator functions (function*) ` +
        'or async functions, not async generators.',
    );
  }
  if (isThenable(result)) return new AsyncDriver(result, host, watch);
  return undefined;
}

/** Drives a generator: `yield task` resumes synchronously once the task settled. */
class GeneratorDriver implements OrchestratorDriver {
  readonly isAsync = false;
  #started = false;
  #current: Task<unknown> | undefined;
  constructor(
    private readonly generator: Generator<unknown, unknown, unknown>,
    private readonly host: DriverHost,
  ) {}

  resume(): void {
    const { generator, host } = this;
    if (host.stopped) return;
    for (;;) {
      let step: IteratorResult<unknown, unknown>;
      try {
        if (!this.#started) {
          this.#started = true;
          step = generator.next();
        } else {
          const current = this.#current;
          if (!current || !current.isCompleted) return;
          this.#current = undefined;
          step = current.isFaulted ? generator.throw(current.error) : generator.next(current.result);
        }
      } catch (error) {
        host.fail(error);
        return;
      }
      if (host.willContinueAsNew) {
        host.continuedAsNew();
        return;
      }
      if (step.done) {
        host.returned(step.value);
        return;
      }
      if (!isYieldedTask(step.value)) {
        // A yielded Promise is refused, and must not end the process when it rejects later.
        defuse(step.value);
        host.fail(new TypeError(describeBadYield(host.where, step.value)));
        return;
      }
      this.#current = step.value;
    }
  }

  afterDrain(): void {}
}

/** Drives `async` code: it runs in promise jobs; the executor drains them after each event that woke it. */
class AsyncDriver implements OrchestratorDriver {
  readonly isAsync = true;
  constructor(
    result: PromiseLike<unknown>,
    private readonly host: DriverHost,
    private readonly watch: AwaitWatch,
  ) {
    watch.woke = true; // its first await (or its return) resolves in a promise job
    try {
      result.then(
        (value) => this.#settled(() => host.returned(value)),
        (error) => this.#settled(() => host.fail(error)),
      );
    } catch (error) {
      host.fail(error); // a thenable whose then throws
    }
  }

  #settled(report: () => void): void {
    if (!this.watch.inStep) this.watch.noteStray('returned');
    else if (!this.host.stopped) report();
  }

  resume(): void {}

  afterDrain(): void {
    const { host } = this;
    if (host.stopped) return;
    if (host.willContinueAsNew) host.continuedAsNew();
    else if (this.watch.awaiting === 0) host.fail(new NonDeterministicOrchestrationError(describeForeignAwait(host.where)));
  }
}

/** The failure of async code that waits for something that is not a duraflow task. */
export function describeForeignAwait(where: string): string {
  return (
    `Orchestrator ${where} is waiting for something that is not a duraflow task (a Promise from outside the context, fetch, ` +
    'setTimeout, …): its result is not recorded in history, so a replay could not reproduce it. Await only tasks from the ' +
    'context (ctx.callActivity, ctx.createTimer, ctx.waitForExternalEvent, …, or Promise.all/race/allSettled over them); ' +
    'do I/O in an activity or with ctx.callHttp.'
  );
}

/** The failure of async code that ran between episodes (an outside promise resumed it). */
export function describeStray(where: string, what: string): string {
  return (
    `Orchestrator ${where} ran outside its episode (it ${what} while no history event was being applied): it awaited ` +
    'something that is not a duraflow task (a Promise from outside the context, fetch, setTimeout, …), whose result is not ' +
    'recorded in history. Await only tasks from the context; do I/O in an activity or with ctx.callHttp.'
  );
}

function isGenerator(value: unknown): value is Generator<unknown, unknown, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  try {
    // Getters and Proxy traps of user code run here: a throw means "not a generator".
    return typeof (value as Generator).next === 'function' && typeof (value as Generator).throw === 'function' && Symbol.iterator in value;
  } catch {
    return false;
  }
}

function isAsyncIterable(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return Symbol.asyncIterator in value;
  } catch {
    return false;
  }
}

/** `isTask`, guarded: `instanceof` runs a Proxy's getPrototypeOf trap. */
function isYieldedTask(value: unknown): value is Task<unknown> {
  try {
    return isTask(value);
  } catch {
    return false;
  }
}

function describeBadYield(where: string, value: unknown): string {
  if (isThenable(value) || isAsyncIterable(value)) {
    return (
      `Orchestrator ${where} yielded ${describeValue(value)}, which is not allowed: an orchestrator may only yield tasks returned by ` +
      'the context (ctx.callActivity, ctx.createTimer, ctx.waitForExternalEvent, …), because only their results are recorded in ' +
      'history and replayed. Do I/O (fetch, a database call) in an activity, or use ctx.callHttp, instead of yielding or awaiting it here.'
    );
  }
  const described = describeValue(value);
  const shown = described === 'an array' ? 'an array (use ctx.taskAll)' : typeof value === 'object' || value === undefined ? described : typeof value;
  return `Orchestrator ${where} yielded ${shown}, which is not a task. Yield only tasks returned by the context.`;
}
