/**
 * Worker log records, read in both formats, on both stores: lease takeovers (an instance and an activity
 * whose lease another worker held and let expire) name both workers; a drain that runs out of time says how
 * many activities it released.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DFApp } from '../../src/index.js';
import { createClient } from '../../src/client/create-client.js';
import { startWorker } from '../../src/runtime/worker.js';
import { acquireStore } from '../../src/store/open-store.js';
import { captureLogs, findRecord, LOG_FORMATS, waitForRecord } from '../support/log-capture.js';
import { testStores } from '../support/stores.js';

const HUB = 'logs';

function slowOrchestration(app: DFApp): void {
  app.orchestration('slow', function* (ctx) {
    return yield ctx.callActivity('work', ctx.getInput());
  });
}

for (const store of testStores()) {
  for (const format of LOG_FORMATS) {
    describe(`worker logs on ${store.name} (${format})`, () => {
      test('a worker that takes over an expired lease logs it at warn with both worker ids', async () => {
        const created = await store.create();
        const handle = await acquireStore(created.url);
        const client = await createClient({ store: created.url, taskHub: HUB });
        const logs = captureLogs(format);
        try {
          const hub = handle.store.hub(HUB);
          // Some worker of the hub serves 'work' (else the episode would fail the call as unknown).
          await hub.registerWorker('future-worker', { orchestrations: ['slow'], activities: ['work'], entities: [] });
          const id = await client.startNew('slow', { input: 7 });
          // A worker that claimed the instance and died: its 1 ms lease runs out at once.
          assert.equal((await hub.claimOrchestrations({ workerId: 'dead-orchestrator', limit: 10, leaseMs: 1 })).length, 1);
          // This worker serves the orchestration only, so the activity it schedules waits for another worker.
          const orchestrator = new DFApp();
          slowOrchestration(orchestrator);
          const first = await startWorker(handle.store, HUB, orchestrator.registry, { logger: logs.logger, workerId: 'worker-c', pollIntervalMs: 50 });
          const instance = await waitForRecord(() => findRecord(logs.records(), /^lease taken over: instance$/), 'instance takeover', 20_000, logs.text);
          assert.equal(instance.level, 'warn');
          assert.deepEqual(
            [instance.fields['instanceId'], instance.fields['name'], instance.fields['workerId'], instance.fields['previousWorkerId'], instance.fields['taskHub']],
            [id, 'slow', 'worker-c', 'dead-orchestrator', HUB],
          );
          for (let i = 0; i < 800 && !(await client.getStatus(id, { showHistory: true }))?.history?.some((e) => e.eventType === 'TaskScheduled'); i++) {
            await new Promise((r) => setTimeout(r, 25));
          }
          await first.stop();
          assert.equal((await hub.claimActivities({ workerId: 'dead-activity-worker', limit: 10, leaseMs: 1 })).length, 1);

          const full = new DFApp();
          slowOrchestration(full);
          full.activity('work', async (n: number) => n * 2);
          const second = await startWorker(handle.store, HUB, full.registry, { logger: logs.logger, workerId: 'worker-b', pollIntervalMs: 50 });
          try {
            assert.equal((await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 })).output, 14);
            const activity = findRecord(logs.records(), /^lease taken over: activity$/);
            assert.ok(activity, logs.text());
            assert.deepEqual(
              [activity.level, activity.fields['instanceId'], activity.fields['name'], String(activity.fields['attempt']), activity.fields['workerId'], activity.fields['previousWorkerId']],
              ['warn', id, 'work', '2', 'worker-b', 'dead-activity-worker'],
            );
            // A worker's own starts and handovers are no takeovers.
            assert.equal(logs.records().filter((r) => r.msg.startsWith('lease taken over')).length, 2, logs.text());
          } finally {
            await second.stop();
          }
        } finally {
          await client.close();
          await handle.release();
          await created.cleanup();
        }
      });

      test('a heartbeat that takes over the leases of a dead worker logs it at warn with both worker ids', async () => {
        const created = await store.create();
        const handle = await acquireStore(created.url);
        const client = await createClient({ store: created.url, taskHub: HUB });
        const logs = captureLogs(format);
        try {
          const hub = handle.store.hub(HUB);
          const names = { orchestrations: ['slow'], activities: ['work'], entities: [] };
          await hub.registerWorker('dead-beat', names);
          const id = await client.startNew('slow', { input: 2 });
          // The dead worker holds the instance for a minute, and its heartbeat runs out right away.
          await hub.heartbeat('dead-beat', { timeoutMs: 1, starting: false });
          assert.equal((await hub.claimOrchestrations({ workerId: 'dead-beat', limit: 10, leaseMs: 60_000 })).length, 1);
          const app = new DFApp();
          slowOrchestration(app);
          app.activity('work', async (n: number) => n + 1);
          const worker = await startWorker(handle.store, HUB, app.registry, { logger: logs.logger, workerId: 'beater', pollIntervalMs: 50, heartbeatIntervalMs: 20, heartbeatTimeoutMs: 1000 });
          try {
            assert.equal((await client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 })).output, 3);
            const record = findRecord(logs.records(), /^lease taken over: worker beater took over 1 instance and 0 activity leases from worker dead-beat/);
            assert.ok(record, logs.text());
            assert.deepEqual(
              [record.level, record.fields['workerId'], record.fields['previousWorkerId'], String(record.fields['instances']), record.fields['taskHub']],
              ['warn', 'beater', 'dead-beat', '1', HUB],
            );
          } finally {
            await worker.stop();
          }
        } finally {
          await client.close();
          await handle.release();
          await created.cleanup();
        }
      });

      test('a drain that runs out of time logs how many activities it released', async () => {
        const created = await store.create();
        const handle = await acquireStore(created.url);
        const logs = captureLogs(format);
        try {
          const app = new DFApp();
          slowOrchestration(app);
          let started!: () => void;
          const running = new Promise<void>((resolve) => (started = resolve));
          app.activity('work', () => {
            started();
            return new Promise(() => {}); // never finishes
          });
          const worker = await startWorker(handle.store, HUB, app.registry, { logger: logs.logger, workerId: 'drainer', drainTimeoutMs: 50, pollIntervalMs: 50 });
          const client = await createClient({ store: created.url, taskHub: HUB });
          await client.startNew('slow', { input: 1 });
          await running;
          await worker.stop();
          await client.close();
          const records = logs.records();
          const draining = findRecord(records, /^worker draining$/, { workerId: 'drainer' });
          const drained = findRecord(records, /^worker drained$/, { workerId: 'drainer' });
          assert.ok(draining && drained, logs.text());
          assert.deepEqual([draining.level, String(draining.fields['activitiesInFlight']), draining.fields['taskHub']], ['info', '1', HUB]);
          assert.deepEqual([String(drained.fields['activitiesFinished']), String(drained.fields['activitiesReleased'])], ['0', '1']);
          assert.ok(records.indexOf(draining) < records.indexOf(drained));
        } finally {
          await handle.release();
          await created.cleanup();
        }
      });
    });
  }
}
