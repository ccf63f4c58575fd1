/**
 * Awaiting user code with a time limit. JavaScript cannot stop a Promise, so a limit only stops the waiting:
 * the work is abandoned (its later result or rejection is ignored — never unhandled) and the caller goes on
 * with a timeout error.
 */

/** Longest delay `setTimeout` keeps (about 24.8 days); a longer limit is no limit. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Resolves like `work`, unless `timeoutMs` passes first: then rejects with `onTimeout()`. `Infinity` (or any
 * limit beyond what a timer can hold) waits as long as it takes. An aborted `signal` ends the wait too (with its
 * reason), so abandoned work holds no timer that would keep the process alive.
 */
export function withTimeLimit<T>(work: PromiseLike<T>, timeoutMs: number, onTimeout: () => Error, signal?: AbortSignal): Promise<T> {
  let pending: Promise<T>;
  try {
    pending = Promise.resolve(work);
  } catch (error) {
    pending = Promise.reject(error as Error); // a Promise whose `constructor` getter throws
  }
  const limited = timeoutMs < MAX_TIMER_MS;
  if (!limited && !signal) return pending;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const ended = new Promise<never>((_, reject) => {
    if (limited) timer = setTimeout(() => reject(onTimeout()), Math.max(0, timeoutMs));
    if (signal) {
      onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('The work was abandoned.'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  // race subscribes to `pending`, so its rejection after the limit is handled (and ignored).
  return Promise.race([pending, ended]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  });
}

/**
 * Aborts `target` when `source` aborts (with its reason); returns the function that unlinks them. Used instead
 * of `AbortSignal.any` on the activity hot path: an explicit listener that is always removed holds nothing.
 */
export function forwardAbort(source: AbortSignal | undefined, target: AbortController): () => void {
  if (!source) return () => {};
  if (source.aborted) {
    target.abort(source.reason);
    return () => {};
  }
  const forward = () => target.abort(source.reason);
  source.addEventListener('abort', forward, { once: true });
  return () => source.removeEventListener('abort', forward);
}

/**
 * An attempt's abort signal, made only when someone reads it. Most activities never look at `ctx.signal`, and an
 * `AbortController` costs more than the rest of a no-op activity's bookkeeping (about 10 µs on Node 20): the
 * controller is created on first read, already aborted if the attempt was (its timeout, or `source` aborted),
 * else linked to `source` until {@link LazyAbort.dispose}.
 */
export class LazyAbort {
  #controller: AbortController | undefined;
  #unlink: (() => void) | undefined;
  #reason: { value: unknown } | undefined;

  constructor(private readonly source: AbortSignal | undefined) {}

  /** The signal (created now if it was not read before). */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason.value);
      else this.#unlink = forwardAbort(this.source, this.#controller);
    }
    return this.#controller.signal;
  }

  /** Aborts the attempt with `reason` (the first reason wins, as with an `AbortController`). */
  abort(reason: unknown): void {
    if (this.#reason || this.#controller?.signal.aborted) return;
    this.#reason = { value: reason };
    this.#controller?.abort(reason);
  }

  /** Unlinks the signal from `source` (the attempt ended). */
  dispose(): void {
    this.#unlink?.();
    this.#unlink = undefined;
  }
}
