/**
 * The `duraflow` command line: `start` runs an app (worker + HTTP host), `worker` runs a worker only,
 * `instances …`, `entities …` and `schedules …` inspect and steer a task hub through a store URL or a running host.
 */
import { Command, CommanderError } from 'commander';
import { DFApp } from './df-app.js';
import { ValidationError } from '../sdk/errors.js';
import { registerEntityCommands } from '../cli/entities.js';
import { registerScheduleCommands } from '../cli/schedules.js';
import { registerControlCommands } from '../cli/instances-control.js';
import { registerQueryCommands } from '../cli/instances-query.js';
import { registerExportCommand } from '../cli/instances-export.js';
import { portOption } from '../cli/options.js';
import { redactStoreUrl } from '../store/store-errors.js';
import { installLogger, logFormatOption, logLevelOption, startupFields, type LogOptions } from './cli-logging.js';
import { explainListenError } from './listen-errors.js';
import { loadApp } from './load-app.js';
import { installProcessGuards } from './process-guards.js';
import { flushed, guardStdio, stdioWriteFailures } from './stdio-guard.js';
import { registerReplayCheckCommand } from '../cli/replay-check.js';
import { replayCheck } from '../testing/replay-check.js';
import { packageVersion } from './version.js';

interface RunOptions extends LogOptions {
  store?: string;
  hub?: string;
  port?: number;
  hostname?: string;
  grpc?: number | boolean;
  allowedHost?: string[];
  corsOrigin?: string[];
}

/** Collects a repeatable option's values. */
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The gRPC port of `--grpc [port]` (4001 when given without a value). */
function grpcPortOf(value: number | boolean | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  return value === true ? 4001 : value;
}

function applyOverrides(app: DFApp, options: RunOptions): void {
  if (options.store) app.options.store = options.store;
  if (options.hub) app.options.taskHub = options.hub;
  // The flags add to what the app module configures.
  if (options.allowedHost?.length) app.options.allowedHosts = [...(app.options.allowedHosts ?? []), ...options.allowedHost];
  if (options.corsOrigin?.length) app.options.cors = { origins: [...(app.options.cors?.origins ?? []), ...options.corsOrigin] };
}

/** Resolves when the process is asked to stop (SIGINT/SIGTERM); listen before startup so no signal kills it. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      // The first signal stops gracefully (or once startup ends); a second one ends the process at once.
      if (received) process.exit(130);
      received = true;
      resolve(signal);
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, onSignal);
  });
}

function describe(app: DFApp): string {
  const names = app.registry.names();
  return `store ${redactStoreUrl(app.storeUrl)}, task hub '${app.taskHub}', ${names.orchestrations.length} orchestrations, ${names.activities.length} activities`;
}

/**
 * `exitCode`, or 1 when a write of the command's result to stdout failed (a full or read-only disk): a result cut
 * short must not look like a whole one to a script.
 */
