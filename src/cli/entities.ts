/** `duraflow entities list|get|signal`: see entity state and send operations. */
import type { Command } from 'commander';
import { preview } from '../dashboard/format.js';
import { loadEntity } from '../dashboard/entities-page.js';
import { EntityId } from '../sdk/entity-id.js';
import { ValidationError } from '../sdk/errors.js';
import { parseCount, parseJsonArg, parseTimeArg, withClient, withConnection, type ConnectionOptions } from './connection.js';
import { countOption, timeOption } from './options.js';
import { block, formatTime, printJson, println, safeText, table } from './output.js';

/** Listing and reading never create a store. */
const READ_ONLY = { readOnly: true } as const;

interface ListOptions extends ConnectionOptions {
  name?: string;
  from?: string;
  limit?: string;
  includeDeleted?: boolean;
}

/** Registers the `entities` command group. */
export function registerEntityCommands(program: Command): void {
  const entities = program
    .command('entities')
    .description('See durable entities and signal them (against --store or --url).')
    .addHelpText('after', '\nExamples:\n  duraflow entities list\n  duraflow entities signal Counter my-key add --input 1');

  withConnection(entities.command('list'))
    .description('List entities with their state.')
    .option('--name <entity-name>', 'only entities of this name')
    .option('--from <time>', 'last operation at or after: ISO-8601, or an age like 15m, 2h, 7d', timeOption('--from'))
    .option('--include-deleted', 'also entities without state')
    .option('--limit <n>', 'show at most n entities (0: all)', countOption('--limit'), '100')
    .addHelpText('after', '\nExample:\n  duraflow entities list --name Counter --json')
    .action(async (options: ListOptions) => {
      const limit = parseCount(options.limit ?? '100', '--limit')!;
      const from = parseTimeArg(options.from, '--from');
      const rows = await withClient(options, async (client) => {
        const found: { name: string; key: string; lastOperationTime: Date; state?: unknown }[] = [];
        let continuationToken: string | undefined;
        do {
          const page = await client.listEntities({
            fetchState: true,
            pageSize: 100,
            ...(options.name ? { entityName: options.name } : {}),
            ...(from ? { lastOperationTimeFrom: from } : {}),
            ...(options.includeDeleted ? { includeDeleted: true } : {}),
            ...(continuationToken ? { continuationToken } : {}),
          });
          for (const e of page.entities) found.push({ name: e.entityId.name, key: e.entityId.key, lastOperationTime: e.lastOperationTime, ...('state' in e ? { state: e.state } : {}) });
          continuationToken = page.continuationToken;
        } while (continuationToken && (limit === 0 || found.length < limit));
        return limit === 0 ? found : found.slice(0, limit);
      }, READ_ONLY);
      if (options.json) return printJson(rows.map((r) => ({ ...r, lastOperationTime: r.lastOperationTime.toISOString() })));
      if (rows.length === 0) return println('No entities.');
      println(table(['NAME', 'KEY', 'LAST OPERATION (UTC)', 'STATE'], rows.map((r) => [r.name, r.key, formatTime(r.lastOperationTime), preview(r.state, 60)])));
    });

  withConnection(entities.command('get'))
    .description("Show an entity: state, lock owner and operations waiting for the lock.")
    .argument('<entity-name>')
    .argument('<key>')
    .addHelpText('after', '\nExample:\n  duraflow entities get Counter my-key')
    .action(async (name: string, key: string, options: ConnectionOptions) => {
      const id = new EntityId(name, key);
      const shown = id.name.toLowerCase(); // as stored and listed: entity names match without regard to case
      const result = await withClient(options, async (client) => {
        const state = await client.readEntityState(id);
        const details = await loadEntity(client, name, key).catch(() => undefined);
        return { state, details };
      }, READ_ONLY);
      if (!result.state.entityExists && !result.details) throw new ValidationError(`No entity '${shown}' with key '${key}'.`);
      const queue = result.details?.queue ?? [];
      const json = {
        entityId: { name: shown, key },
        entityExists: result.state.entityExists,
        ...(result.state.entityExists ? { state: result.state.entityState } : {}),
        ...(result.details?.lockedBy ? { lockedBy: result.details.lockedBy } : {}),
        ...(result.details?.lastOperationTime ? { lastOperationTime: result.details.lastOperationTime.toISOString() } : {}),
        pendingOperations: queue.map((m) => ({ operation: m.op ?? null, signal: m.signal ?? false, from: m.parent ?? null })),
      };
      if (options.json) return printJson(json);
      println(`Entity:        ${safeText(`${shown} / ${key}`)}`);
      if (json.lastOperationTime) println(`Last update:   ${formatTime(json.lastOperationTime)} UTC`);
      println(`Locked by:     ${safeText(result.details?.lockedBy ?? '(not locked)')}`);
      println(result.state.entityExists ? block('State', result.state.entityState) : 'State: (none)');
      println(`Waiting operations: ${queue.length}`);
      if (queue.length) println(table(['OPERATION', 'KIND', 'FROM'], queue.map((m) => [m.op ?? 'lock', m.signal ? 'signal' : m.lockset ? 'lock' : 'call', m.parent ?? 'client'])));
    });

  withConnection(entities.command('signal'))
    .description('Send a one-way operation to an entity.')
    .argument('<entity-name>')
    .argument('<key>')
    .argument('<operation>')
    .option('--input <json>', 'operation input as JSON')
    .addHelpText('after', '\nExample:\n  duraflow entities signal Counter my-key add --input 5')
    .action(async (name: string, key: string, operation: string, options: ConnectionOptions & { input?: string }) => {
      const input = parseJsonArg(options.input, '--input');
      const id = new EntityId(name, key);
      await withClient(options, (client) => client.signalEntity(id, operation, input));
      if (options.json) printJson({ entityId: { name: id.name.toLowerCase(), key }, operation });
      else println(`Signalled '${operation}' to ${id.name.toLowerCase()} / ${key}.`);
    });
}
