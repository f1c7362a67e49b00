// The parser accepts exactly what OPA's v1 parser accepts: keywords are never variables or rule names (but may head
// a ref), a comprehension head is one term, unary minus applies to number literals only, and v0 rule bodies without
// `if` are rejected, each with OPA's rego_parse_error wording.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RegoError, compileModules, evalRef } from '../../engine/rego/index.ts';

const POLICIES = fileURLToPath(new URL('../../policies', import.meta.url));

function parseError(source: string): string | null {
  try {
    compileModules([{ file: 'p.rego', source: `package p\n\n${source}\n` }]);
    return null;
  } catch (err) {
    if (!(err instanceof RegoError)) throw err;
    return `${err.location?.row}: ${err.code}: ${err.detail}`;
  }
}

const KEYWORDS = ['in', 'some', 'every', 'if', 'not', 'with', 'as', 'default', 'else', 'package', 'import'];

describe('keywords are not variable names', () => {
  for (const kw of KEYWORDS) {
    it(`\`${kw}\` as a function argument is "unexpected ${kw} keyword"`, () => {
      expect(parseError(`f(${kw}) := 1`)).toBe(`3: rego_parse_error: unexpected ${kw} keyword`);
    });
  }

  it('a keyword as a rule name is refused, as the head of a ref rule it is fine', () => {
    expect(parseError('in := 1')).toBe('3: rego_parse_error: unexpected in keyword');
    const c = compileModules([{ file: 'p.rego', source: 'package p\n\nin.foo := 1\n\nr := in.foo + data.p["in"].foo\n' }]);
    expect(evalRef(c, 'data.p.r')).toBe(2);
  });

  it('`contains` stays usable as the builtin', () => {
    const c = compileModules([{ file: 'p.rego', source: 'package p\n\nr if contains("abc", "b")\n' }]);
    expect(evalRef(c, 'data.p.r')).toBe(true);
  });

  it('no shipped .rego file uses a keyword as a variable (every shipped module parses)', () => {
    const files: Array<{ file: string; source: string }> = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.rego')) files.push({ file: p, source: readFileSync(p, 'utf8') });
      }
    };
    walk(POLICIES);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(() => compileModules([f]), f.file).not.toThrow();
  });
});

describe('comprehension heads are single terms', () => {
  it('refuses an infix expression as an array, set or object-value head', () => {
    expect(parseError('r := [x * 10 | some x in [1]]')).toMatch(/^3: rego_parse_error: /);
    expect(parseError('r := {x + 1 | some x in [1]}')).toMatch(/^3: rego_parse_error: /);
    expect(parseError('r := {x: x + 1 | some x in [1]}')).toMatch(/^3: rego_parse_error: /);
  });

  it('accepts a parenthesised expression, a call, a ref, and an infix object key', () => {
    const c = compileModules([
      {
        file: 'p.rego',
        source:
          'package p\n\na := [(x * 10) | some x in [1, 2]]\nb := {abs(x) | some x in [-1]}\nc := {x + 1: x | some x in [1]}\nd := [xs[0] | xs := [[7]][_]]\ne := [1 | 2]\n',
      },
    ]);
    expect(evalRef(c, 'data.p.a')).toEqual([10, 20]);
    expect(evalRef(c, 'data.p.d')).toEqual([7]);
    expect(evalRef(c, 'data.p.c[2]')).toBe(1);
    // `[1 | 2]` is a comprehension, as in OPA (comprehensions win over the `|` operator)
    expect(evalRef(c, 'data.p.e')).toEqual([1]);
  });
});

describe('unary minus', () => {
  it('negates number literals, spaced or not', () => {
    const c = compileModules([{ file: 'p.rego', source: 'package p\n\na := -1\nb := - 2\nc := 3 - -1\n' }]);
    expect([evalRef(c, 'data.p.a'), evalRef(c, 'data.p.b'), evalRef(c, 'data.p.c')]).toEqual([-1, -2, 4]);
  });

  it('is a parse error before a ref or a parenthesis', () => {
    expect(parseError('xs := [1]\nr := -xs[0]')).toBe('4: rego_parse_error: unexpected ident token: expected number');
    expect(parseError('r := -(1)')).toBe('3: rego_parse_error: unexpected ( token: expected number');
  });
});

describe('v0 rule syntax in a v1 module', () => {
  it('a body without `if` is refused for rules and functions', () => {
    expect(parseError('r { true }')).toBe('3: rego_parse_error: `if` keyword is required before rule body');
    expect(parseError('r[x] { x := 1 }')).toBe('3: rego_parse_error: `if` keyword is required before rule body');
    expect(parseError('f(x) = y { y := x }')).toBe('3: rego_parse_error: `if` keyword is required before function body');
  });
});

describe('nesting stays linear', () => {
  it('parses 400 nested arrays (each first element is tried as a comprehension head once)', () => {
    const src = `r := ${'['.repeat(400)}1${']'.repeat(400)}`;
    expect(parseError(src)).toBeNull();
  });
});
