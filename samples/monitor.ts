/**
 * Monitor: poll a condition on a durable timer until it holds or a deadline passes. The orchestration
 * sleeps between polls without holding a worker; the custom status shows its progress.
 */
import { Blueprint } from '../src/index.js';

export const monitor = new Blueprint();

/** Input of the monitor. */
export interface MonitorInput {
  jobId: string;
  pollIntervalMs: number;
  maxPolls: number;
}

const progress = new Map<string, number>();

/** Reports a job's state; here a job finishes on its third check. */
export const checkJob = monitor.activity('checkJob', async (jobId: string) => {
  const checks = (progress.get(jobId) ?? 0) + 1;
  progress.set(jobId, checks);
  return checks >= 3 ? 'done' : 'running';
});

export const monitorJob = monitor.orchestration('monitorJob', function* (ctx, input: MonitorInput) {
  for (let poll = 1; poll <= input.maxPolls; poll++) {
    const state = yield* ctx.callActivity(checkJob, input.jobId);
    ctx.setCustomStatus({ poll, state });
    if (state === 'done') return { jobId: input.jobId, polls: poll, state };
    yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + input.pollIntervalMs));
  }
  return { jobId: input.jobId, polls: input.maxPolls, state: 'gave up' };
});
