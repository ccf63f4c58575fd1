/** A small logging interface; library code never writes to the console itself. */
export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

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
