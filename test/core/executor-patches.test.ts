/**
 * `ctx.isPatched` / `ctx.deprecatePatch` in the pure executor: a new run takes the patched branch and records a
 * marker, a history recorded before the patch replays on the old branch, and a marker replayed on code without
 * the call is a non-determinism error (unless it was written by `deprecatePatch`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OrchestrationContext, Task } from '../../src/index.js';
import { readPatchMarker } from '../../src/core/patch-markers.js';
import { HistoryRecorder, ev, executorFor, failureOf } from './executor-helpers.js';

/** Before the patch: charge, then ship. */
function* orderV1(ctx: OrchestrationContext): Generator<Task<any>, string, any> {
  yield ctx.callActivity('charge');
  yield ctx.callActivity('ship');
  return 'v1';
}

/** With the patch: a fraud check between charge and ship. */
function* orderPatched(ctx: OrchestrationContext): Generator<Task<any>, string, any> {
  yield ctx.callActivity('charge');
  if (ctx.isPatched('fraud-check')) yield ctx.callActivity('checkFraud');
  yield ctx.callActivity('ship');
  return ctx.isPatched('fraud-check') ? 'patched' : 'old path';
}

/** The patch deprecated: only the new branch is left. */
function* orderDeprecated(ctx: OrchestrationContext): Generator<Task<any>, string, any> {
  yield ctx.callActivity('charge');
  ctx.deprecatePatch('fraud-check');
  yield ctx.callActivity('checkFraud');
  yield ctx.callActivity('ship');
  return 'deprecated';
}

/** The patch removed: the fraud check without any call for the patch. */
function* orderRemoved(ctx: OrchestrationContext): Generator<Task<any>, string, any> {
  yield ctx.callActivity('charge');
  yield ctx.callActivity('checkFraud');
  yield ctx.callActivity('ship');
  return 'removed';
}

/** Runs `fn` live through `steps` completed activities and returns the recorded history. */
function record(fn: (ctx: OrchestrationContext) => Generator<Task<any>, string, any>, steps: number): HistoryRecorder {
  const recorder = new HistoryRecorder();
  const executor = executorFor({ order: fn });
  recorder.record(executor.execute([], [ev.orchestratorStarted(0), ev.started('order')]), 0);
  for (let id = 0; id < steps; id++) recorder.record(executor.execute([], [ev.orchestratorStarted(10 * (id + 1)), ev.completed(id)]), 10 * (id + 1));
  return recorder;
}

const markers = (recorder: HistoryRecorder) => recorder.history.map(readPatchMarker).filter((m) => m !== undefined);

