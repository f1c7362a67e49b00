// The scenario runner end to end: the shipped library passes, a wrong expectation fails with a diff, a malformed
// scenario exits 2 naming file and field, and the JUnit report is well-formed XML.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/arbiter');

function arbiter(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ARBITER_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

let dir: string;

/** A copy of a library scenario with absolute paths, edited by `change`, written to the temp dir. */
function variant(source: string, name: string, change: (doc: Record<string, any>) => void): string {
  const doc = parse(readFileSync(join(ROOT, 'scenarios', source), 'utf8')) as Record<string, any>;
  doc.bundle = join(ROOT, 'policies/remediation');
  doc.repo = join(ROOT, 'scenarios/fixtures/shop');
  change(doc);
  const file = join(dir, name);
  writeFileSync(file, stringify(doc));
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'arbiter-scenarios-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('arbiter scenarios run: the shipped library', () => {
  it('passes every scenario in scenarios/ (at least 12) with the JSON reporter', async () => {
    const r = await arbiter(['scenarios', 'run', 'scenarios', '--reporter', 'json']);
    const report = JSON.parse(r.stdout) as { scenarios: Array<{ name: string; status: string; diff?: string }>; summary: { total: number; passed: number; failed: number } };
    const failures = report.scenarios.filter((s) => s.status !== 'pass').map((s) => `${s.name}\n${s.diff}`);
    expect(failures).toEqual([]);
    expect(report.summary.passed).toBeGreaterThanOrEqual(12);
    expect(report.summary).toMatchObject({ total: report.scenarios.length, failed: 0 });
    for (const s of report.scenarios) expect(Object.keys(s).sort()).toEqual(['name', 'status']);
    expect(r.code).toBe(0);
  }, 180_000);
});

describe('arbiter scenarios run: a wrong expectation', () => {
  it('fails with an expected-vs-actual diff for each mismatching key and exits 1', async () => {
    const file = variant('memory-leak-off-hours.yaml', 'wrong.yaml', (doc) => {
      doc.name = 'deliberately wrong';
      doc.expect.mode = 'notify';
      doc.expect.git.changed = ['apps/cart/cart.yaml', 'apps/cart/hpa.yaml'];
      doc.expect.git.trailers['Arbiter-Action'] = 'rollback';
    });
    const r = await arbiter(['scenarios', 'run', file, '--reporter', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { scenarios: Array<{ status: string; diff: string }>; summary: { failed: number } };
    expect(report.summary.failed).toBe(1);
    const diff = report.scenarios[0]!.diff;
    expect(report.scenarios[0]!.status).toBe('fail');
    expect(diff).toContain('mode:\n- expected: notify\n+ actual:   auto');
    expect(diff).toContain('missing:    apps/cart/hpa.yaml');
    expect(diff).toMatch(/trailers\.Arbiter-Action:\n- expected: rollback\n\+ actual:   restart/);
    expect(diff).not.toContain('unexpected:');
  }, 60_000);

  it('prints the diff under a FAIL line in the pretty reporter', async () => {
    const file = variant('network-partition-no-restart.yaml', 'wrong-pretty.yaml', (doc) => {
      doc.expect.mode = 'auto';
    });
    const r = await arbiter(['scenarios', 'run', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL a network partition .* \(\d+ ms\)\n {4}mode:\n {4}- expected: auto\n {4}\+ actual: {3}escalate/m);
    expect(r.stdout).toContain('0 passed, 1 failed');
  }, 60_000);
});

describe('arbiter scenarios run: malformed scenarios', () => {
  const cases: Array<[string, (doc: Record<string, any>) => void, RegExp]> = [
    ['an unknown mode', (doc) => (doc.expect.mode = 'sometimes'), /expect\.mode/],
    ['a misspelt key', (doc) => (doc.expect.gti = {}), /expect/],
    ['a confidence out of range', (doc) => (doc.diagnosis.hypotheses[0].confidence = 1.5), /diagnosis\.hypotheses\[0\]\.confidence/],
    ['no diagnosis', (doc) => delete doc.diagnosis, /diagnosis: required/],
    ['a history commit without a message', (doc) => (doc.history = [{ files: {} }]), /history\[0\]\.message/],
  ];
  for (const [what, change, field] of cases) {
    it(`exits 2 naming the file and the field for ${what}`, async () => {
      const file = variant('memory-leak-off-hours.yaml', `bad-${what.replace(/\W+/g, '-')}.yaml`, change);
      const r = await arbiter(['scenarios', 'run', file, '--reporter', 'json']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(field);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('exits 2 for YAML that does not parse, and for an unknown reporter', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'name: [unclosed\n');
    const broken = await arbiter(['scenarios', 'run', file]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(file);
    const reporter = await arbiter(['scenarios', 'run', file, '--reporter', 'tap']);
    expect(reporter.code).toBe(2);
    expect(reporter.stderr).toContain('--reporter');
  });
});

describe('arbiter scenarios run --reporter junit', () => {
  it('writes well-formed JUnit XML with a failure element carrying the diff', async () => {
    const wrong = variant('memory-leak-business-hours.yaml', 'junit-wrong.yaml', (doc) => {
      doc.name = 'escalation <expected> & "quoted"';
      doc.expect.mode = 'auto';
    });
    const right = variant('memory-leak-business-hours.yaml', 'junit-right.yaml', (doc) => {
      doc.name = 'business-hours escalation';
    });
    const r = await arbiter(['scenarios', 'run', right, wrong, '--reporter', 'junit']);
    expect(r.code).toBe(1);
    expect(XMLValidator.validate(r.stdout)).toBe(true);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(r.stdout);
    const suite = xml.testsuites.testsuite;
    expect(suite).toMatchObject({ tests: '2', failures: '1' });
    const [pass, fail] = suite.testcase;
    expect(pass.name).toBe('business-hours escalation');
    expect(pass.failure).toBeUndefined();
    expect(fail.name).toBe('escalation <expected> & "quoted"');
    expect(fail.failure['#text']).toContain('- expected: auto');
  }, 60_000);
});
