// The module graph of src/ as a stack of layers, checked in `npm test` (test/architecture): an import may
// only go to its own layer or one below, and no modules import each other at runtime. Bottom to top:
const layers = [
  { name: 'errors and codec', path: '^src/(errors|codec)/' },
  { name: 'databases and schema', path: '^src/(db|schema)/' },
  { name: 'task runtime and step names', path: '^src/(client/(?!absurd\\.ts$)|steps/)' },
  { name: 'approvals, streams and usage', path: '^src/(approvals|streams|usage)/' },
  { name: 'the Absurd client', path: '^src/client/absurd\\.ts$' },
  { name: 'agents and the chat transport', path: '^src/(agent|chat)/' },
  { name: 'tools that suspend', path: '^src/tools/' },
  { name: 'stored run history', path: '^src/history/' },
  { name: 'dashboard and demo', path: '^src/(dashboard|demo)/' },
  { name: 'command line', path: '^src/cli/' },
  { name: 'package entry point', path: '^src/index\\.ts$' },
];

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules that import each other (directly or through others) cannot be understood one at a time.',
      from: { path: '^src/' },
      to: { circular: true, dependencyTypesNot: ['type-only'], viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    ...layers.map((layer, index) => ({
      name: `no-upward-import: ${layer.name}`,
      severity: 'error',
      comment: `${layer.name} must not import from the layers above it.`,
      from: { path: layer.path },
      to: {
        path: layers
          .slice(index + 1)
          .map((above) => above.path)
          .join('|') || '^$',
        // A type shared from above (the Absurd client's type in agents) compiles away and couples nothing at runtime.
        dependencyTypesNot: ['type-only'],
      },
    })),
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      comment: 'Shipped code never imports test support.',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
  },
};
