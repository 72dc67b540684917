// The module graph of src/ as a stack of layers; `npm test` fails when an import runs back up a layer or
// two modules import each other. Lower layers never know the ones above them:
//   errors, codec            (no imports from other layers)
//   db, schema               (databases and migrations)
//   client                   (the Absurd client, task context)
//   steps                    (checkpoint names and stores shared by agent and approvals)
//   approvals, streams       (waiting for people, durable streams)
//   agent, tools             (AbsurdAgent, durable models/tools, tools that suspend)
//   usage, history           (read models of stored runs)
//   cli, dashboard, demo     (entry points)
const layers = [
  ['errors', 'codec'],
  ['db', 'schema'],
  ['client'],
  ['steps'],
  ['approvals', 'streams'],
  ['agent', 'tools', 'chat'],
  ['usage', 'history'],
  ['cli', 'dashboard', 'demo'],
];

const rank = new Map(layers.flatMap((names, index) => names.map((name) => [name, index])));
const above = (name) => [...rank].filter(([, index]) => index > rank.get(name)).map(([other]) => other);

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Two modules that import each other (directly or through others) cannot be understood one at a time.',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    ...[...rank.keys()].map((name) => ({
      name: `no-upward-import-from-${name}`,
      severity: 'error',
      comment: `src/${name} sits below ${above(name).join(', ') || 'nothing'} and must not import from them.`,
      from: { path: `^src/${name}/` },
      to: { path: above(name).length > 0 ? `^src/(${above(name).join('|')})/` : '^$' },
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
    combinedDependencies: false,
  },
};
