/**
 * `duraflow replay-check <app-module>`: the pre-deploy gate. Replays the stored history of every matching instance
 * against the module's code without changing (or creating) the store, prints `ok` or the first divergence per
 * instance, and exits 1 when any would break. The check itself is `replayCheck` of `duraflow/testing`; the program
 * (src/app/cli.ts) hands it in with the app loader, so this edge imports neither.
 */
import type { Command } from 'commander';
import type { RuntimeStatus } from '../sdk/history.js';
import type { ReplayCheckReport } from '../sdk/replay-check-report.js';
import { parseCount } from './connection.js';
import { collectStatuses } from './options.js';
import { printJson, println, safeText } from './output.js';


/** What the command needs from the program: loading the module, and the check. */
export interface ReplayCheckDeps<App> {
  loadApp(modulePath: string): Promise<App>;
  replayCheck(
    app: App,
    options: { store?: string; taskHub?: string; statuses?: RuntimeStatus[]; name?: string; limit?: number; file?: string },
  ): Promise<ReplayCheckReport>;
}

interface ReplayCheckOptions {
  store?: string;
  hub?: string;
  status?: string[];
  name?: string;
  limit?: string;
  json?: boolean;
  file?: string;
}

/** Registers `replay-check` on the program; `setExitCode` receives 1 when an instance would break. */
export function registerReplayCheckCommand<App>(program: Command, deps: ReplayCheckDeps<App>, setExitCode: (code: number) => void): void {
  program
    .command('replay-check')
    .description('Before a deploy: replay every in-flight instance against the new code, read-only; exit 1 if any would break.')
    .argument('<app-module>', 'the new code: a .ts or .js module exporting a DFApp')
    .option('--store <url>', "store URL (default: the app's store, DURAFLOW_STORE, else sqlite:.duraflow/duraflow.db); opened read-only")
    .option('--hub <name>', "task hub (default: the app's)")
    .option('--status <statuses>', 'statuses to check, repeatable or comma-separated (default Running,Pending,Suspended)', collectStatuses)
    .option('--name <orchestration>', 'only instances of this orchestration')
    .option('--limit <n>', 'check at most n instances (oldest first)')
    .option('--file <export.jsonl>', 'replay the instances of an export (duraflow instances export) instead of a store')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 every instance replays (or is left to workers of its version), 1 some would break (or an error).\n' +
        '\nExamples:\n  duraflow replay-check dist/app.js --store postgres://db/app\n  duraflow replay-check src/app.ts --status Running --name order --json\n  duraflow replay-check src/app.ts --file failed.jsonl',
    )
    .action(async (modulePath: string, options: ReplayCheckOptions) => {
      const statuses = (options.status ?? []) as RuntimeStatus[];
      const limit = parseCount(options.limit, '--limit');
      const app = await deps.loadApp(modulePath);
      const report = await deps.replayCheck(app, {
        ...(options.store !== undefined ? { store: options.store } : {}),
        ...(options.hub !== undefined ? { taskHub: options.hub } : {}),
        ...(statuses.length ? { statuses } : {}),
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(options.file !== undefined ? { file: options.file } : {}),
      });
      if (options.json) printJson(report);
      else printReport(report);
      setExitCode(report.ok ? 0 : 1);
    });
}

function printReport(report: ReplayCheckReport): void {
  for (const r of report.results) {
    const what = `${r.name}${r.version !== undefined ? ` v${r.version}` : ''} ${r.instanceId} (${r.status})`;
    if (r.outcome === 'ok') println(safeText(`ok       ${what}`));
    else if (r.outcome === 'skipped') println(safeText(`skipped  ${what}: ${r.reason ?? ''}`));
    else {
      println(safeText(`BREAKS   ${what}`));
      if (r.divergence) {
        println(safeText(`         recorded: ${r.divergence.recorded ?? '?'}`));
        println(safeText(`         new code: ${r.divergence.current ?? '?'}`));
      }
      println(safeText(`         ${r.reason ?? ''}`));
    }
  }
  const summary = `${report.checked} instance${report.checked === 1 ? '' : 's'} checked in task hub '${report.taskHub}': ` +
    `${report.checked - report.broken - report.skipped} ok, ${report.broken} would break, ${report.skipped} skipped.`;
  println(report.checked ? `\n${summary}` : summary);
}
