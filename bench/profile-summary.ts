/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`, written per case by `npm run bench -- --profile`): self time
 * by area (duraflow's runtime, stores, core, the drivers, Node internals, GC, idle) and the functions with the
 * most self time. `npx tsx bench/profile-summary.ts <file.cpuprofile> [top]` prints it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/** The area a script URL belongs to. */
function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const inRepo = path.match(/\/(src|bench)\/([^/]+)\//);
  if (path.includes('/node_modules/')) {
    const pkg = path.split('/node_modules/').pop()!.split('/');
    return `node_modules/${pkg[0]!.startsWith('@') ? `${pkg[0]}/${pkg[1]}` : pkg[0]}`;
  }
  if (inRepo) return `${inRepo[1]}/${inRepo[2]}`;
  if (path.startsWith('node:')) return 'node internals';
  return path;
}

/** A markdown summary of the profile at `file`: self time per area and the `top` functions by self time. */
export function summarizeProfile(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const samples = profile.samples?.length ?? profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const msPerSample = samples ? totalMs / samples : 0;
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = area(url, functionName);
    byArea.set(where, (byArea.get(where) ?? 0) + hits);
    const short = url ? `${url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${short}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
  }
  const rows = (map: Map<string, number>, limit: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(
        ([name, hits]) => `| ${name} | ${(hits * msPerSample).toFixed(0)} | ${((100 * hits) / samples).toFixed(1)}% |`,
      );
  return [
    `Profile ${file}: ${totalMs.toFixed(0)} ms, ${samples} samples.`,
    '',
    '| area | self ms | share |',
    '|---|--:|--:|',
    ...rows(byArea, 20),
    '',
    '| function | self ms | share |',
    '|---|--:|--:|',
    ...rows(byFunction, top),
    '',
  ].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
  process.stdout.write(summarizeProfile(file, top ? Number(top) : 25));
}
