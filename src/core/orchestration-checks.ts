/**
 * Checks of what orchestrator code hands the executor: generators versus async functions, yielded values that
 * are not tasks, sub-orchestration ids. Pure helpers of orchestration-executor.ts.
 */
import { ValidationError } from '../sdk/errors.js';
import { validateInstanceId } from '../sdk/instance-id.js';
import { isTask, type Task } from '../sdk/task.js';
import { describeValue, isThenable } from './foreign-values.js';

/** Refuses an invalid child id, or the parent's own. */
export function validateChildId(instanceId: string, ownId: string | undefined): void {
  validateInstanceId(instanceId);
  if (instanceId === ownId) throw new ValidationError(`A sub-orchestration cannot use its parent's instance id '${instanceId}'.`);
}

/** True for a generator object (getters of user code that throw mean "not a generator"). */
export function isGenerator(value: unknown): value is Generator<unknown, unknown, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  try {
    // Getters and Proxy traps of user code run here: a throw means "not a generator".
    return typeof (value as Generator).next === 'function' && typeof (value as Generator).throw === 'function' && Symbol.iterator in value;
  } catch {
    return false;
  }
}

/** True for an async iterable (an async generator). */
export function isAsyncIterable(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return Symbol.asyncIterator in value;
  } catch {
    return false;
  }
}

/** `isTask`, guarded: `instanceof` runs a Proxy's getPrototypeOf trap. */
export function isYieldedTask(value: unknown): value is Task<unknown> {
  try {
    return isTask(value);
  } catch {
    return false;
  }
}

/** The error message of a yield of something that is not a task. */
export function describeBadYield(name: string, value: unknown): string {
  if (isThenable(value) || isAsyncIterable(value)) {
    return (
      `Orchestrator '${name}' yielded ${describeValue(value)}, which is not allowed: an orchestrator may only yield tasks returned by ` +
      'the context (ctx.callActivity, ctx.createTimer, ctx.waitForExternalEvent, …), because only their results are recorded in ' +
      'history and replayed. Do I/O (fetch, a database call) in an activity, or use ctx.callHttp, instead of yielding or awaiting it here.'
    );
  }
  const described = describeValue(value);
  const shown = described === 'an array' ? 'an array (use ctx.taskAll)' : typeof value === 'object' || value === undefined ? described : typeof value;
  return `Orchestrator '${name}' yielded ${shown}, which is not a task. Yield only tasks returned by the context.`;
}
