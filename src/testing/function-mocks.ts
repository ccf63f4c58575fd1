/**
 * The test host's own copy of an app's functions: mocks replace entries in the copy (never in the app,
 * so other hosts and tests see the real functions), and every activity and orchestration call is recorded.
 */
import type { EntityClass, EntityFunction, EntityRef } from '../sdk/entity-context.js';
import { ValidationError } from '../sdk/errors.js';
import type { OrchestrationContext } from '../sdk/orchestration-context.js';
import { Registry } from '../sdk/registry.js';
import type { AsyncOrchestratorFunction, OrchestrationRef, OrchestratorFunction, PlainOrchestratorFunction } from '../sdk/orchestration-context.js';
import type { ActivityFunction, ActivityRef } from '../sdk/activity.js';

/** One call the test host made to an activity or an orchestration (a top-level start or a sub-orchestration). */
export interface FunctionCall<TInput = unknown> {
  kind: 'activity' | 'orchestration';
  name: string;
  /** The input as the function received it (deserialized). */
  input: TInput;
  /** The calling orchestration (activities) or the started instance (orchestrations). */
  instanceId: string;
}

/** A name, or the typed reference returned by registration. */
export type FunctionTarget = string | ActivityRef | OrchestrationRef;

/**
 * Copies a registry, wraps its functions to record calls, and swaps in mocks. Each name gets one stable
 * entry that looks up the current implementation at call time, so a mock takes effect even where the
 * worker works on a snapshot of the registry's entries.
 */
export class FunctionMocks {
  /** The copy the test host's worker and client use. */
  readonly registry = new Registry();
  readonly #calls: FunctionCall[] = [];
  readonly #activities = new Map<string, ActivityFunction>();
  readonly #orchestrations = new Map<string, OrchestratorFunction>();

  constructor(source: Registry) {
    this.registry.merge(source);
    for (const [name, fn] of source.activities) this.#setActivity(name, fn);
    for (const [name, fn] of source.orchestrations) this.#setOrchestration(name, fn);
    for (const [name, versions] of this.registry.versionedOrchestrations) {
      for (const [version, fn] of versions) versions.set(version, this.#recorded(name, () => fn));
    }
  }

  /** Replaces (or adds) an activity for this host only; its calls are recorded like any other. */
  mockActivity(target: string | ActivityRef, fn: ActivityFunction): void {
    const name = nameOf(target, 'activity');
    checkFunction(fn, `mock of activity '${name}'`);
    this.#setActivity(name, fn);
  }

  /**
   * Replaces (or adds) an orchestration for this host only, typically one the code under test calls as a
   * sub-orchestration. `fn` has the orchestrator signature `(ctx, input)`; a plain function's return value
   * is the output at once, a generator or async function may schedule work like any orchestrator.
   */
  mockOrchestration(target: string | OrchestrationRef, fn: OrchestratorFunction | AsyncOrchestratorFunction | PlainOrchestratorFunction): void {
    const name = nameOf(target, 'orchestration');
    if (name.startsWith('@')) throw new ValidationError(`Orchestration names may not start with '@': '${name}'.`);
    checkFunction(fn, `mock of orchestration '${name}'`);
    // A mock stands for every version of the name.
    this.registry.versionedOrchestrations.delete(name);
    this.#setOrchestration(name, fn as OrchestratorFunction);
  }

  /**
   * Replaces (or adds) an entity for this host only: a function or a class, as `app.entity` takes. Entity
   * operations are not recorded as calls; read the entity's state, or record in the mock.
   */
  mockEntity(target: string | EntityRef, fn: EntityFunction | EntityClass): void {
    const name = typeof target === 'object' && target !== null && target.kind === 'entity' ? target.name : target;
    if (typeof name !== 'string' || name.length === 0) throw new ValidationError('An entity name must be a non-empty string.');
    checkFunction(fn, `mock of entity '${name}'`);
    // Entity names are case-insensitive and stored lower-cased.
    this.registry.entities.set(name.toLowerCase(), fn as (...args: any[]) => unknown);
  }

  /** Calls recorded so far, oldest first; with a target, only the calls of that function. */
  calls<I = unknown>(target?: FunctionTarget): FunctionCall<I>[];
  calls(target?: FunctionTarget): FunctionCall[] {
    if (target === undefined) return [...this.#calls];
    const name = typeof target === 'string' ? target : target.name;
    const kind = typeof target === 'string' ? undefined : target.kind;
    return this.#calls.filter((c) => c.name === name && (kind === undefined || c.kind === kind));
  }

  /** Forgets the recorded calls (mocks stay in place). */
  clearCalls(): void {
    this.#calls.length = 0;
  }

  #setActivity(name: string, fn: ActivityFunction): void {
    const known = this.#activities.has(name);
    this.#activities.set(name, fn);
    if (known) return;
    this.registry.activities.set(name, (input, ctx) => {
      this.#calls.push({ kind: 'activity', name, input, instanceId: ctx.instanceId });
      return this.#activities.get(name)!(input, ctx);
    });
  }

  #setOrchestration(name: string, fn: OrchestratorFunction): void {
    const known = this.#orchestrations.has(name);
    this.#orchestrations.set(name, fn);
    if (known) return;
    this.registry.orchestrations.set(name, this.#recorded(name, () => this.#orchestrations.get(name)!));
  }

  /** Wraps the orchestrator `current()` returns so that its live starts are recorded as calls. */
  #recorded(name: string, current: () => OrchestratorFunction): OrchestratorFunction {
    return (ctx: OrchestrationContext, input: unknown) => {
      // An orchestrator runs again on every replay; only its first, live start is a call.
      if (!ctx.isReplaying) this.#calls.push({ kind: 'orchestration', name, input, instanceId: ctx.instanceId });
      return current()(ctx, input);
    };
  }
}

function nameOf(target: unknown, kind: 'activity' | 'orchestration'): string {
  if (typeof target === 'string' && target.length > 0) return target;
  if (typeof target === 'object' && target !== null && 'kind' in target && 'name' in target) {
    const ref = target as { kind: unknown; name: unknown };
    if (ref.kind !== kind) throw new ValidationError(`Expected an ${kind} but got the ${String(ref.kind)} '${String(ref.name)}'.`);
    if (typeof ref.name === 'string' && ref.name.length > 0) return ref.name;
  }
  throw new ValidationError(`Expected an ${kind} name or reference, got ${target === null ? 'null' : typeof target}.`);
}

function checkFunction(fn: unknown, what: string): void {
  if (typeof fn !== 'function') throw new ValidationError(`The ${what} must be a function.`);
}
