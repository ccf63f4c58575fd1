/**
 * `--wait`: follows an instance until it finishes, showing its status, custom status, elapsed time and the
 * activities completed so far. Progress goes to stderr (one rewritten line on a terminal, a line per change
 * otherwise) so stdout carries only the result.
 */
import { isTerminalStatus, type HistoryEvent } from '../sdk/history.js';
import type { DurableClient, DurableOrchestrationStatus } from '../sdk/durable-client.js';
import { formatDuration, preview } from '../dashboard/format.js';
import { InstanceNotFoundError } from '../sdk/errors.js';
import { safeText } from './output.js';

/** Exit codes of a waited-for instance. */
export const EXIT_CODES = { Completed: 0, Failed: 1, Terminated: 2, Canceled: 2, timeout: 3 } as const;

/** The exit code for a final status (3 when it is still running at the timeout). */
export function exitCodeFor(status: DurableOrchestrationStatus): number {
  if (status.runtimeStatus === 'Completed') return EXIT_CODES.Completed;
  if (status.runtimeStatus === 'Failed') return EXIT_CODES.Failed;
  if (status.runtimeStatus === 'Terminated' || status.runtimeStatus === 'Canceled') return EXIT_CODES.Terminated;
  return EXIT_CODES.timeout;
}

/** Completed activities in a history, and the last one's name. */
export function activityProgress(history: readonly HistoryEvent[]): { done: number; last?: string } {
  const names = new Map<number, string>();
  let done = 0;
  let last: string | undefined;
  for (const event of history) {
    if (event.eventType === 'TaskScheduled') names.set(event.eventId, event.name);
    if (event.eventType === 'TaskCompleted') {
      done++;
      last = names.get(event.taskScheduledId) ?? last;
    }
  }
  return last === undefined ? { done } : { done, last };
}

/** One progress line. */
export function progressLine(status: DurableOrchestrationStatus, elapsedMs: number): string {
  const activities = activityProgress(status.history ?? []);
  const parts = [status.runtimeStatus, formatDuration(elapsedMs), `${activities.done} ${activities.done === 1 ? 'activity' : 'activities'} done${activities.last ? ` (last: ${activities.last})` : ''}`];
  if (status.customStatus !== undefined) parts.push(`custom status: ${preview(status.customStatus, 60)}`);
  return safeText(parts.join(' · '));
}

/** Follows `instanceId` until it is terminal or `timeoutMs` passes; returns the last status. */
export async function followInstance(client: DurableClient, instanceId: string, timeoutMs: number | undefined): Promise<DurableOrchestrationStatus> {
  const started = Date.now();
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : started + timeoutMs;
  const tty = process.stderr.isTTY === true;
  let previous = '';
  let shown = '';
  for (;;) {
    const status = await client.getStatus(instanceId, { showHistory: true, showInput: false });
    if (!status) throw new InstanceNotFoundError(instanceId);
    const line = progressLine(status, Date.now() - started);
    // Without a terminal, a new line only when something other than the clock changed.
    const key = progressLine(status, 0);
    if (tty) process.stderr.write(`\r\x1b[K${line}`);
    else if (key !== previous) process.stderr.write(`${line}\n`);
    previous = key;
    shown = line;
    if (isTerminalStatus(status.runtimeStatus) || Date.now() >= deadline) {
      if (tty && shown) process.stderr.write('\n');
      return status;
    }
    // A short wait that a store client ends early when the instance changes.
    await client.waitForCompletion(instanceId, { timeoutInMilliseconds: Math.min(500, Math.max(0, deadline - Date.now())) });
  }
}
