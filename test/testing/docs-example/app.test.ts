import assert from 'node:assert/strict';
import { test } from 'node:test';
import { captureHistory, createTestHost, replayHistory } from '../../../src/testing/index.js';
import { app, approveExpense, sendEmail, type Expense } from './app.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const expense: Expense = { id: 'E-7', employee: 'Ana', manager: 'bo@example.com', amount: 120 };

test('a decision within the week approves the expense', async () => {
  const env = await createTestHost(app);
  try {
    env.mockActivity(sendEmail, () => 'mail-1');
    const id = await env.client.startNew(approveExpense, { input: expense });
    await env.client.raiseEvent(id, 'decision', true);
    const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 5000 });
    assert.equal(status.output, 'approved');
    assert.deepEqual(
      env.calls(sendEmail).map((call) => call.input),
      [{ to: 'bo@example.com', subject: 'Approve 120 EUR for Ana?' }],
    );
  } finally {
    await env.stop();
  }
});

test('without a decision the expense goes to finance after a week (in milliseconds)', async () => {
  const env = await createTestHost(app);
  try {
    let attempts = 0;
    env.mockActivity(sendEmail, () => {
      attempts++;
      if (attempts === 1) throw new Error('mail service down');
      return `mail-${attempts}`;
    });
    const startedAt = env.now().getTime();
    const id = await env.client.startNew(approveExpense, { input: expense });
    const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 5000 });
    assert.equal(status.output, 'escalated');
    // One hourly retry of the mail, then the full week, skipped; the clock also ran with the real
    // milliseconds the work took, as it would in production.
    const elapsed = env.now().getTime() - startedAt;
    assert.ok(elapsed >= HOUR + 7 * DAY && elapsed < HOUR + 7 * DAY + 60_000);
    assert.deepEqual(
      env.calls(sendEmail).map((call) => call.input.to),
      ['bo@example.com', 'bo@example.com', 'finance@example.com'],
    );
    // Keep the history as a fixture: the orchestrator code must keep replaying it.
    const history = await captureHistory(env.client, id);
    assert.deepEqual(replayHistory(app, history), { ok: true, status: 'Completed', output: 'escalated' });
  } finally {
    await env.stop();
  }
});
