/** The functions one app (or blueprint) registers, by name. */
import { ValidationError } from './errors.js';
import type { OrchestratorFunction } from './orchestration-context.js';
import type { ActivityFunction, ActivityOptions } from './activity.js';

/** Names of functions a worker serves (`'*'` for any: a gRPC worker without filters). */
export interface RegisteredNames {
  orchestrations: string[];
  activities: string[];
  entities: string[];
}

/** An HTTP route handler registered with `app.route`. */
export interface RouteRegistration {
  path: string;
  handler: (...args: any[]) => unknown;
  options: Record<string, unknown>;
}

/** Name → function tables. */
export class Registry {
  readonly orchestrations = new Map<string, OrchestratorFunction>();
  readonly activities = new Map<string, ActivityFunction>();
  /** Options given with `app.activity(name, fn, options)`, by activity name. */
  readonly activityOptions = new Map<string, ActivityOptions>();
  readonly entities = new Map<string, (...args: any[]) => unknown>();
  readonly routes: RouteRegistration[] = [];

  /** Adds a function; a name may be registered once per kind. */
  add(kind: 'orchestration' | 'activity' | 'entity', name: string, fn: unknown): void {
    if (typeof name !== 'string' || name.length === 0) throw new ValidationError(`A ${kind} name must be a non-empty string.`);
    if (typeof fn !== 'function') throw new ValidationError(`The ${kind} '${name}' must be a function.`);
    if (kind === 'orchestration' && name.startsWith('@')) {
      throw new ValidationError(`Orchestration names may not start with '@' (reserved for entities): '${name}'.`);
    }
    const table = this.#table(kind);
    if (table.has(name)) throw new ValidationError(`The ${kind} '${name}' is already registered.`);
    table.set(name, fn as never);
  }

  /** Copies everything from `other` (a blueprint) into this registry. */
  merge(other: Registry): void {
    for (const [name, fn] of other.orchestrations) this.add('orchestration', name, fn);
    for (const [name, fn] of other.activities) this.add('activity', name, fn);
    for (const [name, options] of other.activityOptions) this.activityOptions.set(name, options);
    for (const [name, fn] of other.entities) this.add('entity', name, fn);
    this.routes.push(...other.routes);
  }

  /** The registered names, sorted. */
  names(): RegisteredNames {
    return {
      orchestrations: [...this.orchestrations.keys()].sort(),
      activities: [...this.activities.keys()].sort(),
      entities: [...this.entities.keys()].sort(),
    };
  }

  #table(kind: 'orchestration' | 'activity' | 'entity'): Map<string, unknown> {
    return kind === 'orchestration' ? this.orchestrations : kind === 'activity' ? this.activities : this.entities;
  }
}
