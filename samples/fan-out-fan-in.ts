/** Fan-out/fan-in: run many activities in parallel, then aggregate their results. */
import { Blueprint } from '../src/index.js';

export const fanOutFanIn = new Blueprint();

/** Lists the work items (here: file names) to process. */
export const listFiles = fanOutFanIn.activity('listFiles', async (count: number) =>
  Array.from({ length: count }, (_, i) => `file-${i + 1}.txt`),
);

/** Processes one item (here: "counts its bytes", deterministically from its name). */
export const countBytes = fanOutFanIn.activity('countBytes', async (file: string) => file.length * 100);

export const totalBytes = fanOutFanIn.orchestration('totalBytes', function* (ctx, fileCount: number) {
  const files = yield* ctx.callActivity(listFiles, fileCount);
  const sizes: number[] = yield ctx.taskAll(files.map((file) => ctx.callActivity(countBytes, file)));
  return { files: files.length, bytes: sizes.reduce((sum, size) => sum + size, 0) };
});
