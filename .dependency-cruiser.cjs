/**
 * The layer rules of src/ (docs/architecture.md, "Layers"), checked by `npm run lint`.
 * Each layer lists the layers it may import; an import of anything else, and any import
 * cycle, fails the check.
 */
const LAYERS = {
  domain: ['domain'],
  security: ['domain', 'security'],
  config: ['domain', 'security', 'config'],
  platform: ['domain', 'platform'],
  'storage/contract': ['domain', 'storage/contract'],
  'storage/shared': ['domain', 'security', 'storage/contract', 'storage/shared'],
  'storage/sqlite': ['domain', 'security', 'storage/contract', 'storage/shared', 'storage/sqlite'],
  'storage/postgres': ['domain', 'security', 'storage/contract', 'storage/shared', 'storage/postgres'],
  engine: ['domain', 'security', 'config', 'platform', 'storage/contract', 'engine'],
  catalog: ['domain', 'security', 'storage/contract', 'engine', 'catalog'],
  access: ['domain', 'security', 'storage/contract', 'catalog', 'access'],
  'bridges/push': ['domain', 'security', 'storage/contract', 'engine', 'catalog', 'bridges/push'],
  'bridges/pull': ['domain', 'security', 'storage/contract', 'engine', 'catalog', 'bridges/push', 'bridges/pull'],
  'bridges/ingest': ['domain', 'security', 'storage/contract', 'engine', 'catalog', 'bridges/push', 'bridges/ingest'],
  'bridges/sources': ['domain', 'security', 'storage/contract', 'engine', 'catalog', 'bridges/push', 'bridges/ingest', 'bridges/sources'],
  'bridges/streams': ['domain', 'security', 'storage/contract', 'engine', 'catalog', 'bridges/push', 'bridges/pull', 'bridges/streams'],
  operations: ['domain', 'security', 'config', 'platform', 'storage/contract', 'engine', 'catalog', 'operations'],
  http: ['domain', 'security', 'config', 'platform', 'storage/contract', 'engine', 'catalog', 'access', 'bridges/push', 'bridges/pull', 'bridges/ingest', 'bridges/sources', 'bridges/streams', 'operations', 'http'],
  composition: ['domain', 'security', 'config', 'platform', 'storage/contract', 'storage/sqlite', 'storage/postgres', 'engine', 'catalog', 'access', 'bridges/push', 'bridges/pull', 'bridges/ingest', 'bridges/sources', 'bridges/streams', 'operations', 'http', 'composition'],
  cli: ['domain', 'security', 'config', 'platform', 'storage/contract', 'catalog', 'access', 'composition', 'cli'],
  main: ['cli', 'main'],
};

/** The path pattern of a layer under src/. */
const where = (layer) =>
  layer === 'config' ? '^src/config[a-z-]*\\.ts$' : layer === 'main' ? '^src/main\\.ts$' : `^src/${layer}/`;

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle ties modules together so that neither can be read, tested or moved alone.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...Object.entries(LAYERS).map(([layer, allowed]) => ({
      name: `layer-${layer.replace('/', '-')}`,
      comment: `${layer} may import only: ${allowed.join(', ')} (docs/architecture.md, "Layers").`,
      severity: 'error',
      from: { path: where(layer) },
      to: { path: '^src/', pathNot: allowed.map(where).join('|') },
    })),
    {
      name: 'in-a-layer',
      comment: 'Every file of src/ belongs to a layer named in the rules; a new folder needs its rule first.',
      severity: 'error',
      from: { path: '^src/', pathNot: Object.keys(LAYERS).map(where).join('|') },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
