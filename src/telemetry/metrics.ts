/**
 * duraflow's metrics: one set per process, kept in a prom-client registry (what `GET /metrics` renders) and
 * mirrored to the OpenTelemetry metrics API (the app's global meter provider; a no-op without one).
 *
 * Counters and histograms are recorded where the work happens (this process's workers and clients); the
 * hub-wide numbers (instances by status, backlog, live workers) are read from the store when scraped, by
 * indexed queries only (see `HubStore.metricsSnapshot`).
 */
import { metrics as otelMetrics, type Counter as OtelCounter, type Histogram as OtelHistogram, type MeterProvider } from '@opentelemetry/api';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HubSnapshot } from '../store/store.js';

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500];

type Labels = Record<string, string>;

/**
 * An OpenTelemetry instrument of the current global meter provider. The metrics API has no proxy provider (a
 * meter taken before the app registers its provider stays a no-op), so the instrument is made again whenever
 * the global provider is another one.
 */
class OtelInstrument<T> {
  #provider: MeterProvider | undefined;
  #instrument: T | undefined;
  constructor(private readonly make: (provider: MeterProvider) => T) {}
  get(): T {
    const provider = otelMetrics.getMeterProvider();
    if (provider !== this.#provider || this.#instrument === undefined) {
      this.#provider = provider;
      this.#instrument = this.make(provider);
    }
    return this.#instrument;
  }
}

/** The label key of a set of labels, in the metric's label order (cheaper than prom-client's own per-call hashing). */
function labelKey(labels: Labels): string {
  let key = '';
  for (const name in labels) key += `${labels[name]}\u0000`;
  return key;
}

/** A counter in both worlds. */
class DualCounter {
  readonly #prom: Counter<string>;
  readonly #children = new Map<string, Counter.Internal>();
  readonly #otel: OtelInstrument<OtelCounter>;
  constructor(registry: Registry, name: string, help: string, labelNames: string[]) {
    this.#prom = new Counter({ name, help, labelNames, registers: [registry] });
    this.#otel = new OtelInstrument((p) => p.getMeter('duraflow').createCounter(name.replace(/_total$/, ''), { description: help }));
  }
  inc(labels: Labels, value = 1): void {
    const key = labelKey(labels);
    let child = this.#children.get(key);
    if (!child) this.#children.set(key, (child = this.#prom.labels(labels)));
    child.inc(value);
    this.#otel.get().add(value, labels);
  }
}

/** A histogram in both worlds (seconds, or a count for batch sizes). */
class DualHistogram {
  readonly #prom: Histogram<string>;
  readonly #children = new Map<string, Histogram.Internal<string>>();
  readonly #otel: OtelInstrument<OtelHistogram>;
  constructor(registry: Registry, name: string, help: string, labelNames: string[], buckets: number[], unit: string) {
    this.#prom = new Histogram({ name, help, labelNames, buckets, registers: [registry] });
    this.#otel = new OtelInstrument((p) =>
      p.getMeter('duraflow').createHistogram(name, { description: help, unit, advice: { explicitBucketBoundaries: buckets } }),
    );
  }
  observe(labels: Labels, value: number): void {
    const key = labelKey(labels);
    let child = this.#children.get(key);
    if (!child) this.#children.set(key, (child = this.#prom.labels(labels)));
    child.observe(value);
    this.#otel.get().record(value, labels);
  }
}

/** The metrics of this process. */
export class DuraflowMetrics {
  readonly registry = new Registry();
  readonly started = new DualCounter(this.registry, 'duraflow_orchestrations_started_total', 'Orchestration executions begun by this process, by name.', ['hub', 'name']);
  readonly finished = new DualCounter(
    this.registry,
    'duraflow_orchestrations_finished_total',
    'Orchestration executions ended by this process, by name and status (Completed, Failed, Terminated, ContinuedAsNew).',
    ['hub', 'name', 'status'],
  );
  readonly activities = new DualCounter(this.registry, 'duraflow_activities_total', 'Activity attempts run by this process, by name and outcome (completed, failed).', ['hub', 'name', 'outcome']);
  readonly outputWritesFailed = new DualCounter(
    this.registry,
    'duraflow_output_writes_failed_total',
    "Writes to the CLI's stdout or stderr (its log) that failed, e.g. on a full or read-only disk, and were dropped, by stream.",
    ['stream'],
  );
  readonly takeovers = new DualCounter(this.registry, 'duraflow_lease_takeovers_total', "Leases this process's workers took over from dead or paused workers, by kind.", ['hub', 'kind']);
  readonly episodeSeconds = new DualHistogram(this.registry, 'duraflow_episode_duration_seconds', 'Time to run one episode (replay included), by orchestration name.', ['hub', 'name'], DURATION_BUCKETS, 's');
  readonly activitySeconds = new DualHistogram(this.registry, 'duraflow_activity_duration_seconds', 'Time one activity attempt ran, by name.', ['hub', 'name'], DURATION_BUCKETS, 's');
  readonly commitSeconds = new DualHistogram(this.registry, 'duraflow_commit_duration_seconds', 'Latency of one group commit of episodes.', ['hub'], DURATION_BUCKETS, 's');
  readonly commitBatch = new DualHistogram(this.registry, 'duraflow_commit_batch_size', 'Episodes per group commit.', ['hub'], BATCH_BUCKETS, '{episode}');

