/**
 * bin/duraflow.js picks what to run: a checkout (src/ exists; it is never packed) runs the current sources even
 * when an older dist/ is there, so tests never run stale code; an installed package (no src/) runs its dist/.
 * Checked on a copy of the bin beside a stand-in src/ and dist/.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'duraflow-bin-'));
after(() => rmSync(dir, { recursive: true, force: true }));

mkdirSync(join(dir, 'bin'));
copyFileSync(join(ROOT, 'bin/duraflow.js'), join(dir, 'bin/duraflow.js'));
writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
const main = (from: string) => `export async function main(): Promise<number> { process.stdout.write('${from}'); return 3; }\n`;
mkdirSync(join(dir, 'src/app'), { recursive: true });
writeFileSync(join(dir, 'src/app/cli.ts'), main('src'));
mkdirSync(join(dir, 'dist/app'), { recursive: true });
writeFileSync(join(dir, 'dist/app/cli.js'), main('dist').replace(': Promise<number>', ''));

function runBin(): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(dir, 'bin/duraflow.js')], { timeout: 60_000 }, (error, stdout) =>
      resolve({ code: error ? Number(error.code) : 0, stdout }),
    );
  });
}

test('a checkout runs src/ even beside a built dist/, and passes main()’s exit code on', async () => {
  assert.deepEqual(await runBin(), { code: 3, stdout: 'src' });
});

test('an installed package (no src/) runs dist/', async () => {
  rmSync(join(dir, 'src'), { recursive: true });
  assert.deepEqual(await runBin(), { code: 3, stdout: 'dist' });
});
