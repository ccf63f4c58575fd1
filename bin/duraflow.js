#!/usr/bin/env node
// The `duraflow` command. Registers tsx so user apps (and this repo's sources) can be TypeScript.
import { register } from 'tsx/esm/api';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

register();
const built = fileURLToPath(new URL('../dist/app/cli.js', import.meta.url));
const { main } = await import(existsSync(built) ? built : '../src/app/cli.ts');
process.exitCode = await main(process.argv);
