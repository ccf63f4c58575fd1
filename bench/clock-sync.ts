/**
 * Cross-process latency needs both processes' clocks on one scale: the parent pings its child over IPC and
 * takes the offset of the round trip with the shortest time (its error is at most half that round trip).
 */
import type { ChildProcess } from 'node:child_process';
import { epochMs } from './metrics.js';

/** Messages between a benchmark process and the worker process it started. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'pong'; id: number; at: number }
  | { type: 'probe'; t0: number; at: number }
  | { type: 'error'; message: string };

/** In the worker process: answers pings with this process's clock, and exits when the parent goes away. */
export function answerPings(): void {
  process.on('message', (message: { type?: string; id?: number }) => {
    if (message.type === 'ping')
      process.send?.({ type: 'pong', id: message.id ?? -1, at: epochMs() } satisfies WorkerMessage);
  });
  process.on('disconnect', () => process.exit(0));
}

/** In the parent: the worker's clock minus this one's, in milliseconds, from `rounds` pings. */
export async function clockOffset(child: ChildProcess, rounds = 30): Promise<number> {
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
  for (let id = 0; id < rounds; id++) {
    const sent = epochMs();
    const at = await new Promise<number>((resolve) => {
      const onMessage = (message: WorkerMessage) => {
        if (message.type === 'pong' && message.id === id) {
          child.off('message', onMessage);
          resolve(message.at);
        }
      };
      child.on('message', onMessage);
      child.send({ type: 'ping', id });
    });
    const received = epochMs();
    if (received - sent < best.rtt) best = { rtt: received - sent, offset: at - (sent + received) / 2 };
  }
  return best.offset;
}

/** Resolves with the next message of `child` that `accept` returns a value for; rejects if the child exits first. */
export function nextMessage<T>(
  child: ChildProcess,
  accept: (message: WorkerMessage) => T | undefined,
  timeoutMs: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`no answer from the worker process within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: WorkerMessage) => {
      if (message.type === 'error') return finish(new Error(`worker process: ${message.message}`));
      const value = accept(message);
      if (value !== undefined) finish(undefined, value);
    };
    const onExit = (code: number | null) => finish(new Error(`the worker process exited (${code}) before answering`));
    function finish(error: Error | undefined, value?: T): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}
