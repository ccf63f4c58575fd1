/**
 * `replayHistory(app, history)`: re-runs an orchestrator over a recorded history with the pure executor
 * (no store, no worker, no activities) and reports whether today's code still replays it. Keep histories
 * of real instances as fixtures, and a change that would break instances in flight fails a unit test
 * instead of production.
 *
 * Fixtures must carry results: capture them with `getStatus(id, { showHistory: true, showHistoryOutput: true })`
 * (or {@link captureHistory}); without results every activity seems to have returned `undefined`.
 */
import { readFileSync } from 'node:fs';
import type { DurableClient } from '../sdk/durable-client.js';
import type { ExecutionCompletedEvent, ExecutionStartedEvent, FailureDetails, HistoryEvent } from '../sdk/history.js';
import type { CompleteOrchestrationAction } from '../core/actions.js';
import { deserialize } from '../core/payload.js';
import { OrchestrationExecutor } from '../core/orchestration-executor.js';
import { appSettings } from './app-settings.js';
import type { Blueprint } from '../sdk/blueprint.js';
import { DuraflowError, InstanceNotFoundError, NonDeterministicOrchestrationError, ValidationError } from '../sdk/errors.js';
import { isExport, parseExport } from '../sdk/instance-export.js';

/**
 * A history: the events, a status object with a `history` field (an exported instance is one), or the JSON text
 * of either, or the text of an export (`duraflow instances export`) holding one instance.
 */
export type RecordedHistory = readonly HistoryEvent[] | { readonly history?: readonly HistoryEvent[] | undefined } | string;

/** Where the replayed execution stands at the end of the history. */
export type ReplayedStatus = 'Running' | 'Completed' | 'Failed' | 'ContinuedAsNew';

/** Outcome of {@link replayHistory}. */
export type ReplayResult =
  | { ok: true; status: ReplayedStatus; output?: unknown }
  | { ok: false; error: NonDeterministicOrchestrationError | ReplayError };

/** The orchestrator replays without a non-determinism error but ends differently than its history did. */
export class ReplayError extends DuraflowError {
  /** The failure of the replayed orchestrator, when it failed. */
  readonly failureDetails: FailureDetails | undefined;
  constructor(message: string, failureDetails?: FailureDetails) {
    super(message);
    this.failureDetails = failureDetails;
  }
}

/**
 * Re-runs the orchestrator named in `history` from `app` over that history and reports the outcome. Its episode
 * runs synchronously for a generator orchestrator; an `async` one needs {@link replayHistoryAsync}.
 */
export function replayHistory(app: Blueprint, history: RecordedHistory): ReplayResult {
  const { events, started, executor } = prepare(app, history);
  let episode;
  try {
    episode = executor.execute(events, []);
  } catch (error) {
    return replayFailed(started, error);
  }
  if (episode instanceof Promise) {
    episode.catch(() => {}); // its outcome is nobody's now
    throw new ValidationError(
      `The orchestrator '${started.name}' is an async function, whose replay waits for its promise jobs: use \`await replayHistoryAsync(app, history)\`.`,
    );
  }
  return judge(events, started, executor, episode.completion);
}

/** {@link replayHistory} for orchestrators of either style (`async` functions and generators). */
export async function replayHistoryAsync(app: Blueprint, history: RecordedHistory): Promise<ReplayResult> {
  const { events, started, executor } = prepare(app, history);
  let completion;
  try {
    completion = (await executor.execute(events, [])).completion;
  } catch (error) {
    return replayFailed(started, error);
  }
  return judge(events, started, executor, completion);
}

function prepare(app: Blueprint, history: RecordedHistory): { events: HistoryEvent[]; started: ExecutionStartedEvent; executor: OrchestrationExecutor } {
  const events = toEvents(history);
  const started = events.find((e): e is ExecutionStartedEvent => e.eventType === 'ExecutionStarted');
  if (!started) {
    throw new ValidationError('The history has no ExecutionStarted event: pass the history of one orchestration execution.');
  }
  const registry = app.registry;
  const { maxPayloadBytes } = appSettings(app).options;
  const executor = new OrchestrationExecutor({
    resolve: (name, version) => registry.resolveOrchestration(name, version),
    registeredNames: () => registry.orchestrationNames(),
    registeredVersions: (name) => registry.orchestrationVersions(name),
    ...(maxPayloadBytes !== undefined ? { maxPayloadBytes } : {}),
  });
  return { events, started, executor };
}

function replayFailed(started: ExecutionStartedEvent, error: unknown): ReplayResult {
  return { ok: false, error: new ReplayError(`Replaying '${started.name}' failed: ${(error as Error).message}`) };
}

