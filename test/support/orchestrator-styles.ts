/**
 * The engine suites run every orchestrator in both styles: as written (generators) and as `async` functions.
 * `engineStores()` pairs each test store with a style; `useOrchestratorStyle(store)` (first thing inside a
 * suite) makes every orchestration registered in that suite an `async` function that awaits what the
 * generator yields, so the same test code drives the async engine path: the tasks' `then`, the episode's
 * microtask drains, the async replay. Only the registration is rewritten; the engine under test is the real one.
 */
import { after, before } from 'node:test';
import { Blueprint } from '../../src/index.js';
import { toAsync } from './async-twin.js';
import { testStores, type TestStore } from './stores.js';

export { toAsync } from './async-twin.js';

/** How orchestrators are written. */
export type OrchestratorStyle = 'generator' | 'async';

/** A test store with the style its suite's orchestrators run in. */
export type StyledStore = TestStore & { style: OrchestratorStyle; label: string };

/** Every test store, once per orchestrator style. */
export function engineStores(): StyledStore[] {
  return testStores().flatMap((store) =>
    (['generator', 'async'] as const).map((style) => ({ ...store, style, label: `${store.name} (${style} orchestrators)` })),
  );
}

/**
 * For a suite of the `async` style: orchestrations registered while it runs (on any app or blueprint) are
 * registered as their {@link toAsync} twins. Suites of a file run one after another, so the hooks never overlap.
 */
export function useOrchestratorStyle(store: { style: OrchestratorStyle }): void {
  if (store.style !== 'async') return;
  const original = Blueprint.prototype.orchestration;
  before(() => {
    Blueprint.prototype.orchestration = function (this: Blueprint, name: string, fn: any, options?: any) {
      return original.call(this, name, typeof fn === 'function' ? toAsync(fn) : fn, options);
    } as typeof original;
  });
  after(() => {
    Blueprint.prototype.orchestration = original;
  });
}
