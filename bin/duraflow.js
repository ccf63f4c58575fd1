#!/usr/bin/env node
// The `duraflow` command.
import Module from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register as registerCommonJs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

// tsx lets app modules be TypeScript, in ESM and in CommonJS projects alike: the ESM hooks serve `import`,
// the CommonJS hooks compile a `.ts` (or an ESM-syntax `.js`) of a `"type": "commonjs"` project, as `npx tsx` does.
const nativeJs = Module._extensions['.js'];
register();
registerCommonJs();
// tsx's CommonJS hooks would also recompile duraflow's own ESM files when a CommonJS app requires 'duraflow',
// giving that app a second copy of the library; Node's own require(esm) returns the one instance the CLI uses.
const ownDist = fileURLToPath(new URL('../dist/', import.meta.url));
const tsxJs = Module._extensions['.js'];
Module._extensions['.js'] = function loadJs(module, filename) {
  return (filename.startsWith(ownDist) ? nativeJs : tsxJs).call(this, module, filename);
};

// `src/` is never packed (package.json `files`), so it exists only in a checkout of this repo (or a folder
// installed from one): there the CLI runs the current sources, never a `dist/` left by an earlier build;
// an installed package runs its `dist/`.
const source = new URL('../src/app/cli.ts', import.meta.url);
const { main } = await import(existsSync(source) ? source.href : '../dist/app/cli.js');
process.exitCode = await main(process.argv);
