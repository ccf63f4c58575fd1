/**
 * Activities: what an activity function receives and the typed reference `app.activity(...)` returns.
 * A reference can be passed instead of a name (`ctx.callActivity(sayHello, 'Tokyo')`) and carries the
 * input and output types so that `yield* ctx.callActivity(ref, input)` is typed.
 */

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

/** A typed handle on a registered activity. */
export interface ActivityRef<TInput = any, TOutput = any> {
  readonly kind: 'activity';
  readonly name: string;
  readonly fn: ActivityFunction<TInput, TOutput>;
}
