/**
 * Runs every curl example of docs/http-api.md, in order, against a real host built from the example app
 * of the same page, and checks the status each one is documented to give (`# expect: <status>
 * [eventually] [containing <text>]`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DFApp, Host } from '../../src/index.js';
import { sqliteTestStore } from '../support/stores.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DOC = readFileSync(join(ROOT, 'docs/http-api.md'), 'utf8');
const KEY = 'docs-example-key';

interface Example {
  script: string;
  status: number;
  eventually: boolean;
  containing: string | undefined;
}

function blocks(language: string): string[] {
  const pattern = new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g');
  return [...DOC.matchAll(pattern)].map((m) => m[1]!);
}

function examples(): Example[] {
  return blocks('sh')
    .filter((script) => script.includes('curl'))
    .map((script) => {
      const expect = script.match(/^# expect: (\d{3})( eventually)?(?: containing (.+))?$/m);
      assert.ok(expect, `every curl example states its expected status:\n${script}`);
      return { script, status: Number(expect[1]), eventually: Boolean(expect[2]), containing: expect[3]?.trim() };
    });
}

function runScript(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolvePromise) => {
    // Exit codes are not checked: curl may stop sending once the server has refused a body.
    execFile('bash', ['-c', script], { env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (_error, stdout) =>
      resolvePromise(stdout),
    );
  });
}

describe('docs/http-api.md curl examples', () => {
  let host: Host;
  let cleanup: () => Promise<void>;
  let dir: string;
  before(async () => {
    const store = await sqliteTestStore.create();
    cleanup = store.cleanup;
    const source = blocks('ts')[0] ?? '';
    assert.ok(source.includes('export const app'), 'the page starts with the example app');
    dir = mkdtempSync(join(tmpdir(), 'duraflow-docs-'));
    const file = join(dir, 'app.mts');
    writeFileSync(file, source.replace(/from 'duraflow'/g, `from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)}`));
    const app = ((await import(pathToFileURL(file).href)) as { app: DFApp }).app;
    app.options.store = store.url;
    app.options.apiKey = KEY;
    app.options.worker = { pollIntervalMs: 50 };
    host = await app.start({ port: 0 });
  });
  after(async () => {
    await host?.stop();
    await cleanup?.();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the page documents every route with runnable examples', () => {
    const all = examples();
    assert.ok(all.length >= 30, `found ${all.length} examples`);
    for (const route of ['orchestrators/', 'raiseEvent', '/terminate', '/suspend', '/resume', '/rewind', '/restart', '-X DELETE', 'entities/', '/durabletask/instances', '/api/']) {
      assert.ok(all.some((e) => e.script.includes(route)), `an example uses ${route}`);
    }
  });

  test('every example answers the documented status', async () => {
    const env = { DURAFLOW_URL: host.url, DURAFLOW_API_KEY: KEY };
    for (const example of examples()) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const output = await runScript(example.script, env);
        const statuses = [...output.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].map((m) => Number(m[1]));
        const status = statuses.at(-1);
        const matches = status === example.status && (example.containing === undefined || output.includes(example.containing));
        if (matches) break;
        if (!example.eventually || Date.now() > deadline) {
          assert.fail(`expected ${example.status}${example.containing ? ` containing ${example.containing}` : ''}, got ${status}:\n${example.script}\n--- output ---\n${output.slice(0, 2000)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
});
