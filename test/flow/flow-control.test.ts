/**
 * Flow control end to end on both stores (issue 21), through `app.activity`/`app.orchestration` options and a real
 * worker: an activity's concurrency key holds its runs to the limit per key (measured by the activities), a key
 * function that fails fails the call, an orchestration's key is computed at its start, and bad options are
 * `ValidationError`s at the call with nothing stored.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DFApp, ValidationError } from '../../src/index.js';
import { eventually, finished, withApp } from '../support/engine-helpers.js';
import { testStores } from '../support/stores.js';

/** Counts runs per key: the most at once, and how many in all. */
class RunMeter {
  readonly running = new Map<string, number>();
  readonly most = new Map<string, number>();
  async run(key: string, ms: number): Promise<void> {
    const now = (this.running.get(key) ?? 0) + 1;
    this.running.set(key, now);
    this.most.set(key, Math.max(this.most.get(key) ?? 0, now));
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.running.set(key, this.running.get(key)! - 1);
  }
}

for (const store of testStores()) {
  describe(`flow control on ${store.name}`, () => {
    test('an activity runs at most `limit` at once per key; other keys run beside it', async () => {
      const meter = new RunMeter();
      await withApp(
        store,
        (app) => {
          app.activity('work', async (input: { tenant: string; i: number }) => {
            await meter.run(input.tenant, 80);
            return input.i;
          }, { concurrency: { limit: 2, key: (input: { tenant: string }) => input.tenant } });
          app.orchestration('fan', function* (ctx) {
            const calls = [];
            for (let i = 0; i < 6; i++) calls.push(ctx.callActivity('work', { tenant: 'a', i }));
            for (let i = 6; i < 9; i++) calls.push(ctx.callActivity('work', { tenant: 'b', i }));
            return yield ctx.taskAll(calls);
          });
        },
        async ({ client }) => {
          const id = await client.startNew('fan');
          const done = await finished(client, id, 20_000);
          assert.equal(done.runtimeStatus, 'Completed');
          assert.deepEqual(done.output, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
          assert.equal(meter.most.get('a'), 2, 'tenant a ran two at a time, never more');
          assert.equal(meter.most.get('b'), 2);
        },
        { worker: { maxConcurrentActivities: 10 } },
      );
    });

    test('a key function that throws fails the activity call; an orchestration key that throws refuses the start', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('picky', () => 'ran', { concurrency: { limit: 1, key: () => { throw new Error('no key here'); } } });
          app.orchestration('caller', function* (ctx) {
            try {
              yield ctx.callActivity('picky', 1);
              return 'ran';
            } catch (error) {
              return (error as Error).message;
            }
          });
          app.orchestration('keyed', function* () {
            return 1;
          }, { concurrency: { limit: 1, key: (input: { tenant: string }) => input.tenant } });
        },
        async ({ client }) => {
          const id = await client.startNew('caller');
          const done = await finished(client, id);
          assert.match(String(done.output), /no key here/);
          await assert.rejects(client.startNew('keyed', { instanceId: 'k1', input: { tenant: 7 } }), ValidationError);
          assert.equal(await client.getStatus('k1'), undefined, 'nothing stored');
          const ok = await client.startNew('keyed', { instanceId: 'k2', input: { tenant: 't' } });
          assert.equal((await finished(client, ok)).runtimeStatus, 'Completed');
        },
      );
    });

    test('orchestrations with a concurrency key all finish, one at a time per key', async () => {
      const meter = new RunMeter();
      await withApp(
        store,
        (app) => {
          app.activity('step', async (tenant: string) => meter.run(`act-${tenant}`, 20));
          app.orchestration('job', function* (ctx) {
            yield ctx.callActivity('step', ctx.getInput<{ tenant: string }>().tenant);
            return 'ok';
          }, { concurrency: { limit: 1, key: (input: { tenant: string }) => input.tenant } });
          app.orchestration('parent', function* (ctx) {
            return yield ctx.taskAll(['c', 'c', 'd'].map((tenant) => ctx.callSubOrchestrator('job', { tenant })));
          });
        },
        async ({ client }) => {
          const ids = await Promise.all(['a', 'a', 'a', 'b'].map((tenant) => client.startNew('job', { input: { tenant } })));
          for (const id of ids) assert.equal((await finished(client, id, 20_000)).output, 'ok');
          // Sub-orchestrations get their keys at their start, in the parent's commit.
          const parent = await client.startNew('parent');
          assert.deepEqual((await finished(client, parent, 20_000)).output, ['ok', 'ok', 'ok']);
        },
      );
    });

    test("a schedule's runs get their keys at their start, from the worker's registration", async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('tenantJob', () => 'ran', { concurrency: { limit: 1, key: (input: { tenant: string }) => input.tenant } });
        },
        async ({ client }) => {
          await client.createSchedule({ scheduleId: 'keyed', orchestration: 'tenantJob', input: { tenant: 'acme' }, every: 1000 });
          const run = await eventually('a run', async () => (await client.getStatusBy({ instanceIdPrefix: 'keyed:' }))[0]);
          await client.pauseSchedule('keyed');
          assert.deepEqual((await client.getStatus(run.instanceId))?.flowControl, { concurrency: { key: 'acme', limit: 1 } });
          assert.equal((await finished(client, run.instanceId)).output, 'ran');
          const triggered = await client.triggerSchedule('keyed');
          assert.deepEqual((await client.getStatus(triggered))?.flowControl, { concurrency: { key: 'acme', limit: 1 } });
        },
      );
    });

    test("an orchestration's rate limit holds later starts Pending until the period ends", async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('report', function* () {
            return 'sent';
          }, { rateLimit: { limit: 2, periodMs: 1500 } });
        },
        async ({ client }) => {
          const ids: string[] = [];
          for (let i = 0; i < 4; i++) ids.push(await client.startNew('report', { instanceId: `r${i}` }));
          const started = Date.now();
          await finished(client, 'r0');
          await finished(client, 'r1');
          await new Promise((resolve) => setTimeout(resolve, 300));
          if (Date.now() - started < 1200) {
            assert.equal((await client.getStatus('r2'))?.runtimeStatus, 'Pending', 'the third start waits for the period');
          }
          await finished(client, 'r3', 10_000);
          assert.ok(Date.now() - started >= 1300, 'the later two started only after the period');
        },
      );
    });
  });
}