/** Compares the replayed ending (`completion`) with the recorded one. */
function judge(
  events: readonly HistoryEvent[],
  started: ExecutionStartedEvent,
  executor: OrchestrationExecutor,
  completion: CompleteOrchestrationAction | undefined,
): ReplayResult {
  const recorded = events.find((e): e is ExecutionCompletedEvent => e.eventType === 'ExecutionCompleted');
  const status: ReplayedStatus = completion?.status ?? 'Running';
  const failure = completion?.failureDetails;
  if (failure?.errorType === 'NonDeterministicOrchestrationError') {
    const found = executor.nonDeterminism;
    const divergence = { ...(found?.recorded !== undefined ? { recorded: found.recorded } : {}), ...(found?.current !== undefined ? { current: found.current } : {}) };
    return { ok: false, error: new NonDeterministicOrchestrationError(failure.message + missingResultsHint(events), divergence) };
  }
  const recordedStatus = recorded?.orchestrationStatus;
  const comparable = recordedStatus === 'Completed' || recordedStatus === 'Failed' ? recordedStatus : 'Running';
  if (recordedStatus !== 'Terminated' && status !== comparable) {
    const now = failure ? `fails with ${failure.errorType}: ${failure.message}` : status === 'Running' ? 'is still waiting' : `ends ${status}`;
    const then = comparable === 'Running' ? 'was still running' : `ended ${comparable}`;
    return {
      ok: false,
      error: new ReplayError(`Replaying '${started.name}' (instance '${started.instanceId}'): the recorded execution ${then} there, but the orchestrator now ${now}.${missingResultsHint(events)}`, failure),
    };
  }
  if (failure && recorded?.failureDetails && (failure.errorType !== recorded.failureDetails.errorType || failure.message !== recorded.failureDetails.message)) {
    return {
      ok: false,
      error: new ReplayError(
        `Replaying '${started.name}' (instance '${started.instanceId}'): the recorded execution failed with ${recorded.failureDetails.errorType}: ` +
          `${recorded.failureDetails.message}, but the orchestrator now fails with ${failure.errorType}: ${failure.message}.`,
        failure,
      ),
    };
  }
  return completion?.status === 'Completed' ? { ok: true, status, output: deserialize(completion.result) } : { ok: true, status };
}

/** Like {@link replayHistory}, but throws the error (a `NonDeterministicOrchestrationError` or `ReplayError`). */
export function assertReplayable(app: Blueprint, history: RecordedHistory): void {
  const result = replayHistory(app, history);
  if (!result.ok) throw result.error;
}

/** Like {@link replayHistoryAsync}, but rejects with the error. */
export async function assertReplayableAsync(app: Blueprint, history: RecordedHistory): Promise<void> {
  const result = await replayHistoryAsync(app, history);
  if (!result.ok) throw result.error;
}

/** Reads a history fixture: a JSON file holding the events or a whole status object with `history`, or an export of one instance. */
export function readHistoryFile(path: string): HistoryEvent[] {
  return toEvents(readFileSync(path, 'utf8'));
}

/** The history of an instance with results, as fixtures need it. */
export async function captureHistory(client: DurableClient, instanceId: string): Promise<HistoryEvent[]> {
  const status = await client.getStatus(instanceId, { showHistory: true, showHistoryOutput: true, showInput: true });
  if (!status) throw new InstanceNotFoundError(instanceId);
  return status.history ?? [];
}

function toEvents(history: RecordedHistory): HistoryEvent[] {
  let value: unknown = history;
  if (typeof value === 'string' && isExport(value)) {
    const instances = parseExport(value);
    if (instances.length !== 1) {
      throw new ValidationError(`The export holds ${instances.length} instances: replay one at a time, or check them all with replayCheck(app, { file }).`);
    }
    value = instances[0];
  }
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw new ValidationError(`The history is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'history' in value) value = (value as { history: unknown }).history;
  if (!Array.isArray(value)) throw new ValidationError('A history must be an array of events or an object with a `history` array.');
  value.forEach((event: unknown, i) => {
    if (event === null || typeof event !== 'object' || typeof (event as { eventType?: unknown }).eventType !== 'string') {
      throw new ValidationError(`History event #${i} is not an event (it needs an \`eventType\`).`);
    }
  });
  return value as HistoryEvent[];
}

/** A hint for histories captured without `showHistoryOutput`. */
function missingResultsHint(events: readonly HistoryEvent[]): string {
  const completions = events.filter((e) => e.eventType === 'TaskCompleted' || e.eventType === 'SubOrchestrationInstanceCompleted');
  if (completions.length === 0 || completions.some((e) => 'result' in e)) return '';
  return ' (No event in this history carries a result: was it captured with showHistoryOutput: true?)';
}
