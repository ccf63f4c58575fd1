import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSampleApp } from '../../samples/app.js';
import { runApp, type RunningApp } from '../support/harness.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

for (const store of engineStores()) {
  describe(`samples on ${store.label}`, () => {
    useOrchestratorStyle(store);
    let app: RunningApp;
    before(async () => {
      app = await runApp(store, (url) => createSampleApp(url));
    });
    after(() => app.stop());

    const complete = async (name: string, input?: unknown) => {
      const id = await app.client.startNew(name, { input });
      return { id, status: await app.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 }) };
    };

    test('function chaining passes each output on', async () => {
      const { status } = await complete('helloCities');
      assert.equal(status.runtimeStatus, 'Completed');
      assert.deepEqual(status.output, ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
    });

    test('fan-out/fan-in aggregates every parallel result', async () => {
      const { id, status } = await complete('totalBytes', 12);
      const expected = Array.from({ length: 12 }, (_, i) => `file-${i + 1}.txt`.length * 100).reduce((a, b) => a + b, 0);
      assert.deepEqual(status.output, { files: 12, bytes: expected });
      const history = (await app.client.getStatus(id, { showHistory: true }))?.history ?? [];
      assert.equal(history.filter((e) => e.eventType === 'TaskScheduled').length, 13);
    });

    test('monitor polls on a durable timer until the job is done', async () => {
      const { id, status } = await complete('monitorJob', { jobId: `job-${store.label}`, pollIntervalMs: 20, maxPolls: 10 });
      assert.deepEqual(status.output, { jobId: `job-${store.label}`, polls: 3, state: 'done' });
      assert.deepEqual(status.customStatus, { poll: 3, state: 'done' });
      const history = (await app.client.getStatus(id, { showHistory: true }))?.history ?? [];
      assert.equal(history.filter((e) => e.eventType === 'TimerFired').length, 2);
    });

    test('human interaction completes with the approval event', async () => {
      const id = await app.client.startNew('approvalWorkflow', { input: { requestId: 'A', timeoutMs: 60_000 } });
      await app.client.raiseEvent(id, 'approval', { approved: true, by: 'ada' });
      const status = await app.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      assert.deepEqual(status.output, { requestId: 'A', approved: true, by: 'ada' });
    });

    test('human interaction escalates when the deadline passes first', async () => {
      const { status } = await complete('approvalWorkflow', { requestId: 'B', timeoutMs: 30 });
      assert.deepEqual(status.output, { requestId: 'B', approved: false, escalation: 'escalated B' });
    });

    test('error-handling pipeline returns the summary when every step succeeds', async () => {
      const { status } = await complete('orchestratePipeline', {});
      assert.deepEqual(status.output, { count: 8, min: 1, max: 9, total: 31 });
    });

    test('the async samples give the outputs of their generator versions, with histories of the same shape', async () => {
      const shape = async (id: string) =>
        ((await app.client.getStatus(id, { showHistory: true }))?.history ?? []).map((e) => `${e.eventType}${'name' in e && e.eventType !== 'ExecutionStarted' ? `:${e.name}` : ''}`);
      for (const [generator, asyncName, input] of [
        ['helloCities', 'helloCitiesAsync', undefined],
        ['totalBytes', 'totalBytesAsync', 7],
        ['approvalWorkflow', 'approvalWorkflowAsync', { requestId: 'C', timeoutMs: 30 }],
      ] as const) {
        const [a, b] = [await complete(generator, input), await complete(asyncName, input)];
        assert.equal(b.status.runtimeStatus, 'Completed', JSON.stringify(b.status.failureDetails));
        assert.deepEqual(b.status.output, a.status.output);
        assert.deepEqual(await shape(b.id), await shape(a.id));
      }
      const id = await app.client.startNew('approvalWorkflowAsync', { input: { requestId: 'D', timeoutMs: 60_000 } });
      await app.client.raiseEvent(id, 'approval', { approved: true, by: 'grace' });
      const approved = await app.client.waitForCompletion(id, { timeoutInMilliseconds: 20_000 });
      assert.deepEqual(approved.output, { requestId: 'D', approved: true, by: 'grace' });
    });

    for (const failAt of ['DownloadData', 'Process', 'Summarize'] as const) {
      test(`error-handling pipeline cleans up when ${failAt} fails`, async () => {
        const { id, status } = await complete('orchestratePipeline', { failAt });
        assert.equal(status.runtimeStatus, 'Completed');
        assert.equal((status.output as { error: string }).error, 'Something went wrong');
        const history = (await app.client.getStatus(id, { showHistory: true }))?.history ?? [];
        const names = history.filter((e) => e.eventType === 'TaskScheduled').map((e) => (e as { name: string }).name);
        assert.equal(names.at(-1), 'CleanUp');
        assert.equal(names.includes('Summarize'), failAt === 'Summarize');
      });
    }
  });
}
