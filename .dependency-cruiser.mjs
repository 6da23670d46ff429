// Package boundaries, checked by `pnpm lint` (docs/adr/0009-package-boundaries.md). Paths are
// relative to where depcruise runs: the repository root, or a fixture's root in the test that
// shows these rules fail (test/boundaries/).

/** The domain packages split out of the old packages/queue, and what each may not import. */
const LAYERS = [
  { from: 'admission', notTo: ['jobs', 'batches', 'webhooks'] },
  { from: 'jobs', notTo: ['batches', 'webhooks'] },
  { from: 'webhooks', notTo: ['batches'] },
];

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Two modules that import each other are one module, or a third one is missing.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'packages-not-to-apps',
      severity: 'error',
      comment: 'Imports flow one way: apps -> packages.',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
    {
      name: 'apps-not-to-other-apps',
      severity: 'error',
      comment: 'An app uses packages, not another app (apps/standalone aside, below).',
      from: { path: '^apps/([^/]+)/', pathNot: '^apps/standalone/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'standalone-to-app-entries-only',
      severity: 'error',
      comment: 'apps/standalone runs the API and a worker in one process: through their entry points.',
      from: { path: '^apps/standalone/' },
      to: { path: '^apps/(api|worker)/', pathNot: '^apps/(api|worker)/src/index\\.ts$' },
    },
    {
      name: 'contracts-imports-nothing-from-the-repo',
      severity: 'error',
      comment: 'packages/contracts is the bottom layer: schemas and codes, no I/O, no other package.',
      from: { path: '^packages/contracts/' },
      to: { path: '^(packages|apps|test|scripts)/', pathNot: '^packages/contracts/' },
    },
    {
      name: 'packages-through-their-entry',
      severity: 'error',
      comment: 'Another package is used through its index.ts, never by reaching into its files.',
      from: { path: '^(packages|apps)/([^/]+)/' },
      to: { path: '^packages/[^/]+/src/', pathNot: ['^packages/$2/', '^packages/[^/]+/src/index\\.ts$'] },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      comment: 'The test kit and e2e helpers are for tests: source files never import them.',
      from: { path: '^(packages|apps)/[^/]+/src/', pathNot: ['\\.test\\.ts$', '(^|/)test-support\\.ts$'] },
      to: { path: '^test/' },
    },
    {
      name: 'client-uses-contracts-only',
      severity: 'error',
      comment: 'The client ships to users: the API is its only way in, contracts its only types.',
      from: { path: '^packages/client/' },
      to: { path: '^(packages|apps)/', pathNot: ['^packages/client/', '^packages/contracts/'] },
    },
    ...LAYERS.map(({ from, notTo }) => ({
      name: `${from}-layer`,
      severity: 'error',
      comment: `packages/${from} sits below ${notTo.join(', ')} (README: Repository layout).`,
      from: { path: `^packages/${from}/` },
      to: { path: `^packages/(${notTo.join('|')})/` },
    })),
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve would pass these rules unseen.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type-only imports count: a cycle through types is still a cycle in the design.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)node_modules/', '(^|/)dist/', '^test/boundaries/fixture/'] },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
