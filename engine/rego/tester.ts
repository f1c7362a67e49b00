// Rego policy tests, like `opa test`: every `test_*` rule of the bundle's `*_test.rego` modules is evaluated against
// the bundle's data (mock with `with input as …` / `with data.x as …`); it passes when it is defined and true.
import type { Bundle } from '../bundle.ts';
import type { PolicyTestOptions, PolicyTestResult } from '../policytest.ts';
import { asBundleError, compileBundleModules, POLICY_LIMITS } from './backend.ts';
import { RegoError, evalQuery, fromJSON, stringifyJSON } from './index.ts';
import type { Compiled, CompiledRule, RuleNode } from './index.ts';

export interface RegoTestCase {
  /** `data.<package>.<rule>`, as `opa test` names it. */
  name: string;
  file: string;
  row: number;
  path: string[];
  /** `todo_test_*` rules: reported as skipped by `opa test`; listed here but not run. */
  todo: boolean;
}

/** Test rules in tree order: `test_*` (and `todo_test_*`) rules defined in `*_test.rego` files. */
export function discoverRegoTests(compiled: Compiled): RegoTestCase[] {
  const out: RegoTestCase[] = [];
  const walk = (node: RuleNode): void => {
    const leaf = node.path[node.path.length - 1] ?? '';
    const rule = node.rules[0] as CompiledRule | undefined;
    if (rule && !node.isFunction && /^(todo_)?test_/.test(leaf) && rule.loc.file.endsWith('_test.rego')) {
      out.push({ name: `data.${node.path.join('.')}`, file: rule.loc.file, row: rule.loc.row, path: node.path, todo: leaf.startsWith('todo_') });
    }
    for (const key of [...node.children.keys()].sort()) walk(node.children.get(key) as RuleNode);
  };
  walk(compiled.root);
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.row - b.row));
}

const refOf = (path: string[]): string => `data${path.map((s) => `[${JSON.stringify(s)}]`).join('')}`;

/** Which policy rules (outside `*_test.rego`) produced a value while the tests ran: OPA's coverage, per rule. */
export interface RegoCoverage {
  files: Array<{ file: string; rules: number; covered: number; uncovered: Array<{ row: number; rule: string }> }>;
  rules: number;
  covered: number;
  /** Percentage of rules covered, 0..100 (100 when there are no rules). */
  percent: number;
}

function policyRules(compiled: Compiled): CompiledRule[] {
  const out: CompiledRule[] = [];
  const walk = (node: RuleNode): void => {
    for (const r of node.rules) if (!r.loc.file.endsWith('_test.rego') && !r.isDefault) out.push(r);
    for (const c of node.children.values()) walk(c);
  };
  walk(compiled.root);
  return out;
}

export function runRegoTests(bundle: Bundle, options: PolicyTestOptions = {}): PolicyTestResult[] {
  return runRegoTestsWithCoverage(bundle, options).results;
}

/** `arbiter test --coverage`: the test results and which policy rules the tests made produce a value. */
export function runRegoTestsWithCoverage(bundle: Bundle, options: PolicyTestOptions = {}): { results: PolicyTestResult[]; coverage: RegoCoverage } {
  let compiled: Compiled;
  try {
    compiled = compileBundleModules(bundle, true);
  } catch (err) {
    throw asBundleError(err);
  }
  const data = fromJSON(bundle.data);
  const results: PolicyTestResult[] = [];
  const fired = new Set<string>();
  const tracer = (rule: { location: { file: string; row: number; col: number } }): void => void fired.add(`${rule.location.file}:${rule.location.row}:${rule.location.col}`);
  for (const test of discoverRegoTests(compiled)) {
    if (test.todo) continue;
    if (options.run && !options.run.test(`${test.file}: ${test.name}`)) continue;
    const printed: string[] = [];
    const started = performance.now();
    let passed = false;
    let diff: string[] | undefined;
    try {
      const results = evalQuery(compiled, `__test__ = ${refOf(test.path)}`, { data, limits: POLICY_LIMITS, print: (line) => printed.push(line), tracer });
      const value = results[0]?.bindings.get('__test__');
      passed = value === true;
      if (!passed) {
        const got = value === undefined ? 'undefined (a body expression did not hold)' : stringifyJSON(value);
        diff = [`${test.file}:${test.row}: ${test.name}`, '- true', `+ ${got}`];
      }
    } catch (err) {
      const e = err instanceof RegoError ? err : (err as Error);
      diff = [`${test.file}:${test.row}: ${test.name}`, `error: ${e.message}`];
    }
    const result: PolicyTestResult = { file: test.file, name: test.name, passed, durationMs: performance.now() - started };
    if (diff) result.diff = diff;
    if (printed.length > 0) result.detail = printed;
    results.push(result);
  }
  const byFile = new Map<string, RegoCoverage['files'][number]>();
  for (const r of policyRules(compiled)) {
    let f = byFile.get(r.loc.file);
    if (!f) byFile.set(r.loc.file, (f = { file: r.loc.file, rules: 0, covered: 0, uncovered: [] }));
    f.rules++;
    if (fired.has(`${r.loc.file}:${r.loc.row}:${r.loc.col}`)) f.covered++;
    else f.uncovered.push({ row: r.loc.row, rule: r.name });
  }
  const files = [...byFile.values()].sort((a, b) => (a.file < b.file ? -1 : 1));
  for (const f of files) f.uncovered.sort((a, b) => a.row - b.row);
  const rules = files.reduce((n, f) => n + f.rules, 0);
  const covered = files.reduce((n, f) => n + f.covered, 0);
  return { results, coverage: { files, rules, covered, percent: rules === 0 ? 100 : Math.round((covered / rules) * 1000) / 10 } };
}

/** The coverage lines `arbiter test --coverage` prints after the summary. */
export function renderCoverage(c: RegoCoverage): string[] {
  const lines = [`coverage: ${c.covered}/${c.rules} Rego rules produced a value (${c.percent.toFixed(1)}%)`];
  for (const f of c.files) {
    const missing = f.uncovered.map((u) => `${u.row} (${u.rule})`).join(', ');
    lines.push(`  ${f.file}: ${f.covered}/${f.rules}${missing ? `; never fired: ${missing}` : ''}`);
  }
  return lines;
}
