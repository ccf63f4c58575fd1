/**
 * What a benchmark run measures: the sizes of each mode, and the list of cases (one child process each) for
 * the chosen workloads and stores, duraflow next to DBOS where DBOS has an equivalent, with the stores' raw
 * commit rates measured at the start and at the end of the run.
 */
import type { StoreName, WorkloadName } from './metrics.js';

/** `full` is the documented run (~10 minutes on 2 cores); `quick` a check under 2 minutes; `tiny` the test's. */
export type Mode = 'full' | 'quick' | 'tiny';

/** Sizes of one mode. */
export interface Sizes {
  /** Orchestrations of the hello workload. */
  hello: number;
  /** The closed-loop hello workload: orchestrations in all, and how many are in flight at a time. */
  closed: { n: number; inFlight: number };
  /** Orchestrations of the Durable Task Scheduler's benchmark shape (5 sequential activities, started at once). */
  chain5: number;
  /** Activities of the sequence workload, one case each (the first and last make the linearity ratio). */
  sequence: number[];
  /** Activities of the fan-out/fan-in workload, one case each. */
  fanout: number[];
  /** External events raised. */
  events: number;
  /** Entity signals per case (to 1 entity, and spread over 100). */
  entitySignals: number;
  /** Dispatch samples where a notice wakes the worker (same process; PostgreSQL NOTIFY). */
  dispatchSamples: number;
  /** Dispatch samples where the worker polls (SQLite across processes; DBOS queues): each costs about half a poll interval. */
  dispatchPolledSamples: number;
  /** Seconds of each raw commit-rate measurement. */
  limitSeconds: number;
  /** Measure the limits again at the end of the run (the machine's load may have changed meanwhile). */
  limitsAtEnd: boolean;
  /** A case that runs longer is killed and reported as timed out. */
  caseTimeoutMs: number;
}

/**
 * The warm-up before each timed part, the same for duraflow and DBOS, so that what is timed is the steady state
 * of a running worker: after a 10-step warm-up the 1,000-step sequence ran ~30% slower per step than the
 * 10,000-step one, on both; 1,000-step runs one after another on one worker settle after about 2,000 steps (V8's
 * optimizing tiers, and a fresh store whose files are still growing). `steps` for one orchestration or workflow
 * (sequence, fan-out, events), `instances` for hello; never more than the timed part itself.
 */
export const WARM_UP = { steps: 1000, instances: 500 } as const;

/** The warm-up size before a timed part of size `n`. */
export function warmUp(n: number, kind: keyof typeof WARM_UP): number {
  return Math.min(n, WARM_UP[kind]);
}

/** The sizes of every mode. */
export const SIZES: Record<Mode, Sizes> = {
  full: {
    hello: 2000,
    closed: { n: 1000, inFlight: 50 },
    chain5: 2000,
    sequence: [1000, 10_000],
    fanout: [1000, 10_000],
    events: 1000,
    entitySignals: 2000,
    dispatchSamples: 100,
    dispatchPolledSamples: 25,
    limitSeconds: 2,
    limitsAtEnd: true,
    caseTimeoutMs: 120_000,
  },
  quick: {
    hello: 300,
    closed: { n: 300, inFlight: 50 },
    chain5: 300,
    sequence: [100, 1000],
    fanout: [100, 1000],
    events: 200,
    entitySignals: 300,
    dispatchSamples: 20,
    dispatchPolledSamples: 6,
    limitSeconds: 1,
    limitsAtEnd: false,
    caseTimeoutMs: 30_000,
  },
  tiny: {
    hello: 4,
    closed: { n: 4, inFlight: 2 },
    chain5: 3,
    sequence: [2, 20],
    fanout: [2, 20],
    events: 3,
    entitySignals: 4,
    dispatchSamples: 2,
    dispatchPolledSamples: 1,
    limitSeconds: 0.2,
    limitsAtEnd: false,
    caseTimeoutMs: 60_000,
  },
};

/**
 * The variant of a case: sequence and fan-out sizes, entity counts (1 or 100), dispatch in the same or another
 * process, and limits measured at the start or at the end of the run.
 */
export type CaseParam = number | 'same' | 'other' | 'start' | 'end';

/** One child process of the run. */
export interface CaseSpec {
  /** `limit` cases measure the store's raw commit rate; `workload` is then `commit`. */
  system: 'duraflow' | 'dbos' | 'limit';
  workload: WorkloadName | 'commit';
  store: StoreName;
  param?: CaseParam;
  sizes: Sizes;
  /** duraflow's store URL (filled in by the harness right before the case runs). */
  url?: string;
  /** PostgreSQL server and the case's own schema (DBOS and the PostgreSQL limit). */
  pgServer?: string;
  schema?: string;
}

/** The workloads DBOS Transact has an equivalent for (it has no entities). */
export const DBOS_WORKLOADS: readonly WorkloadName[] = ['hello', 'closed', 'sequence', 'fanout', 'events', 'dispatch'];

function params(workload: WorkloadName, sizes: Sizes): Array<CaseParam | undefined> {
  switch (workload) {
    case 'sequence':
      return sizes.sequence;
    case 'fanout':
      return sizes.fanout;
    case 'entity':
      return [1, 100];
    case 'dispatch':
      return ['same', 'other'];
    default:
      return [undefined];
  }
}

/** The cases of a run, in order: limits, then each workload on each store with DBOS beside it, then limits again. */
export function planCases(options: {
  mode: Mode;
  workloads: WorkloadName[];
  stores: StoreName[];
  dbos: boolean;
}): CaseSpec[] {
  const sizes = SIZES[options.mode];
  const limits = (param: 'start' | 'end') =>
    options.stores.map((store): CaseSpec => ({ system: 'limit', workload: 'commit', store, sizes, param }));
  const cases: CaseSpec[] = limits('start');
  for (const workload of options.workloads) {
    for (const param of params(workload, sizes)) {
      const p = param === undefined ? {} : { param };
      for (const store of options.stores) cases.push({ system: 'duraflow', workload, store, sizes, ...p });
      if (options.dbos && DBOS_WORKLOADS.includes(workload)) {
        cases.push({ system: 'dbos', workload, store: 'postgres', sizes, ...p });
      }
    }
  }
  if (sizes.limitsAtEnd) cases.push(...limits('end'));
  return cases;
}

/** A short name of a case for progress lines, e.g. `duraflow sequence(10000) postgres`. */
export function caseName(spec: CaseSpec): string {
  const param = spec.param === undefined ? '' : `(${spec.param})`;
  return `${spec.system} ${spec.workload}${param} ${spec.store}`;
}
