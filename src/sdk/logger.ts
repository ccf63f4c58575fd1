/**
 * A small logging interface; library code never writes to the console itself.
 *
 * Convention for structured fields: besides the message, a call may pass an `Error` and plain objects of fields
 * (`{ instanceId, name, taskHub, … }`). A structured logger (the CLI's pino logger) merges the objects into the
 * record and keeps the error as `err` with its stack; a plain one (`console`) prints them after the message.
 */
export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

/** Structured fields of a log record (`instanceId`, `name`, `taskHub`, …). */
export type LogFields = Record<string, unknown>;

/** The methods of a {@link Logger}, lowest level first. */
export const LOG_METHODS = ['debug', 'info', 'warn', 'error'] as const;

const noop = (): void => {};

/** A logger that drops everything (the default for library code). */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** A logger that forwards to `sink` only while `isActive()` is true (e.g. "not replaying"). */
export function gatedLogger(inner: Logger, isActive: () => boolean): Logger {
  const gate =
    (method: keyof Logger) =>
    (message: string, ...args: unknown[]): void => {
      if (isActive()) inner[method](message, ...args);
    };
  return { debug: gate('debug'), info: gate('info'), warn: gate('warn'), error: gate('error') };
}

/**
 * A logger that adds `fields` (or what `fields()` returns at the time of the call, for fields known only later)
 * to every record, as a trailing fields object. The silent logger stays the silent logger.
 */
export function withFields(inner: Logger, fields: LogFields | (() => LogFields)): Logger {
  if (inner === silentLogger) return inner;
  const add =
    (method: keyof Logger) =>
    (message: string, ...args: unknown[]): void =>
      inner[method](message, ...args, typeof fields === 'function' ? fields() : fields);
  return { debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
}
