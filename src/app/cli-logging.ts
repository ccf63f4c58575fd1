/**
 * Logging of `duraflow start` and `duraflow worker`: the `--log-level` and `--log-format` options, the pino
 * logger they select (on stderr), and the startup record that says what the process serves and where.
 */
import { choiceOption } from '../cli/options.js';
import type { Logger } from '../sdk/logger.js';
import { userFacingNames } from '../sdk/internal-names.js';
import { redactStoreUrl } from '../store/store-errors.js';
import type { DFApp } from './df-app.js';
import { createCliLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './pino-logger.js';

/** The logging options of a command. */
export interface LogOptions {
  logLevel?: LogLevel;
  logFormat?: LogFormat;
}

/** `--log-level`, as the arguments of commander's `option()`. */
export function logLevelOption(): [string, string, (text: string) => LogLevel] {
  return ['--log-level <level>', `what to log on stderr: ${LOG_LEVELS.join(', ')} (default info)`, choiceOption('--log-level', LOG_LEVELS)];
}

/** `--log-format`, as the arguments of commander's `option()`. */
export function logFormatOption(): [string, string, (text: string) => LogFormat] {
  return [
    '--log-format <format>',
    `${LOG_FORMATS.join(' or ')}: one readable line per event, or one JSON object per line (default pretty)`,
    choiceOption('--log-format', LOG_FORMATS),
  ];
}

/**
 * The logger of a command: the app's own when it set one (a library user's choice wins), else pino as the
 * options say. Installs it on the app so its worker, HTTP host and store log through it.
 */
export function installLogger(app: DFApp, options: LogOptions): Logger {
  const logger = app.options.logger ?? createCliLogger({ ...(options.logLevel ? { level: options.logLevel } : {}), ...(options.logFormat ? { format: options.logFormat } : {}) });
  app.options.logger = logger;
  return logger;
}

/** The fields of the startup record: the store (without its password), the task hub and the names served. */
export function startupFields(app: DFApp): Record<string, unknown> {
  const names = app.registry.names();
  return {
    store: redactStoreUrl(app.storeUrl),
    taskHub: app.taskHub,
    orchestrations: userFacingNames(names.orchestrations),
    activities: userFacingNames(names.activities),
    entities: userFacingNames(names.entities),
  };
}
