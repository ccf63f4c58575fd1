/**
 * The worker's schedule loop: sleeps until the hub's next due time (its own timer, re-armed by `schedules`
 * notices from any process), then writes the due schedules' runs. Every worker runs one and they may race for
 * the same due time: the store's compare-and-set on the schedule's revision lets exactly one write the run (the
 * instance `<scheduleId>:<due ISO>`, created in the same transaction if absent); the others find the new
 * revision and see nothing left to do. No leader, no lease: a worker that dies mid-way wrote nothing or all.
 */
import { flowLimitsFor, type FlowOptions } from '../sdk/flow-control.js';
import { isTerminalStatus, type RuntimeStatus } from '../sdk/history.js';
import type { Logger } from '../sdk/logger.js';
import { planDue, type SchedulePlan } from '../store/schedule-plan.js';
import type { ScheduleRecord } from '../store/schedule-record.js';
import { startInstanceRequest } from '../store/start-request.js';
import type { HubStore, ScheduleRunStart, Store } from '../store/store.js';
import { WakeSignal } from './wake-signal.js';

/** Settings of a {@link ScheduleRunner}. */
export interface ScheduleRunnerOptions {
  store: Store;
  hub: HubStore;
  logger: Logger;
  /** The worker's clock, for the start events of runs (due times are compared with the store's clock). */
  clock: () => number;
  /** Longest sleep without a notice: how late a buffered run may start when a notice was lost. */
  pollIntervalMs: number;
  /** The version a run of `name` gets when its schedule names none (what `startNew` would choose). */
  versionFor(name: string): Promise<string | undefined>;
  /** The flow control registered for orchestration `name` here (a run's keys are computed at its start). */
  flowFor?: (name: string) => FlowOptions | undefined;
}

/** Most writes tried for one schedule in one pass before leaving it to the next (others keep winning it). */
const MAX_ATTEMPTS = 5;
/** Sleep after the store said a run is early (this worker's clock runs ahead of the store's). */
const EARLY_RETRY_MS = 250;

/** Starts the runs of due schedules (see the file comment). */
export class ScheduleRunner {
  readonly #signal = new WakeSignal();
  /** Last-run instance ids that a buffered run waits for: their end wakes the loop. */
  readonly #awaited = new Set<string>();
  #stopping = false;
  #done: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(private readonly options: ScheduleRunnerOptions) {}

  /** Starts the loop. */
  start(): void {
    const { store, hub } = this.options;
    this.#unsubscribe = store.subscribe(hub.hub, (notice) => {
      if (notice.kind === 'schedules') this.#signal.notify();
      else if (notice.kind === 'instance' && isTerminalStatus(notice.status) && this.#awaited.has(notice.instanceId)) this.#signal.notify();
      else if (notice.kind === 'instances' && this.#awaited.size) this.#signal.notify();
    });
    this.#done = this.#run();
  }

  /** Looks at the schedules again now. */
  wake(): void {
    this.#signal.notify();
  }

  /** Stops after the current pass. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#unsubscribe?.();
    this.#signal.notify();
    await this.#done;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      let sleep = this.options.pollIntervalMs;
      try {
        const early = await this.#pass();
        const next = await this.options.hub.schedules.nextDueAt();
        if (next) sleep = Math.min(sleep, Math.max(0, next.getTime() - Date.now()));
        if (early) sleep = Math.max(sleep, EARLY_RETRY_MS);
        failures = 0;
      } catch (error) {
        failures++;
        this.options.logger.error(`schedules: ${(error as Error).message}`, error);
        sleep = Math.min(50 * 2 ** failures, 5000);
      }
      if (!this.#stopping) await this.#signal.wait(sleep);
    }
  }

  /** Writes the runs of every due schedule; true when the store found one early (this clock runs ahead). */
  async #pass(): Promise<boolean> {
    this.#awaited.clear();
    let early = false;
    const { now, schedules } = await this.options.hub.schedules.due();
    // Plans use the store's clock (advanced by the time this pass takes), not this process's.
    const passStarted = Date.now();
    const storeNow = () => now + (Date.now() - passStarted);
    for (const record of schedules) {
      if (this.#stopping) break;
      try {
        if ((await this.#fire(record, storeNow)) === 'early') early = true;
      } catch (error) {
        this.options.logger.error(`schedule '${record.scheduleId}' could not run: ${(error as Error).message}`, { scheduleId: record.scheduleId }, error);
      }
    }
    return early;
  }

  /** Plans and writes one schedule's run, reading it again after losing the race to another writer. */
  async #fire(first: ScheduleRecord, now: () => number): Promise<'done' | 'early'> {
    let record: ScheduleRecord | undefined = first;
    for (let attempt = 0; record && attempt < MAX_ATTEMPTS; attempt++) {
      const live = await this.#lastRunLive(record);
      const plan = planDue(record, now(), live);
      if (!plan) {
        if (record.bufferedAt !== undefined && record.lastInstanceId) this.#awaited.add(record.lastInstanceId);
        return 'done';
      }
      const run = plan.runAt !== undefined ? await this.#runStart(plan) : undefined;
      const outcome = await this.options.hub.schedules.put(plan.record, record.revision, run);
      if (outcome === 'written') {
        this.#log(plan);
        return 'done';
      }
      if (outcome === 'early') return 'early';
      record = await this.options.hub.schedules.get(record.scheduleId);
    }
    return 'done';
  }

  async #lastRunLive(record: ScheduleRecord): Promise<boolean> {
    if (!record.lastInstanceId || (record.definition.overlap === 'allow' && record.bufferedAt === undefined)) return false;
    const instance = await this.options.hub.getInstance(record.lastInstanceId);
    return instance !== undefined && !isTerminalStatus(instance.status as RuntimeStatus);
  }

  async #runStart(plan: SchedulePlan): Promise<ScheduleRunStart> {
    const { record } = plan;
    const name = record.definition.orchestration;
    const version = record.definition.version ?? (await this.options.versionFor(name));
    const request = startInstanceRequest(
      { name, instanceId: record.lastInstanceId!, input: record.input, version },
      new Date(this.options.clock()),
    );
    try {
      const flow = flowLimitsFor(this.options.flowFor?.(name), record.input, `orchestration '${name}'`);
      if (flow) request.flow = flow;
    } catch (error) {
      // A run is due whatever its key function says: it starts without limits, and the log says why.
      this.options.logger.warn('schedule run started without flow control', { scheduleId: record.scheduleId, error: (error as Error).message });
    }
    return { request, ...(plan.onTime ? { notBefore: plan.runAt! } : {}) };
  }

  #log(plan: SchedulePlan): void {
    const latest = plan.record.recent[0];
    if (!latest) return;
    const fields = { scheduleId: plan.record.scheduleId, dueAt: new Date(latest.dueAt).toISOString(), outcome: latest.outcome };
    if (latest.outcome === 'started') this.options.logger.info('schedule run started', { ...fields, instanceId: latest.instanceId });
    else this.options.logger.info(`schedule due time ${latest.outcome}`, fields);
  }
}
