/**
 * The pure entity scheduler: arrival order, responses to callers only, lock requests travelling through the
 * lockset, requests from others waiting while locked (and running after the release), and releases that
 * overtake their lock request.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EntityExecutor } from '../../src/core/entity-executor.js';
import type { EntityMessage, EntityRequest } from '../../src/core/entity-messages.js';
import {
  isEmptyEntity,
  parseSchedulerState,
  runEntityEpisode,
  type EntitySchedulerState,
} from '../../src/core/entity-scheduler.js';
import { EntityId, type EntityContext } from '../../src/index.js';

const self = new EntityId('log', 'k');
const now = new Date(Date.UTC(2025, 0, 1));

/** An entity that appends every operation's input to a list and returns the list length. */
function logEntity(ctx: EntityContext<string[]>): number {
  const items = ctx.getState(() => [])!;
  if (ctx.operationName === 'fail') throw new Error('failed on purpose');
  if (ctx.operationName === 'forward') ctx.signalEntity(new EntityId('other', 'o'), 'got', ctx.getInput());
  items.push(ctx.getInput<string>());
  return items.length;
}

const executor = new EntityExecutor({
  resolve: (n) => (n === 'log' ? (logEntity as never) : undefined),
  newId: () => 'generated',
});

let ids = 0;
function request(fields: Partial<EntityRequest> & { from?: string }): EntityMessage {
  const { from, ...rest } = fields;
  return {
    kind: 'request',
    request: {
      id: `r${ids++}`,
      timestamp: now.toISOString(),
      ...(from !== undefined ? { parent: from, parentExecution: `${from}-exec` } : {}),
      ...rest,
    },
  };
}
const op = (from: string | undefined, input: string, extra: Partial<EntityRequest> = {}) =>
  request({ op: 'push', input: JSON.stringify(input), ...(from !== undefined ? { from } : {}), ...extra });
const signal = (from: string | undefined, input: string) => op(from, input, { signal: true });
const lockRequest = (from: string, lockset: string[], position = 0, id = `lock-${ids++}`) =>
  request({ id, from, lockset, position });
const release = (from: string, id: string): EntityMessage => ({ kind: 'release', release: { id, parent: from } });

function run(state: EntitySchedulerState, messages: EntityMessage[]) {
  return runEntityEpisode(self, state, messages, executor, now, () => 'generated');
}

function stateList(state: EntitySchedulerState): string[] {
  return JSON.parse(state.state ?? '[]') as string[];
}

