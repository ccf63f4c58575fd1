/**
 * Traces of orchestrations run by the in-process worker, on both stores: one trace per instance, the start
 * span at its root, one orchestration span per execution, an activity span per attempt parented to it, and
 * the durable-task attributes. The parent links come from trace contexts stored in history.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { EntityId, RetryOptions } from '../../src/index.js';
import { finished, withApp } from '../support/engine-helpers.js';
import { testStores } from '../support/stores.js';
import { idOf, installTracing, oneSpan, parentOf, spansNamed, spansWhere } from '../support/tracing.js';

const exporter = installTracing();
beforeEach(() => exporter.reset());

for (const store of testStores()) {
  describe(`traces on ${store.name}`, () => {
    test('a chain of activities is one trace: start → orchestration → each activity', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('hello', async (city: string) => `Hello ${city}!`);
          app.orchestration('chain', function* (ctx) {
            const out: unknown[] = [];
            for (const city of ['Tokyo', 'Seattle', 'London']) out.push(yield ctx.callActivity('hello', city));
            return out;
          });
        },
        async ({ client }) => {
          const id = await client.startNew('chain', { instanceId: 'chain-1' });
          assert.equal((await finished(client, id)).runtimeStatus, 'Completed');
          const spans = await spansWhere(exporter, (s) => s.some((x) => x.name === 'orchestration:chain'));
          const start = oneSpan(spans, 'create_orchestration:chain');
          const orchestration = oneSpan(spans, 'orchestration:chain');
          const activities = spansNamed(spans, 'activity:hello');
          assert.equal(activities.length, 3);
          const traceId = start.spanContext().traceId;
          for (const span of [orchestration, ...activities]) assert.equal(span.spanContext().traceId, traceId, `${span.name} is in the start's trace`);
          assert.equal(start.kind, SpanKind.PRODUCER);
          assert.equal(parentOf(start), undefined, 'the start is the root (no active span)');
          assert.equal(orchestration.kind, SpanKind.SERVER);
          assert.equal(parentOf(orchestration), idOf(start));
          for (const activity of activities) assert.equal(parentOf(activity), idOf(orchestration));
          assert.deepEqual(activities.map((a) => a.attributes['durabletask.task.task_id']).sort(), [0, 1, 2]);
          assert.equal(orchestration.attributes['durabletask.type'], 'orchestration');
          assert.equal(orchestration.attributes['durabletask.task.name'], 'chain');
          assert.equal(orchestration.attributes['durabletask.task.instance_id'], 'chain-1');
          assert.equal(orchestration.attributes['durabletask.task.status'], 'Completed');
          assert.equal(orchestration.status.code, SpanStatusCode.OK);
          assert.equal(activities[0]!.attributes['durabletask.type'], 'activity');
          assert.equal(activities[0]!.attributes['durabletask.task.instance_id'], 'chain-1');
          // One span for the whole execution, with an event per episode (start + one per activity result).
          assert.equal(orchestration.events.filter((e) => e.name === 'episode').length, 4);
          for (const activity of activities) {
            assert.ok(activity.startTime[0] * 1e3 + activity.startTime[1] / 1e6 >= orchestration.startTime[0] * 1e3 + orchestration.startTime[1] / 1e6 - 1);
          }
        },
      );
    });
  });
}

describe('traces (SQLite)', () => {
  const store = testStores()[0]!;

  test("the caller's active span parents the start; fan-out activities are siblings under the orchestration", async () => {
    await withApp(
      store,
      (app) => {
        app.activity('double', async (n: number) => n * 2);
        app.orchestration('fan', function* (ctx) {
          const results = (yield ctx.taskAll([1, 2, 3, 4].map((n) => ctx.callActivity('double', n)))) as number[];
          return results.reduce((a, b) => a + b, 0);
        });
      },
      async ({ client }) => {
        const caller = trace.getTracer('test').startSpan('caller');
        const id = await context.with(trace.setSpan(context.active(), caller), () => client.startNew('fan'));
        caller.end();
        assert.equal((await finished(client, id)).output, 20);
        const spans = await spansWhere(exporter, (s) => s.some((x) => x.name === 'orchestration:fan'));
        const start = oneSpan(spans, 'create_orchestration:fan');
        assert.equal(parentOf(start), caller.spanContext().spanId);
        assert.equal(start.spanContext().traceId, caller.spanContext().traceId);
        const orchestration = oneSpan(spans, 'orchestration:fan');
        const activities = spansNamed(spans, 'activity:double');
        assert.equal(activities.length, 4);
        for (const a of activities) assert.equal(parentOf(a), idOf(orchestration));
      },
    );
  });

  test('retries: every attempt has its own span, failures carry status and the error', async () => {
    let calls = 0;
    await withApp(
      store,
      (app) => {
        app.activity('flaky', async () => {
          calls++;
          if (calls < 3) throw new RangeError(`attempt ${calls} failed`);
          return 'ok';
        });
        app.orchestration('retrying', function* (ctx) {
          return yield ctx.callActivityWithRetry('flaky', new RetryOptions(10, 5));
        });
      },
      async ({ client }) => {
        const id = await client.startNew('retrying');
        assert.equal((await finished(client, id)).output, 'ok');
        const spans = await spansWhere(exporter, (s) => s.some((x) => x.name === 'orchestration:retrying'));
        const orchestration = oneSpan(spans, 'orchestration:retrying');
        const attempts = spansNamed(spans, 'activity:flaky').sort((a, b) => Number(a.attributes['durabletask.task.task_id']) - Number(b.attributes['durabletask.task.task_id']));
        assert.equal(attempts.length, 3);
        for (const a of attempts) assert.equal(parentOf(a), idOf(orchestration));
        assert.deepEqual(attempts.map((a) => a.status.code), [SpanStatusCode.ERROR, SpanStatusCode.ERROR, SpanStatusCode.OK]);
        assert.match(attempts[0]!.status.message ?? '', /RangeError: attempt 1 failed/);
        const exception = attempts[0]!.events.find((e) => e.name === 'exception');
        assert.equal(exception?.attributes?.['exception.type'], 'RangeError');
        // The retry waits are durable timers: events on the orchestration span.
        assert.equal(orchestration.events.filter((e) => e.name === 'timer created').length, 2);
        assert.equal(orchestration.events.filter((e) => e.name === 'timer fired').length, 2);
      },
    );
  });

  test("a sub-orchestration's span is a child of its parent's; a failed orchestration's span is an error", async () => {
    await withApp(
      store,
      (app) => {
        app.activity('boom', async () => {
          throw new TypeError('no such city');
        });
        app.orchestration('child', function* (ctx) {
          return yield ctx.callActivity('boom');
        });
        app.orchestration('parent', function* (ctx) {
          return yield ctx.callSubOrchestrator('child', undefined, 'sub-1');
        });
      },
      async ({ client }) => {
        const id = await client.startNew('parent', { instanceId: 'parent-1' });
        assert.equal((await finished(client, id)).runtimeStatus, 'Failed');
        const spans = await spansWhere(exporter, (s) => s.some((x) => x.name === 'orchestration:parent'));
        const parent = oneSpan(spans, 'orchestration:parent');
        const child = oneSpan(spans, 'orchestration:child');
        const activity = oneSpan(spans, 'activity:boom');
        assert.equal(parentOf(child), idOf(parent));
        assert.equal(parentOf(activity), idOf(child));
        assert.equal(child.attributes['durabletask.task.instance_id'], 'sub-1');
        for (const span of [parent, child, activity]) {
          assert.equal(span.status.code, SpanStatusCode.ERROR, `${span.name} failed`);
          assert.equal(span.spanContext().traceId, parent.spanContext().traceId);
        }
        assert.equal(parent.attributes['durabletask.task.status'], 'Failed');
        assert.match(activity.status.message ?? '', /TypeError: no such city/);
      },
    );
  });

  test('entity calls and signals are span events on the orchestration and operation spans under it', async () => {
    await withApp(
      store,
      (app) => {
        app.entity('Account', (ctx) => {
          const balance = ctx.getState(() => 100) as number;
          if (ctx.operationName === 'withdraw') ctx.setState(balance - (ctx.getInput() as number));
          ctx.setResult(ctx.getState(() => 0));
        });
        app.orchestration('pay', function* (ctx) {
          const account = new EntityId('Account', 'alice');
          ctx.signalEntity(account, 'withdraw', 5);
          return yield ctx.callEntity(account, 'withdraw', 10);
        });
      },
      async ({ client }) => {
        const id = await client.startNew('pay');
        assert.equal((await finished(client, id)).output, 85);
        const spans = await spansWhere(exporter, (s) => s.some((x) => x.name === 'orchestration:pay') && spansNamed(s, 'entity:account:withdraw').length === 2);
        const orchestration = oneSpan(spans, 'orchestration:pay');
        const call = orchestration.events.find((e) => e.name === 'call entity');
        assert.equal(call?.attributes?.['durabletask.entity.instance_id'], '@account@alice');
        assert.equal(call?.attributes?.['durabletask.entity.operation'], 'withdraw');
        assert.ok(orchestration.events.some((e) => e.name === 'signal entity'));
        for (const op of spansNamed(spans, 'entity:account:withdraw')) assert.equal(parentOf(op), idOf(orchestration));
      },
    );
  });
});
