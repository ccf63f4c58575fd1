/** The functions one app (or blueprint) registers, by name (and, for orchestrations, by version). */
import { ValidationError } from './errors.js';
import type { OrchestratorFunction } from './orchestration-context.js';
import type { ActivityFunction, ActivityOptions } from './activity.js';
import { checkVersion, compareVersions, sameVersion } from './versioning.js';
import type { ScheduleDefinition } from './schedule.js';
import type { FlowOptions } from './flow-control.js';

/** A schedule declared in code (`app.schedule`): a worker start creates it, or updates it to this. */
export interface DeclaredSchedule {
  definition: ScheduleDefinition;
  /** The runs' input, serialized when a worker starts. */
  input: unknown;
}

/** Names of functions a worker serves (`'*'` for any: a gRPC worker without filters). */
export interface RegisteredNames {
  orchestrations: string[];
  activities: string[];
  entities: string[];
  /**
   * The versions registered side by side of orchestrations that have some, oldest first; `''` among them means
   * the name also has a registration without a version, which serves any version. A name in `orchestrations`
   * but not here is served at any version.
   */
  orchestrationVersions?: Record<string, string[]>;
  /** The `versioning.defaultVersion` of the worker (the newest one, in a union of workers). */
  defaultVersion?: string;
}

/** An HTTP route handler registered with `app.route`. */
export interface RouteRegistration {
  path: string;
  handler: (...args: any[]) => unknown;
  options: Record<string, unknown>;
}

/** Name → function tables. */
export class Registry {
  /** Orchestrations registered without a version: they run instances of any version that has no registration of its own. */
  readonly orchestrations = new Map<string, OrchestratorFunction>();
  /** Orchestrations registered with a version (side by side): name → version → function. */
  readonly versionedOrchestrations = new Map<string, Map<string, OrchestratorFunction>>();
  readonly activities = new Map<string, ActivityFunction>();
  /** Options given with `app.activity(name, fn, options)`, by activity name. */
  readonly activityOptions = new Map<string, ActivityOptions>();
  /** Flow control given with `app.orchestration(name, fn, options)`, by orchestration name. */
  readonly orchestrationFlow = new Map<string, FlowOptions>();
  readonly entities = new Map<string, (...args: any[]) => unknown>();
  readonly routes: RouteRegistration[] = [];
  /** Schedules declared with `app.schedule`, by schedule id. */
  readonly schedules = new Map<string, DeclaredSchedule>();

  /** Declares a schedule; an id may be declared once. */
  addSchedule(scheduleId: string, schedule: DeclaredSchedule): void {
    if (this.schedules.has(scheduleId)) throw new ValidationError(`The schedule '${scheduleId}' is already declared.`);
    this.schedules.set(scheduleId, schedule);
  }

  /** Adds a function; a name may be registered once per kind (orchestrations: once per version). */
  add(kind: 'orchestration' | 'activity' | 'entity', name: string, fn: unknown, version?: string): void {
    if (typeof name !== 'string' || name.length === 0) throw new ValidationError(`A ${kind} name must be a non-empty string.`);
    if (typeof fn !== 'function') throw new ValidationError(`The ${kind} '${name}' must be a function.`);
    if (kind === 'orchestration' && name.startsWith('@')) {
      throw new ValidationError(`Orchestration names may not start with '@' (reserved for entities): '${name}'.`);
    }
    if (version !== undefined) {
      if (kind !== 'orchestration') throw new ValidationError(`Only orchestrations have versions (the ${kind} '${name}' was given one).`);
      checkVersion(version, `The version of orchestration '${name}'`);
      let versions = this.versionedOrchestrations.get(name);
      if (!versions) this.versionedOrchestrations.set(name, (versions = new Map()));
      const taken = [...versions.keys()].find((v) => sameVersion(v, version));
      if (taken !== undefined) throw new ValidationError(`The orchestration '${name}' is already registered at version '${taken}'.`);
      versions.set(version, fn as OrchestratorFunction);
      return;
    }
    const table = this.#table(kind);
    if (table.has(name)) throw new ValidationError(`The ${kind} '${name}' is already registered.`);
    table.set(name, fn as never);
  }

  /** Copies everything from `other` (a blueprint) into this registry. */
  merge(other: Registry): void {
    for (const [name, fn] of other.orchestrations) this.add('orchestration', name, fn);
    for (const [name, versions] of other.versionedOrchestrations) for (const [version, fn] of versions) this.add('orchestration', name, fn, version);
    for (const [name, fn] of other.activities) this.add('activity', name, fn);
    for (const [name, options] of other.activityOptions) this.activityOptions.set(name, options);
    for (const [name, flow] of other.orchestrationFlow) this.orchestrationFlow.set(name, flow);
    for (const [name, fn] of other.entities) this.add('entity', name, fn);
    this.routes.push(...other.routes);
    for (const [id, schedule] of other.schedules) this.addSchedule(id, schedule);
  }

  /** True when some registration (with or without a version) serves orchestration `name`. */
  hasOrchestration(name: string): boolean {
    return this.orchestrations.has(name) || this.versionedOrchestrations.has(name);
  }

  /** Every orchestration name, sorted. */
  orchestrationNames(): string[] {
    return [...new Set([...this.orchestrations.keys(), ...this.versionedOrchestrations.keys()])].sort();
  }

  /** The versions registered side by side for `name`, oldest first (none for an unversioned registration alone). */
  orchestrationVersions(name: string): string[] {
    return [...(this.versionedOrchestrations.get(name)?.keys() ?? [])].sort(compareVersions);
  }

  /**
   * The function that runs an instance of `name` at `version`: the registration of that version, else the one
   * registered without a version, else none.
   */
  resolveOrchestration(name: string, version: string | undefined): OrchestratorFunction | undefined {
    const versions = this.versionedOrchestrations.get(name);
    if (versions && version !== undefined && version !== '') {
      for (const [v, fn] of versions) if (sameVersion(v, version)) return fn;
    }
    return this.orchestrations.get(name);
  }

  /** The registered names, sorted, with the versions registered side by side. */
  names(): RegisteredNames {
    const versioned = [...this.versionedOrchestrations.keys()].sort();
    const versionsOf = (name: string) => [...(this.orchestrations.has(name) ? [''] : []), ...this.orchestrationVersions(name)];
    return {
      orchestrations: this.orchestrationNames(),
      activities: [...this.activities.keys()].sort(),
      entities: [...this.entities.keys()].sort(),
      ...(versioned.length ? { orchestrationVersions: Object.fromEntries(versioned.map((n) => [n, versionsOf(n)])) } : {}),
    };
  }

  #table(kind: 'orchestration' | 'activity' | 'entity'): Map<string, unknown> {
    return kind === 'orchestration' ? this.orchestrations : kind === 'activity' ? this.activities : this.entities;
  }
}
