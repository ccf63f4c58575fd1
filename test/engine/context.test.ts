import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DFApp, Logger } from '../../src/index.js';
import { eventsOf, historyOf, run, statusWhere, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

interface Step {
  step: number;
  replaying: boolean;
  now: string;
  uuids: string[];
}

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (message: string) => void lines.push(message);
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

for (const store of engineStores()) {
  describe(`orchestration context on ${store.label}`, () => {
    useOrchestratorStyle(store);
    /** Registers `steps`: three episodes, recording the context at each step. */
    function stepsApp(steps: Step[]) {
      return (app: DFApp) => {
        app.activity('noop', (n: number) => n);
        app.orchestration('steps', function* (ctx) {
          for (let step = 0; ; step++) {
            steps.push({ step, replaying: ctx.isReplaying, now: ctx.currentUtcDateTime.toISOString(), uuids: [ctx.newUuid(), ctx.newUuid()] });
            ctx.log.info(`step ${step}`);
            if (step === 2) return 'done';
            yield ctx.callActivity('noop', step);
          }
        });
      };
    }

    test('with replays forced (cacheSize 0): isReplaying, currentUtcDateTime, newUuid and log are right per step', async () => {
      const steps: Step[] = [];
      const logger = recordingLogger();
      await withApp(
        store,
        stepsApp(steps),
        async ({ client }) => {
          const status = await run(client, 'steps');
          assert.equal(status.runtimeStatus, 'Completed');
          // Episode 1 runs step 0 live; episode 2 replays step 0 and runs step 1; episode 3 replays 0 and 1.
          assert.deepEqual(
            steps.map((s) => [s.step, s.replaying]),
            [[0, false], [0, true], [1, false], [0, true], [1, true], [2, false]],
          );
          // currentUtcDateTime of step k is the start time of episode k, on every replay.
          const episodeStarts = eventsOf(await historyOf(client, status.instanceId), 'OrchestratorStarted').map((e) => e.timestamp);
          assert.equal(episodeStarts.length, 3);
          for (const s of steps) assert.equal(s.now, episodeStarts[s.step], `step ${s.step} time`);
          // newUuid: the same values on replay, a different value on every call.
          for (const s of steps) {
            const first = steps.find((f) => f.step === s.step)!;
            assert.deepEqual(s.uuids, first.uuids);
            for (const uuid of s.uuids) assert.match(uuid, UUID_V5);
          }
          const distinct = new Set(steps.flatMap((s) => s.uuids));
          assert.equal(distinct.size, 6);
          // The replay-safe logger wrote each step once.
          assert.deepEqual(logger.lines.filter((l) => l.startsWith('step ')), ['step 0', 'step 1', 'step 2']);
        },
        { app: { logger }, worker: { cacheSize: 0 } },
      );
    });

    test('with the cache, steps run once and never replay', async () => {
      const steps: Step[] = [];
      await withApp(store, stepsApp(steps), async ({ client }) => {
        const status = await run(client, 'steps');
        assert.equal(status.runtimeStatus, 'Completed');
        assert.deepEqual(
          steps.map((s) => [s.step, s.replaying]),
          [[0, false], [1, false], [2, false]],
        );
        const episodeStarts = eventsOf(await historyOf(client, status.instanceId), 'OrchestratorStarted').map((e) => e.timestamp);
        assert.deepEqual(steps.map((s) => s.now), episodeStarts);
      });
    });

    test('newUuid differs between instances', async () => {
      await withApp(
        store,
        (app) => app.orchestration('uuid', (ctx) => ctx.newUuid()),
        async ({ client }) => {
          const a = await run(client, 'uuid');
          const b = await run(client, 'uuid');
          assert.match(String(a.output), UUID_V5);
          assert.notEqual(a.output, b.output);
        },
      );
    });

    test('getInput, the input argument, instanceId, parentInstanceId and version', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('whoAmI', function* (ctx, input: unknown) {
            return {
              instanceId: ctx.instanceId,
              parentInstanceId: ctx.parentInstanceId ?? null,
              input: ctx.getInput(),
              sameInput: input === ctx.getInput(),
              version: ctx.version ?? null,
              name: ctx.name,
            };
          });
          app.orchestration('parentOfWho', function* (ctx) {
            const child = yield ctx.callSubOrchestrator('whoAmI', { from: 'parent' }, `${ctx.instanceId}-kid`);
            return { self: ctx.instanceId, parentInstanceId: ctx.parentInstanceId ?? null, child };
          });
        },
        async ({ client }) => {
          const root = await run(client, 'whoAmI', { a: [1, 2] }, { instanceId: 'who-1', version: '2.1' });
          assert.deepEqual(root.output, {
            instanceId: 'who-1',
            parentInstanceId: null,
            input: { a: [1, 2] },
            sameInput: true,
            version: '2.1',
            name: 'whoAmI',
          });
          const unversioned = await run(client, 'whoAmI');
          assert.equal((unversioned.output as { version: unknown }).version, null);

          const parent = await run(client, 'parentOfWho', undefined, { instanceId: 'p-1' });
          assert.deepEqual(parent.output, {
            self: 'p-1',
            parentInstanceId: null,
            child: { instanceId: 'p-1-kid', parentInstanceId: 'p-1', input: { from: 'parent' }, sameInput: true, version: null, name: 'whoAmI' },
          });
        },
      );
    });

    test('setCustomStatus: the last value of an episode is visible while running and kept afterwards', async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('statusful', function* (ctx) {
            ctx.setCustomStatus('first');
            ctx.setCustomStatus({ stage: 'waiting', seen: ctx.customStatus });
            const value = yield ctx.waitForExternalEvent('go');
            return value;
          });
        },
        async ({ client }) => {
          const id = await client.startNew('statusful');
          const waiting = await statusWhere(client, id, (s) => s.customStatus !== undefined);
          assert.equal(waiting.runtimeStatus, 'Running');
          assert.deepEqual(waiting.customStatus, { stage: 'waiting', seen: 'first' });
          await client.raiseEvent(id, 'go', 7);
          const done = await client.waitForCompletion(id, { timeoutInMilliseconds: 10_000 });
          assert.equal(done.output, 7);
          assert.deepEqual(done.customStatus, { stage: 'waiting', seen: 'first' });
        },
        { worker: { cacheSize: 0 } },
      );
    });
  });
}
