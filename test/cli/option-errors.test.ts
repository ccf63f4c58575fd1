/**
 * The CLI's one-line errors as real child processes: bad input, a wrong key, and every numeric and enum option
 * value checked before the command runs (nothing is opened or created for a refused command).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, cli, runMain, startCliHost, type CliHost } from './cli-support.js';

let h: CliHost;
let scratch: string;
before(async () => {
  h = await startCliHost();
  scratch = mkdtempSync(join(tmpdir(), 'duraflow-cli-options-'));
});
after(async () => {
  await h?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('duraflow: option values and bad input', () => {
  test('bad input and a wrong key are one clear line and a non-zero exit code', async () => {
    const { S, U } = h;
    assertOneLineError(await cli(['instances', 'start', 'echo', '--input', '{oops', ...S]), /^duraflow: --input must be JSON/);
    assertOneLineError(await cli(['instances', 'start', 'nope', ...U]), /^duraflow: .*'nope'.*'pipeline'/);
    assertOneLineError(await cli(['instances', 'get', 'missing', ...U]), /^duraflow: No instance with id 'missing'/);
    assertOneLineError(await cli(['instances', 'get', 'missing', '--url', h.host.url, '--api-key', 'wrong']), /^duraflow: .*(key|401)/i);
    assertOneLineError(await cli(['instances', 'get', 'x', '--url', h.host.url, ...S]), /^duraflow: Give either --store or --url/);
    assertOneLineError(await cli(['instances', 'list', '--bogus', ...S]), /unknown option '--bogus'/);
  });

  test('every numeric and enum option is checked before the command runs, with one line naming it', async () => {
    const store = ['--store', `sqlite:${join(scratch, 'never-created.db')}`];
    const cases: [string[], RegExp][] = [
      [['start', 'samples/app.ts', '--port', 'abc', ...store], /^duraflow: --port takes a port number \(0-65535; 0 picks a free one\), got 'abc'\.$/],
      [['start', 'samples/app.ts', '--port', '70000', ...store], /^duraflow: --port takes a port number .*got '70000'\.$/],
      [['start', 'samples/app.ts', '--grpc', 'x1', ...store], /^duraflow: --grpc takes a port number .*got 'x1'\.$/],
      [['start', 'samples/app.ts', '--log-level', 'loud', ...store], /^duraflow: --log-level takes one of debug, info, warn, error, silent; got 'loud'\.$/],
      [['worker', 'samples/app.ts', '--log-format', 'xml', ...store], /^duraflow: --log-format takes one of pretty, json; got 'xml'\.$/],
      [['instances', 'list', '--limit', '-1', ...store], /^duraflow: --limit takes a whole number \(0 or more\), got '-1'\.$/],
      [['instances', 'list', '--page-size', '5000', ...store], /^duraflow: --page-size takes a whole number \(from 0 to 1000\), got '5000'\.$/],
      [['instances', 'start', 'echo', '--wait', '--timeout', '1.5', ...store], /^duraflow: --timeout takes a whole number \(0 or more\), got '1\.5'\.$/],
      [['instances', 'list', '--from', 'yesterday', ...store], /^duraflow: --from must be an ISO-8601 time or an age like 15m, 2h, 7d; got 'yesterday'\.$/],
      [['instances', 'purge', '--to', '2025-13-99x', ...store], /^duraflow: --to must be an ISO-8601 time/],
      [['instances', 'list', '--status', 'Sleeping', ...store], /^duraflow: Unknown status 'Sleeping'\. Known statuses: Running, /],
      [['entities', 'list', '--limit', 'all', ...store], /^duraflow: --limit takes a whole number/],
    ];
    // The checks run in the CLI's main, in this process; the first case also runs as the real command.
    for (const [args, pattern] of cases) assertOneLineError(await runMain(args), pattern);
    assertOneLineError(await cli(cases[0]![0]), cases[0]![1]);
    assert.ok(!existsSync(join(scratch, 'never-created.db')), 'a refused command touched no store');
  });
});
