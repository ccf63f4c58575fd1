/**
 * loadApp (src/app/load-app.ts), the loader behind `duraflow start|worker <app-module>`: the DFApp of an ES module
 * or of a CommonJS one, whichever way it is exported, and one clear error otherwise. CommonJS modules load through
 * the real `duraflow worker` (bin/duraflow.js registers tsx's hooks). The nested `default` that plain-JS `import()`
 * of a compiled CommonJS module gives the installed dist/ (but not these tsx-compiled sources) is covered by
 * test/package/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadApp } from '../../src/app/load-app.js';
import { ValidationError } from '../../src/index.js';

const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'duraflow-load-app-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes `file` into a folder whose package.json has `type`; returns its path. */
function write(type: 'module' | 'commonjs', file: string, text: string): string {
  const dir = join(scratch, type);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type }));
  writeFileSync(join(dir, file), text);
  return join(dir, file);
}

const CLI = fileURLToPath(new URL('../../bin/duraflow.js', import.meta.url));

/** Runs `duraflow worker <file>` until it says it runs (then SIGTERM); returns all it printed. */
function worker(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'worker', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (/worker \S+ running/.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(output);
    });
  });
}

const esmImport = `import { DFApp } from '${pathToFileURL(INDEX).href}';`;
const cjsRequire = `const { DFApp } = require(${JSON.stringify(INDEX)});`;
const named = (name: string) => `new DFApp({ store: 'sqlite::memory:', taskHub: '${name}' })`;

test('an ES module: the default export, else the export named app, else the only DFApp export', async () => {
  assert.equal((await loadApp(write('module', 'default.ts', `${esmImport}\nexport default ${named('d')};\n`))).taskHub, 'd');
  const both = `${esmImport}\nexport const app = ${named('a')};\nexport const other = 1;\n`;
  assert.equal((await loadApp(write('module', 'named.ts', both))).taskHub, 'a');
  assert.equal((await loadApp(write('module', 'only.ts', `${esmImport}\nexport const mine = ${named('m')};\n`))).taskHub, 'm');
});

test('a TypeScript module of a CommonJS project (compiled to CommonJS): its export default and its export app', async () => {
  assert.match(await worker(write('commonjs', 'default.ts', `${esmImport}\nexport default ${named('cd')};\n`)), /running .*task hub 'cd'/);
  assert.match(await worker(write('commonjs', 'named.ts', `${esmImport}\nexport const app = ${named('ca')};\n`)), /running .*task hub 'ca'/);
});

test('a CommonJS module: module.exports = app, and exports.app = app', async () => {
  assert.match(await worker(write('commonjs', 'main.js', `${cjsRequire}\nmodule.exports = ${named('me')};\n`)), /running .*task hub 'me'/);
  assert.match(await worker(write('commonjs', 'named.cjs', `${cjsRequire}\nexports.app = ${named('ea')};\n`)), /running .*task hub 'ea'/);
});

test('no DFApp, two DFApps, or no file: one ValidationError that says what to export', async () => {
  await assert.rejects(loadApp(write('module', 'none.ts', 'export const x = 1;\n')), (error: Error) => {
    assert.ok(error instanceof ValidationError);
    assert.match(error.message, /exports no DFApp: export one as default \(export default app\) or as 'app'/);
    return true;
  });
  const two = `${esmImport}\nexport const a = ${named('a')};\nexport const b = ${named('b')};\n`;
  await assert.rejects(loadApp(write('module', 'two.ts', two)), /exports 2 DFApps/);
  await assert.rejects(loadApp(join(scratch, 'missing.ts')), /No app module at/);
});
