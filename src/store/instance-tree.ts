/**
 * Instance trees through the store: an instance's sub-orchestrations are the instances whose `parentInstanceId`
 * is its id ({@link HubStore.childInstances}), whichever execution started them. A tree read this way also reaches
 * the children of executions a continue-as-new replaced (their history is gone) and never takes an unrelated
 * instance for a child (a start whose id was taken by a running instance records the child in history but
 * creates nothing).
 */
import { ValidationError } from '../sdk/errors.js';
import { checkStorableText } from '../sdk/instance-id.js';
import { isTerminalStatus } from '../sdk/history.js';
import type { ChildInstancesOptions, HubStore, InstanceRecord } from './store.js';

/** The largest page of {@link HubStore.childInstances}. */
export const MAX_CHILD_PAGE = 1000;

/** At most this many instances are visited by a walk (a guard against a cycle of instance ids reused as each other's children). */
export const MAX_TREE_SIZE = 10_000;

/** The checked arguments of {@link HubStore.childInstances}, else a `ValidationError` (both stores refuse alike). */
export function checkChildQuery(parentInstanceId: unknown, options: ChildInstancesOptions): { parent: string; limit: number; after?: string } {
  if (typeof parentInstanceId !== 'string') throw new ValidationError(`The parent instance id must be a string, got ${typeof parentInstanceId}.`);
  checkStorableText(parentInstanceId, 'The parent instance id');
  const limit = options?.limit as unknown;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_CHILD_PAGE) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_CHILD_PAGE}, got ${String(limit)}.`);
  }
  const after = options.after as unknown;
  if (after === undefined) return { parent: parentInstanceId, limit };
  if (typeof after !== 'string') throw new ValidationError(`after must be an instance id, got ${typeof after}.`);
  checkStorableText(after, 'after');
  return { parent: parentInstanceId, limit, after };
}

/** Every child of `parentInstanceId` (one level), page by page. */
export async function* allChildren(hub: HubStore, parentInstanceId: string): AsyncGenerator<InstanceRecord> {
  let after: string | undefined;
  for (;;) {
    const page = await hub.childInstances(parentInstanceId, { limit: MAX_CHILD_PAGE, ...(after !== undefined ? { after } : {}) });
    yield* page;
    if (page.length < MAX_CHILD_PAGE) return;
    after = page[page.length - 1]!.instanceId;
  }
}

/** `root` and its descendants that exist (children of every execution), parents before children. */
export async function instanceTree(hub: HubStore, root: string): Promise<InstanceRecord[]> {
  const record = await hub.getInstance(root);
  if (!record) return [];
  const seen = new Set([root]);
  const tree = [record];
  // tree doubles as the queue: each instance's children are appended after it.
  for (let i = 0; i < tree.length && seen.size < MAX_TREE_SIZE; i++) {
    for await (const child of allChildren(hub, tree[i]!.instanceId)) {
      if (seen.has(child.instanceId)) continue;
      seen.add(child.instanceId);
      tree.push(child);
      if (seen.size >= MAX_TREE_SIZE) break;
    }
  }
  return tree;
}

/**
 * The instances a recursive termination of `root` sends its termination to: the unfinished children of all its
 * executions — each passes the termination on to its own children — and, below a child that has finished already
 * (it passes nothing on), that child's unfinished children, and so on down. The root itself is not among them.
 */
export async function terminationTargets(hub: HubStore, root: string): Promise<string[]> {
  const seen = new Set([root]);
  const targets: string[] = [];
  const finished = [root];
  for (let i = 0; i < finished.length && seen.size < MAX_TREE_SIZE; i++) {
    for await (const child of allChildren(hub, finished[i]!)) {
      if (seen.has(child.instanceId)) continue;
      seen.add(child.instanceId);
      (isTerminalStatus(child.status) ? finished : targets).push(child.instanceId);
      if (seen.size >= MAX_TREE_SIZE) break;
    }
  }
  return targets;
}

/**
 * Purges the finished instances of `root`'s tree (one still running is kept, its finished descendants are not);
 * answers how many were deleted. The tree is read before anything is deleted. The root's own status is the
 * caller's to check (a purge of a running root is refused, as a purge of any running instance is).
 */
export async function purgeTree(hub: HubStore, root: string): Promise<number> {
  let deleted = 0;
  for (const record of await instanceTree(hub, root)) {
    if (isTerminalStatus(record.status)) deleted += await hub.purgeInstances({ instanceId: record.instanceId });
  }
  return deleted;
}
