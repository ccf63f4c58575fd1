/**
 * The README's code blocks, read by section, for the tests that run them (test/readme/, test/package/): a
 * snippet is run as written, so the README cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A fenced code block: its language tag and its text (without the fences). */
export interface CodeBlock {
  lang: string;
  code: string;
}

/** The fenced code blocks under `## <heading>` of README.md (up to the next `## ` heading), in order. */
export function readmeBlocks(heading: string, lang?: string): CodeBlock[] {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section '## ${heading}'.`);
  const next = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  const blocks = [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));
  return lang === undefined ? blocks : blocks.filter((block) => block.lang === lang);
}

/** The one block of `lang` whose text contains `marker`, so a test names what it runs. */
export function readmeBlock(heading: string, lang: string, marker: string): string {
  const found = readmeBlocks(heading, lang).filter((block) => block.code.includes(marker));
  if (found.length !== 1) throw new Error(`README '## ${heading}': ${found.length} ${lang} blocks contain '${marker}', expected 1.`);
  return found[0]!.code;
}

/** The commands of a shell block: each line without its `# comment`, blank lines dropped. */
export function shellCommands(code: string): string[] {
  return code
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

/** What the README says `console.log(...)` prints: the `// comment` after each such line, in order. */
export function expectedLogs(code: string): string[] {
  return [...code.matchAll(/^\s*console\.log\(.*\);\s*\/\/\s*(.+)$/gm)].map((m) => m[1]!.trim());
}

/** The snippet importing this checkout's sources where a user's code imports the package. */
export function fromSource(code: string): string {
  const url = (path: string) => pathToFileURL(`${ROOT}${path}`).href;
  return code
    .replaceAll(`from 'duraflow/testing'`, `from '${url('src/testing/index.ts')}'`)
    .replaceAll(`from 'duraflow'`, `from '${url('src/index.ts')}'`);
}
