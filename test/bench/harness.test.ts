/**
 * The benchmark harness must not rot: its whole code path (planning, a child process per case, the workloads,
 * the SQLite limit, the report and its files) runs here on tiny sizes on SQLite. No timing is asserted.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runBench, type BenchRun } from '../../bench/harness.js';
import { WORKLOADS } from '../../bench/metrics.js';
import { planCases, SIZES } from '../../bench/plan.js';
import { rowDefs } from '../../bench/report.js';

describe('benchmark harness', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'duraflow-bench-test-'));
  after(() => rmSync(outDir, { recursive: true, force: true }));

  test('plans every workload on every store, DBOS beside the workloads it has, limits first', () => {
    const cases = planCases({ mode: 'full', workloads: [...WORKLOADS], stores: ['sqlite', 'postgres'], dbos: true });
    assert.deepEqual(
      cases.slice(0, 2).map((c) => [c.system, c.store, c.param]),
      [
        ['limit', 'sqlite', 'start'],
        ['limit', 'postgres', 'start'],
      ],
    );
    assert.deepEqual(
      cases.slice(-2).map((c) => [c.system, c.param]),
      [
        ['limit', 'end'],
        ['limit', 'end'],
      ],
    );
    for (const workload of WORKLOADS) {
      for (const store of ['sqlite', 'postgres'] as const) {
        assert.ok(
          cases.some((c) => c.system === 'duraflow' && c.workload === workload && c.store === store),
          `${workload} on ${store}`,
        );
      }
      assert.equal(
        cases.some((c) => c.system === 'dbos' && c.workload === workload),
        workload !== 'entity' && workload !== 'chain5',
        `DBOS ${workload}`,
      );
    }
    assert.deepEqual(
      cases
        .filter((c) => c.system === 'duraflow' && c.workload === 'sequence' && c.store === 'sqlite')
        .map((c) => c.param),
      SIZES.full.sequence,
    );
  });

  // About a dozen child processes: generous time for a loaded machine (each case has its own timeout too).
  test(
    'a tiny run on SQLite yields a result for every row of every workload and writes the table and JSON',
    { timeout: 300_000 },
    async () => {
      const lines: string[] = [];
      const run: BenchRun = await runBench({
        mode: 'tiny',
        stores: ['sqlite'],
        dbos: false,
        outDir,
        log: (line) => lines.push(line),
      });
      const failed = run.cases.filter((c) => c.error).map((c) => `${c.spec.workload}(${c.spec.param}): ${c.error}`);
      assert.deepEqual(failed, []);
      assert.equal(lines.length, run.cases.length, 'one progress line per case');

      const rows = rowDefs(SIZES.tiny, WORKLOADS);
      for (const workload of WORKLOADS)
        assert.ok(
          rows.some((r) => r.workload === workload),
          `rows of ${workload}`,
        );
      for (const row of rows) {
        const system = row.workload === 'commit' ? 'limit' : 'duraflow';
        const metric = run.metrics.find((m) => m.key === row.key && m.system === system && m.store === 'sqlite');
        assert.ok(metric, `a result for ${row.key}`);
        assert.ok(Number.isFinite(metric.value), `${row.key} = ${metric.value}`);
        if (row.kind === 'rate') assert.ok(metric.value > 0, `${row.key} = ${metric.value}`);
        assert.ok(run.markdown.includes(`| ${row.label} |`), `table row ${row.label}`);
      }

      assert.ok(existsSync(run.files.markdown) && existsSync(run.files.json));
      const json = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as {
        metrics: unknown[];
        meta: { mode: string };
      };
      assert.equal(json.meta.mode, 'tiny');
      assert.equal(json.metrics.length, run.metrics.length);
      assert.equal(readFileSync(join(outDir, 'latest.md'), 'utf8'), run.markdown);
    },
  );
});
