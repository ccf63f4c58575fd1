/**
 * Human interaction: ask for an approval and wait for the "approval" event, escalating when no answer
 * arrives before the deadline (an event raced against a durable timer).
 */
import { Blueprint } from '../src/index.js';

export const humanInteraction = new Blueprint();

/** Input of the approval workflow. */
export interface ApprovalRequest {
  requestId: string;
  timeoutMs: number;
}

export const requestApproval = humanInteraction.activity('requestApproval', async (requestId: string) => `approval requested for ${requestId}`);
export const escalate = humanInteraction.activity('escalate', async (requestId: string) => `escalated ${requestId}`);

export const approvalWorkflow = humanInteraction.orchestration('approvalWorkflow', function* (ctx, input: ApprovalRequest) {
  yield* ctx.callActivity(requestApproval, input.requestId);
  const deadline = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + input.timeoutMs));
  const approval = ctx.waitForExternalEvent<{ approved: boolean; by: string }>('approval');
  const winner = yield ctx.taskAny([approval, deadline]);
  if (winner === approval) {
    deadline.cancel();
    return { requestId: input.requestId, ...approval.result! };
  }
  const escalation = yield* ctx.callActivity(escalate, input.requestId);
  return { requestId: input.requestId, approved: false, escalation };
});
