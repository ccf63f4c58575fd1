/**
 * Exports instances through any {@link DurableClient} (over a store or a host's HTTP API): each as one
 * {@link ExportedInstance} with its full history and results, page by page, so an export of many instances
 * never holds them all in memory.
 */
import type { DurableClient, DurableOrchestrationStatus, OrchestrationFilter } from '../sdk/durable-client.js';
import { InstanceNotFoundError } from '../sdk/errors.js';
import { EXPORT_FORMAT, type ExportedInstance } from '../sdk/instance-export.js';

const PAGE = 100;

/** The export record of one instance. */
export async function exportInstance(client: DurableClient, instanceId: string): Promise<ExportedInstance> {
  const status = await client.getStatus(instanceId, { showHistory: true, showHistoryOutput: true, showInput: true });
  if (!status) throw new InstanceNotFoundError(instanceId);
  return toExported(status);
}

/** Options of {@link exportInstances}. */
export interface ExportOptions {
  /** Stop after this many. */
  limit?: number;
  /** Only orchestrations whose name contains this text (case-insensitive). */
  nameContains?: string;
}

/**
 * Calls `write` with the export record of every instance matching `filter` (oldest first, entities left out),
 * waiting for each write; returns how many were written.
 */
export async function exportInstances(
  client: DurableClient,
  filter: OrchestrationFilter,
  write: (record: ExportedInstance) => void | Promise<void>,
  options: ExportOptions = {},
): Promise<number> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const needle = options.nameContains?.toLowerCase();
  let written = 0;
  let token: string | undefined;
  do {
    const page = await client.listInstances({ ...filter, pageSize: PAGE, showInput: false, ...(token ? { continuationToken: token } : {}) });
    for (const listed of page.instances) {
      if (written >= limit) return written;
      if (listed.instanceId.startsWith('@') || (needle !== undefined && !listed.name.toLowerCase().includes(needle))) continue;
      // Purged between the page and the read: nothing to export.
      const status = await client.getStatus(listed.instanceId, { showHistory: true, showHistoryOutput: true, showInput: true });
      if (!status) continue;
      await write(toExported(status));
      written++;
    }
    token = page.continuationToken;
  } while (token);
  return written;
}

function toExported(status: DurableOrchestrationStatus): ExportedInstance {
  return {
    format: EXPORT_FORMAT,
    instanceId: status.instanceId,
    name: status.name,
    ...(status.version !== undefined ? { version: status.version } : {}),
    runtimeStatus: status.runtimeStatus,
    createdTime: status.createdTime.toISOString(),
    lastUpdatedTime: status.lastUpdatedTime.toISOString(),
    ...(status.input !== undefined ? { input: status.input } : {}),
    ...(status.output !== undefined ? { output: status.output } : {}),
    ...(status.customStatus !== undefined ? { customStatus: status.customStatus } : {}),
    ...(status.failureDetails !== undefined ? { failureDetails: status.failureDetails } : {}),
    history: status.history ?? [],
  };
}
