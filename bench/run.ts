/**
 * `npm run bench [-- options]`: duraflow on SQLite and PostgreSQL next to DBOS Transact and the stores' raw
 * commit rates, each case in a child process of its own. Writes bench/results/latest.{md,json} (and a copy
 * named after the start time) and prints the table.
 *
 *   --quick                 small sizes, under 2 minutes
 *   --workloads a,b         some of: hello, closed, chain5, sequence, fanout, events, entity, dispatch (default all)
 *   --stores a,b            some of: sqlite, postgres (default both)
 *   --no-dbos               skip the DBOS peer
 *   --out <dir>             results folder (default bench/results)
 *   --update-docs           put this run's table into docs/benchmarks.md (between its bench markers)
 *   --profile               CPU-profile each case process; summaries in <out>/profiles/<case>/summary.md
 *
 * PostgreSQL: env DURAFLOW_BENCH_PG (default postgres://postgres@127.0.0.1:5432/test); each case gets a schema
 * of its own, dropped afterwards.
 */
import { runBench } from './harness.js';
import { STORES, WORKLOADS, type StoreName, type WorkloadName } from './metrics.js';

function listOption<T extends string>(args: string[], name: string, allowed: readonly T[]): T[] | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const values = (args[index + 1] ?? '').split(',').filter(Boolean);
  const unknown = values.filter((v) => !allowed.includes(v as T));
  if (values.length === 0 || unknown.length) {
    throw new Error(
      `${name} takes a comma-separated list of: ${allowed.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`,
    );
  }
  return values as T[];
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(
    'npm run bench -- [--quick] [--workloads hello,closed,chain5,sequence,fanout,events,entity,dispatch] [--stores sqlite,postgres] [--no-dbos] [--out dir] [--profile] [--update-docs]\n',
  );
  process.exit(0);
}
const known = new Set([
  '--quick',
  '--tiny',
  '--no-dbos',
  '--workloads',
  '--stores',
  '--out',
  '--profile',
  '--update-docs',
]);
const stray = args.filter((a) => a.startsWith('-') && !known.has(a));
if (stray.length) throw new Error(`unknown option ${stray.join(' ')} (see --help)`);

const workloads = listOption<WorkloadName>(args, '--workloads', WORKLOADS);
const stores = listOption<StoreName>(args, '--stores', STORES);
const outIndex = args.indexOf('--out');
const result = await runBench({
  mode: args.includes('--tiny') ? 'tiny' : args.includes('--quick') ? 'quick' : 'full',
  ...(workloads ? { workloads } : {}),
  ...(stores ? { stores } : {}),
  dbos: !args.includes('--no-dbos'),
  profile: args.includes('--profile'),
  updateDocs: args.includes('--update-docs'),
  ...(outIndex >= 0 && args[outIndex + 1] ? { outDir: args[outIndex + 1]! } : {}),
  command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
});
process.stdout.write(`\n${result.markdown}\nwritten: ${result.files.markdown}, ${result.files.json}\n`);