async function outputWritten(exitCode: number): Promise<number> {
  await flushed('stdout');
  const { count, code } = stdioWriteFailures('stdout');
  if (count === 0) return exitCode;
  process.stderr.write(`duraflow: the output could not be written to stdout (${code ?? 'write failed'}); it is incomplete.\n`);
  return exitCode === 0 ? 1 : exitCode;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  guardStdio();
  // start and worker print one informational line on stdout; the other commands' stdout is their result.
  let serves = false;
  const program = new Command('duraflow')
    .description('Durable Functions for TypeScript, self-hosted.')
    .version(packageVersion(), '-V, --version', 'print the version of duraflow')
    .exitOverride()
    // Options of the program only before a command: `instances start --version 2` is the command's own option.
    .enablePositionalOptions()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('start')
    .description('Run an app: a worker and the HTTP host (and with --grpc, the Durable Task sidecar for Python/JS SDK workers).')
    .argument('[app-module]', 'a .ts or .js module exporting a DFApp (optional with --grpc: then only gRPC workers serve functions)')
    .option('--store <url>', "store URL ('sqlite:<path>' or 'postgres://…'; default DURAFLOW_STORE or sqlite:.duraflow/duraflow.db)")
    .option('--hub <name>', 'task hub')
    .option('--port <port>', 'HTTP port (default 7071; 0 picks a free one)', portOption('--port'))
    .option('--hostname <address>', 'address to listen on (default 127.0.0.1)')
    .option('--grpc [port]', 'also serve the Durable Task gRPC sidecar protocol (TaskHubSidecarService; default port 4001)', portOption('--grpc'))
    .option('--allowed-host <name>', "a host name the HTTP host answers to besides localhost and IP addresses (repeatable; '.example.com' for a domain)", collect)
    .option('--cors-origin <origin>', 'an origin whose pages may call the API from a browser, e.g. https://ops.example.com (repeatable)', collect)
    .option(...logLevelOption())
    .option(...logFormatOption())
    .addHelpText(
      'after',
      '\nExamples:\n  duraflow start samples/app.ts --port 7071\n  duraflow start app.ts --log-format json --log-level warn\n' +
        '  duraflow start --grpc            # a sidecar for Python/JS durabletask workers on localhost:4001\n' +
        '  DURAFLOW_API_KEY=… duraflow start app.ts --hostname 0.0.0.0 --allowed-host duraflow.internal.example.com',
    )
    .action(async (modulePath: string | undefined, options: RunOptions) => {
      const grpcPort = grpcPortOf(options.grpc);
      if (modulePath === undefined && grpcPort === undefined) throw new ValidationError('duraflow start needs an app module (or --grpc to serve only gRPC workers).');
      serves = true;
      // Listening for signals from the start: one that arrives as startup ends must stop the host, not kill it.
      const stopRequested = untilSignal();
      const app = modulePath === undefined ? new DFApp() : await loadApp(modulePath);
      installProcessGuards({ logger: () => app.options.logger });
      applyOverrides(app, options);
      const logger = installLogger(app, options);
      const hostname = options.hostname ?? '127.0.0.1';
      const host = await app
        .start({
          ...(options.port !== undefined ? { port: options.port } : {}),
          ...(options.hostname ? { hostname: options.hostname } : {}),
          ...(grpcPort !== undefined ? { grpcPort } : {}),
        })
        .catch((error: unknown) => {
          throw explainListenError(error, { hostname, port: options.port ?? 7071, ...(grpcPort !== undefined ? { grpcPort } : {}) });
        });
      logger.info('duraflow host listening', { url: host.url, ...(host.grpcAddress ? { grpcAddress: host.grpcAddress } : {}), ...startupFields(app) });
      process.stdout.write(`duraflow host listening on ${host.url} (${describe(app)})\n`);
      if (host.grpcAddress) process.stdout.write(`gRPC sidecar (TaskHubSidecarService) listening on ${host.grpcAddress}\n`);
      const signal = await stopRequested;
      logger.info(`${signal} received: stopping`, { signal });
      await host.stop();
      logger.info('duraflow host stopped');
    });

  program
    .command('worker')
    .description('Run a worker only (no HTTP); start several against one PostgreSQL database to scale out.')
    .argument('<app-module>', 'a .ts or .js module exporting a DFApp')
    .option('--store <url>', 'store URL')
    .option('--hub <name>', 'task hub')
    .option(...logLevelOption())
    .option(...logFormatOption())
    .addHelpText('after', "\nExample:\n  duraflow worker app.ts --store postgres://localhost/app --log-format json")
    .action(async (modulePath: string, options: RunOptions) => {
      serves = true;
      const stopRequested = untilSignal();
      const app = await loadApp(modulePath);
      installProcessGuards({ logger: () => app.options.logger });
      applyOverrides(app, options);
      const logger = installLogger(app, options);
      const worker = await app.startWorker();
      logger.info('duraflow worker running', { workerId: worker.workerId, ...startupFields(app) });
      process.stdout.write(`duraflow worker ${worker.workerId} running (${describe(app)})\n`);
      const signal = await stopRequested;
      logger.info(`${signal} received: stopping`, { signal });
      await worker.stop();
      logger.info('duraflow worker stopped');
    });

  let exitCode = 0;
  const instances = program
    .command('instances')
    .description('List, inspect, start and steer orchestration instances (against --store or --url).')
    .addHelpText('after', '\nExamples:\n  duraflow instances list --status Running\n  duraflow instances start hello --input \'"Tokyo"\' --wait');
  registerQueryCommands(instances);
  registerExportCommand(instances);
  registerControlCommands(instances, (code) => (exitCode = code));
  registerEntityCommands(program);
  registerScheduleCommands(program);
  registerReplayCheckCommand(program, { loadApp, replayCheck }, (code) => (exitCode = code));

  try {
    await program.parseAsync(argv);
    return serves ? exitCode : await outputWritten(exitCode);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`duraflow: ${(error as Error).message}\n`);
    return 1;
  }
}
