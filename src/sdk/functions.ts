/**
 * Function signatures and typed references returned by registration (`app.activity(...)` etc.).
 * A reference can be passed instead of a name (`ctx.callActivity(sayHello, 'Tokyo')`) and carries the
 * input and output types so that `yield* ctx.callActivity(ref, input)` is typed.
 */
import type { OrchestrationContext } from './orchestration-context.js';
import type { Task } from './task.js';

/** What an activity receives besides its input. */
export interface ActivityContext {
  /** The orchestration instance that scheduled this activity. */
  instanceId: string;
  /** The activity's registered name. */
  name: string;
  /** The sequence id of the activity in the orchestration's history. */
  taskId: number;
  /** 1 for the first delivery; higher when a crashed or timed-out attempt is re-run. */
  dequeueCount: number;
}

/** An activity: plain (async) code that does the I/O. Runs at least once. */
export type ActivityFunction<TInput = any, TOutput = any> = (
  input: TInput,
  ctx: ActivityContext,
) => TOutput | Promise<TOutput>;

/**
 * An orchestrator: a generator that yields durable tasks. It must be deterministic: the same history
 * must lead to the same sequence of scheduling calls.
 */
export type OrchestratorFunction<TInput = any, TOutput = any> = (
  ctx: OrchestrationContext<TInput>,
  input: TInput,
) => Generator<Task<any>, TOutput, any>;

/** An orchestrator that schedules nothing: its return value is the output at once. */
export type PlainOrchestratorFunction<TInput = any, TOutput = any> = (ctx: OrchestrationContext<TInput>, input: TInput) => TOutput;

/** A typed handle on a registered activity. */
export interface ActivityRef<TInput = any, TOutput = any> {
  readonly kind: 'activity';
  readonly name: string;
  readonly fn: ActivityFunction<TInput, TOutput>;
}

/** A typed handle on a registered orchestration. */
export interface OrchestrationRef<TInput = any, TOutput = any> {
  readonly kind: 'orchestration';
  readonly name: string;
  readonly fn: OrchestratorFunction<TInput, TOutput>;
}

/** Input type of an activity or orchestration reference. */
export type InputOf<R> = R extends ActivityRef<infer I, any> ? I : R extends OrchestrationRef<infer I, any> ? I : unknown;
/** Output type of an activity or orchestration reference (unwrapping promises). */
export type OutputOf<R> =
  R extends ActivityRef<any, infer O> ? Awaited<O> : R extends OrchestrationRef<any, infer O> ? O : unknown;
