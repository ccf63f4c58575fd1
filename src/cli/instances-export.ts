/**
 * `duraflow instances export [filters] --out file.jsonl`: every matching instance as one line of JSON (status,
 * input, output, history with results), written as it is read; `-` or no `--out` writes to stdout. The file feeds
 * `duraflow replay-check <app> --file` and `duraflow/testing`'s `replayHistory`.
 */
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { exportInstance, exportInstances } from '../client/instance-export.js';
import type { ExportedInstance } from '../sdk/instance-export.js';
import { withClient, withConnection, type ConnectionOptions } from './connection.js';
import { countOption } from './options.js';
import { filterOf, withFilters, type FilterOptions } from './instances-query.js';

interface ExportOptions extends ConnectionOptions, FilterOptions {
  out?: string;
  id?: string[];
  limit: string;
}

/** Registers `instances export`. */
export function registerExportCommand(instances: Command): void {
  withFilters(withConnection(instances.command('export')))
    .description('Export instances with their full history as JSON Lines (one instance per line), oldest first.')
    .option('--out <file>', 'write to this file (default: stdout)')
    .option('--id <instance-id>', 'only this instance (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--limit <n>', 'export at most n instances (0: all)', countOption('--limit'), '0')
    .addHelpText(
      'after',
      '\nExamples:\n  duraflow instances export --status Failed --from 7d --out failed.jsonl\n  duraflow replay-check dist/app.js --file failed.jsonl',
    )
    .action(exportCommand);
}

async function exportCommand(options: ExportOptions): Promise<void> {
  const file = options.out && options.out !== '-' ? options.out : undefined;
  // Written beside the target and renamed when complete: a failed export leaves no half-written file.
  const partial = file ? `${file}.partial-${process.pid}` : undefined;
  const out: WriteStream | NodeJS.WriteStream = partial ? createWriteStream(partial, { flags: 'wx' }) : process.stdout;
  if (out !== process.stdout) await once(out, 'open');
  const write = async (record: ExportedInstance) => {
    if (!out.write(JSON.stringify(record) + '\n')) await once(out, 'drain');
  };
  let count = 0;
  let done = false;
  try {
    await withClient(
      options,
      async (client) => {
        if (options.id?.length) {
          for (const id of options.id) await write(await exportInstance(client, id));
          count = options.id.length;
          return;
        }
        const limit = Number(options.limit);
        count = await exportInstances(client, filterOf(options), write, {
          ...(limit > 0 ? { limit } : {}),
          ...(options.name !== undefined ? { nameContains: options.name } : {}),
        });
      },
      { readOnly: true },
    );
    done = true;
  } finally {
    if (partial) {
      (out as WriteStream).end();
      await once(out, 'close');
      if (done) renameSync(partial, file!);
      else rmSync(partial, { force: true });
    }
  }
  if (file) process.stderr.write(`exported ${count} instance${count === 1 ? '' : 's'} to ${file}\n`);
}
