/**
 * Blueprint: a group of functions registered into an app later (`app.registerFunctions(bp)`), as in the
 * Python SDK's V2 model. `DFApp` extends it.
 */
import { Registry } from './registry.js';
import { EntityId } from './entity-id.js';
import { ValidationError } from './errors.js';
import { entityRef, type EntityClass, type EntityFunction, type EntityRef } from './entity-context.js';
import type { DurableClient } from './durable-client.js';
import type { AsyncOrchestratorFunction, OrchestrationRef, OrchestratorFunction, PlainOrchestratorFunction } from './orchestration-context.js';
import { checkTimeout, type ActivityFunction, type ActivityOptions, type ActivityRef } from './activity.js';
import { checkFlowOptions, type FlowOptions } from './flow-control.js';
import { checkScheduleDefinition, checkScheduleId, type ScheduleOptions } from './schedule.js';

/** Who may call an HTTP route: `anonymous` needs no key; `function` and `admin` need the API key. */
export type AuthLevel = 'anonymous' | 'function' | 'admin';

/** Options of `route`. */
export interface RouteOptions {
  /** HTTP methods served (default GET and POST). */
  methods?: string[];
  authLevel?: AuthLevel;
  /** Give the handler a client for another task hub. */
  taskHub?: string;
}

/** Handler of a user route: a standard Request in, a Response (or a plain value sent as JSON) out. */
export type RouteHandler<C = DurableClient> = (
  request: Request,
  client: C,
  params: Record<string, string>,
) => Response | unknown | Promise<Response | unknown>;

/** Options of `orchestration`. */
export interface OrchestrationOptions<TInput = any> extends FlowOptions<TInput> {
  /** The version this registration runs (side by side with other versions of the name). */
  version?: string;
}

/** Options of a blueprint (and of `DFApp`). */
export interface BlueprintOptions {
  /** Default auth level of routes (default `function`, as in Durable Functions). */
  httpAuthLevel?: AuthLevel;
}

/** A set of orchestrations, activities, entities and routes. */
export class Blueprint {
  /** @internal */
  readonly registry = new Registry();
  readonly httpAuthLevel: AuthLevel;

  constructor(options: BlueprintOptions = {}) {
    this.httpAuthLevel = options.httpAuthLevel ?? 'function';
  }

  /**
   * Registers an activity; returns a typed reference usable with `ctx.callActivity`. `options.timeoutMs` limits
   * how long one attempt may run (default: the worker's `activityTimeoutMs`, 30 minutes).
   */
  activity<TInput = any, TOutput = any>(
    name: string,
    fn: ActivityFunction<TInput, TOutput>,
    options: ActivityOptions = {},
  ): ActivityRef<TInput, TOutput> {
    const checked = checkActivityOptions(name, options);
    this.registry.add('activity', name, fn);
    if (checked) this.registry.activityOptions.set(name, checked);
    return { kind: 'activity', name, fn };
  }

  /**
   * Registers an orchestrator generator (`function*`); returns a typed reference usable with `startNew` and `callSubOrchestrator`.
   * With `{ version }` it is one of several versions of the name side by side: an instance runs the registration
   * of its own version (else the one registered without a version).
   */
  orchestration<TInput = any, TOutput = any>(
    name: string,
    fn: OrchestratorFunction<TInput, TOutput>,
    options?: OrchestrationOptions,
  ): OrchestrationRef<TInput, TOutput>;
  /** Registers an `async` orchestrator: it awaits durable tasks instead of yielding them. */
  orchestration<TInput = any, TOutput = any>(
    name: string,
    fn: AsyncOrchestratorFunction<TInput, TOutput>,
    options?: OrchestrationOptions,
  ): OrchestrationRef<TInput, TOutput>;
  /** Registers an orchestrator that schedules nothing (its return value is the output). */
  orchestration<TInput = any, TOutput = any>(
    name: string,
    fn: PlainOrchestratorFunction<TInput, TOutput>,
    options?: OrchestrationOptions,
  ): OrchestrationRef<TInput, TOutput>;
  orchestration(
    name: string,
    fn: OrchestratorFunction | AsyncOrchestratorFunction | PlainOrchestratorFunction,
    options: OrchestrationOptions = {},
  ): OrchestrationRef {
    if (typeof options !== 'object' || options === null) throw new ValidationError(`The options of orchestration '${name}' must be an object.`);
    const { version } = options;
    const flow = checkFlowOptions(options, `orchestration '${name}'`);
    if (flow && version !== undefined) throw new ValidationError(`Flow control of orchestration '${name}' is given per name, on its registration without a version.`);
    this.registry.add('orchestration', name, fn, version);
    if (flow) this.registry.orchestrationFlow.set(name, flow);
    return { kind: 'orchestration', name, fn: fn as OrchestratorFunction, ...(version !== undefined ? { version } : {}) };
  }

  /**
   * Registers a durable entity: a function called once per operation with an `EntityContext`, or a class
   * whose public methods are the operations (`method(input, ctx)`) and whose fields are the state. Entity
   * names are case-insensitive (stored lower-cased). Returns a reference whose `id(key)` builds entity ids.
   */
  entity<TState = any>(name: string, fn: EntityFunction<TState> | EntityClass): EntityRef {
    new EntityId(name, ''); // validates the name
    this.registry.add('entity', name.toLowerCase(), fn);
    return entityRef(name);
  }

  /**
   * Declares a schedule in code: each worker start creates it in the store, or updates it to these options
   * (keeping its state — a paused schedule stays paused — and its runs). A bad cron, time zone or `every` is a
   * `ValidationError` here; an orchestration that no one serves, one at `startWorker`/`start`.
   */
  schedule(scheduleId: string, options: ScheduleOptions): void {
    checkScheduleId(scheduleId);
    const definition = checkScheduleDefinition(options, `schedule '${scheduleId}'`);
    this.registry.addSchedule(scheduleId, { definition, input: options.input });
  }

  /** Registers an HTTP route served under `/api/<path>`; `{name}` segments become `params.name`. */
  route(path: string, handler: RouteHandler<DurableClient>, options: RouteOptions = {}): void {
    // A route without its own level gets the level of the blueprint (or app) it was registered on.
    this.registry.routes.push({ path: path.replace(/^\/+/, ''), handler, options: { ...options, authLevel: options.authLevel ?? this.httpAuthLevel } });
  }
}

function checkActivityOptions(name: string, options: unknown): ActivityOptions | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new ValidationError(`The options of activity '${name}' must be an object.`);
  const { timeoutMs } = options as ActivityOptions;
  if (timeoutMs !== undefined) checkTimeout(timeoutMs, `timeoutMs of activity '${name}'`);
  const flow = checkFlowOptions(options as ActivityOptions, `activity '${name}'`);
  if (timeoutMs === undefined && !flow) return undefined;
  return { ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...flow };
}