describe('entity scheduler', () => {
  test('operations run in arrival order; calls get a response on their caller (with its execution id), signals do not', async () => {
    const call = op('orch-1', 'a');
    const outcome = await run({ exists: false }, [
      call,
      signal(undefined, 'b'),
      signal('orch-2', 'c'),
      { kind: 'other' },
    ]);
    assert.deepEqual(stateList(outcome.state), ['a', 'b', 'c']);
    assert.equal(outcome.operations, 3);
    assert.deepEqual(outcome.messages, [
      {
        instanceId: 'orch-1',
        executionId: 'orch-1-exec',
        name: (call as { request: EntityRequest }).request.id,
        input: JSON.stringify({ result: '1' }),
      },
    ]);
  });

  test('a failed call answers with the failure details; signals an operation sends go out from this entity', async () => {
    const outcome = await run({ exists: false }, [
      request({ op: 'fail', from: 'orch' }),
      request({ op: 'forward', input: '"x"', signal: true, from: 'orch' }),
    ]);
    const [failure, forwarded] = outcome.messages;
    assert.equal(JSON.parse(failure!.input).failureDetails.message, 'failed on purpose');
    assert.equal(forwarded!.instanceId, '@other@o');
    assert.deepEqual(JSON.parse(forwarded!.input), {
      id: 'generated',
      op: 'got',
      signal: true,
      input: '"x"',
      parent: '@log@k',
      timestamp: now.toISOString(),
    });
  });

  test('a lock request locks the entity and travels to the next entity of its lockset; the last one grants it', async () => {
    const lockset = ['@log@k', '@z@1'];
    const first = await run({ exists: false }, [lockRequest('orch', lockset, 0, 'L1')]);
    assert.equal(first.state.lockedBy, 'orch');
    assert.equal(first.state.lockId, 'L1');
    assert.equal(first.messages[0]!.instanceId, '@z@1');
    assert.deepEqual(JSON.parse(first.messages[0]!.input).position, 1);
    const last = await run({ exists: false }, [lockRequest('orch', ['@a@1', '@log@k'], 1, 'L2')]);
    assert.deepEqual(last.messages, [{ instanceId: 'orch', executionId: 'orch-exec', name: 'L2', input: '{}' }]);
  });

  test('while locked, requests from others wait in order and run after the release; the owner’s run at once', async () => {
    const locked = await run({ exists: false }, [
      lockRequest('owner', ['@log@k'], 0, 'L'),
      signal('other', 'o1'),
      op('owner', 'w1'),
      signal(undefined, 'o2'),
    ]);
    assert.deepEqual(stateList(locked.state), ['w1']);
    assert.deepEqual(
      locked.state.queue?.map((r) => JSON.parse(r.input!)),
      ['o1', 'o2'],
    );
    assert.equal(isEmptyEntity(locked.state), false);

    // A later episode: more from others, then the release, then a new message. Queue order is kept.
    const released = await run(locked.state, [
      signal('other', 'o3'),
      op('owner', 'w2'),
      release('owner', 'L'),
      signal('other', 'o4'),
    ]);
    assert.deepEqual(stateList(released.state), ['w1', 'w2', 'o1', 'o2', 'o3', 'o4']);
    assert.equal(released.state.lockedBy, undefined);
    assert.equal(released.state.queue, undefined);
  });

  test('a queued lock request of another orchestration is granted after the release, and its successors wait again', async () => {
    const state: EntitySchedulerState = { exists: false, lockedBy: 'A', lockId: 'LA' };
    const outcome = await run(state, [
      lockRequest('B', ['@log@k'], 0, 'LB'),
      signal('C', 'c1'),
      release('A', 'LA'),
      signal('B', 'b1'),
    ]);
    assert.equal(outcome.state.lockedBy, 'B');
    assert.deepEqual(stateList(outcome.state), ['b1']);
    assert.deepEqual(
      outcome.state.queue?.map((r) => JSON.parse(r.input!)),
      ['c1'],
    );
    assert.deepEqual(
      outcome.messages.map((m) => m.name),
      ['LB'],
    );
  });

  test('a release that overtakes its lock request makes the request pass through without locking', async () => {
    const early = await run({ exists: false }, [release('orch', 'L9')]);
    assert.deepEqual(early.state.releasedLocks, ['L9']);
    const late = await run(early.state, [lockRequest('orch', ['@log@k', '@z@z'], 0, 'L9'), signal('other', 'x')]);
    assert.equal(late.state.lockedBy, undefined);
    assert.equal(late.state.releasedLocks, undefined);
    assert.equal(late.messages[0]!.instanceId, '@z@z', 'still forwarded, so the other entities clear it too');
    assert.deepEqual(stateList(late.state), ['x']);
  });

  test('a release from someone who does not hold the lock changes nothing', async () => {
    const state: EntitySchedulerState = { exists: false, lockedBy: 'A', lockId: 'LA' };
    const outcome = await run(state, [release('B', 'LA'), signal('C', 'c')]);
    assert.equal(outcome.state.lockedBy, 'A');
    assert.equal(outcome.state.queue?.length, 1);
  });

  test('unreadable scheduler state is an empty entity', () => {
    assert.deepEqual(parseSchedulerState(undefined), { exists: false });
    assert.deepEqual(parseSchedulerState('not json'), { exists: false });
    assert.deepEqual(parseSchedulerState('{"exists":true,"state":"3"}'), { exists: true, state: '3' });
  });
});
