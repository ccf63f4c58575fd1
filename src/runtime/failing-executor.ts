/** An executor that fails an execution without running orchestrator code (a worker's version mismatch with `Fail`). */
import type { EpisodeResult } from '../core/orchestration-executor.js';
import type { CompleteOrchestrationAction } from '../core/actions.js';
import { toFailureDetails } from '../sdk/errors.js';
import type { ExecutionStartedEvent, HistoryEvent } from '../sdk/history.js';
import type { EpisodeExecutor } from './episode-environment.js';

/** An executor that fails the execution with `error` without running any orchestrator code. */
export class FailingExecutor implements EpisodeExecutor {
  started: ExecutionStartedEvent | undefined;
  readonly customStatusSet = false;

  constructor(private readonly error: Error) {}

  execute(pastEvents: readonly HistoryEvent[], newEvents: readonly HistoryEvent[]): EpisodeResult {
    this.started = [...pastEvents, ...newEvents].find((e): e is ExecutionStartedEvent => e.eventType === 'ExecutionStarted');
    const completion: CompleteOrchestrationAction = { type: 'CompleteOrchestration', id: -1, status: 'Failed', failureDetails: toFailureDetails(this.error) };
    return { actions: [completion], acceptedEvents: [...newEvents], customStatus: undefined, completion };
  }
}
