/**
 * The floors of the house (README "Layout"). An import may only go down:
 *   src/core    imports nothing else of this repository
 *   src/codec   -> core
 *   mesh        -> core, codec
 *   src/data    -> core, codec, mesh
 *   src/store   -> core, data
 *   s3          -> core
 *   accounts    -> core
 *   src/server  -> anything; only the process entry, scripts and tests import it
 * Tests and test support (*.test.ts, any testing/ folder) are exempt. No cycles anywhere.
 * Checked by src/server/floors.test.ts in `npm test`.
 */
const TEST = '(\\.test\\.ts$|/testing/)';
const floor = (name, path, allowed) => ({
  name,
  severity: 'error',
  comment: `${path} may import only ${allowed.join(', ') || 'itself'}`,
  from: { path: `^${path}/`, pathNot: TEST },
  to: {
    path: '^(src|s3|mesh|accounts|conformance|scripts)/',
    pathNot: [`^${path}/`, ...allowed.map((a) => `^${a}/`)],
  },
});

module.exports = {
  forbidden: [
    floor('core-imports-nothing', 'src/core', []),
    floor('codec-above-core-only', 'src/codec', ['src/core']),
    floor('mesh-network-only', 'mesh', ['src/core', 'src/codec']),
    floor('data-path', 'src/data', ['src/core', 'src/codec', 'mesh']),
    floor('store-over-data', 'src/store', ['src/core', 'src/data']),
    floor('s3-wire-only', 's3', ['src/core']),
    floor('accounts-over-core', 'accounts', ['src/core']),
    {
      name: 'nothing-imports-the-roof',
      severity: 'error',
      comment: 'only the process entry, scripts and tests import src/server',
      from: { path: '^(src/(core|codec|data|store)|s3|mesh|accounts)/', pathNot: TEST },
      to: { path: '^src/server/' },
    },
    {
      name: 'production-never-imports-test-support',
      severity: 'error',
      from: { path: '^(src|s3|mesh|accounts)/', pathNot: TEST },
      to: { path: TEST },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^node_modules|^\\.tmp|^data|^cluster)' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.mts', '.mjs', '.js'] },
  },
};
