// The layer order of ../shared/STYLE.md, checked by `npm run lint` (run by `npm test`):
//   edges (bin/, serve/, scenarios/runner/) → app/ → core (engine/, actions/) → libraries (engine/rego/, gitops/)
// Each layer imports only from the layers below it. The vocabulary every layer shares (engine/types.ts,
// engine/errors.ts, actions/types.ts: the Diagnosis/Decision/Action types and the error hierarchy) is importable
// from anywhere. No cycles; product code never imports test/.
const EDGES = '^(bin|serve|scenarios/runner)/';
/** Use cases: app/ and the diagnosis tier (diagnose/). */
const APP = '^(app|diagnose)/';
const VOCABULARY = '^(engine/types\\.ts|engine/errors\\.ts|actions/types\\.ts)$';
// engine/rego/backend.ts, wasm.ts and tester.ts are the policy backends and the test runner built on the language:
// core, not language
const REGO_CORE = 'engine/rego/(backend|wasm|tester)\\.ts$';
const CORE = `^(engine/(?!rego/)|${REGO_CORE}|actions/)`;
const LIBRARIES = `^(gitops/|engine/rego/(?!(backend|wasm|tester)\\.ts$))`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make modules impossible to load, test or replace one at a time.',
      from: {},
      to: {
        circular: true,
        // h2 (issue 9 item 5: the Rego compiler as an object with named stages, one entry module) is taking apart
        // the cycles inside engine/rego (ast ↔ eval ↔ compile ↔ typecheck …) and engine/bundle ↔ rego/backend ↔
        // rego/wasm; until then a cycle is allowed only when every module in it is one of those
        via: { pathNot: '^engine/(rego/|bundle\\.ts$)' },
      },
    },
    {
      name: 'no-test-imports',
      severity: 'error',
      comment: 'Product code never imports test/ (the scenario runner ships; its helpers live in scenarios/runner/).',
      from: { path: '^(app|diagnose|bin|serve|engine|actions|gitops|scenarios|policies)/' },
      to: { path: '^test/' },
    },
    {
      name: 'app-not-to-edges',
      severity: 'error',
      comment: 'The application layer (use cases) is called by the edges, never the other way round.',
      from: { path: APP },
      to: { path: EDGES },
    },
    {
      name: 'core-not-to-app-or-edges',
      severity: 'error',
      comment: 'engine/ and actions/ are the pure core: they know nothing of use cases, the CLI or the server.',
      from: { path: CORE },
      to: { path: `${APP}|${EDGES}` },
    },
    {
      name: 'core-not-to-git',
      severity: 'error',
      comment: 'The core plans on a TreeView/HistoryView; Git plumbing stays below it.',
      from: { path: CORE },
      to: { path: '^gitops/' },
    },
    {
      name: 'libraries-not-up',
      severity: 'error',
      comment: 'Git plumbing and the Rego language sit at the bottom: they import only each other and the vocabulary.',
      from: { path: LIBRARIES },
      to: { path: `${APP}|${EDGES}|${CORE}`, pathNot: VOCABULARY },
    },
    {
      name: 'rego-only-rego',
      severity: 'error',
      comment:
        'The Rego language (lexer, parser, compiler, eval, builtins) imports nothing from the rest of arbiter but the vocabulary.',
      from: { path: '^engine/rego/', pathNot: `^${REGO_CORE}` },
      to: { path: '^(?!engine/rego/)(app|diagnose|bin|serve|scenarios|gitops|actions|engine)/', pathNot: VOCABULARY },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|test/fixtures)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
  },
};
