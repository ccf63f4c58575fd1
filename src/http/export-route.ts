/**
 * `GET {base}/export`: the history export over HTTP, JSON Lines (`application/x-ndjson`), one instance per line
 * (the format of `duraflow instances export`). `?instanceId=<id>` (repeatable) exports those instances (404 for
 * an unknown one, before anything is sent); otherwise the list filters (`runtimeStatus`, `createdTimeFrom`,
 * `createdTimeTo`, `instanceIdPrefix`) select them and the lines are streamed as they are read.
 */
import type { DurableClient, OrchestrationFilter } from '../sdk/durable-client.js';
import { exportInstance, exportInstances } from '../client/instance-export.js';

const HEADERS = { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' };

/** The export response for `instanceIds` (all read before answering) or for `filter` (streamed). */
export async function exportResponse(client: DurableClient, instanceIds: readonly string[], filter: OrchestrationFilter): Promise<Response> {
  if (instanceIds.length) {
    const lines: string[] = [];
    for (const id of instanceIds) lines.push(JSON.stringify(await exportInstance(client, id)) + '\n');
    return new Response(lines.join(''), { status: 200, headers: { ...HEADERS, 'content-disposition': attachment(instanceIds.length === 1 ? instanceIds[0]! : 'instances') } });
  }
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        await exportInstances(client, filter, (record) => controller.enqueue(encoder.encode(JSON.stringify(record) + '\n')));
        controller.close();
      } catch (error) {
        // The status line is gone: the reader sees the stream end with an error instead of a clean end.
        controller.error(error);
      }
    },
  });
  return new Response(stream, { status: 200, headers: { ...HEADERS, 'content-disposition': attachment('instances') } });
}

/** A download name made only of safe characters (instance ids may hold anything). */
function attachment(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'instance';
  return `attachment; filename="${safe}.history.jsonl"`;
}
