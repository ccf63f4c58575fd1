/**
 * One benchmark case in a process of its own (`child.ts <case spec as JSON>`, forked by the harness): runs it and
 * sends `{ type: 'result', metrics }` or `{ type: 'error', message }` over IPC. Exits when the harness goes away.
 */
import { clientSignals } from './entities.js';
import { pgCommitRate, sqliteCommitRate } from './limits.js';
import type { Metric } from './metrics.js';
import type { CaseSpec } from './plan.js';
import {
  dispatchOtherProcess,
  dispatchSameProcess,
  eventsWorkload,
  fanoutWorkload,
  helloWorkload,
  closedLoopWorkload,
  chain5Workload,
  sequenceWorkload,
  type Measured,
} from './workloads.js';

/** What a case process sends the harness. */
export type CaseMessage = { type: 'result'; metrics: Metric[] } | { type: 'error'; message: string };

async function limit(spec: CaseSpec): Promise<Measured[]> {
  const seconds = spec.sizes.limitSeconds;
  const value =
    spec.store === 'sqlite'
      ? sqliteCommitRate(Number.MAX_SAFE_INTEGER, seconds)
      : await pgCommitRate(spec.schema!, seconds, spec.pgServer);
  return [{ key: spec.param === 'end' ? 'limit.commits.end' : 'limit.commits', value }];
}

async function duraflow(spec: CaseSpec): Promise<Measured[]> {
  const url = spec.url!;
  const { sizes } = spec;
  const timeout = sizes.caseTimeoutMs;
  switch (spec.workload) {
    case 'hello':
      return helloWorkload(url, sizes.hello, timeout);
    case 'chain5':
      return chain5Workload(url, sizes.chain5, timeout);
    case 'closed':
      return closedLoopWorkload(url, sizes.closed.n, sizes.closed.inFlight, timeout);
    case 'sequence':
      return sequenceWorkload(url, spec.param as number, timeout);
    case 'fanout':
      return fanoutWorkload(url, spec.param as number, timeout);
    case 'events':
      return eventsWorkload(url, sizes.events, timeout);
    case 'entity': {
      const entities = spec.param as number;
      const { perSecond, ms } = await clientSignals(url, sizes.entitySignals, entities, timeout);
      return [
        {
          key: `entity.rate.${entities}`,
          value: perSecond,
          note: `${(ms / 1000).toFixed(2)} s`,
          n: sizes.entitySignals,
        },
      ];
    }
    case 'dispatch': {
      const polled = spec.store === 'sqlite';
      if (spec.param === 'same') return dispatchSameProcess(url, sizes.dispatchSamples, timeout);
      return dispatchOtherProcess(url, polled ? sizes.dispatchPolledSamples : sizes.dispatchSamples, timeout);
    }
    default:
      throw new Error(`no duraflow workload '${spec.workload}'`);
  }
}

async function run(spec: CaseSpec): Promise<Metric[]> {
  let measured: Measured[];
  if (spec.system === 'limit') measured = await limit(spec);
  else if (spec.system === 'duraflow') measured = await duraflow(spec);
  else {
    // Loaded only here: the peer lives in bench/node_modules, which only `npm run bench` installs.
    const { runDbosCase } = await import('./peers/dbos.js');
    measured = await runDbosCase(spec);
  }
  return measured.map((m) => ({ ...m, system: spec.system, store: spec.store }));
}

/** Sends `message` to the harness and resolves once it is written. */
function report(message: CaseMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

const spec = JSON.parse(process.argv[2] ?? 'null') as CaseSpec | null;
process.on('disconnect', () => process.exit(1));
if (!spec) throw new Error('usage: child.ts <case spec as JSON>');
try {
  await report({ type: 'result', metrics: await run(spec) });
} catch (error) {
  await report({ type: 'error', message: (error as Error).stack ?? String(error) });
}
// Nothing of a case may linger (pools, timers): the harness waits for the exit.
process.exit(0);
