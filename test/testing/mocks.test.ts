import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Blueprint, DFApp, RetryOptions, TaskFailedError } from '../../src/index.js';
import { createTestHost, HTTP_ACTIVITY_NAME } from '../../src/testing/index.js';

const WAIT = { timeoutInMilliseconds: 10_000 };

interface Order {
  id: string;
  email: string;
  total: number;
}

/** A small order flow whose real activities must never run in a unit test. */
function orderApp() {
  const app = new DFApp();
  const realSends: unknown[] = [];
  const sendEmail = app.activity('sendEmail', async (message: { to: string; subject: string }) => {
    realSends.push(message);
    return `sent for real to ${message.to}`;
  });
  app.activity('reserveStock', async (orderId: string) => {
    throw new Error(`no stock service in unit tests (order ${orderId})`);
  });
  const placeOrder = app.orchestration('placeOrder', function* (ctx, order: Order) {
    const reservation = yield ctx.callActivity('reserveStock', order.id);
    const payment = yield ctx.callSubOrchestrator('chargeCard', { orderId: order.id, amount: order.total });
    const receipt: string = yield* ctx.callActivity(sendEmail, { to: order.email, subject: `Order ${order.id} confirmed` });
    return { reservation, payment, receipt };
  });
  return { app, sendEmail, placeOrder, realSends };
}

describe('test host mocks', () => {
  test('mocked activities and a mocked sub-orchestration run instead of the real ones, and their calls are recorded', async () => {
    const { app, sendEmail, placeOrder, realSends } = orderApp();
    const env = await createTestHost(app);
    try {
      env.mockActivity('reserveStock', (orderId: string) => `reservation-${orderId}`);
      env.mockActivity(sendEmail, (message) => `mock sent to ${message.to}`);
      env.mockOrchestration('chargeCard', (_ctx, input: { amount: number }) => ({ charged: input.amount }));
      const order: Order = { id: 'A-17', email: 'ana@example.com', total: 42.5 };
      const id = await env.client.startNew(placeOrder, { input: order });
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.equal(status.runtimeStatus, 'Completed');
      assert.deepEqual(status.output, {
        reservation: 'reservation-A-17',
        payment: { charged: 42.5 },
        receipt: 'mock sent to ana@example.com',
      });
      assert.deepEqual(realSends, []);
      assert.deepEqual(env.calls(sendEmail).map((c) => c.input), [{ to: 'ana@example.com', subject: 'Order A-17 confirmed' }]);
      assert.equal(env.calls('sendEmail')[0]?.instanceId, id);
      const charges = env.calls('chargeCard');
      assert.equal(charges.length, 1);
      assert.deepEqual(charges[0]?.input, { orderId: 'A-17', amount: 42.5 });
      assert.equal(charges[0]?.kind, 'orchestration');
      assert.notEqual(charges[0]?.instanceId, id);
      // Every call, in order: the orchestration itself, then what it called.
      assert.deepEqual(
        env.calls().map((c) => `${c.kind}:${c.name}`),
        ['orchestration:placeOrder', 'activity:reserveStock', 'orchestration:chargeCard', 'activity:sendEmail'],
      );
      env.clearCalls();
      assert.deepEqual(env.calls(), []);
    } finally {
      await env.stop();
    }
  });

  test('mocking does not change the app: a second host runs the real functions', async () => {
    const { app, realSends } = orderApp();
    const realSendEmail = app.registry.activities.get('sendEmail');
    const mocked = await createTestHost(app);
    mocked.mockActivity('sendEmail', () => 'mocked');
    await mocked.stop();
    assert.equal(app.registry.activities.get('sendEmail'), realSendEmail);
    assert.equal(app.registry.orchestrations.has('chargeCard'), false);

    const env = await createTestHost(app);
    try {
      env.mockActivity('reserveStock', () => 'ok');
      env.mockOrchestration('chargeCard', () => 'charged');
      const id = await env.client.startNew('placeOrder', { input: { id: 'B-2', email: 'bo@example.com', total: 1 } });
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.equal((status.output as { receipt: string }).receipt, 'sent for real to bo@example.com');
      assert.equal(realSends.length, 1);
    } finally {
      await env.stop();
    }
  });

  test('a real activity that fails surfaces as a TaskFailedError in the orchestrator', async () => {
    const { app } = orderApp();
    const env = await createTestHost(app);
    try {
      const id = await env.client.startNew('placeOrder', { input: { id: 'C-3', email: 'c@example.com', total: 3 } });
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.equal(status.runtimeStatus, 'Failed');
      assert.match(status.failureDetails?.message ?? '', /no stock service in unit tests \(order C-3\)/);
      // The orchestrator never got past the failed reservation.
      assert.deepEqual(env.calls('chargeCard'), []);
    } finally {
      await env.stop();
    }
  });

  test('a mock that fails twice then succeeds drives the retry policy; each attempt is a recorded call', async () => {
    const app = new DFApp();
    app.activity('callPartner', () => 'real partner');
    app.orchestration('withRetry', function* (ctx) {
      const options = new RetryOptions(60_000, 5);
      try {
        return yield ctx.callActivityWithRetry('callPartner', options, { attempt: 'any' });
      } catch (error) {
        return error instanceof TaskFailedError ? `gave up: ${error.failureDetails.message}` : 'other';
      }
    });
    const env = await createTestHost(app);
    try {
      let attempts = 0;
      env.mockActivity('callPartner', () => {
        attempts++;
        if (attempts < 3) throw new Error(`partner down (${attempts})`);
        return `partner up after ${attempts} attempts`;
      });
      const id = await env.client.startNew('withRetry');
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.equal(status.output, 'partner up after 3 attempts');
      assert.equal(env.calls('callPartner').length, 3);
    } finally {
      await env.stop();
    }
  });

  test('a generator mock of a sub-orchestration may schedule work of its own', async () => {
    const app = new DFApp();
    app.orchestration('parent', function* (ctx) {
      return yield ctx.callSubOrchestrator('child', 5);
    });
    const env = await createTestHost(app);
    try {
      env.mockActivity('double', (n: number) => n * 2);
      env.mockOrchestration('child', function* (ctx, n: number) {
        const doubled: number = yield ctx.callActivity('double', n);
        return doubled + 1;
      });
      const id = await env.client.startNew('parent');
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.equal(status.output, 11);
      assert.deepEqual(env.calls('double').map((c) => c.input), [5]);
    } finally {
      await env.stop();
    }
  });

  test('orchestration calls are counted once, even when the worker replays the orchestrator', async () => {
    const app = new DFApp();
    app.activity('step', (n: number) => n);
    app.orchestration('steps', function* (ctx) {
      let sum = 0;
      for (let i = 1; i <= 3; i++) sum += (yield ctx.callActivity('step', i)) as number;
      return sum;
    });
    // No cache: every episode replays the orchestrator from the start.
    const env = await createTestHost(app, { worker: { cacheSize: 0 } });
    try {
      const id = await env.client.startNew('steps', { input: 'go' });
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.equal(status.output, 6);
      assert.deepEqual(env.calls('steps').map((c) => c.input), ['go']);
      assert.deepEqual(env.calls('step').map((c) => c.input), [1, 2, 3]);
    } finally {
      await env.stop();
    }
  });

  test('a Blueprint can be hosted, and a typed reference filters calls by kind', async () => {
    const bp = new Blueprint();
    const greet = bp.activity('greet', (name: string) => `hello ${name}`);
    bp.orchestration('greet', function* (ctx) {
      return yield* ctx.callActivity(greet, 'bp');
    });
    const env = await createTestHost(bp);
    try {
      const id = await env.client.startNew('greet');
      assert.equal((await env.client.waitForCompletion(id, WAIT)).output, 'hello bp');
      assert.deepEqual(env.calls('greet').map((c) => c.kind), ['orchestration', 'activity']);
      assert.deepEqual(env.calls(greet).map((c) => c.input), ['bp']);
    } finally {
      await env.stop();
    }
  });

  test('bad mocks are refused with a ValidationError', async () => {
    const { app, placeOrder } = orderApp();
    const env = await createTestHost(app);
    try {
      assert.throws(() => env.mockActivity('', () => 1), { name: 'ValidationError' });
      assert.throws(() => env.mockActivity('sendEmail', 'not a function' as never), { name: 'ValidationError', message: /must be a function/ });
      assert.throws(() => env.mockActivity(placeOrder as never, () => 1), { name: 'ValidationError', message: /Expected an activity/ });
      assert.throws(() => env.mockOrchestration('@counter@1', () => 1), { name: 'ValidationError' });
      assert.throws(() => env.mockEntity('Counter', null as never), { name: 'ValidationError' });
    } finally {
      await env.stop();
    }
  });
});

