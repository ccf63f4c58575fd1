import { DFApp, RetryOptions } from '../../../src/index.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

export interface Expense {
  id: string;
  employee: string;
  manager: string;
  amount: number;
}

export const app = new DFApp();

export const sendEmail = app.activity('sendEmail', async (message: { to: string; subject: string }) => {
  const response = await fetch('https://mail.example.com/send', { method: 'POST', body: JSON.stringify(message) });
  if (!response.ok) throw new Error(`The mail service answered ${response.status}.`);
  return ((await response.json()) as { id: string }).id;
});

/** Asks the manager; retries the mail hourly; escalates to finance when nobody decides within a week. */
export const approveExpense = app.orchestration('approveExpense', function* (ctx, expense: Expense) {
  const hourly = new RetryOptions(HOUR, 5);
  yield* ctx.callActivityWithRetry(sendEmail, hourly, {
    to: expense.manager,
    subject: `Approve ${expense.amount} EUR for ${expense.employee}?`,
  });
  const deadline = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 7 * DAY));
  const decision = ctx.waitForExternalEvent<boolean>('decision');
  const winner = yield ctx.taskAny([decision, deadline]);
  if (winner === decision) {
    deadline.cancel();
    return decision.result ? 'approved' : 'rejected';
  }
  yield* ctx.callActivity(sendEmail, { to: 'finance@example.com', subject: `Expense ${expense.id} needs a decision` });
  return 'escalated';
});
