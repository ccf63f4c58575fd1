/**
 * The benchmark's markdown table: one row per measured quantity; columns for duraflow on SQLite and on
 * PostgreSQL, DBOS on PostgreSQL, each next to its ratio to the store's raw commit rate, and duraflow ÷ DBOS.
 */
import { formatNumber, type Metric, type StoreName, type SystemName, type WorkloadName } from './metrics.js';
import type { CaseParam, CaseSpec, Sizes } from './plan.js';

/** How a row's value relates to the commit rate: a rate (÷ commits/s), a latency (÷ one commit's time), or neither. */
type Kind = 'rate' | 'latency' | 'plain';

/** One row of the table. */
export interface RowDef {
  key: string;
  label: string;
  kind: Kind;
  /** The case that produces the row (for reporting its failure). */
  workload: WorkloadName | 'commit';
  param?: CaseParam;
}

/** The outcome of one case. */
export interface CaseResult {
  spec: Omit<CaseSpec, 'sizes'>;
  metrics: Metric[];
  seconds: number;
  error?: string;
  timedOut?: boolean;
  /** The error of a first try that failed (the case was run once more). */
  retriedAfter?: string;
}

const n = (value: number) => value.toLocaleString('en-US');

/** The rows of a run with `sizes`, in order. */
export function rowDefs(sizes: Sizes, workloads: readonly WorkloadName[]): RowDef[] {
  const rows: RowDef[] = [
    {
      key: 'limit.commits',
      label: 'raw commit rate: single-row INSERT per transaction (commits/s) — the physical limit',
      kind: 'rate',
      workload: 'commit',
    },
  ];
  const add = (workload: WorkloadName, defs: Array<Omit<RowDef, 'workload'>>) => {
    if (workloads.includes(workload)) rows.push(...defs.map((d) => ({ ...d, workload })));
  };
  add('hello', [
    {
      key: 'hello.rate',
      label: `hello: ${n(sizes.hello)} orchestrations × 3 sequential activities, started at once (orchestrations/s)`,
      kind: 'rate',
    },
    { key: 'hello.p50', label: 'hello: start → completed, p50 (ms, lower is better)', kind: 'latency' },
    { key: 'hello.p99', label: 'hello: start → completed, p99 (ms, lower is better)', kind: 'latency' },
  ]);
  add('closed', [
    {
      key: 'closed.rate',
      label: `closed loop: ${n(sizes.closed.n)} hello orchestrations, ${sizes.closed.inFlight} in flight, each startNew then waitForCompletion (orchestrations/s)`,
      kind: 'rate',
    },
    { key: 'closed.p50', label: 'closed loop: startNew → waitForCompletion returned, p50 (ms, lower is better)', kind: 'latency' },
  ]);
  add('chain5', [
    {
      key: 'chain5.rate',
      label: `DTS shape: ${n(sizes.chain5)} orchestrations × 5 sequential activities on 1 worker, started at once (work items/s: 11 per orchestration; DTS publishes ~1,400/s per worker, Azure Storage ~250/s)`,
      kind: 'rate',
    },
  ]);
  const [first, last] = [sizes.sequence[0]!, sizes.sequence[sizes.sequence.length - 1]!];
  add('sequence', [
    ...sizes.sequence.map((size) => ({
      key: `sequence.rate.${size}`,
      label: `sequence: 1 orchestration × ${n(size)} sequential activities (activities/s)`,
      kind: 'rate' as const,
      param: size,
    })),
    {
      key: 'sequence.ratio',
      label: `sequence: time for ${n(last)} ÷ time for ${n(first)} (linear = ${last / first}, lower is better)`,
      kind: 'plain',
      param: last,
    },
  ]);
  add(
    'fanout',
    sizes.fanout.map((size) => ({
      key: `fanout.rate.${size}`,
      label: `fan-out/fan-in: 1 orchestration × ${n(size)} parallel activities (activities/s)`,
      kind: 'rate' as const,
      param: size,
    })),
  );
  add('events', [
    {
      key: 'events.rate',
      label: `events: ${n(sizes.events)} external events raised one at a time to 1 waiting orchestration (events/s)`,
      kind: 'rate',
    },
  ]);
  add('entity', [
    {
      key: 'entity.rate.1',
      label: `entity: ${n(sizes.entitySignals)} client signals (8 in flight) to 1 counter entity, until applied (operations/s)`,
      kind: 'rate',
      param: 1,
    },
    {
      key: 'entity.rate.100',
      label: `entity: ${n(sizes.entitySignals)} client signals (8 in flight) over 100 counter entities (operations/s)`,
      kind: 'rate',
      param: 100,
    },
  ]);
  add('dispatch', [
    {
      key: 'dispatch.same.p50',
      label: 'dispatch: startNew → first activity running, worker in the same process, p50 (ms, lower is better)',
      kind: 'latency',
      param: 'same',
    },
    {
      key: 'dispatch.same.p99',
      label: 'dispatch: same process, p99 (ms, lower is better)',
      kind: 'latency',
      param: 'same',
    },
    {
      key: 'dispatch.other.p50',
      label:
        'dispatch: startNew → first activity running on an idle worker in another process, p50 (ms, lower is better)',
      kind: 'latency',
      param: 'other',
    },
    {
      key: 'dispatch.other.p99',
      label: 'dispatch: another process, p99 (ms, lower is better)',
      kind: 'latency',
      param: 'other',
    },
  ]);
  return rows;
}

