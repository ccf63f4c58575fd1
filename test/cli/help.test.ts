/** `duraflow --help` for every command (each with an example) and `duraflow --version`. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cli } from './cli-support.js';

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
  const runs = await Promise.all(commands.map((c) => cli([...c, '--help'])));
  runs.forEach((run, i) => {
    assert.equal(run.code, 0, commands[i]!.join(' '));
    assert.match(run.stdout, /Examples?:\n {2}duraflow /, commands[i]!.join(' '));
  });
  for (const run of runs.slice(-2)) {
    assert.match(run.stdout, /--log-level <level> +what to log on stderr: debug, info, warn, error, silent/);
    assert.match(run.stdout, /--log-format <format> +pretty or json/);
  }
});

test('--version prints the version from package.json', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const run = await cli([flag]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${version}\n`);
  }
});
