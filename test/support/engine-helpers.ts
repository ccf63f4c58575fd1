/**
 * Small helpers of the engine behaviour tests: a fresh app per test, bounded waits on instance state,
 * history reads, and gates that hold an activity open until the test lets it go.
 */
import { DFApp, type DFAppOptions, type DurableClient, type DurableOrchestrationStatus, type HistoryEvent, type StartNewOptions } from '../../src/index.js';
import type { WorkerOptions } from '../../src/index.js';
import { runApp, type RunningApp } from './harness.js';
import type { TestStore } from './stores.js';

/** Options of {@link withApp}. */
export interface WithAppOptions {
  app?: Omit<DFAppOptions, 'store'>;
  worker?: WorkerOptions;
}

/**
 * Registers functions on a fresh app over a fresh store, starts its worker, runs `body`, and always
 * stops the worker and removes the store afterwards.
 */
export async function withApp<T>(
  store: TestStore,
  setup: (app: DFApp) => void,
  body: (running: RunningApp) => Promise<T>,
  options: WithAppOptions = {},
): Promise<T> {
  const running = await runApp(
    store,
    (url) => {
      const app = new DFApp({ ...options.app, store: url });
      setup(app);
      return app;
    },
    // A test that fails while an activity is held open should not wait the default 30 s drain.
    { drainTimeoutMs: 5000, ...options.worker },
  );
  try {
    return await body(running);
  } finally {
    await running.stop();
  }
}

/** Polls `check` until it returns a value other than `undefined` or `false`, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until the instance's status satisfies `predicate`; returns that status. */
export function statusWhere(
  client: DurableClient,
  instanceId: string,
  predicate: (status: DurableOrchestrationStatus) => boolean,
  timeoutMs = 10_000,
): Promise<DurableOrchestrationStatus> {
  return eventually(`instance '${instanceId}' to reach the expected state`, async () => {
    const status = await client.getStatus(instanceId);
    return status && predicate(status) ? status : undefined;
  }, timeoutMs);
}

/** Waits for a terminal status (bounded). */
export async function finished(client: DurableClient, instanceId: string, timeoutMs = 10_000): Promise<DurableOrchestrationStatus> {
  const status = await client.waitForCompletion(instanceId, { timeoutInMilliseconds: timeoutMs });
  if (['Running', 'Pending', 'Suspended', 'ContinuedAsNew'].includes(status.runtimeStatus)) {
    throw new Error(`Instance '${instanceId}' is still ${status.runtimeStatus} after ${timeoutMs} ms.`);
  }
  return status;
}

/** Starts `name` and waits for it to finish. */
export async function run(
  client: DurableClient,
  name: string,
  input?: unknown,
  options: Omit<StartNewOptions, 'input'> = {},
): Promise<DurableOrchestrationStatus> {
  const id = await client.startNew(name, { input, ...options });
  return finished(client, id);
}

/** The history of the current execution, with inputs and results. */
export async function historyOf(client: DurableClient, instanceId: string): Promise<HistoryEvent[]> {
  const status = await client.getStatus(instanceId, { showHistory: true, showHistoryOutput: true });
  if (!status) throw new Error(`No instance '${instanceId}'.`);
  return status.history ?? [];
}

/** Events of one type, narrowed. */
export function eventsOf<K extends HistoryEvent['eventType']>(
  history: readonly HistoryEvent[],
  type: K,
): Extract<HistoryEvent, { eventType: K }>[] {
  return history.filter((e): e is Extract<HistoryEvent, { eventType: K }> => e.eventType === type);
}

/** Waits until the instance's history contains an event matching `predicate`. */
export function historyWhere(
  client: DurableClient,
  instanceId: string,
  predicate: (history: HistoryEvent[]) => boolean,
  timeoutMs = 10_000,
): Promise<HistoryEvent[]> {
  return eventually(`history of '${instanceId}' to reach the expected state`, async () => {
    const status = await client.getStatus(instanceId, { showHistory: true, showHistoryOutput: true });
    const history = status?.history ?? [];
    return predicate(history) ? history : undefined;
  }, timeoutMs);
}

/** A latch an activity awaits until the test opens it. */
export class Gate {
  #open!: () => void;
  readonly #opened: Promise<void>;
  #entered = 0;
  constructor() {
    this.#opened = new Promise<void>((resolve) => (this.#open = resolve));
  }
  /** Called by the activity: resolves once the gate is open. */
  wait(): Promise<void> {
    this.#entered++;
    return this.#opened;
  }
  /** How many callers reached the gate. */
  get entered(): number {
    return this.#entered;
  }
  open(): void {
    this.#open();
  }
}
