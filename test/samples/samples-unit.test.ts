/**
 * Unit tests of every sample with `duraflow/testing`: mocked activities, virtual time, call assertions.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestHost, type TestHost } from '../../src/testing/index.js';
import { errorHandling, cleanUp, downloadData, orchestratePipeline, processData, summarize } from '../../samples/error-handling.js';
import { fanOutFanIn, countBytes, totalBytes } from '../../samples/fan-out-fan-in.js';
import { functionChaining, helloCities, sayHello } from '../../samples/function-chaining.js';
import { approvalWorkflow, escalate, humanInteraction, requestApproval } from '../../samples/human-interaction.js';
import { checkJob, monitor, monitorJob } from '../../samples/monitor.js';
import type { Blueprint } from '../../src/index.js';
import { assertAtOrJustAfter } from '../support/virtual-time.js';

const HOUR = 3600_000;

async function withHost(blueprint: Blueprint, fn: (env: TestHost) => Promise<void>): Promise<void> {
  const env = await createTestHost(blueprint);
  try {
    await fn(env);
  } finally {
    await env.stop();
  }
}

describe('sample unit tests (duraflow/testing)', () => {
  test('function chaining calls sayHello once per city, in order', () =>
    withHost(functionChaining, async (env) => {
      env.mockActivity(sayHello, (city) => `Hi ${city}`);
      const id = await env.client.startNew(helloCities);
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 5000 });
      assert.deepEqual(status.output, ['Hi Tokyo', 'Hi Seattle', 'Hi London']);
      assert.deepEqual(env.calls(sayHello).map((c) => c.input), ['Tokyo', 'Seattle', 'London']);
    }));

  test('fan-out/fan-in processes every file once and sums the results', () =>
    withHost(fanOutFanIn, async (env) => {
      env.mockActivity(countBytes, () => 7);
      const id = await env.client.startNew(totalBytes, { input: 5 });
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 5000 });
      assert.deepEqual(status.output, { files: 5, bytes: 35 });
      assert.deepEqual(env.calls(countBytes).map((c) => c.input).sort(), ['file-1.txt', 'file-2.txt', 'file-3.txt', 'file-4.txt', 'file-5.txt']);
    }));

  test('monitor polls hourly in virtual time and gives up after maxPolls', () =>
    withHost(monitor, async (env) => {
      env.mockActivity(checkJob, () => 'running');
      const startedAt = env.now().getTime();
      const id = await env.client.startNew(monitorJob, { input: { jobId: 'j', pollIntervalMs: HOUR, maxPolls: 4 } });
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 5000 });
      assert.deepEqual(status.output, { jobId: 'j', polls: 4, state: 'gave up' });
      assert.equal(env.calls(checkJob).length, 4);
      assertAtOrJustAfter(env.now().getTime() - startedAt, 4 * HOUR, 'virtual time taken');
    }));

  test('human interaction: an approval before the deadline wins and cancels the timer', () =>
    withHost(humanInteraction, async (env) => {
      const id = await env.client.startNew(approvalWorkflow, { input: { requestId: 'R1', timeoutMs: 72 * HOUR } });
      await env.client.raiseEvent(id, 'approval', { approved: true, by: 'ada' });
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 5000 });
      assert.deepEqual(status.output, { requestId: 'R1', approved: true, by: 'ada' });
      assert.equal(env.calls(escalate).length, 0);
      assert.deepEqual(env.calls(requestApproval).map((c) => c.input), ['R1']);
    }));

  test('human interaction: after three silent days it escalates', () =>
    withHost(humanInteraction, async (env) => {
      const startedAt = env.now().getTime();
      const id = await env.client.startNew(approvalWorkflow, { input: { requestId: 'R2', timeoutMs: 72 * HOUR } });
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 5000 });
      assert.deepEqual(status.output, { requestId: 'R2', approved: false, escalation: 'escalated R2' });
      assertAtOrJustAfter(env.now().getTime() - startedAt, 72 * HOUR, 'virtual time taken');
    }));

  test('error handling: a failing step runs CleanUp and reports the original error type', () =>
    withHost(errorHandling, async (env) => {
      env.mockActivity(processData, () => {
        throw new TypeError('bad rows');
      });
      const id = await env.client.startNew(orchestratePipeline, { input: {} });
      const status = await env.client.waitForCompletion(id, { timeoutInMilliseconds: 5000 });
      assert.deepEqual(status.output, { error: 'Something went wrong', errorType: 'TypeError', message: 'bad rows' });
      assert.equal(env.calls(downloadData).length, 1);
      assert.equal(env.calls(summarize).length, 0);
      assert.equal(env.calls(cleanUp).length, 1);
    }));
});
