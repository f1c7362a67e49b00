import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const EXAMPLES = join(ROOT, 'policies/remediation/examples');
const tmp = mkdtempSync(join(tmpdir(), 'arbiter-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function arbiter(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/arbiter'), ...args], { encoding: 'utf8', cwd: tmp, env: { ...process.env, ARBITER_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const noStack = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);

describe('arbiter decide', () => {
  it('--json prints one Decision document and exits 0', () => {
    const r = arbiter('decide', '--diagnosis', join(EXAMPLES, 'bad-deployment.yaml'), '--json');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d).toMatchObject({ kind: 'Decision', mode: 'auto', action: { kind: 'rollback', target: { service: 'checkout', namespace: 'shop' } } });
  });
  it('--explain prints the verdict table, the winner and the guardrails', () => {
    const r = arbiter('decide', '--diagnosis', join(EXAMPLES, 'memory-leak-business-hours.yaml'), '--explain');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/candidate\s+policy\s+effect\s+priority\s+cost/);
    expect(r.stdout).toMatch(/restart\s+no_restart_in_business_hours\s+deny\s+50/);
    expect(r.stdout).toContain('winner: escalate');
    expect(r.stdout).toContain('kill-switch');
  });
  it('--context and --repo: explicit values win; .arbiter/pause caps the mode', () => {
    const repo = join(tmp, 'repo');
    mkdirSync(join(repo, '.arbiter'), { recursive: true });
    writeFileSync(join(repo, '.arbiter/catalog.yaml'), 'services:\n  checkout: { namespace: shop, criticality: high, paths: [apps/checkout/] }\n');
    writeFileSync(join(repo, '.arbiter/pause'), '');
    const ctx = join(tmp, 'ctx.yaml');
    writeFileSync(ctx, 'calendar: { businessHours: false }\n');
    const r = arbiter('decide', '--diagnosis', join(EXAMPLES, 'memory-leak-business-hours.yaml'), '--context', ctx, '--repo', repo, '--json');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.mode).toBe('approval');
    expect(d.guardrails.find((g: { name: string }) => g.name === 'kill-switch').applied).toBe(true);
  });
  it('bad input exits 2 with a one-line message naming the field, no stack trace', () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ apiVersion: 'arbiter.dev/v1', kind: 'Diagnosis', id: 'x', incident: 'i', observedAt: '2026-11-21T02:13:00Z', target: { service: 'checkout' }, hypotheses: [{ cause: 'x', confidence: 2 }] }));
    const r = arbiter('decide', '--diagnosis', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('hypotheses[0].confidence: must be ≤ 1');
    noStack(r.stderr);
  });
  it('a missing file, a missing option and a bad bundle exit 2 without a stack trace', () => {
    for (const args of [['--diagnosis', join(tmp, 'nope.yaml')], [], ['--diagnosis', join(EXAMPLES, 'bad-deployment.yaml'), '--bundle', join(tmp, 'nope')]]) {
      const r = arbiter('decide', ...args);
      expect(r.code).toBe(2);
      noStack(r.stderr);
    }
  });
});

describe('arbiter test', () => {
  it('runs the shipped bundle tests: one line per test and a summary, exit 0', () => {
    const r = arbiter('test', '--run', 'business_hours');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS no_restart_in_business_hours_test\.cel\.yaml: .* \(\d+\.\dms\)$/m);
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  });
  it('a failing test prints FAIL, a diff and exits 1', () => {
    const bundle = join(tmp, 'bundle');
    cpSync(join(ROOT, 'policies/remediation'), bundle, { recursive: true });
    writeFileSync(
      join(bundle, 'wrong_test.cel.yaml'),
      'apiVersion: arbiter.dev/v1\nkind: CelPolicyTest\ntests:\n  - name: expects the wrong mode\n    diagnosisFile: examples/memory-leak-off-hours.yaml\n    expect: { decision: { mode: approval } }\n',
    );
    const r = arbiter('test', '--bundle', bundle, '--run', 'wrong');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL wrong_test.cel.yaml: expects the wrong mode');
    expect(r.stdout).toContain('- expected "approval"');
    expect(r.stdout).toContain('+ actual   "auto"');
    expect(r.stdout).toMatch(/^0 passed, 1 failed$/m);
  });
});
