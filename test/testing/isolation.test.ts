import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DFApp } from '../../src/index.js';
import { createTestHost } from '../../src/testing/index.js';
import { assertAtOrJustAfter } from '../support/virtual-time.js';

const DAY = 86_400_000;
const WAIT = { timeoutInMilliseconds: 10_000 };

function reminderApp(): DFApp {
  const app = new DFApp();
  app.activity('remind', (who: string) => `real reminder for ${who}`);
  app.orchestration('reminder', function* (ctx, input: { who: string; days: number }) {
    yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + input.days * DAY));
    return yield ctx.callActivity('remind', input.who);
  });
  return app;
}

describe('test hosts are independent', () => {
  test('two hosts of one app at once keep their own store, clock, mocks and call records', async () => {
    const app = reminderApp();
    const start = new Date('2025-06-01T00:00:00.000Z');
    const [a, b] = await Promise.all([createTestHost(app, { startTime: start }), createTestHost(app, { startTime: start })]);
    try {
      a.mockActivity('remind', (who: string) => `mock reminder for ${who}`);
      const [idA, idB] = await Promise.all([
        a.client.startNew('reminder', { instanceId: 'same-id', input: { who: 'ann', days: 30 } }),
        b.client.startNew('reminder', { instanceId: 'same-id', input: { who: 'ben', days: 2 } }),
      ]);
      assert.equal(idA, idB);
      const [statusA, statusB] = await Promise.all([a.client.waitForCompletion(idA, WAIT), b.client.waitForCompletion(idB, WAIT)]);
      assert.equal(statusA.output, 'mock reminder for ann');
      assert.equal(statusB.output, 'real reminder for ben');
      assertAtOrJustAfter(a.now(), start.getTime() + 30 * DAY, 'a');
      assertAtOrJustAfter(b.now(), start.getTime() + 2 * DAY, 'b');
      assert.deepEqual(a.calls('remind').map((c) => c.input), ['ann']);
      assert.deepEqual(b.calls('remind').map((c) => c.input), ['ben']);
      assert.equal((await a.client.getStatusAll()).length, 1);
      assert.equal((await b.client.getStatusAll()).length, 1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test('a stopped host does not affect a running one, and stop() is idempotent', async () => {
    const app = reminderApp();
    const a = await createTestHost(app);
    const b = await createTestHost(app);
    await a.stop();
    await a.stop();
    try {
      const id = await b.client.startNew('reminder', { input: { who: 'cy', days: 1 } });
      assert.equal((await b.client.waitForCompletion(id, WAIT)).output, 'real reminder for cy');
    } finally {
      await b.stop();
    }
  });

  test('by default a host starts at the real time of its creation and mirrors it in instance times', async () => {
    const before = Date.now();
    const env = await createTestHost(reminderApp());
    const after = Date.now();
    try {
      const startedAt = env.now().getTime();
      assert.ok(startedAt >= before && startedAt <= after);
      const id = await env.client.startNew('reminder', { input: { who: 'di', days: 7 } });
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.equal(status.createdTime.getTime(), startedAt);
      assertAtOrJustAfter(status.lastUpdatedTime, startedAt + 7 * DAY, 'lastUpdatedTime');
    } finally {
      await env.stop();
    }
  });
});
