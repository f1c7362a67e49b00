import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../engine/bundle.ts';
import { runRegoTests, runRegoTestsWithCoverage } from '../../engine/rego/tester.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const REGO_EDITION = join(ROOT, 'policies/remediation-rego');
const tmp = mkdtempSync(join(tmpdir(), 'arbiter-rego-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function arbiterTest(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/arbiter'), 'test', ...args], { encoding: 'utf8', cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function bundleDir(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

const POLICY = 'package arbiter.policies.leak\n\nproposals contains {"kind": "restart"} if {\n\tsome h in input.diagnosis.hypotheses\n\th.cause == "memory-leak"\n}\n';

describe('the shipped Rego edition', () => {
  it('every test_ rule of its *_test.rego files runs and passes', async () => {
    const declared = readdirSync(REGO_EDITION)
      .filter((f) => f.endsWith('_test.rego'))
      .flatMap((f) => readFileSync(join(REGO_EDITION, f), 'utf8').match(/^test_\w+/gm) ?? []);
    const results = runRegoTests(await loadBundle(REGO_EDITION));
    expect(results.length).toBe(declared.length);
    expect(results.filter((r) => !r.passed)).toEqual([]);
    expect(results.map((r) => r.name.split('.').pop()).sort()).toEqual([...declared].sort());
  });

  it('arbiter test --bundle policies/remediation-rego exits 0 with one line per test and a summary', () => {
    const r = arbiterTest('--bundle', REGO_EDITION);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
    expect(lines.slice(0, -1).every((l) => /^PASS \S+_test\.rego: data\.arbiter\.tests\.\w+\.test_\w+ \(\d+\.\dms\)$/.test(l))).toBe(true);
  });
});

describe('runRegoTests, like opa test', () => {
  it('a test passes when it is true and fails when undefined, false or not a boolean, with file:row', async () => {
    const dir = bundleDir('outcomes', {
      'leak.rego': POLICY,
      'leak_test.rego': [
        'package arbiter.tests.leak',
        'import data.arbiter.policies.leak',
        'test_leak_proposes_restart if {',
        '\tsome p in leak.proposals with input as {"diagnosis": {"hypotheses": [{"cause": "memory-leak"}]}}',
        '\tp.kind == "restart"',
        '}',
        'test_undefined if {',
        '\tsome p in leak.proposals with input as {"diagnosis": {"hypotheses": [{"cause": "other"}]}}',
        '}',
        'test_false := false',
        'test_number := 3',
        'todo_test_later if false',
        '',
      ].join('\n'),
    });
    const results = runRegoTests(await loadBundle(dir));
    expect(results.map((r) => [r.name, r.passed])).toEqual([
      ['data.arbiter.tests.leak.test_leak_proposes_restart', true],
      ['data.arbiter.tests.leak.test_undefined', false],
      ['data.arbiter.tests.leak.test_false', false],
      ['data.arbiter.tests.leak.test_number', false],
    ]);
    expect(results[1]?.diff).toEqual(['leak_test.rego:7: data.arbiter.tests.leak.test_undefined', '- true', '+ undefined (a body expression did not hold)']);
    expect(results[2]?.diff?.[2]).toBe('+ false');
    expect(results[3]?.diff?.[2]).toBe('+ 3');
  });

  it('with mocks data and functions', async () => {
    const dir = bundleDir('mocks', {
      'cap.rego': 'package arbiter.policies.cap\n\nlimit := data.arbiter.limit\n\nover if count(input.diagnosis.hypotheses) > limit\n',
      'data.json': '{"arbiter": {"limit": 2}}',
      'cap_test.rego': [
        'package arbiter.tests.cap',
        'import data.arbiter.policies.cap',
        'test_bundle_data_is_visible if cap.limit == 2',
        'test_data_mocked if { cap.over with input as {"diagnosis": {"hypotheses": [1]}} with data.arbiter.limit as 0 }',
        'test_builtin_mocked if { cap.over with input as {"diagnosis": {"hypotheses": []}} with count as 10 }',
        '',
      ].join('\n'),
    });
    const results = runRegoTests(await loadBundle(dir));
    expect(results.map((r) => r.passed)).toEqual([true, true, true]);
  });

  it('an evaluation error fails the test and says where', async () => {
    const dir = bundleDir('errors', {
      'p.rego': 'package arbiter.policies.p\n\nx := 1 if input.context.killSwitch\n\nx := 2 if input.context.calendar.changeFreeze\n',
      'p_test.rego': 'package arbiter.tests.p\n\ntest_conflict if {\n\tdata.arbiter.policies.p.x == 1 with input as {"context": {"killSwitch": true, "calendar": {"changeFreeze": true}}}\n}\n',
    });
    const [result] = runRegoTests(await loadBundle(dir));
    expect(result?.passed).toBe(false);
    expect(result?.diff?.[1]).toMatch(/^error: p\.rego:\d+: eval_conflict_error/);
  });

  it('--run selects tests by "file: name"', async () => {
    const results = runRegoTests(await loadBundle(REGO_EDITION), { run: /cve_patch_priority_test\.rego: .*test_low/ });
    expect(results.map((r) => r.name)).toEqual([
      'data.arbiter.tests.cve_patch_priority.test_low_score_is_left_to_the_patch_cycle',
    ]);
  });

  it('print output is kept for -v', async () => {
    const dir = bundleDir('print', { 'p_test.rego': 'package arbiter.tests.p\n\ntest_prints if {\n\tprint("hello", 42)\n}\n' });
    const [result] = runRegoTests(await loadBundle(dir));
    expect(result?.detail).toEqual(['hello 42']);
    const r = arbiterTest('--bundle', dir, '-v');
    expect(r.stdout).toContain('    hello 42');
  });
});

describe('--coverage: which policy rules the tests made produce a value', () => {
  it('counts rules outside test files and names the ones that never fired', async () => {
    const dir = bundleDir('coverage', {
      'p.rego': 'package arbiter.policies.p\n\nhot if input.context.history.incidentActions == 1\n\ncold if input.context.history.incidentActions == 2\n\ndefault d := 0\n',
      'p_test.rego': 'package arbiter.tests.p\n\ntest_hot if data.arbiter.policies.p.hot with input as {"context": {"history": {"incidentActions": 1}}}\n',
    });
    const { coverage } = runRegoTestsWithCoverage(await loadBundle(dir));
    expect(coverage).toEqual({
      files: [{ file: 'p.rego', rules: 2, covered: 1, uncovered: [{ row: 5, rule: 'data.arbiter.policies.p.cold' }] }],
      rules: 2,
      covered: 1,
      percent: 50,
    });
    const r = arbiterTest('--bundle', dir, '--coverage');
    expect(r.stdout).toContain('coverage: 1/2 Rego rules produced a value (50.0%)');
    expect(r.stdout).toContain('  p.rego: 1/2; never fired: 5 (data.arbiter.policies.p.cold)');
  });

  it('the shipped Rego edition\'s tests cover every rule', async () => {
    const { coverage } = runRegoTestsWithCoverage(await loadBundle(REGO_EDITION));
    expect(coverage.files.flatMap((f) => f.uncovered)).toEqual([]);
  });
});

describe('arbiter test runs Rego and CEL tests together', () => {
  it('a failing Rego test exits 1 and shows where', () => {
    const dir = bundleDir('failing', {
      'leak.rego': POLICY,
      'leak_test.rego': 'package arbiter.tests.leak\n\ntest_nothing_proposed if {\n\tcount(data.arbiter.policies.leak.proposals) == 0 with input as {"diagnosis": {"hypotheses": [{"cause": "memory-leak"}]}}\n}\n',
    });
    const r = arbiterTest('--bundle', dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL leak_test.rego: data.arbiter.tests.leak.test_nothing_proposed');
    expect(r.stdout).toContain('    leak_test.rego:3: data.arbiter.tests.leak.test_nothing_proposed');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('0 passed, 1 failed');
  });

  it('a bundle with both languages reports both in one summary', () => {
    const dir = join(tmp, 'mixed');
    cpSync(join(ROOT, 'policies/remediation'), dir, { recursive: true });
    // a cause no CEL test uses, so the CEL tests' expected proposals stay as they are
    writeFileSync(join(dir, 'extra_leak.rego'), POLICY.replace('policies.leak', 'policies.extra_leak').replace('memory-leak', 'solar-flare'));
    writeFileSync(join(dir, 'extra_leak_test.rego'), 'package arbiter.tests.extra_leak\n\ntest_restart if {\n\tsome p in data.arbiter.policies.extra_leak.proposals with input as {"diagnosis": {"hypotheses": [{"cause": "solar-flare"}]}}\n\tp.kind == "restart"\n}\n');
    const celOnly = arbiterTest('--bundle', join(ROOT, 'policies/remediation'));
    const celCount = Number(/^(\d+) passed/m.exec(celOnly.stdout)?.[1]);
    const r = arbiterTest('--bundle', dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PASS extra_leak_test.rego: data.arbiter.tests.extra_leak.test_restart');
    expect(r.stdout).toMatch(/\.cel\.yaml: /);
    expect(r.stdout.trim().split('\n').at(-1)).toBe(`${celCount + 1} passed, 0 failed`);
  });
});
