import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../engine/bundle.ts';
import { BundleError } from '../../engine/errors.ts';

const root = mkdtempSync(join(tmpdir(), 'arbiter-bundle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function bundleDir(files: Record<string, string>): string {
  const dir = join(root, `b${n++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}
const policy = (name: string, body: string) => `apiVersion: arbiter.dev/v1\nkind: CelPolicy\nmetadata: { name: ${name} }\nspec:\n${body}`;
const loadError = async (dir: string): Promise<Error> => {
  try {
    await loadBundle(dir);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the bundle to fail loading');
};

describe('§4 bundle: settings defaults', () => {
  it('an empty bundle has every default of §4', async () => {
    const b = await loadBundle(bundleDir({}));
    expect(b.settings).toEqual({
      resolution: { combine: 'priority', select: 'cost', default: 'escalate' },
      gates: { auto: 0.85, notify: 0.65, perAction: {} },
      guardrails: { maxActionsPerIncident: 8, serviceActionsPerHour: 3, circuitCooldownMinutes: 30, killSwitch: false },
      mode: 'live',
      rollback: { historyDepth: 1000 },
    });
    expect(b.revision).toMatch(/^sha256:[0-9a-f]{12}$/);
  });
  it('partial settings keep the other defaults', async () => {
    const b = await loadBundle(bundleDir({ 'arbiter.yaml': 'gates: { perAction: { rollback: { auto: 0.9 } } }\nmode: shadow\n' }));
    expect(b.settings.gates).toEqual({ auto: 0.85, notify: 0.65, perAction: { rollback: { auto: 0.9 } } });
    expect(b.settings.mode).toBe('shadow');
  });
  it('a misspelt key is an error naming the file and key', async () => {
    const e = await loadError(bundleDir({ 'arbiter.yaml': 'resolution: { combin: priority }\n' }));
    expect(e).toBeInstanceOf(BundleError);
    expect(e.message).toMatch(/^arbiter\.yaml: resolution/);
  });
});

describe('§4 bundle: manifest, data and digest', () => {
  it('stamps the manifest revision and merges data documents', async () => {
    const b = await loadBundle(bundleDir({ '.manifest': '{"revision":"r-7"}', 'data.json': '{"arbiter":{"cost":{"minutesUnresolved":5}}}', 'extra/data.yaml': 'k: v\n' }));
    expect(b.revision).toBe('r-7');
    expect(b.data).toEqual({ arbiter: { cost: { minutesUnresolved: 5 } }, extra: { k: 'v' } });
    expect(b.cost.minutesUnresolved).toBe(5);
  });
  it('the digest changes with a policy file but not with tests or examples', async () => {
    const base = { 'p.cel.yaml': policy('p', '  verdicts: [ { effect: allow, reason: ok } ]\n') };
    const a = await loadBundle(bundleDir(base));
    const withTests = await loadBundle(bundleDir({ ...base, 'p_test.cel.yaml': 'x', 'examples/e.yaml': 'y' }));
    const changed = await loadBundle(bundleDir({ 'p.cel.yaml': policy('p', '  verdicts: [ { effect: deny, reason: no } ]\n') }));
    expect(withTests.digest).toBe(a.digest);
    expect(changed.digest).not.toBe(a.digest);
  });
});

describe('§4.2 CEL policies are type-checked at load', () => {
  it('a type error names the file, the rule, the line and the column', async () => {
    const e = await loadError(bundleDir({ 'bad.cel.yaml': policy('bad', '  verdicts:\n    - when: diagnosis.signals.errorRate + "x" > 1\n      effect: deny\n      reason: r\n') }));
    expect(e).toBeInstanceOf(BundleError);
    expect(e.message).toMatch(/^bad\.cel\.yaml:6:\d+: verdicts\[0\]\.when: .*overload.*\(column \d+ of the expression\)/);
  });
  it('a syntax error is located too', async () => {
    const e = await loadError(bundleDir({ 'bad.cel.yaml': policy('bad', '  match: action.kind == \n') }));
    expect(e.message).toMatch(/^bad\.cel\.yaml:5:\d+: match: /);
  });
  it('an unknown variable is an error', async () => {
    const e = await loadError(bundleDir({ 'bad.cel.yaml': policy('bad', '  verdicts: [ { when: "input.x == 1", effect: deny, reason: r } ]\n') }));
    expect(e.message).toMatch(/Unknown variable: input/);
  });
  it('proposals cannot use action', async () => {
    const e = await loadError(bundleDir({ 'bad.cel.yaml': policy('bad', '  proposals: [ { when: "action.kind == \\"restart\\"", action: { kind: restart } } ]\n') }));
    expect(e.message).toMatch(/only defined while judging/);
  });
  it('a non-boolean when is an error', async () => {
    const e = await loadError(bundleDir({ 'bad.cel.yaml': policy('bad', '  verdicts: [ { when: "\\"yes\\"", effect: deny, reason: r } ]\n') }));
    expect(e.message).toMatch(/type string, expected bool/);
  });
  it('bounded evaluation: deeply nested comprehensions are refused at load', async () => {
    const e = await loadError(bundleDir({ 'bad.cel.yaml': policy('bad', '  verdicts: [ { when: "[1,2].all(a, [1,2].all(b, [1,2].all(c, a + b + c > 0)))", effect: deny, reason: r } ]\n') }));
    expect(e.message).toMatch(/macros nested more than 2 deep/);
  });
  it('bounded evaluation: oversized expressions are refused', async () => {
    const e = await loadError(bundleDir({ 'bad.cel.yaml': policy('bad', `  verdicts: [ { when: "${Array.from({ length: 900 }, () => 'true').join(' && ')}", effect: deny, reason: r } ]\n`) }));
    expect(e.message).toMatch(/4096 characters/);
  });
  it('duplicate policy names are refused', async () => {
    const p = policy('same', '  verdicts: [ { effect: allow, reason: ok } ]\n');
    const e = await loadError(bundleDir({ 'a.cel.yaml': p, 'b.cel.yaml': p }));
    expect(e.message).toMatch(/policy name "same" is also used by a\.cel\.yaml/);
  });
  it('Rego policies without the Rego backend are a clear error (or load when it exists)', async () => {
    const dir = bundleDir({ 'p.rego': 'package arbiter.policies.p\n' });
    const e = await loadBundle(dir).then(() => null, (err: Error) => err);
    if (e) expect(e.message).toMatch(/Rego/);
  });
});

describe('§4 bundle: OPA .tar.gz', () => {
  function tar(files: Record<string, string>): Buffer {
    const blocks: Buffer[] = [];
    for (const [name, content] of Object.entries(files)) {
      const header = Buffer.alloc(512);
      header.write(name, 0, 'utf8');
      header.write('0000644\0', 100);
      header.write(`${Buffer.byteLength(content).toString(8).padStart(11, '0')}\0`, 124);
      header.write('0', 156);
      header.write('ustar\0', 257);
      blocks.push(header, Buffer.from(content), Buffer.alloc((512 - (Buffer.byteLength(content) % 512)) % 512));
    }
    blocks.push(Buffer.alloc(1024));
    return gzipSync(Buffer.concat(blocks));
  }
  it('loads the same bundle from a tarball with the same digest', async () => {
    const files = { '.manifest': '{"revision":"t-1"}', 'p.cel.yaml': policy('p', '  verdicts: [ { effect: allow, reason: ok } ]\n') };
    const file = join(root, 'bundle.tar.gz');
    writeFileSync(file, tar(files));
    const fromTar = await loadBundle(file);
    const fromDir = await loadBundle(bundleDir(files));
    expect(fromTar.revision).toBe('t-1');
    expect(fromTar.celPolicies.map((p) => p.name)).toEqual(['p']);
    expect(fromTar.digest).toBe(fromDir.digest);
  });
  it('refuses paths that leave the bundle', async () => {
    const file = join(root, 'evil.tar.gz');
    writeFileSync(file, tar({ '../x.cel.yaml': 'x' }));
    expect((await loadError(file)).message).toMatch(/unsafe path/);
  });
});
