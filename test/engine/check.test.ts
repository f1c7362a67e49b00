// `arbiter check [--strict]`: every error of Rego and CEL policies at once at file:line:col, exit codes as `opa check`
// (0 clean, 1 errors; 2 for bad usage). Typed CEL makes a misspelt field a load error, not a vanished deny.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../engine/bundle.ts';
import { defaultCelEngine } from '../../engine/cel/index.ts';
import { checkCelPolicy, compileCelPolicy } from '../../engine/cel/policy.ts';
import { checkPolicyFiles } from '../../engine/check.ts';
import { BundleError } from '../../engine/errors.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'arbiter-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function arbiter(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/arbiter'), ...args], { encoding: 'utf8', cwd: tmp, env: { ...process.env, ARBITER_DEBUG: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const PARTITION = readFileSync(join(ROOT, 'policies/remediation/no_restart_on_network_partition.cel.yaml'), 'utf8');
const engine = defaultCelEngine();

describe('typed CEL: mistakes are load errors at file:line:col', () => {
  it('h.cause → h.casue in no_restart_on_network_partition.cel.yaml is an unknown field at the typo', async () => {
    const dir = join(tmp, 'typo');
    cpSync(join(ROOT, 'policies/remediation'), dir, { recursive: true });
    writeFileSync(join(dir, 'no_restart_on_network_partition.cel.yaml'), PARTITION.replace('h.cause', 'h.casue'));
    const err = await loadBundle(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    // line 10, the expression starts at column 13; `casue` is its 34th character
    expect((err as Error).message).toMatch(/^no_restart_on_network_partition\.cel\.yaml:10:46: verdicts\[0\]\.when: unknown field casue/);
  });

  const cases: Array<[string, string, string, RegExp]> = [
    ['a wrong type', 'h.cause == "network-partition"', 'context.calendar.businessHours == "yes"', /:10:44: verdicts\[0\]\.when: no such overload: bool == string/],
    ['a number read as a bool', 'diagnosis.hypotheses.exists(h, h.cause == "network-partition")', 'diagnosis.hypotheses[0].confidence', /:10:13: verdicts\[0\]\.when: the expression has type double, expected bool/],
    ['a misspelt effect', 'effect: deny', 'effect: denny', /:11:15: spec\.verdicts\[0\]\.effect: Invalid option/],
    ['a priority that is not a number', 'priority: 1000', 'priority: high', /:7:13: spec\.priority: Invalid input: expected number/],
    ['an unknown variable', 'h.cause', 'variables.cause', /:10:44: verdicts\[0\]\.when: no variable named cause/],
    ['an unknown field of action', 'action.kind == "restart"', 'action.knd == "restart"', /:8:17: match: unknown field knd/],
  ];
  for (const [what, from, to, message] of cases) {
    it(`${what} is a load error naming file, rule, line and column`, () => {
      expect(PARTITION).toContain(from);
      expect(() => compileCelPolicy(PARTITION.replace(from, to), 'p.cel.yaml', engine)).toThrow(message);
    });
  }

  it('every error of a file is collected, not just the first', () => {
    const text = PARTITION.replace('action.kind == "restart"', 'action.knd == "restart"').replace('h.cause', 'h.casue');
    const r = checkCelPolicy(text, 'p.cel.yaml', engine);
    expect(r.policy).toBeUndefined();
    expect(r.errors.map((e) => e.message)).toEqual([expect.stringMatching(/^p\.cel\.yaml:8:\d+: match: unknown field knd/), expect.stringMatching(/^p\.cel\.yaml:10:46: .*unknown field casue/)]);
  });

  it('the shipped CEL bundle loads cleanly against the declared types', async () => {
    const bundle = await loadBundle(join(ROOT, 'policies/remediation'));
    expect(bundle.celPolicies.length).toBeGreaterThanOrEqual(10);
  });
});

describe('arbiter check', () => {
  it('passes --strict on both shipped bundles, printing nothing (exit 0)', () => {
    for (const bundle of ['policies/remediation', 'policies/remediation-rego']) {
      const r = arbiter('check', '--strict', '--bundle', join(ROOT, bundle));
      expect(r.stderr + r.stdout, bundle).toBe('');
      expect(r.status, bundle).toBe(0);
    }
  });

  it('reports the errors of every file at once, as opa check does (exit 1)', () => {
    const dir = join(tmp, 'many');
    cpSync(join(ROOT, 'policies/remediation/no_restart_on_network_partition.cel.yaml'), join(dir, 'a.cel.yaml'));
    writeFileSync(join(dir, 'a.cel.yaml'), PARTITION.replace('h.cause', 'h.casue'));
    writeFileSync(join(dir, 'b.cel.yaml'), PARTITION.replace('no_restart_on_network_partition', 'b').replace('effect: deny', 'effect: denny'));
    writeFileSync(join(dir, 'c.rego'), 'package arbiter.policies.c\n\nverdicts contains {"effect": "allow", "reason": r} if {\n\ttrue\n}\n');
    const r = arbiter('check', dir);
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n')).toEqual([
      '3 errors occurred:',
      expect.stringMatching(/a\.cel\.yaml:10:46: verdicts\[0\]\.when: unknown field casue/),
      expect.stringMatching(/b\.cel\.yaml:11:15: spec\.verdicts\[0\]\.effect: Invalid option/),
      expect.stringMatching(/c\.rego:3:\d+: rego_unsafe_var_error: var r is unsafe/),
      '',
    ]);
  });

  it('--strict adds unused imports and locals (Rego) and unread variables (CEL)', async () => {
    const files = [
      { file: 'x.rego', source: 'package arbiter.policies.x\n\nimport data.arbiter.lib\n\nverdicts contains {"effect": "allow", "reason": "r"} if {\n\ty := 3\n\tsome z in input.diagnosis.hypotheses\n\tinput.context.calendar.businessHours\n}\n' },
      {
        file: 'v.cel.yaml',
        source: 'apiVersion: arbiter.dev/v1\nkind: CelPolicy\nmetadata: { name: v }\nspec:\n  variables:\n    - name: unread\n      expression: "1.0"\n  verdicts:\n    - { when: "true", effect: allow, reason: ok }\n',
      },
    ];
    expect(await checkPolicyFiles(files, { celEngine: engine })).toEqual([]);
    expect(await checkPolicyFiles(files, { celEngine: engine, strict: true })).toEqual([
      { where: 'v.cel.yaml:6:13', message: 'variables[0] (unread): no expression reads variables.unread' },
      { where: 'x.rego:3:1', message: 'rego_compile_error: import data.arbiter.lib unused' },
      { where: 'x.rego:6:2', message: 'rego_compile_error: assigned var y unused' },
      { where: 'x.rego:7:7', message: 'rego_compile_error: declared var z unused' },
    ]);
  });

  it('a bundle whose settings are wrong is an error too; a missing path is bad usage (exit 2)', () => {
    const dir = join(tmp, 'settings');
    cpSync(join(ROOT, 'policies/remediation'), dir, { recursive: true });
    writeFileSync(join(dir, 'arbiter.yaml'), 'resolution: { combine: loudest }\n');
    const r = arbiter('check', '--bundle', dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^1 error occurred:\narbiter\.yaml: resolution\.combine: /);
    const missing = arbiter('check', join(tmp, 'nope'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no such file or directory/);
  });
});