/** Adds derived metrics: the sequence linearity ratio of each system and store. */
export function derive(metrics: Metric[], sizes: Sizes): Metric[] {
  const out = [...metrics];
  const [first, last] = [sizes.sequence[0]!, sizes.sequence[sizes.sequence.length - 1]!];
  for (const m of metrics.filter((x) => x.key === `sequence.ms.${last}`)) {
    const base = metrics.find((x) => x.key === `sequence.ms.${first}` && x.system === m.system && x.store === m.store);
    if (base && first !== last)
      out.push({ key: 'sequence.ratio', system: m.system, store: m.store, value: m.value / base.value });
  }
  return out;
}

/** The store's commit rate for ratios: the mean of the measurements at the start and the end of the run. */
export function commitRate(metrics: Metric[], store: StoreName): number | undefined {
  const values = metrics.filter((m) => m.system === 'limit' && m.store === store && m.key.startsWith('limit.commits'));
  return values.length ? values.reduce((sum, m) => sum + m.value, 0) / values.length : undefined;
}

function find(metrics: Metric[], key: string, system: SystemName, store: StoreName): Metric | undefined {
  return metrics.find((m) => m.key === key && m.system === system && m.store === store);
}

function failure(cases: CaseResult[], row: RowDef, system: SystemName, store: StoreName): string | undefined {
  const failed = cases.find(
    (c) =>
      c.error &&
      c.spec.system === system &&
      c.spec.store === store &&
      c.spec.workload === row.workload &&
      (row.param === undefined ||
        c.spec.param === row.param ||
        (row.workload === 'commit' && c.spec.param === 'start')),
  );
  if (!failed) return undefined;
  return failed.timedOut ? `timeout (> ${Math.round(failed.seconds)} s)` : 'failed';
}

function valueCell(metrics: Metric[], cases: CaseResult[], row: RowDef, system: SystemName, store: StoreName): string {
  if (row.key === 'limit.commits') {
    const values = metrics.filter((m) => m.system === 'limit' && m.store === store).map((m) => formatNumber(m.value));
    if (values.length) return values.join(' / ');
  }
  const m = find(metrics, row.key, system, store);
  if (m) return `${formatNumber(m.value)}${m.note ? ` (${m.note})` : ''}`;
  return failure(cases, row, system, store) ?? '—';
}

function limitRatio(metrics: Metric[], row: RowDef, system: SystemName, store: StoreName): string {
  const rate = commitRate(metrics, store);
  const m = row.key === 'limit.commits' ? undefined : find(metrics, row.key, system, store);
  if (!rate || !m || row.kind === 'plain') return '—';
  return formatNumber(row.kind === 'rate' ? m.value / rate : m.value / (1000 / rate));
}

function peerRatio(metrics: Metric[], row: RowDef): string {
  const ours = find(metrics, row.key, 'duraflow', 'postgres');
  const theirs = find(metrics, row.key, 'dbos', 'postgres');
  if (!ours || !theirs || theirs.value === 0) return '—';
  return `${formatNumber(ours.value / theirs.value)}×`;
}

/** The markdown table of a run. */
export function renderTable(metrics: Metric[], cases: CaseResult[], rows: RowDef[]): string {
  const lines = [
    '| workload | duraflow · SQLite | ÷ limit | duraflow · PostgreSQL | ÷ limit | DBOS · PostgreSQL | ÷ limit | duraflow ÷ DBOS |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const row of rows) {
    const isLimit = row.key === 'limit.commits';
    const cells = [
      row.label,
      valueCell(metrics, cases, row, isLimit ? 'limit' : 'duraflow', 'sqlite'),
      isLimit ? (commitRate(metrics, 'sqlite') ? '1' : '—') : limitRatio(metrics, row, 'duraflow', 'sqlite'),
      valueCell(metrics, cases, row, isLimit ? 'limit' : 'duraflow', 'postgres'),
      isLimit ? (commitRate(metrics, 'postgres') ? '1' : '—') : limitRatio(metrics, row, 'duraflow', 'postgres'),
      isLimit ? '(same server)' : valueCell(metrics, cases, row, 'dbos', 'postgres'),
      isLimit ? '' : limitRatio(metrics, row, 'dbos', 'postgres'),
      isLimit ? '' : peerRatio(metrics, row),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** What the ratio columns mean (printed under the table). */
export const RATIO_LEGEND = [
  '÷ limit: for a rate, the rate divided by the store’s raw commits/s (mean of the measurements at the start and end',
  'of the run); for a latency, the latency in units of one raw commit’s time. duraflow ÷ DBOS: above 1 is better for',
  'rates, below 1 for latencies and times. Limit row: commits/s at the start / end of the run.',
].join('\n');
