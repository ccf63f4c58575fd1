/** `duraflow instances start|raise|terminate|suspend|resume|rewind|restart|purge`: steer instances. */
import type { Command } from 'commander';
import type { DurableClient } from '../sdk/durable-client.js';
import { InstanceNotFoundError, ValidationError } from '../sdk/errors.js';
import { parseCount, parseJsonArg, withClient, withConnection, type ConnectionOptions } from './connection.js';
import { matchingInstances, printStatus, withFilters, type FilterOptions } from './instances-query.js';
import { collectTags, countOption, tagsOf } from './options.js';
import { printJson, println, statusToJson } from './output.js';
import { exitCodeFor, followInstance } from './wait-progress.js';

interface StartOptions extends ConnectionOptions {
  input?: string;
  id?: string;
  version?: string;
  tag?: string[];
  wait?: boolean;
  timeout?: string;
}

/** Waits for the instance, prints its result; returns the exit code. */
async function waitAndReport(client: DurableClient, instanceId: string, options: StartOptions): Promise<number> {
  const seconds = parseCount(options.timeout, '--timeout');
  const followed = await followInstance(client, instanceId, seconds === undefined ? undefined : seconds * 1000);
  // Progress polls leave the input out (it can be large); the report shows it.
  const status = (await client.getStatus(instanceId, { showHistory: true, showInput: true })) ?? followed;
  if (options.json) printJson(statusToJson(status));
  else if (status.runtimeStatus === 'Completed') println(JSON.stringify(status.output ?? null, null, 2));
  else printStatus(status);
  return exitCodeFor(status);
}

async function start(name: string, options: StartOptions): Promise<number> {
  const input = parseJsonArg(options.input, '--input');
  const tags = tagsOf(options.tag);
  return withClient(options, async (client) => {
    const instanceId = await client.startNew(name, {
      ...(input !== undefined ? { input } : {}),
      ...(options.id !== undefined ? { instanceId: options.id } : {}),
      ...(options.version !== undefined ? { version: options.version } : {}),
      ...(tags ? { tags } : {}),
    });
    if (!options.wait) {
      if (options.json) printJson({ instanceId });
      else println(instanceId);
      return 0;
    }
    if (!options.json) process.stderr.write(`started ${name} ${instanceId}\n`);
    return waitAndReport(client, instanceId, options);
  });
}

interface ReasonOptions extends ConnectionOptions {
  reason?: string;
}

const done = (options: ConnectionOptions, result: Record<string, unknown>, message: string) => {
  if (options.json) printJson(result);
  else println(message);
};

