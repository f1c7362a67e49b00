// `arbiter test`: a bundle's policy tests, like `opa test` — one line per test, a summary, a diff on failure, exit 1.
import { loadBundle, type Bundle } from '../../engine/bundle.ts';
import { InputError } from '../../engine/errors.ts';
import { runCelTests, type PolicyTestOptions, type PolicyTestResult } from '../../engine/policytest.ts';
import { DEFAULT_BUNDLE } from '../../app/bundle.ts';
import { parseCommandLine } from './args.ts';
import { painter } from './colour.ts';

const USAGE = `usage: arbiter test [--bundle DIR] [-v] [--run REGEX] [--coverage]

  --bundle DIR   policy bundle (default: the shipped policies/remediation)
  -v             show proposals, verdicts and rationale for passing tests too
  --run REGEX    only tests whose "file: name" matches
  --coverage     after the summary, which Rego rules the tests made produce a value (per file)
  --fail-on-empty  exit 1 when the bundle has no tests at all (as \`opa test --fail-on-empty\`)

A --run filter that matches no test prints "no tests were run" on stderr and exits 1: a typo in a filter must not
look like a passing run. PASS/FAIL are coloured on a terminal only (NO_COLOR turns colour off).
`;

/** Rego tests (`test_*` rules of `*_test.rego`), reported together with the CEL ones; the tester loads only when needed. */
async function runRegoTestsIfAny(bundle: Bundle, options: PolicyTestOptions): Promise<PolicyTestResult[]> {
  if (!bundle.regoModules.some((m) => m.file.endsWith('_test.rego'))) return [];
  const { runRegoTests } = await import('../../engine/rego/tester.ts');
  return await runRegoTests(bundle, options);
}

/** `--coverage`: rule coverage of the bundle's Rego policies by its Rego tests (`engine/rego/tester.ts`). */
async function regoCoverageLines(bundle: Bundle, options: PolicyTestOptions): Promise<string[]> {
  if (!bundle.regoModules.some((m) => m.file.endsWith('.rego'))) return ['coverage: the bundle has no Rego policies'];
  const tester = await import('../../engine/rego/tester.ts');
  return tester.renderCoverage(tester.runRegoTestsWithCoverage(bundle, options).coverage);
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, USAGE, {
    bundle: { type: 'string' },
    v: { type: 'boolean', short: 'v', default: false },
    verbose: { type: 'boolean', default: false },
    run: { type: 'string' },
    coverage: { type: 'boolean', default: false },
    'fail-on-empty': { type: 'boolean', default: false },
  });
  if (!args) return 0;
  const { values } = args;
  const options: PolicyTestOptions = {};
  if (values.run !== undefined) {
    try {
      options.run = new RegExp(values.run);
    } catch (err) {
      throw new InputError(`not a valid regular expression: ${(err as Error).message}`, '--run');
    }
  }
  const verbose = values.v || values.verbose;
  const bundle = await loadBundle(values.bundle ?? DEFAULT_BUNDLE);
  const results = [...runCelTests(bundle, options), ...(await runRegoTestsIfAny(bundle, options))];
  const out: string[] = [];
  const paint = painter(process.stdout);
  for (const r of results) {
    out.push(`${r.passed ? paint('green', 'PASS') : paint('red', 'FAIL')} ${r.file}: ${r.name} (${r.durationMs.toFixed(1)}ms)`);
    if (!r.passed) for (const line of r.diff ?? []) out.push(`    ${line}`);
    if (verbose) for (const line of r.detail ?? []) out.push(`    ${line}`);
  }
  const failed = results.filter((r) => !r.passed).length;
  out.push(`${results.length - failed} passed, ${failed} failed`);
  if (values.coverage) out.push(...(await regoCoverageLines(bundle, options)));
  process.stdout.write(`${out.join('\n')}\n`);
  if (results.length === 0 && (values.run !== undefined || values['fail-on-empty'])) {
    process.stderr.write(`arbiter test: no tests were run${values.run !== undefined ? ` (--run ${JSON.stringify(values.run)} matched no test)` : ''}\n`);
    return 1;
  }
  return failed > 0 ? 1 : 0;
}
