/**
 * Schedules end to end on both stores, through the client and a real worker: runs at their due times with ids
 * `<scheduleId>:<due ISO>`, bad schedules refused with nothing stored, pause/resume/trigger/update/delete, the
 * overlap policies against a run that is still running, catch-up after an outage, and `app.schedule`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient, DFApp, ScheduleAlreadyExistsError, ScheduleNotFoundError, ValidationError, type DurableClient } from '../../src/index.js';
import { eventually, finished, withApp } from '../support/engine-helpers.js';
import { testStores } from '../support/stores.js';

function setup(app: DFApp): void {
  app.orchestration('echo', function* (ctx) {
    return ctx.getInput();
  });
  app.orchestration('waiter', function* (ctx) {
    yield ctx.waitForExternalEvent('go');
    return 'done';
  });
}

/** The instances of a schedule's runs, by id. */
async function runsOf(client: DurableClient, scheduleId: string) {
  return (await client.getStatusBy({ instanceIdPrefix: `${scheduleId}:` })).sort((a, b) => a.instanceId.localeCompare(b.instanceId));
}

for (const store of testStores()) {
  describe(`schedules on ${store.name}`, () => {
    test('an every schedule starts one run per due time, named after it, with the input', async () => {
      await withApp(store, setup, async ({ client }) => {
        const created = await client.createSchedule({ scheduleId: 'tick', orchestration: 'echo', input: { n: 1 }, every: 1000 });
        assert.equal(created.state, 'Active');
        assert.ok(created.nextRunAt && created.nextRunAt.getTime() - created.createdAt.getTime() === 1000);
        const runs = await eventually('two runs', async () => {
          const r = await runsOf(client, 'tick');
          return r.length >= 2 ? r : undefined;
        });
        const [first, second] = runs;
        assert.equal(first!.instanceId, `tick:${created.nextRunAt.toISOString()}`);
        assert.equal(Date.parse(second!.instanceId.slice(5)) - Date.parse(first!.instanceId.slice(5)), 1000);
        assert.deepEqual((await finished(client, first!.instanceId)).output, { n: 1 });
        const schedule = (await client.getSchedule('tick'))!;
        assert.ok(schedule.recentRuns.some((r) => r.outcome === 'started' && r.instanceId === first!.instanceId));
        assert.ok(schedule.lastInstanceId?.startsWith('tick:'));
      });
    });

    test('bad schedules are refused with typed errors at the call, and nothing is stored', async () => {
      await withApp(store, setup, async ({ client }) => {
        const bad: Record<string, unknown>[] = [
          { orchestration: 'nope', every: 1000 },
          { orchestration: 'echo', cron: '61 * * * *' },
          { orchestration: 'echo', cron: '0 2 * * *', timeZone: 'Europe/Nowhere' },
          { orchestration: 'echo', every: 500 },
          { orchestration: 'echo', every: 1000, overlap: 'sometimes' },
          { orchestration: 'echo' },
        ];
        for (const options of bad) {
          await assert.rejects(client.createSchedule({ scheduleId: 'bad', ...options } as never), ValidationError, JSON.stringify(options));
        }
        await assert.rejects(client.createSchedule({ scheduleId: 'a/b', orchestration: 'echo', every: 1000 }), ValidationError);
        await assert.rejects(client.createSchedule({ scheduleId: 'big', orchestration: 'echo', every: 1000, input: 10n }), /input of schedule 'big'/);
        assert.deepEqual(await client.listSchedules(), []);
        await client.createSchedule({ scheduleId: 'once', orchestration: 'echo', cron: '0 0 1 1 *' });
        await assert.rejects(client.createSchedule({ scheduleId: 'once', orchestration: 'echo', every: 1000 }), ScheduleAlreadyExistsError);
        await assert.rejects(client.updateSchedule('once', { every: 10 }), ValidationError);
        await assert.rejects(client.updateSchedule('once', { orchestration: 'nope' }), ValidationError);
        assert.equal((await client.getSchedule('once'))?.cron, '0 0 1 1 *', 'a refused update changes nothing');
        for (const call of [
          () => client.pauseSchedule('missing'),
          () => client.resumeSchedule('missing'),
          () => client.triggerSchedule('missing'),
          () => client.updateSchedule('missing', { every: 1000 }),
          () => client.deleteSchedule('missing'),
        ]) {
          await assert.rejects(call(), ScheduleNotFoundError);
        }
        assert.equal(await client.getSchedule('missing'), undefined);
      });
    });

    test('pause, trigger, resume, update and delete', async () => {
      await withApp(store, setup, async ({ client }) => {
        await client.createSchedule({ scheduleId: 'yearly', orchestration: 'echo', input: 'x', cron: '0 0 1 1 *', timeZone: 'Europe/Berlin' });
        const paused = await client.pauseSchedule('yearly', 'maintenance');
        assert.deepEqual([paused.state, paused.pausedReason, paused.nextRunAt], ['Paused', 'maintenance', undefined]);
        const runId = await client.triggerSchedule('yearly');
        assert.match(runId, /^yearly:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.equal((await finished(client, runId)).output, 'x');
        assert.equal((await client.getSchedule('yearly'))?.recentRuns[0]?.outcome, 'triggered');
        const resumed = await client.resumeSchedule('yearly');
        assert.equal(resumed.state, 'Active');
        assert.equal(resumed.pausedReason, undefined);
        assert.equal(resumed.nextRunAt?.getUTCMonth(), 11, 'midnight in Berlin on 1 January is 23:00 UTC on 31 December');
        const updated = await client.updateSchedule('yearly', { every: 1000, input: 'y' });
        assert.deepEqual([updated.cron, updated.timeZone, updated.every, updated.input], [undefined, undefined, 1000, 'y']);
        const run = await eventually('a run of the updated schedule', async () => (await runsOf(client, 'yearly')).find((r) => r.instanceId !== runId));
        assert.equal((await finished(client, run.instanceId)).output, 'y');
        await client.deleteSchedule('yearly');
        assert.equal(await client.getSchedule('yearly'), undefined);
        assert.ok((await client.getStatus(runId)) !== undefined, 'its runs stay');
      });
    });

    test('overlap skip and bufferOne wait for the running instance; allow runs alongside', async () => {
      await withApp(store, setup, async ({ client }) => {
        for (const overlap of ['skip', 'bufferOne', 'allow'] as const) {
          await client.createSchedule({ scheduleId: overlap, orchestration: 'waiter', every: 1000, overlap });
        }
        await eventually('skipped and buffered due times', async () => {
          const [skip, buffer] = [await client.getSchedule('skip'), await client.getSchedule('bufferOne')];
          return skip?.recentRuns.some((r) => r.outcome === 'skipped') && buffer?.recentRuns.some((r) => r.outcome === 'skipped') && buffer.bufferedRunAt;
        });
        assert.equal((await runsOf(client, 'skip')).length, 1);
        assert.equal((await runsOf(client, 'bufferOne')).length, 1);
        assert.ok((await runsOf(client, 'allow')).length >= 2);
        const buffered = (await client.getSchedule('bufferOne'))!.bufferedRunAt!;
        const [first] = await runsOf(client, 'bufferOne');
        await client.raiseEvent(first!.instanceId, 'go');
        const next = `bufferOne:${buffered.toISOString()}`;
        await eventually('the buffered run', () => client.getStatus(next));
        for (const id of ['skip', 'bufferOne', 'allow']) await client.pauseSchedule(id);
      });
    });

    test('a worker whose clock is ten minutes off runs due times by the store clock', async () => {
      for (const skewMs of [600_000, -600_000]) {
        await withApp(store, setup, async ({ client }) => {
          await client.createSchedule({ scheduleId: 'skewed', orchestration: 'echo', every: 1000 });
          const [run] = await eventually(`a run with the worker clock ${skewMs > 0 ? 'ahead' : 'behind'}`, async () => {
            const r = await runsOf(client, 'skewed');
            return r.length ? r : undefined;
          });
          const dueAt = Date.parse(run!.instanceId.slice('skewed:'.length));
          assert.ok(Math.abs(dueAt - Date.now()) < 5000, `due ${run!.instanceId}, now ${new Date().toISOString()}`);
          await client.pauseSchedule('skewed');
        }, { worker: { clock: () => Date.now() + skewMs } });
      }
    });

    test('after an outage the latest missed due time runs once and the older ones are recorded as missed', async () => {
      const { url, cleanup } = await store.create();
      try {
        const app = new DFApp({ store: url });
        setup(app);
        // No worker yet: a client alone creates the schedule, and its due times pass.
        const offline = await createClient({ store: url });
        const created = await offline.createSchedule({ scheduleId: 'late', orchestration: 'echo', every: 1000, catchUpWindowMs: 1000 });
        await offline.close();
        await new Promise((resolve) => setTimeout(resolve, 3300));
        const worker = await app.startWorker({ pollIntervalMs: 50 });
        try {
          const schedule = await eventually('the catch-up run', async () => {
            const s = await worker.client.getSchedule('late');
            return s?.recentRuns.some((r) => r.outcome === 'started') ? s : undefined;
          });
          const missed = schedule.recentRuns.find((r) => r.outcome === 'missed')!;
          assert.equal(missed.dueAt.getTime(), created.nextRunAt!.getTime());
          assert.ok(missed.count! >= 2, `missed ${missed.count}`);
          const runs = await runsOf(worker.client, 'late');
          assert.equal(runs[0]!.instanceId, `late:${new Date(created.nextRunAt!.getTime() + missed.count! * 1000).toISOString()}`, 'the run is the latest due time');
          await worker.client.pauseSchedule('late');
        } finally {
          await worker.stop();
        }
      } finally {
        await cleanup();
      }
    });

    test('app.schedule declares a schedule: created at the first worker start, updated to the code at the next, paused stays paused', async () => {
      const { url, cleanup } = await store.create();
      try {
        const first = new DFApp({ store: url });
        setup(first);
        first.schedule('nightly', { orchestration: 'echo', cron: '0 2 * * *', timeZone: 'America/New_York', input: 1 });
        assert.throws(() => first.schedule('nightly', { orchestration: 'echo', every: 1000 }), ValidationError);
        assert.throws(() => first.schedule('bad', { orchestration: 'echo', every: 10 }), ValidationError);
        let worker = await first.startWorker({ pollIntervalMs: 50 });
        const made = (await worker.client.getSchedule('nightly'))!;
        assert.deepEqual([made.declared, made.cron, made.timeZone, made.input], [true, '0 2 * * *', 'America/New_York', 1]);
        await worker.client.pauseSchedule('nightly', 'by hand');
        await worker.stop();

        const second = new DFApp({ store: url });
        setup(second);
        second.schedule('nightly', { orchestration: 'echo', cron: '0 3 * * *', timeZone: 'America/New_York', input: 2 });
        worker = await second.startWorker({ pollIntervalMs: 50 });
        const changed = (await worker.client.getSchedule('nightly'))!;
        assert.deepEqual([changed.cron, changed.input, changed.state, changed.pausedReason], ['0 3 * * *', 2, 'Paused', 'by hand']);
        await worker.stop();

        const unknown = new DFApp({ store: url });
        setup(unknown);
        unknown.schedule('ghost', { orchestration: 'missing', every: 1000 });
        await assert.rejects(unknown.startWorker(), ValidationError);
        const client = await createClient({ store: url });
        assert.equal(await client.getSchedule('ghost'), undefined);
        await client.close();
      } finally {
        await cleanup();
      }
    });
  });
}
