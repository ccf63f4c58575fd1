/**
 * `--help` of every command (each with an example; read from the CLI's `main` in this process) and
 * `duraflow --version` (from the real command).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cli, runMain } from './cli-support.js';

test('every command has --help with an example; start and worker list the log options', async () => {
  const commands = [
    ['instances'],
    ...['list', 'get', 'history', 'start', 'raise', 'terminate', 'suspend', 'resume', 'rewind', 'restart', 'purge'].map((c) => ['instances', c]),
    ['entities', 'list'],
    ['entities', 'get'],
    ['entities', 'signal'],
    ['start'],
    ['worker'],
  ];
  const runs = [];
  for (const c of commands) runs.push(await runMain([...c, '--help']));
  runs.forEach((run, i) => {
    assert.equal(run.code, 0, commands[i]!.join(' '));
    assert.match(run.stdout, /Examples?:\n {2}duraflow /, commands[i]!.join(' '));
  });
  for (const run of runs.slice(-2)) {
    assert.match(run.stdout, /--log-level <level> +what to log on stderr: debug, info, warn, error,\s+silent/);
    assert.match(run.stdout, /--log-format <format> +pretty or json/);
  }
});

test('the real command prints its help', async () => {
  const run = await cli(['--help']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Usage: duraflow \[options\] \[command\]/);
  assert.match(run.stdout, /-V, --version +print the version of duraflow/);
});

test('--version prints the version from package.json', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const run = await cli([flag]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${version}\n`);
  }
});
