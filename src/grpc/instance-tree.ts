/**
 * An orchestration with its sub-orchestrations, and theirs: what a recursive purge deletes. The tree is read from
 * each instance's history (the sub-orchestrations its current execution started), before anything is deleted.
 */
import { isTerminalStatus } from '../sdk/history.js';
import type { HubStore, InstanceRecord } from '../store/store.js';

/** At most this many instances are visited (a guard against a cycle of instance ids reused as each other's children). */
const MAX_TREE_SIZE = 10_000;

/** `root` and its descendants that exist, parents before children. */
export async function instanceTree(hub: HubStore, root: string): Promise<InstanceRecord[]> {
  const seen = new Set<string>();
  const tree: InstanceRecord[] = [];
  const queue = [root];
  while (queue.length > 0 && seen.size < MAX_TREE_SIZE) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const record = await hub.getInstance(id);
    if (!record) continue;
    tree.push(record);
    if (record.historyLength === 0) continue;
    for (const event of await hub.getHistory(id)) {
      if (event.eventType === 'SubOrchestrationInstanceCreated') queue.push(event.instanceId);
    }
  }
  return tree;
}

/**
 * Purges the finished instances of `root`'s tree (one still running is kept); answers how many were deleted.
 * The root's own status is the caller's to check.
 */
export async function purgeTree(hub: HubStore, root: string): Promise<number> {
  let deleted = 0;
  for (const record of await instanceTree(hub, root)) {
    if (isTerminalStatus(record.status)) deleted += await hub.purgeInstances({ instanceId: record.instanceId });
  }
  return deleted;
}