describe('executor: isPatched and deprecatePatch', () => {
  test('a new run takes the patched branch and records one marker, where the code reached the patch', () => {
    const recorder = record(orderPatched, 2);
    assert.deepEqual(markers(recorder), [{ patchId: 'fraud-check', deprecated: false }]);
    const names = recorder.history.flatMap((e) => (e.eventType === 'TaskScheduled' ? [e.name] : []));
    assert.deepEqual(names, ['charge', 'checkFraud', 'ship']);
    // The marker comes with the episode that reached the patch (after charge completed), before checkFraud.
    const markerAt = recorder.history.findIndex((e) => readPatchMarker(e));
    const fraudAt = recorder.history.findIndex((e) => e.eventType === 'TaskScheduled' && e.name === 'checkFraud');
    assert.ok(markerAt > 0 && markerAt < fraudAt);
  });

  test('the marker does not take a sequence id: the tasks after it keep theirs', () => {
    const recorder = record(orderPatched, 1);
    const ids = recorder.history.flatMap((e) => (e.eventType === 'TaskScheduled' ? [e.eventId] : []));
    assert.deepEqual(ids, [0, 1]);
    assert.equal(readPatchMarker(recorder.history.find((e) => readPatchMarker(e))!)!.patchId, 'fraud-check');
    assert.equal(recorder.history.find((e) => readPatchMarker(e))!.eventId, -1);
  });

  test('a history recorded before the patch replays on the old branch, and stays there when it runs on', () => {
    const old = record(orderV1, 1); // charge done, ship scheduled
    const executor = executorFor({ order: orderPatched });
    const result = executor.execute(old.history, [ev.orchestratorStarted(100), ev.completed(1)]);
    assert.equal(failureOf(result), undefined);
    assert.deepEqual(result.completion, { type: 'CompleteOrchestration', id: 2, status: 'Completed', result: '"old path"' });
    assert.ok(!result.actions.some((a) => a.type === 'RecordPatch'), 'no marker for a run that took the old branch');
  });

  test('a history with the marker replays on the patched code (the marker is matched, not re-recorded)', () => {
    const patched = record(orderPatched, 2);
    const result = executorFor({ order: orderPatched }).execute(patched.history, [ev.orchestratorStarted(100), ev.completed(2)]);
    assert.deepEqual(result.completion, { type: 'CompleteOrchestration', id: 3, status: 'Completed', result: '"patched"' });
    assert.ok(!result.actions.some((a) => a.type === 'RecordPatch'));
  });

  test('a marker replayed on code without the isPatched call fails with a message naming the patch', () => {
    const patched = record(orderPatched, 2);
    const result = executorFor({ order: orderRemoved }).execute(patched.history, [ev.orchestratorStarted(100), ev.completed(2)]);
    const failure = failureOf(result);
    assert.equal(failure?.errorType, 'NonDeterministicOrchestrationError');
    assert.match(failure!.message, /recorded ctx\.isPatched\('fraud-check'\) returning true here, but the orchestrator code no longer calls/);
    assert.match(failure!.message, /ctx\.deprecatePatch\('fraud-check'\)/);
  });

  test('deprecatePatch replays histories with the marker, and records a deprecated marker on a new run', () => {
    const patched = record(orderPatched, 2);
    const replayed = executorFor({ order: orderDeprecated }).execute(patched.history, [ev.orchestratorStarted(100), ev.completed(2)]);
    assert.deepEqual(replayed.completion, { type: 'CompleteOrchestration', id: 3, status: 'Completed', result: '"deprecated"' });

    const fresh = record(orderDeprecated, 3);
    assert.deepEqual(markers(fresh), [{ patchId: 'fraud-check', deprecated: true }]);
  });

  test('a deprecated marker replays on code that no longer mentions the patch, and on code that still asks isPatched', () => {
    const deprecated = record(orderDeprecated, 2);
    const removed = executorFor({ order: orderRemoved }).execute(deprecated.history, [ev.orchestratorStarted(100), ev.completed(2)]);
    assert.deepEqual(removed.completion, { type: 'CompleteOrchestration', id: 3, status: 'Completed', result: '"removed"' });
    const rolledBack = executorFor({ order: orderPatched }).execute(deprecated.history, [ev.orchestratorStarted(100), ev.completed(2)]);
    assert.deepEqual(rolledBack.completion, { type: 'CompleteOrchestration', id: 3, status: 'Completed', result: '"patched"' });
  });

  test('the same answer for every call of one execution, and a bad patch id is a ValidationError', () => {
    const seen: boolean[] = [];
    const fn = function* (ctx: OrchestrationContext): Generator<Task<any>, void, any> {
      seen.push(ctx.isPatched('p'));
      yield ctx.callActivity('a');
      seen.push(ctx.isPatched('p'));
    };
    const executor = executorFor({ fn });
    executor.execute([], [ev.orchestratorStarted(0), ev.started('fn')]);
    executor.execute([], [ev.orchestratorStarted(1), ev.completed(0)]);
    assert.deepEqual(seen, [true, true]);

    const bad = function* (ctx: OrchestrationContext): Generator<Task<any>, void, any> {
      ctx.isPatched('');
    };
    const failure = failureOf(executorFor({ bad }).execute([], [ev.orchestratorStarted(0), ev.started('bad')]));
    assert.equal(failure?.errorType, 'ValidationError');
  });
});
