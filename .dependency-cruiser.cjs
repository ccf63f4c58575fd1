/**
 * The layers of duraflow (docs/architecture.md), enforced on every `npm test`:
 *
 *   sdk (ground) → core (pure replay) → store → telemetry → runtime → client → dashboard → http | grpc | cli | testing → app
 *
 * A folder imports only from its own layer and the layers before it; nothing imports in a circle; core does no
 * I/O (no node:* modules, no packages). `npx depcruise src --config .dependency-cruiser.cjs` prints violations.
 */
const LAYERS = ['sdk', 'core', 'store', 'telemetry', 'runtime', 'client', 'dashboard', ['http', 'grpc', 'cli', 'testing'], 'app'];

const folders = (names) => `^src/(${names.join('|')})/`;

/** One rule per layer: it may not import any later layer (nor a sibling of its own level). */
function layerRules() {
  const rules = [];
  LAYERS.forEach((layer, index) => {
    const own = Array.isArray(layer) ? layer : [layer];
    const later = LAYERS.slice(index + 1).flat();
    for (const name of own) {
      const forbidden = [...later, ...own.filter((sibling) => sibling !== name)];
      if (forbidden.length === 0) continue;
      rules.push({
        name: `layer-${name}`,
        comment: `src/${name}/ may import only from ${LAYERS.slice(0, index).flat().concat(name).join(', ')} (see docs/architecture.md).`,
        severity: 'error',
        from: { path: `^src/${name}/` },
        to: { path: [folders(forbidden), '^src/index\\.ts$'] },
      });
    }
  });
  return rules;
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import cycles make layers meaningless; move the shared piece down instead.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules(),
    {
      name: 'core-is-pure',
      comment: 'src/core/ is the pure replay core: no node:* modules and no packages (no I/O, no clocks).',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'client-not-runtime',
      comment: 'A client runs in processes without a worker: it never reaches into src/runtime/.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: '^src/runtime/' },
    },
    {
      name: 'src-not-tests',
      comment: 'Library code never imports tests, benchmarks or samples.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|samples)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    // the dashboard's browser islands are served as files, not imported by the server code
    exclude: { path: '^src/dashboard/assets/.*\\.js$' },
  },
};
