/** The quick start's demo (`npm run demo`) runs every sample to completion and prints the dashboard URL. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { sqliteTestStore } from '../support/stores.js';

test('the demo runs every pattern to Completed with its output and prints the dashboard URL', async () => {
  const { url, cleanup } = await sqliteTestStore.create();
  try {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'samples/demo.ts', '--exit'],
        { env: { ...process.env, DURAFLOW_STORE: url, PORT: '0' }, timeout: 90_000 },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    assert.match(output, /dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard/);
    assert.equal((output.match(/^ {2}Completed in \d+ ms/gm) ?? []).length, 7, output);
    assert.match(output, /output: \["Hello Tokyo!","Hello Seattle!","Hello London!"\]/);
    assert.match(output, /output: \{"requestId":"PO-1","approved":true,"by":"ada"\}/);
    assert.match(output, /output: \{"error":"Something went wrong","errorType":"RangeError"/);
    assert.match(output, /instances in sqlite:.*: 7 Completed/);
  } finally {
    await cleanup();
  }
});
