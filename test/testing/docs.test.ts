import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DFApp } from '../../src/index.js';
import { createTestHost } from '../../src/testing/index.js';
import { app, approveExpense, sendEmail, type Expense } from './docs-example/app.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const DAY = 24 * 60 * 60 * 1000;
const WAIT = { timeoutInMilliseconds: 10_000 };
const expense: Expense = { id: 'E-9', employee: 'Cy', manager: 'di@example.com', amount: 80 };

/** The docs show the example files as a user writes them: importing the package, not the source tree. */
function asPublished(source: string): string {
  return source
    .replaceAll(`'../../../src/testing/index.js'`, `'duraflow/testing'`)
    .replaceAll(`'../../../src/index.js'`, `'duraflow'`);
}

describe('docs/testing.md', () => {
  test('shows the example files exactly as they are tested', () => {
    const doc = readFileSync(`${root}docs/testing.md`, 'utf8');
    const examples = [...doc.matchAll(/<!-- example: (\S+) -->\n```ts\n([\s\S]*?)\n```/g)];
    assert.deepEqual(
      examples.map((m) => m[1]),
      ['test/testing/docs-example/app.ts', 'test/testing/docs-example/app.test.ts'],
    );
    for (const [, path, shown] of examples) {
      assert.equal(shown, asPublished(readFileSync(`${root}${path}`, 'utf8')).trimEnd(), `docs/testing.md is out of date for ${path}`);
    }
  });

  test('the event-before-wait snippet: a rejection raised at once beats the week-long deadline', async () => {
    const env = await createTestHost(app);
    try {
      env.mockActivity(sendEmail, () => 'mail');
      const id = await env.client.startNew('approveExpense', { input: expense });
      await env.client.raiseEvent(id, 'decision', false);
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.equal(status.output, 'rejected');
    } finally {
      await env.stop();
    }
  });

  test('the advanceTime snippet: still waiting after six days, escalated after seven', async () => {
    const env = await createTestHost(app, { autoSkipTime: false });
    try {
      env.mockActivity(sendEmail, () => 'mail');
      const id = await env.client.startNew(approveExpense, { input: expense });
      await env.advanceTime(6 * DAY);
      assert.equal((await env.client.getStatus(id))?.runtimeStatus, 'Running');
      await env.advanceTime(1 * DAY);
      assert.equal((await env.client.getStatus(id))?.output, 'escalated');
    } finally {
      await env.stop();
    }
  });

  test('the mock snippets: a declined card fails the task, a plain mock orchestration answers at once', async () => {
    const shop = new DFApp();
    shop.orchestration('checkout', function* (ctx, order: { id: string }) {
      let paid = true;
      try {
        yield ctx.callActivity('chargeCard', order);
      } catch (error) {
        paid = (error as Error).name !== 'TaskFailedError';
      }
      const shipment = yield ctx.callSubOrchestrator('shipOrder', order);
      return { paid, shipment };
    });
    const env = await createTestHost(shop);
    try {
      env.mockActivity('chargeCard', () => {
        throw new Error('card declined');
      });
      env.mockOrchestration('shipOrder', (_ctx, order: { id: string }) => ({ tracking: `T-${order.id}` }));
      const id = await env.client.startNew('checkout', { input: { id: 'O-1' } });
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.deepEqual(status.output, { paid: false, shipment: { tracking: 'T-O-1' } });
    } finally {
      await env.stop();
    }
  });
});