describe('test host mocks of entities and durable HTTP', () => {
  test('a mocked entity answers calls and keeps its state in the host; the app keeps its real entity', async () => {
    const app = new DFApp();
    const inventory = app.entity('Inventory', () => {
      throw new Error('the real inventory talks to a warehouse system');
    });
    app.orchestration('reserve', function* (ctx, qty: number) {
      const left: number = yield ctx.callEntity(inventory.id('lamp'), 'take', qty);
      return left;
    });
    const real = app.registry.entities.get('inventory');
    const env = await createTestHost(app);
    try {
      env.mockEntity(inventory, (ctx) => {
        const stock = ctx.getState(() => 10)! - ctx.getInput<number>();
        ctx.setState(stock);
        return stock;
      });
      const first = await env.client.startNew('reserve', { input: 3 });
      assert.equal((await env.client.waitForCompletion(first, WAIT)).output, 7);
      const second = await env.client.startNew('reserve', { input: 2 });
      assert.equal((await env.client.waitForCompletion(second, WAIT)).output, 5);
      assert.deepEqual(await env.client.readEntityState(inventory.id('lamp')), { entityExists: true, entityState: 5 });
    } finally {
      await env.stop();
    }
    assert.equal(app.registry.entities.get('inventory'), real);
  });

  test('mockHttp answers ctx.callHttp without the network, and the requests are recorded', async () => {
    const app = new DFApp();
    app.orchestration('fetchRate', function* (ctx) {
      const response = yield ctx.callHttp({ method: 'GET', uri: 'https://rates.invalid/eur' });
      return { status: response.statusCode, rate: JSON.parse(response.content).rate };
    });
    const env = await createTestHost(app);
    try {
      env.mockHttp((request) => ({ statusCode: 200, headers: {}, content: JSON.stringify({ rate: request.uri.endsWith('/eur') ? 1.1 : 0 }) }));
      const id = await env.client.startNew('fetchRate');
      const status = await env.client.waitForCompletion(id, WAIT);
      assert.deepEqual(status.output, { status: 200, rate: 1.1 });
      const requests = env.calls(HTTP_ACTIVITY_NAME).map((c) => c.input as { uri: string });
      assert.deepEqual(requests.map((r) => r.uri), ['https://rates.invalid/eur']);
    } finally {
      await env.stop();
    }
  });
});
