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
  stream?: LogStream;
}

/** What the CLI's logger writes to: stderr, or a test's collector (which may ignore the callback). */
export interface LogStream {
  write(text: string, callback?: (error?: Error | null) => void): unknown;
  isTTY?: boolean;
}

/**
 * pino's destination on `out`: it never throws, and a line whose write fails (a full or read-only disk) is
 * dropped and counted, never logged (that line would fail too). When a write succeeds again, `recovered` is
 * told how many lines were lost, once, on a later turn of the event loop (never inside a write).
 */
export function droppingDestination(
  out: LogStream,
  render: (line: string) => string,
  recovered: (count: number, code: string | undefined) => void,
): { write(line: string): void } {
  let dropped = 0;
  let reported = 0;
  let code: string | undefined;
  const settle = (error?: Error | null) => {
    if (error) {
      dropped += 1;
      code = (error as NodeJS.ErrnoException).code ?? error.name;
      return;
    }
    if (dropped === reported) return;
    const count = dropped - reported;
    reported = dropped;
    setImmediate(() => {
      try {
        recovered(count, code);
      } catch {
        // the recovery line is best effort: a failed write of it is counted by the next settle
      }
    });
  };
  return {
    write(line) {
      try {
        out.write(render(line), settle);
      } catch (error) {
        settle(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
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
  const render = format === 'json' ? (line: string) => line : (line: string) => prettyLine(JSON.parse(line) as Record<string, unknown>, color);
  const destination = droppingDestination(out, render, (count, code) =>
    logger.warn({ log_write_failed: count, ...(code ? { code } : {}) }, `${count} log ${count === 1 ? 'line' : 'lines'} could not be written${code ? ` (${code})` : ''} and ${count === 1 ? 'was' : 'were'} dropped`),
  );
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
