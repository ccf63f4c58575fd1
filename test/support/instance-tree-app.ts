/**
 * An orchestration tree for the recursive terminate and purge tests (engine, HTTP API, CLI): a root with a child
 * started by an execution a continue-as-new replaced, that child's own child, and a child that finished while its
 * own child still runs.
 */
import assert from 'node:assert/strict';
import type { DFApp, DurableClient } from '../../src/index.js';
import { eventsOf, historyOf, statusWhere } from './engine-helpers.js';

/**
 * `generations`: its first execution starts `middle` (which starts a `leaf`), waits for 'next' and continues as new;
 * the second starts `hopper` (which starts a `leaf`, continues as new and completes, leaving that leaf running)
 * and waits forever. Children are started without being awaited, so they outlive the execution that started them.
 */
export function registerTreeFunctions(app: DFApp): void {
  app.activity('noop', () => null);
  app.orchestration('leaf', function* (ctx) {
    return yield ctx.waitForExternalEvent('never');
  });
  app.orchestration('middle', function* (ctx) {
    return yield ctx.callSubOrchestrator('leaf', undefined, `${ctx.instanceId}-g`);
  });
  app.orchestration('hopper', function* (ctx) {
    if (ctx.getInput<number>() === 1) return 'done';
    ctx.callSubOrchestrator('leaf', undefined, `${ctx.instanceId}-g`);
    // A step of its own, so the child's start is committed before the continue-as-new.
    yield ctx.callActivity('noop');
    ctx.continueAsNew(1);
    return undefined;
  });
  app.orchestration('generations', function* (ctx) {
    if (ctx.getInput<number>() === 1) {
      ctx.callSubOrchestrator('hopper', 0, `${ctx.instanceId}-c1`);
      return yield ctx.waitForExternalEvent('never');
    }
    ctx.callSubOrchestrator('middle', undefined, `${ctx.instanceId}-c0`);
    yield ctx.waitForExternalEvent('next');
    ctx.continueAsNew(1);
    return undefined;
  });
}

/** The instances of a tree started by {@link startTree}. */
export interface Tree {
  /** The root, then its running descendants: `${id}-c0` (from before the continue-as-new), `${id}-c0-g`, `${id}-c1-g`. */
  running: string[];
  /** `${id}-c1`, Completed (its child `${id}-c1-g` still runs). */
  finishedChild: string;
}

/** Starts `generations` as `id` and waits until the tree stands. */
export async function startTree(client: DurableClient, id: string): Promise<Tree> {
  await client.startNew('generations', { instanceId: id, input: 0 });
  await statusWhere(client, `${id}-c0-g`, (s) => s.runtimeStatus === 'Running');
  await client.raiseEvent(id, 'next', null);
  await statusWhere(client, `${id}-c1`, (s) => s.runtimeStatus === 'Completed');
  await statusWhere(client, `${id}-c1-g`, (s) => s.runtimeStatus === 'Running');
  // The current execution's history names its own child only: the first one's is gone.
  const created = eventsOf(await historyOf(client, id), 'SubOrchestrationInstanceCreated').map((e) => e.instanceId);
  assert.deepEqual(created, [`${id}-c1`]);
  return { running: [id, `${id}-c0`, `${id}-c0-g`, `${id}-c1-g`], finishedChild: `${id}-c1` };
}
