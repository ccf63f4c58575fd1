/**
 * Process guards of the CLI's long-running processes (`duraflow start`, `duraflow worker`): a rejection nobody
 * handled or an exception nobody caught — a Promise an orchestrator, activity, entity or route leaked, a timer
 * of user code that throws later — is logged, and the process keeps running.
 *
 * Rejections: always safe to keep running; nothing was interrupted, only a handler is missing.
 *
 * Uncaught exceptions: Node's advice is to exit, because the code that threw was interrupted halfway. Here we
 * keep running, on purpose. Every change duraflow makes is one store transaction fenced by a lease, so an
 * exception that interrupts duraflow's own code leaves no half-written state: at worst work held in memory
 * waits for its lease to expire (or its activity timeout) and runs again. Exiting, on the other hand, would let
 * one poison function — retried on every worker that claims it — take every worker of the hub down in turn.
 * The guards are for the CLI's processes only; a program that embeds `app.start()` decides for itself.
 */
import type { Logger } from '../sdk/logger.js';

/** What the guards need of a process (the real `process` by default; tests pass an emitter). */
export interface GuardedProcess {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'uncaughtException', listener: (error: Error) => void): unknown;
}

/** Options of {@link installProcessGuards}. */
export interface ProcessGuardOptions {
  /**
   * Where the guards log; read at each event, so it can be pointed at the app's logger once that exists.
   * Without one (undefined), the event goes to `fallback`: it must never vanish.
   */
  logger: () => Logger | undefined;
  /** Where events go without a logger, or when the logger itself throws (default: one line on stderr). */
  fallback?: (line: string) => void;
  process?: GuardedProcess;
}

/** Installs the guards; returns the function that removes them. */
export function installProcessGuards(options: ProcessGuardOptions): () => void {
  const target = options.process ?? process;
  const fallback = options.fallback ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const report = (message: string, error: unknown) => {
    try {
      const logger = options.logger();
      if (logger) logger.error(message, error);
      else fallback(`duraflow: ${message}: ${describe(error)}`);
    } catch (logFailure) {
      // A throw here would be an exception inside the exception handler: Node ends the process for that.
      fallback(`${message}: ${describe(error)} (and the logger failed: ${describe(logFailure)})`);
    }
  };
  const onRejection = (reason: unknown) =>
    report('an unhandled promise rejection (a Promise that user code left without a handler); the process keeps running', reason);
  const onException = (error: Error) =>
    report('an uncaught exception (thrown outside any task, e.g. by a timer of user code); the process keeps running', error);
  target.on('unhandledRejection', onRejection);
  target.on('uncaughtException', onException);
  return () => {
    target.off('unhandledRejection', onRejection);
    target.off('uncaughtException', onException);
  };
}

function describe(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
  } catch {
    return `[${typeof value}]`;
  }
}