/** Registers the commands that change instances on the `instances` command; `setExitCode` receives outcomes. */
export function registerControlCommands(instances: Command, setExitCode: (code: number) => void): void {
  withConnection(instances.command('start'))
    .description('Start an orchestration; with --wait, follow it live and exit with its outcome.')
    .argument('<orchestration>', 'orchestration name')
    .option('--input <json>', 'input as JSON (quote strings: \'"Tokyo"\')')
    .option('--id <instance-id>', 'instance id (default: a random one)')
    .option('--version <version>', 'orchestration version')
    .option('--tag <key=value>', 'a tag stored with the instance (repeatable)', collectTags)
    .option('--wait', 'show live progress until the instance finishes, then print its output')
    .option('--timeout <seconds>', 'with --wait: stop waiting after this many seconds (exit code 3)', countOption('--timeout'))
    .addHelpText(
      'after',
      '\nExit codes with --wait: 0 Completed, 1 Failed (or an error), 2 Terminated/Canceled, 3 still running at --timeout.\n' +
        '\nExamples:\n  duraflow instances start helloCities --wait\n  duraflow instances start approval --input \'{"amount": 100}\' --id order-42 --url http://127.0.0.1:7071' +
          '\n  duraflow instances start nightlyReport --tag tenant=acme --tag env=prod',
    )
    .action(async (name: string, options: StartOptions) => setExitCode(await start(name, options)));

  withConnection(instances.command('raise'))
    .description('Raise an external event on an instance.')
    .argument('<instance-id>')
    .argument('<event-name>')
    .option('--data <json>', 'event data as JSON')
    .addHelpText('after', '\nExample:\n  duraflow instances raise order-42 Approval --data true')
    .action(async (instanceId: string, eventName: string, options: ConnectionOptions & { data?: string }) => {
      const data = parseJsonArg(options.data, '--data');
      await withClient(options, (client) => client.raiseEvent(instanceId, eventName, data));
      done(options, { instanceId, eventName }, `Raised '${eventName}' on ${instanceId}.`);
    });

  const reasonCommand = (name: 'suspend' | 'resume' | 'rewind', description: string, past: string) =>
    withConnection(instances.command(name))
      .description(description)
      .argument('<instance-id>')
      .option('--reason <text>', 'why (recorded in the history)')
      .addHelpText('after', `\nExample:\n  duraflow instances ${name} order-42 --reason "${name === 'rewind' ? 'bug fixed' : 'by operator'}"`)
      .action(async (instanceId: string, options: ReasonOptions) => {
        await withClient(options, (client) => client[name](instanceId, options.reason));
        done(options, { instanceId, requested: name }, `${past} ${instanceId}.`);
      });
  withConnection(instances.command('terminate'))
    .description('Terminate a running instance; with --recursive, its running sub-orchestrations too (and theirs).')
    .argument('<instance-id>')
    .option('--reason <text>', 'why (recorded in the history)')
    .option('--recursive', 'also terminate the sub-orchestrations still running, of every execution, and theirs')
    .addHelpText('after', '\nExamples:\n  duraflow instances terminate order-42 --reason "by operator"\n  duraflow instances terminate order-42 --recursive')
    .action(async (instanceId: string, options: ReasonOptions & { recursive?: boolean }) => {
      const recursive = options.recursive === true;
      await withClient(options, (client) => client.terminate(instanceId, options.reason, { recursive }));
      done(options, { instanceId, requested: 'terminate', ...(recursive ? { recursive } : {}) }, `Termination requested for ${instanceId}${recursive ? ' and its sub-orchestrations' : ''}.`);
    });
  reasonCommand('suspend', 'Suspend a running instance (it processes no events until resumed).', 'Suspend requested for');
  reasonCommand('resume', 'Resume a suspended instance.', 'Resume requested for');
  reasonCommand('rewind', 'Rewind a failed instance: failed work runs again, successful work is kept.', 'Rewind requested for');

  withConnection(instances.command('restart'))
    .description('Start an instance again with its original input.')
    .argument('<instance-id>')
    .option('--same-id', 'reuse the instance id (default: a new id)')
    .option('--wait', 'follow the new instance until it finishes')
    .option('--timeout <seconds>', 'with --wait: stop waiting after this many seconds', countOption('--timeout'))
    .addHelpText('after', '\nExample:\n  duraflow instances restart order-42 --wait')
    .action(async (instanceId: string, options: StartOptions & { sameId?: boolean }) => {
      await withClient(options, async (client) => {
        const newId = await client.restart(instanceId, { restartWithNewInstanceId: !options.sameId });
        if (options.wait) return setExitCode(await waitAndReport(client, newId, options));
        done(options, { instanceId: newId }, newId);
      });
    });

  withFilters(withConnection(instances.command('purge')))
    .description('Delete finished instances with their history: one by id, or every one matching the filters.')
    .argument('[instance-id]')
    .option('--recursive', "also purge each purged instance's finished sub-orchestrations, of every execution, and theirs")
    .addHelpText(
      'after',
      '\nOnly Completed, Failed, Terminated and Canceled instances are purged; running ones are kept (also with --recursive).\n' +
        '\nExamples:\n  duraflow instances purge order-42\n  duraflow instances purge order-42 --recursive\n  duraflow instances purge --status Completed,Failed --to 7d',
    )
    .action(async (instanceId: string | undefined, options: ConnectionOptions & FilterOptions & { recursive?: boolean }) => {
      const purgeOptions = { recursive: options.recursive === true };
      const filtered = Boolean(options.status?.length || options.name || options.prefix || options.from || options.to || options.tag?.length);
      if (instanceId !== undefined && filtered) throw new ValidationError('Give an instance id or filters, not both.');
      if (instanceId === undefined && !filtered) {
        throw new ValidationError('Give an instance id, or at least one filter (--status, --name, --prefix, --from, --to, --tag).');
      }
      const deleted = await withClient(options, async (client) => {
        if (instanceId !== undefined) return (await client.purgeInstanceHistory(instanceId, purgeOptions)).instancesDeleted;
        // Listed first so that entities and running instances are never touched.
        let count = 0;
        for (const instance of await matchingInstances(client, options)) {
          if (!['Completed', 'Failed', 'Terminated', 'Canceled'].includes(instance.runtimeStatus)) continue;
          // With --recursive a listed instance may be gone already (purged with its parent's tree): it counts 0 then.
          count += (await client.purgeInstanceHistory(instance.instanceId, purgeOptions)).instancesDeleted;
        }
        return count;
      });
      if (instanceId !== undefined && deleted === 0) throw new InstanceNotFoundError(instanceId);
      done(options, { instancesDeleted: deleted }, `Purged ${deleted} instance${deleted === 1 ? '' : 's'}.`);
    });
}
