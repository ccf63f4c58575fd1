/**
 * What a recursive purge deletes: the finished instances of an orchestration's tree, read through the store
 * (`instanceTree`: the sub-orchestrations of all its executions, and theirs) before anything is deleted.
 */
import { isTerminalStatus } from '../sdk/history.js';
import { instanceTree } from '../store/instance-tree.js';
import type { HubStore } from '../store/store.js';

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
