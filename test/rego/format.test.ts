// `arbiter fmt`: OPA's canonical layout for the rules it implements, idempotent, never changing what a module means
// (checked on every conformance module: parse(fmt(m)) equals parse(m) without locations), every shipped .rego file
// already formatted, and the CLI's -l / -w / -d / --fail.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { RegoError, canonicalModule, formatModule, parseModule } from '../../engine/rego/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFORMANCE = fileURLToPath(new URL('../../../shared/conformance/opa/v1', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'arbiter-fmt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fmtCli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/arbiter'), 'fmt', ...args], { encoding: 'utf8', cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const fmt = (source: string): string => formatModule('p.rego', source);

describe('layout rules (OPA v1/format)', () => {
  it('indents with tabs by nesting, spaces binary operators, commas and colons as OPA', () => {
    expect(fmt('package p\nr if {\n    x:=[1,2]\n  y  ==  {"a":x[0]}\n}\n')).toBe('package p\n\nr if {\n\tx := [1, 2]\n\ty == {"a": x[0]}\n}\n');
  });

  it('writes rule values with := (Rego v1), also for else and default', () => {
    expect(fmt('package p\n\ndefault d = 1\n\nr = 1 if false else = 2\n')).toBe('package p\n\ndefault d := 1\n\nr := 1 if false else := 2\n');
    expect(fmt('package p\n\nr = 1 if {\n\tfalse\n} else = 2\n')).toBe('package p\n\nr := 1 if {\n\tfalse\n} else := 2\n');
  });

  it('one blank line after package, between imports and rules, and between multi-line rules', () => {
    const src = 'package p\nimport data.a\nimport data.b\n\n\n\nr if {\n\ttrue\n}\ns if {\n\ttrue\n}\n';
    expect(fmt(src)).toBe('package p\n\nimport data.a\nimport data.b\n\nr if {\n\ttrue\n}\n\ns if {\n\ttrue\n}\n');
  });

  it('adjacent one-line rules stay grouped; separated ones stay separated', () => {
    expect(fmt('package p\n\na := 1\nb := 2\n\nc := 3\n')).toBe('package p\n\na := 1\nb := 2\n\nc := 3\n');
  });

  it('keeps comments, own-line and trailing, re-indented with their code', () => {
    const src = 'package p\n\n# about r\nr if {\n      # inside\n  x := 1 # trailing\n}\n';
    expect(fmt(src)).toBe('package p\n\n# about r\nr if {\n\t# inside\n\tx := 1 # trailing\n}\n');
  });

  it('keeps refs, calls, unary minus and keyword-headed refs glued', () => {
    expect(fmt('package p\n\nr := [input.a[0], count(xs), -1, 3 - -1, in.foo]\n\nin.foo := 1\n\nxs := [1]\n')).toBe('package p\n\nr := [input.a[0], count(xs), -1, 3 - -1, in.foo]\n\nin.foo := 1\n\nxs := [1]\n');
  });

  it('leaves raw strings as written, CR and all', () => {
    const src = 'package p\n\nr := `a\r\n  b`\n';
    expect(fmt(src)).toBe(src);
  });

  it('ends with exactly one newline and no trailing whitespace', () => {
    expect(fmt('package p   \n\nr := 1   \n\n\n')).toBe('package p\n\nr := 1\n');
  });

  it('a module that does not parse is a rego_parse_error, not a rewrite', () => {
    expect(() => fmt('package p\n\nr := [1,\n')).toThrow(RegoError);
  });
});

describe('on every conformance module', () => {
  const modules: string[] = [];
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.yaml')) {
        const doc = YAML.parse(readFileSync(p, 'utf8')) as { cases?: Array<{ modules?: string[] }> };
        for (const c of doc.cases ?? []) for (const m of c.modules ?? []) modules.push(m);
      }
    }
  };
  walk(CONFORMANCE);

  it('formatting is idempotent and never changes the parsed module', () => {
    let checked = 0;
    for (const m of modules) {
      let before;
      try {
        before = parseModule('m.rego', m);
      } catch {
        continue; // modules OPA's cases expect to fail parsing
      }
      const once = formatModule('m.rego', m);
      expect(formatModule('m.rego', once)).toBe(once);
      expect(canonicalModule(parseModule('m.rego', once))).toBe(canonicalModule(before));
      checked++;
    }
    expect(checked).toBeGreaterThan(2000);
  });
});

describe('arbiter fmt', () => {
  it('-l lists nothing for the shipped policies', () => {
    const r = fmtCli('-l', join(ROOT, 'policies'));
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('-l lists, -d diffs, --fail exits 1, -w rewrites; then -l lists nothing', () => {
    const file = join(tmp, 'messy.rego');
    writeFileSync(file, 'package p\nr = 1 if {x:=2\nx==2}\n');
    expect(fmtCli('-l', tmp).stdout).toBe(`${file}\n`);
    const d = fmtCli('-d', file);
    expect(d.stdout).toContain('-r = 1 if {x:=2');
    expect(d.stdout).toContain('+r := 1 if { x := 2');
    expect(fmtCli('-l', '--fail', file).code).toBe(1);
    expect(fmtCli('-w', file).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(formatModule(file, 'package p\nr = 1 if {x:=2\nx==2}\n'));
    expect(fmtCli('-l', '--fail', file)).toMatchObject({ code: 0, stdout: '' });
  });

  it('a file that does not parse: one line on stderr, exit 2, file untouched', () => {
    const file = join(tmp, 'broken.rego');
    writeFileSync(file, 'package p\n\nr := [1,\n');
    const r = fmtCli('-w', file);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/broken\.rego:\d+: rego_parse_error/);
    expect(readFileSync(file, 'utf8')).toBe('package p\n\nr := [1,\n');
  });
});
