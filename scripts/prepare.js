// npm's `prepare` step — `npm pack`, `npm install` in this checkout, and installs of it from a git URL or a
// folder: builds dist/ with the devDependencies (TypeScript). An installed tarball never runs it.
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
try {
  createRequire(import.meta.url).resolve('typescript');
} catch {
  if ((process.env.npm_config_omit ?? '').split(/[\s,]+/).includes('dev')) {
    console.log('duraflow: devDependencies omitted, so dist/ is not built (npm run build needs them).');
    process.exit(0);
  }
  console.error(`duraflow: building dist/ needs the devDependencies: run npm install in ${root} first.`);
  process.exit(1);
}
execSync('npm run build', { cwd: root, stdio: 'inherit' });
