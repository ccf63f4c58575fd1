/**
 * The error-handling pipeline from the Durable Functions for Python announcement: download, process,
 * summarize; on any failure run a clean-up activity and report it. The failing step is chosen by input.
 */
import { Blueprint, TaskFailedError } from '../src/index.js';

export const errorHandling = new Blueprint();

/** Which step should fail (for the demo and tests). */
export interface PipelineInput {
  failAt?: 'DownloadData' | 'Process' | 'Summarize';
}

export const downloadData = errorHandling.activity('DownloadData', async (input: PipelineInput) => {
  if (input.failAt === 'DownloadData') throw new Error('the data source is unreachable');
  return { rows: [3, 1, 4, 1, 5, 9, 2, 6], failAt: input.failAt };
});
export const processData = errorHandling.activity('Process', async (dataset: { rows: number[]; failAt?: string }) => {
  if (dataset.failAt === 'Process') throw new RangeError('a row is out of range');
  return { sorted: [...dataset.rows].sort((a, b) => a - b), failAt: dataset.failAt };
});
export const summarize = errorHandling.activity('Summarize', async (outputs: { sorted: number[]; failAt?: string }) => {
  if (outputs.failAt === 'Summarize') throw new Error('the summary service is down');
  const total = outputs.sorted.reduce((a, b) => a + b, 0);
  return { count: outputs.sorted.length, min: outputs.sorted[0], max: outputs.sorted.at(-1), total };
});
export const cleanUp = errorHandling.activity('CleanUp', async () => 'cleaned up');

export const orchestratePipeline = errorHandling.orchestration('orchestratePipeline', function* (ctx, input: PipelineInput) {
  try {
    const dataset = yield* ctx.callActivity(downloadData, input);
    const outputs = yield* ctx.callActivity(processData, dataset);
    const summary = yield* ctx.callActivity(summarize, outputs);
    return summary;
  } catch (error) {
    yield* ctx.callActivity(cleanUp);
    const failure = error instanceof TaskFailedError ? error.failureDetails : undefined;
    return { error: 'Something went wrong', errorType: failure?.errorType, message: failure?.message };
  }
});
