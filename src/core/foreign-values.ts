/**
 * Values user code hands the engine that the engine refuses (a Promise yielded by an orchestrator, a Promise
 * inside a payload, anything that is not a task). Looking at such a value runs user code (getters, Proxy
 * traps), so every probe here is guarded and never throws; and a refused Promise gets a rejection handler, or
 * its later rejection would be an unhandled rejection that ends the worker process.
 */
import { Task } from '../sdk/task.js';

const ignore = (): void => {};

/** Reads `get()`, or gives `undefined` when a getter or Proxy trap of user code throws. */
function probe<T>(get: () => T): T | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}

/** True for a Promise or any object with a callable `then` (false when looking throws). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  return probe(() => typeof (value as { then?: unknown }).then === 'function') === true;
}

/** True for a native Promise (or subclass); false for a Proxy or when looking throws. */
function isNativePromise(value: unknown): value is Promise<unknown> {
  return probe(() => value instanceof Promise) === true;
}

/**
 * Attaches a no-op rejection handler to a native Promise the engine refuses, so its rejection is not
 * unhandled. Other thenables are left alone: calling their `then` could start work (a lazy query builder),
 * and only native promises are tracked for unhandled rejections.
 */
export function defuse(value: unknown): void {
  if (!isNativePromise(value)) return;
  probe(() => Promise.prototype.then.call(value, undefined, ignore));
}

/**
 * A short description of a value for an error message (`a Promise`, `an array`, `an object (Response)`,
 * `number`); never throws.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  // Tasks are thenables too; the usual slip is a missing `await` (or `yield`) in front of one.
  if (probe(() => value instanceof Task) === true) return 'a duraflow task (await or yield it for its value)';
  if (isNativePromise(value)) return 'a Promise';
  if (isThenable(value)) return 'a thenable (an object with a then method)';
  if (probe(() => Array.isArray(value)) === true) return 'an array';
  if (typeof value === 'function') {
    const name = probe(() => (value as { name?: unknown }).name);
    return typeof name === 'string' && name ? `a function (${name})` : 'a function';
  }
  if (typeof value === 'object') {
    const constructorName = probe(() => {
      const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
      return proto === null ? 'null prototype' : proto.constructor?.name;
    });
    return typeof constructorName === 'string' && constructorName && constructorName !== 'Object'
      ? `an object (${constructorName})`
      : 'an object';
  }
  return typeof value;
}