  // Hub-wide gauges, set from a store snapshot when scraped.
  readonly #instances = new Gauge({ name: 'duraflow_instances', help: 'Orchestration instances not finished, by status (Pending, Running, Suspended).', labelNames: ['hub', 'status'], registers: [this.registry] });
  readonly #messages = new Gauge({ name: 'duraflow_backlog_messages', help: 'Orchestration and entity messages visible now (waiting for an episode).', labelNames: ['hub'], registers: [this.registry] });
  readonly #oldest = new Gauge({ name: 'duraflow_backlog_oldest_seconds', help: 'Age of the oldest visible message (0 when none waits).', labelNames: ['hub'], registers: [this.registry] });
  readonly #runnable = new Gauge({ name: 'duraflow_backlog_activities', help: 'Activities runnable now (not leased).', labelNames: ['hub'], registers: [this.registry] });
  readonly #workers = new Gauge({ name: 'duraflow_workers_alive', help: 'Workers whose heartbeat has not run out.', labelNames: ['hub'], registers: [this.registry] });

  /** Hubs whose gauges the OpenTelemetry meter observes, with how to read their snapshot. */
  readonly #observed = new Map<string, () => Promise<HubSnapshot>>();
  readonly #observers = new OtelInstrument((provider) => {
    const meter = provider.getMeter('duraflow');
    const gauge = (name: string, description: string, unit: string) => meter.createObservableGauge(name, { description, unit });
    const instances = gauge('duraflow_instances', 'Orchestration instances not finished, by status.', '{instance}');
    const messages = gauge('duraflow_backlog_messages', 'Messages visible now.', '{message}');
    const oldest = gauge('duraflow_backlog_oldest_seconds', 'Age of the oldest visible message.', 's');
    const runnable = gauge('duraflow_backlog_activities', 'Activities runnable now.', '{activity}');
    const workers = gauge('duraflow_workers_alive', 'Workers whose heartbeat has not run out.', '{worker}');
    meter.addBatchObservableCallback(async (result) => {
      for (const [hub, read] of this.#observed) {
        let snapshot: HubSnapshot;
        try {
          snapshot = await read();
        } catch {
          continue; // a store out of reach reports nothing for this collection
        }
        for (const status of ['Pending', 'Running', 'Suspended'] as const) result.observe(instances, snapshot.instances[status] ?? 0, { hub, status });
        result.observe(messages, snapshot.visibleMessages, { hub });
        result.observe(oldest, snapshot.oldestVisibleMs / 1000, { hub });
        result.observe(runnable, snapshot.runnableActivities, { hub });
        result.observe(workers, snapshot.workersAlive, { hub });
      }
    }, [instances, messages, oldest, runnable, workers]);
    return meter;
  });

  /**
   * Lets the OpenTelemetry meter observe `hub`'s gauges, read with `snapshot` at each collection. Observed under
   * the meter provider registered when this is called (a host calls it when it starts).
   */
  observeHub(hub: string, snapshot: () => Promise<HubSnapshot>): () => void {
    this.#observed.set(hub, snapshot);
    this.#observers.get();
    return () => {
      if (this.#observed.get(hub) === snapshot) this.#observed.delete(hub);
    };
  }

  /** Sets the hub-wide gauges of `hub` from a snapshot. */
  setSnapshot(hub: string, snapshot: HubSnapshot): void {
    for (const status of ['Pending', 'Running', 'Suspended'] as const) this.#instances.set({ hub, status }, snapshot.instances[status] ?? 0);
    this.#messages.set({ hub }, snapshot.visibleMessages);
    this.#oldest.set({ hub }, snapshot.oldestVisibleMs / 1000);
    this.#runnable.set({ hub }, snapshot.runnableActivities);
    this.#workers.set({ hub }, snapshot.workersAlive);
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The exposition's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

let shared: DuraflowMetrics | undefined;

/** The process's metrics (created on first use). */
export function duraflowMetrics(): DuraflowMetrics {
  shared ??= new DuraflowMetrics();
  return shared;
}

/** Seconds since `startMs` (a `performance.now()` reading). */
export function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}
