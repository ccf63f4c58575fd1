/**
 * The classic patterns written as `async` functions: the same activities, outputs and histories as the
 * generator versions in function-chaining.ts, fan-out-fan-in.ts and human-interaction.ts.
 */
import { Blueprint } from '../src/index.js';
import { countBytes, listFiles } from './fan-out-fan-in.js';
import { sayHello } from './function-chaining.js';
import { escalate, requestApproval, type ApprovalRequest } from './human-interaction.js';

export const asyncStyle = new Blueprint();

/** Function chaining: `await` gives each typed value. */
export const helloCitiesAsync = asyncStyle.orchestration('helloCitiesAsync', async (ctx) => {
  const tokyo = await ctx.callActivity(sayHello, 'Tokyo');
  const seattle = await ctx.callActivity(sayHello, 'Seattle');
  const london = await ctx.callActivity(sayHello, 'London');
  return [tokyo, seattle, london];
});

/** Fan-out/fan-in: `Promise.all` over tasks is `taskAll`. */
export const totalBytesAsync = asyncStyle.orchestration('totalBytesAsync', async (ctx, fileCount: number) => {
  const files = await ctx.callActivity(listFiles, fileCount);
  const sizes = await Promise.all(files.map((file) => ctx.callActivity(countBytes, file)));
  return { files: files.length, bytes: sizes.reduce((sum, size) => sum + size, 0) };
});

/** Human interaction: `await ctx.taskAny` gives the winning task, to compare with `===`. */
export const approvalWorkflowAsync = asyncStyle.orchestration('approvalWorkflowAsync', async (ctx, input: ApprovalRequest) => {
  await ctx.callActivity(requestApproval, input.requestId);
  const deadline = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + input.timeoutMs));
  const approval = ctx.waitForExternalEvent<{ approved: boolean; by: string }>('approval');
  const winner = await ctx.taskAny([approval, deadline]);
  if (winner === approval) {
    deadline.cancel();
    return { requestId: input.requestId, ...approval.result! };
  }
  const escalation = await ctx.callActivity(escalate, input.requestId);
  return { requestId: input.requestId, approved: false, escalation };
});
