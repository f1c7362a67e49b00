import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { evalOpa, formatOpaJson, goString, loadEvalPaths } from '../../engine/rego/opa-eval.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'arbiter-eval-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function arbiter(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/arbiter'), 'eval', ...args], { encoding: 'utf8', cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// a small policy tree: a module, data at the root and data in a subdirectory
const policyDir = join(tmp, 'policy');
mkdirSync(join(policyDir, 'teams', 'sre'), { recursive: true });
writeFileSync(join(policyDir, 'authz.rego'), 'package authz\n\nallow if input.user == data.admins[_]\n\nroles contains r if some r in ["viewer", "admin"]\n\nboom := 1 / 0\n');
writeFileSync(join(policyDir, 'data.json'), '{"admins": ["alice"]}');
writeFileSync(join(policyDir, 'teams', 'sre', 'members.yaml'), 'oncall: [bob]\n');
const inputFile = join(tmp, 'input.json');
writeFileSync(inputFile, '{"user": "alice"}');

/** What `opa eval --format json` prints for one result with the given expressions (Go's encoder, two spaces). */
function opaDocument(expressions: Array<{ value: string; text: string; col: number }>, bindings?: string[]): string {
  const exprs = expressions
    .map((e) => `        {\n          "value": ${e.value},\n          "text": ${JSON.stringify(e.text)},\n          "location": {\n            "row": 1,\n            "col": ${e.col}\n          }\n        }`)
    .join(',\n');
  const b = bindings ? `,\n      "bindings": {\n${bindings.map((l) => `        ${l}`).join(',\n')}\n      }` : '';
  return `{\n  "result": [\n    {\n      "expressions": [\n${exprs}\n      ]${b}\n    }\n  ]\n}\n`;
}

describe('arbiter eval -f json prints what opa eval --format json prints', () => {
  it('a rule value: one expression, no bindings', () => {
    const r = arbiter('-d', policyDir, '-i', inputFile, 'data.authz.allow');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(opaDocument([{ value: 'true', text: 'data.authz.allow', col: 1 }]));
  });

  it('an expression per query expression, with columns and the bindings', () => {
    const r = arbiter('x = 1; y := 2');
    expect(r.stdout).toBe(opaDocument([{ value: 'true', text: 'x = 1', col: 1 }, { value: 'true', text: 'y := 2', col: 8 }], ['"x": 1', '"y": 2']));
  });

  it('bindings are a Go map: keys sorted, whatever the query order', () => {
    const r = arbiter('zeta = 1; alpha = 2');
    expect(r.stdout).toBe(opaDocument([{ value: 'true', text: 'zeta = 1', col: 1 }, { value: 'true', text: 'alpha = 2', col: 11 }], ['"alpha": 2', '"zeta": 1']));
  });

  it('undefined prints {} and exits 0', () => {
    const r = arbiter('-d', policyDir, 'data.authz.allow');
    expect(r).toMatchObject({ code: 0, stdout: '{}\n' });
    // several expressions, or iteration, make a false expression fail the query (OPA's checkCapture)
    expect(arbiter('true; 1 == 2').stdout).toBe('{}\n');
    expect(arbiter('[false][_]').stdout).toBe('{}\n');
  });

  it('a query that is one false expression prints the value false, as opa eval does', () => {
    expect(arbiter('1 == 2').stdout).toBe(opaDocument([{ value: 'false', text: '1 == 2', col: 1 }]));
    expect(arbiter('false').stdout).toBe(opaDocument([{ value: 'false', text: 'false', col: 1 }]));
    const dir = join(tmp, 'default-false');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'p.rego'), 'package p\n\ndefault allow := false\n');
    const doc = JSON.parse(arbiter('-d', dir, 'data.p.allow').stdout);
    expect(doc.result[0].expressions[0].value).toBe(false);
    expect(arbiter('-f', 'pretty', '-d', dir, 'data.p.allow').stdout).toBe('false\n');
  });

  it('several solutions are several results; sets print as sorted arrays', () => {
    const r = arbiter('-d', policyDir, 'data.authz.roles[r]');
    const doc = JSON.parse(r.stdout);
    // as a set: OPA iterates sets in sorted order, the interpreter in insertion order (reported to the interpreter's owners)
    expect(doc.result.map((x: { bindings: { r: string } }) => x.bindings.r).sort()).toEqual(['admin', 'viewer']);
    const set = JSON.parse(arbiter('-d', policyDir, 'data.authz.roles').stdout);
    expect(set.result[0].expressions[0].value).toEqual(['admin', 'viewer']);
  });

  it('data files load at their directory path, like OPA\'s loader', () => {
    const doc = JSON.parse(arbiter('-d', policyDir, 'data.teams.sre.oncall').stdout);
    expect(doc.result[0].expressions[0].value).toEqual(['bob']);
    expect(JSON.parse(arbiter('-d', join(policyDir, 'data.json'), 'data.admins').stdout).result[0].expressions[0].value).toEqual(['alice']);
  });

  it('strings are escaped as Go escapes them (<, >, & as \\u003c, \\u003e, \\u0026)', () => {
    expect(arbiter('x := "<a&b>"').stdout).toContain('"x": "\\u003ca\\u0026b\\u003e"');
  });

  it('a compile error prints OPA\'s errors document and exits 2', () => {
    const bad = join(tmp, 'bad.rego');
    writeFileSync(bad, 'package bad\n\np if {\n');
    const r = arbiter('-d', bad, 'data.bad.p');
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.errors[0]).toMatchObject({ code: 'rego_parse_error', location: { file: bad, row: expect.any(Number), col: expect.any(Number) } });
    expect(Object.keys(doc.errors[0])).toEqual(['message', 'code', 'location']);
  });

  it('an evaluation error with --strict-builtin-errors exits non-zero with eval_builtin_error', () => {
    const r = arbiter('--strict-builtin-errors', 'x := 1 / 0');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).errors[0]).toMatchObject({ code: 'eval_builtin_error', message: expect.stringContaining('divide by zero') });
    expect(arbiter('x := 1 / 0').stdout).toBe('{}\n');
  });

  it('usage errors exit 2 without a stack trace', () => {
    for (const args of [[], ['a', 'b'], ['-f', 'xml', 'true'], ['-d', join(tmp, 'missing'), 'true']]) {
      const r = arbiter(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('arbiter eval -f pretty', () => {
  it('a lone value is indented JSON; undefined is "undefined"', () => {
    expect(arbiter('-f', 'pretty', '-d', policyDir, 'data.admins').stdout).toBe('[\n  "alice"\n]\n');
    expect(arbiter('-f', 'pretty', '-d', policyDir, 'data.authz.allow').stdout).toBe('undefined\n');
  });

  it('errors print as "1 error occurred: file:row: code: message"', () => {
    const bad = join(tmp, 'unsafe.rego');
    writeFileSync(bad, 'package unsafe\n\np if {\n  x == 1\n}\n');
    const r = arbiter('-f', 'pretty', '-d', bad, 'data.unsafe.p');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^1 error occurred: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4: rego_unsafe_var_error: var x is unsafe\\n$`));
  });
});

describe('values print exactly (property)', () => {
  const json = fc.jsonValue({ maxDepth: 3 }).filter((v) => JSON.stringify(v) !== undefined);
  it('any JSON input prints back as Go prints it', () => {
    fc.assert(
      fc.property(json, (v) => {
        // a lone `false` is a value too (OPA checks captured values only in longer or iterating queries)
        const doc = formatOpaJson(evalOpa({ modules: [], input: v, query: 'input' }));
        const parsed = JSON.parse(doc);
        // same value (OPA's -0 is 0; JSON has no -0)
        expect(parsed.result[0].expressions[0].value).toEqual(JSON.parse(JSON.stringify(v), (_k, x) => (Object.is(x, -0) ? 0 : x)));
        // and no character Go would escape is left raw
        expect(doc).not.toMatch(/[<>&\u2028\u2029]/);
      }),
      { numRuns: 300 },
    );
  });

  it('goString escapes like Go\'s encoder and round-trips through JSON.parse', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = goString(s);
        expect(out).not.toMatch(/[<>&\u2028\u2029\u0000-\u001f]/);
        expect(JSON.parse(out)).toBe(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
      }),
      { numRuns: 500 },
    );
  });
});

describe('loading -d paths', () => {
  it('a data document defined twice is a merge error naming the file', () => {
    const dir = join(tmp, 'conflict');
    mkdirSync(join(dir, 'a'), { recursive: true });
    writeFileSync(join(dir, 'data.json'), '{"a": {"x": 1}}');
    writeFileSync(join(dir, 'a', 'data.json'), '{"x": 2}');
    expect(() => loadEvalPaths([dir])).toThrow(/merge error: data\.a\.x/);
  });
});
