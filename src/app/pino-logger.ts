/**
 * The logger the `duraflow` CLI installs: pino behind duraflow's {@link Logger} interface, writing to stderr as
 * JSON lines (`--log-format json`) or as one readable line per event (`pretty`). Library code never creates
 * one: an app started from code logs only through the `logger` it was given.
 */
import { inspect } from 'node:util';
import pino from 'pino';
import { ValidationError } from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import { prettyLine } from './pretty-log.js';

/** The levels `--log-level` takes. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
/** The formats `--log-format` takes. */
export const LOG_FORMATS = ['pretty', 'json'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where and how the CLI logs. */
export interface CliLoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Default: stderr. */
  stream?: { write(text: string): unknown; isTTY?: boolean };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * One call of the {@link Logger} interface as pino's (fields, message): plain objects become fields, an Error
 * becomes `err` (pino keeps its type, message and stack), anything else is appended to the message.
 */
export function toRecord(message: string, args: readonly unknown[]): [Record<string, unknown>, string] {
  const fields: Record<string, unknown> = {};
  const extras: string[] = [];
  for (const arg of args) {
    if (arg instanceof Error) fields['err'] = arg;
    else if (isPlainObject(arg)) Object.assign(fields, arg);
    else if (arg !== undefined) extras.push(typeof arg === 'string' ? arg : inspect(arg, { depth: 4, breakLength: Infinity }));
  }
  return [fields, extras.length ? `${message} ${extras.join(' ')}` : message];
}

/** Adapts a pino logger to the {@link Logger} interface. */
export function fromPino(logger: pino.Logger): Logger {
  const method =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, ...args: unknown[]): void => {
      if (!logger.isLevelEnabled(level)) return;
      const [fields, text] = toRecord(message, args);
      logger[level](fields, text);
    };
  return { debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') };
}

/** The CLI's logger: pino at `level` (default info) in `format` (default pretty) on stderr. */
export function createCliLogger(options: CliLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const format = options.format ?? 'pretty';
  if (!LOG_LEVELS.includes(level)) throw new ValidationError(`--log-level must be one of ${LOG_LEVELS.join(', ')}; got '${String(level)}'.`);
  if (!LOG_FORMATS.includes(format)) throw new ValidationError(`--log-format must be one of ${LOG_FORMATS.join(', ')}; got '${String(format)}'.`);
  const out = options.stream ?? process.stderr;
  // Synchronous writes: a line logged just before the process exits is not lost.
  const color = format === 'pretty' && out.isTTY === true && process.env['NO_COLOR'] === undefined;
  const destination =
    format === 'json'
      ? { write: (line: string) => void out.write(line) }
      : { write: (line: string) => void out.write(prettyLine(JSON.parse(line) as Record<string, unknown>, color)) };
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return fromPino(logger);
}