for (const store of testStores()) {
  describe(`priorities on ${store.name}`, () => {
    test('activity priorities reorder a backlog: higher first, FIFO within a priority', async () => {
      const ran: number[] = [];
      const priorities = [0, 3, 1, 9, 0, 5, 9, 2];
      await withApp(
        store,
        (app) => {
          app.activity('job', async (i: number) => {
            ran.push(i);
            await new Promise((resolve) => setTimeout(resolve, 20));
            return i;
          });
          app.orchestration('backlog', function* (ctx) {
            return yield ctx.taskAll(priorities.map((priority, i) => ctx.callActivity('job', i, { priority })));
          });
          app.orchestration('badPriority', function* (ctx) {
            try {
              yield ctx.callActivity('job', 0, { priority: 1.5 });
              return 'scheduled';
            } catch (error) {
              return (error as Error).name;
            }
          });
        },
        async ({ client }) => {
          const id = await client.startNew('backlog');
          assert.equal((await finished(client, id, 20_000)).runtimeStatus, 'Completed');
          assert.deepEqual(ran, [3, 6, 5, 1, 7, 2, 0, 4]);
          assert.equal((await finished(client, await client.startNew('badPriority'))).output, 'ValidationError');
          for (const priority of [1.5, '1', Number.NaN, 2 ** 40]) {
            await assert.rejects(client.startNew('backlog', { instanceId: 'bad', priority: priority as number }), ValidationError);
          }
          assert.equal(await client.getStatus('bad'), undefined, 'nothing stored');
        },
        { worker: { maxConcurrentActivities: 1 } },
      );
    });
  });
}

for (const store of testStores()) {
  describe(`debounce on ${store.name}`, () => {
    test('starts with one debounce key within delayMs become one instance with the last input', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('notify', function* (ctx) {
            return ctx.getInput();
          });
        },
        async ({ client }) => {
          const debounce = { key: 'user-1', delayMs: 500 };
          const ids = [];
          for (const n of [1, 2, 3]) ids.push(await client.startNew('notify', { input: n, debounce }));
          assert.equal(new Set(ids).size, 1, 'one instance');
          assert.equal((await client.getStatus(ids[0]!))?.runtimeStatus, 'Pending');
          assert.equal((await finished(client, ids[0]!)).output, 3);
          const later = await client.startNew('notify', { input: 4, debounce });
          assert.notEqual(later, ids[0]);
          assert.equal((await finished(client, later)).output, 4);
          for (const bad of [{ key: '', delayMs: 10 }, { key: 'k', delayMs: 0 }, { key: 'k' }, 'k']) {
            await assert.rejects(client.startNew('notify', { debounce: bad as never }), ValidationError, JSON.stringify(bad));
          }
          await assert.rejects(client.startNew('notify', { instanceId: 'x', debounce }), ValidationError);
          assert.equal(await client.getStatus('x'), undefined);
        },
      );
    });
  });
}

describe('flow control options', () => {
  test('bad limits, periods and keys are ValidationErrors at registration', () => {
    const app = new DFApp({ store: 'sqlite::memory:' });
    const bad: unknown[] = [
      { concurrency: { limit: 0 } },
      { concurrency: { limit: 1.5 } },
      { concurrency: { limit: '2' } },
      { concurrency: { limit: 2, key: 'tenant' } },
      { concurrency: 2 },
      { rateLimit: { limit: 5, periodMs: 0 } },
      { rateLimit: { limit: 0, periodMs: 1000 } },
      { rateLimit: { limit: 5 } },
      { rateLimit: { limit: 5, periodMs: 1000, key: 42 } },
    ];
    for (const [i, options] of bad.entries()) {
      assert.throws(() => app.activity(`a${i}`, () => 1, options as never), ValidationError, JSON.stringify(options));
      assert.throws(() => app.orchestration(`o${i}`, function* () {}, options as never), ValidationError, JSON.stringify(options));
    }
    // Nothing was registered by a refused call.
    assert.deepEqual(app.registry.activities.size, 0);
    assert.equal(app.registry.orchestrations.size, 0);
  });
});
