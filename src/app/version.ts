/** The version of the installed duraflow package (`duraflow --version`). */
import { readFileSync } from 'node:fs';

/** Reads `version` from the package's package.json (two folders up from both `src/app/` and `dist/app/`). */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
}
