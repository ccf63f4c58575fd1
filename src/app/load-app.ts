/** Loads a user's app module (`.ts` or `.js`, ESM or CommonJS) and finds the DFApp it exports. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DFApp } from './df-app.js';
import { ValidationError } from '../sdk/errors.js';

/** A DFApp of this copy of duraflow, or of another (a folder-linked checkout, an app bundling its own). */
function isApp(value: unknown): value is DFApp {
  return value instanceof DFApp || (typeof value === 'object' && value !== null && value.constructor?.name === 'DFApp');
}

/**
 * The exports to search. `import()` of a CommonJS module gives its `module.exports` as `default` (a TypeScript
 * file compiled to CommonJS keeps `export default` there as `default`), so that object's keys count too.
 */
function exportsOf(namespace: Record<string, unknown>): Record<string, unknown> {
  const { default: main, ...named } = namespace;
  if (typeof main !== 'object' || main === null || isApp(main)) return namespace;
  return { ...(main as Record<string, unknown>), ...named };
}

/** Imports `modulePath` and returns its DFApp: the default export, an export named `app`, or the only DFApp export. */
export async function loadApp(modulePath: string): Promise<DFApp> {
  const path = resolve(modulePath);
  if (!existsSync(path)) throw new ValidationError(`No app module at ${path}.`);
  const module = exportsOf((await import(pathToFileURL(path).href)) as Record<string, unknown>);
  if (isApp(module['default'])) return module['default'];
  if (isApp(module['app'])) return module['app'];
  const apps = Object.values(module).filter(isApp);
  if (apps.length === 1) return apps[0]!;
  throw new ValidationError(
    apps.length === 0
      ? `${modulePath} exports no DFApp: export one as default (export default app) or as 'app'.`
      : `${modulePath} exports ${apps.length} DFApps: export the one to run as default or as 'app'.`,
  );
}
