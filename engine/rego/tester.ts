// Rego policy tests, like `opa test`: every `test_*` rule of the bundle's `*_test.rego` modules is evaluated against
// the bundle's data (mock with `with input as …` / `with data.x as …`); it passes when it is defined and true.
import type { Bundle } from '../bundle.ts';
import type { PolicyTestOptions, PolicyTestResult } from '../policytest.ts';
import type { CompiledRule, RuleNode } from './compile.ts';
import { asBundleError, compileBundleModules, POLICY_LIMITS } from './backend.ts';
import { RegoError, evalQuery, type Compiled } from './index.ts';
import { fromJSON, stringifyJSON } from './value.ts';

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

export function runRegoTests(bundle: Bundle, options: PolicyTestOptions = {}): PolicyTestResult[] {
  let compiled: Compiled;
  try {
    compiled = compileBundleModules(bundle, true);
  } catch (err) {
    throw asBundleError(err);
  }
  const data = fromJSON(bundle.data);
  const results: PolicyTestResult[] = [];
  for (const test of discoverRegoTests(compiled)) {
    if (test.todo) continue;
    if (options.run && !options.run.test(`${test.file}: ${test.name}`)) continue;
    const printed: string[] = [];
    const started = performance.now();
    let passed = false;
    let diff: string[] | undefined;
    try {
      const results = evalQuery(compiled, `__test__ = ${refOf(test.path)}`, { data, limits: POLICY_LIMITS, print: (line) => printed.push(line) });
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
  return results;
}
