/**
 * Watches the test process for unhandled rejections while a test runs, and gives Promises a test created a
 * way to say they have settled, so the check waits for a condition (the rejection happened) rather than a time.
 */

/** Records every unhandled rejection until `stop()`. */
export function watchUnhandledRejections(): { readonly seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', listener);
  return { seen, stop: () => void process.off('unhandledRejection', listener) };
}

/**
 * A Promise that rejects after `ms`, and `rejected`, which resolves once that happened and Node has had the
 * turns it needs to report an unhandled rejection (the check runs after the microtask queue drains).
 */
export function lateRejection(ms: number, message = 'rejected later'): { promise: Promise<never>; rejected: Promise<void> } {
  let done!: () => void;
  const rejected = new Promise<void>((resolve) => (done = resolve));
  const promise = new Promise<never>((_, reject) => {
    setTimeout(() => {
      reject(new Error(message));
      setImmediate(() => setImmediate(done));
    }, ms);
  });
  return { promise, rejected };
}
