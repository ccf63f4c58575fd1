/**
 * CLI errors that say what to do, as real child processes: read-only commands never create a store, an
 * unreachable PostgreSQL store or host is named with its address, a port in use suggests `--port`/`--grpc`,
 * and a closed stdout ends a command quietly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient } from '../../src/client/create-client.js';
import { assertOneLineError, CLI, cli } from './cli-support.js';
import { newTestSchema, pgUnavailableReason } from '../support/postgres.js';

let scratch: string;
before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'duraflow-cli-hints-'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A port nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('duraflow: read-only commands never create a store', () => {
  test('list, get and history of instances and entities fail with one line on a missing SQLite store, creating nothing', async () => {
    const missing = join(scratch, 'typo', 'x.db');
    const store = ['--store', `sqlite:${missing}`];
    const runs = await Promise.all([
      cli(['instances', 'list', ...store]),
      cli(['instances', 'get', 'x', ...store]),
      cli(['instances', 'history', 'x', ...store]),
      cli(['entities', 'list', ...store]),
      cli(['entities', 'get', 'counter', 'k', ...store]),
    ]);
    for (const run of runs) assertOneLineError(run, new RegExp(`^duraflow: no SQLite store at ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the file does not exist`));
    assert.ok(!existsSync(join(scratch, 'typo')), 'no directory was created');
  });

  test('a missing PostgreSQL schema is an error too, and is not created', async (t) => {
    const unavailable = await pgUnavailableReason();
    if (unavailable && process.env['CI'] !== 'true') return t.skip(unavailable);
    const { url, drop } = newTestSchema();
    try {
      assertOneLineError(await cli(['instances', 'list', '--store', url]), /^duraflow: no duraflow store in schema '\w+' of PostgreSQL database 'test'/);
      const listed = await cli(['instances', 'start', 'x', '--store', url]);
      assert.equal(listed.code, 0, `a command that writes still creates the store: ${listed.stderr}`);
      assert.equal((await cli(['instances', 'list', '--json', '--store', url])).code, 0);
    } finally {
      await drop();
    }
  });
});

describe('duraflow: errors say what to do', () => {
  test('an unreachable PostgreSQL store is named with its address (and no password)', async () => {
    const port = await closedPort();
    const url = `postgres://app:s3cret@127.0.0.1:${port}/app`;
    for (const args of [['instances', 'list', '--store', url], ['instances', 'start', 'x', '--store', url]]) {
      const run = await cli(args);
      assertOneLineError(run, new RegExp(`^duraflow: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); is the server running`));
      assert.ok(!run.stderr.includes('s3cret'), run.stderr);
    }
  });

  test('an unreachable host (--url) is named with what to check', async () => {
    const port = await closedPort();
    assertOneLineError(await cli(['instances', 'list', '--url', `http://127.0.0.1:${port}`]), new RegExp(`^duraflow: cannot reach the duraflow host at http://127\\.0\\.0\\.1:${port} \\(connect ECONNREFUSED .*\\); is it running`));
  });

  test('a port in use suggests --port (and --grpc for the sidecar port)', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as { port: number };
    try {
      const store = ['--store', `sqlite:${join(scratch, 'ports.db')}`, '--log-level', 'error'];
      const http = await cli(['start', 'samples/app.ts', '--port', String(port), ...store]);
      assertOneLineError(http, new RegExp(`^duraflow: the HTTP port ${port} on 127\\.0\\.0\\.1 is already in use .*choose another port with --port <port> \\(--port 0 picks a free one\\)\\.$`));
      const grpc = await cli(['start', 'samples/app.ts', '--port', '0', '--grpc', String(port), ...store]);
      assert.equal(grpc.code, 1);
      assert.match(grpc.stderr.trim().split('\n').at(-1)!, new RegExp(`^duraflow: the gRPC port ${port} on 127\\.0\\.0\\.1 is already in use .*--grpc <port>`));
    } finally {
      busy.close();
    }
  });
});

test('a closed stdout ends the command quietly (no EPIPE stack trace)', async () => {
  // Like `duraflow instances get pipe-1 | head -1`: the reader is gone before the command writes.
  const store = `sqlite:${join(scratch, 'pipe.db')}`;
  const client = await createClient({ store });
  await client.startNew('echo', { instanceId: 'pipe-1', input: 'x'.repeat(2000) });
  await client.close();
  const child = spawn(process.execPath, [CLI, 'instances', 'get', 'pipe-1', '--store', store], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(stderr, '');
  assert.equal(code, 0);
});
