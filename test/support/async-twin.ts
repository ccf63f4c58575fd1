/**
 * The async twin of an orchestrator written as a generator, for running the same test code in both styles
 * (no node:test import, so worker child processes can use it too).
 */
import { Task, type OrchestrationContext } from '../../src/index.js';

/**
 * An `async` orchestrator doing what `fn` does: a generator's yielded tasks are awaited (their failures
 * thrown back in); whatever else `fn` returns is awaited as the output.
 */
export function toAsync(fn: (ctx: OrchestrationContext, input: any) => unknown): (ctx: OrchestrationContext, input: any) => Promise<unknown> {
  const asAsync = async (ctx: OrchestrationContext, input: any): Promise<unknown> => {
    const result = fn(ctx, input);
    if (!isGeneratorObject(result)) return await result;
    let step = result.next();
    for (;;) {
      if (step.done) return step.value;
      if (!(step.value instanceof Task)) throw new TypeError(`A generator driven as async code yielded a value that is not a task.`);
      let value: unknown;
      try {
        value = await step.value;
      } catch (error) {
        step = result.throw(error);
        continue;
      }
      step = result.next(value);
    }
  };
  Object.defineProperty(asAsync, 'name', { value: fn.name });
  return asAsync;
}

function isGeneratorObject(value: unknown): value is Generator<unknown, unknown, unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Generator).next === 'function' && typeof (value as Generator).throw === 'function';
}
