// Compile-time errors OPA reports (v1/ast/compile.go, check.go, parser.go), with OPA's code and wording, and the
// valid policies next to each that must still compile.
import { describe, expect, it } from 'vitest';
import { RegoError, compileModules, evalRef } from '../../engine/rego/index.ts';

type Files = Array<{ file: string; source: string }>;

/** The first error of compiling the modules, as `file:row: code: message`; null when they compile. */
function firstError(files: Files | string): string | null {
  const modules = typeof files === 'string' ? [{ file: 'p.rego', source: files }] : files;
  try {
    compileModules(modules);
    return null;
  } catch (err) {
    if (!(err instanceof RegoError)) throw err;
    return `${err.location?.file}:${err.location?.row}: ${err.code}: ${err.detail}`;
  }
}

const mod = (body: string): string => `package p\n\n${body}\n`;

describe('rule paths that conflict', () => {
  it('a complete rule with rules inside its extent, in one package', () => {
    expect(firstError(mod('a.b := 1\n\na.b.c := 2'))).toBe('p.rego:3: rego_type_error: rule data.p.a.b conflicts with [data.p.a.b.c]');
  });

  it('a rule in one package and a package below it', () => {
    expect(
      firstError([
        { file: 'a.rego', source: 'package p\n\na.b := 1\n' },
        { file: 'b.rego', source: 'package p.a.b\n\nc := 1\n' },
      ]),
    ).toBe('a.rego:3: rego_type_error: rule data.p.a.b conflicts with [data.p.a.b.c]');
  });

  it('allows a rule with a variable in its ref beside rules inside it (as OPA does)', () => {
    expect(firstError(mod('a[k] := 1 if some k in ["x"]\n\na.y.z := 2'))).toBeNull();
  });

  it('single-value and multi-value rules, or complete and partial rules, at one path', () => {
    expect(firstError(mod('s contains 1\n\ns := 2'))).toBe('p.rego:3: rego_type_error: conflicting rules data.p.s found');
    expect(firstError(mod('f(x) := x\n\nf(x, y) := x'))).toBe('p.rego:3: rego_type_error: conflicting rules data.p.f found');
  });

  it('two defaults for one rule, reported at the package', () => {
    expect(firstError(mod('default x := 1\n\ndefault x := 2'))).toBe('p.rego:1: rego_type_error: multiple default rules data.p.x found at p.rego:3, p.rego:5');
  });
});

describe('recursion', () => {
  it('a function that calls itself', () => {
    expect(firstError(mod('f(x) := y if y := f(x)'))).toBe('p.rego:3: rego_recursion_error: rule f is recursive: f -> f');
  });

  it('rules that depend on each other, across packages too', () => {
    expect(firstError(mod('a if b\n\nb if a'))).toBe('p.rego:3: rego_recursion_error: rule a is recursive: a -> b -> a');
    expect(
      firstError([
        { file: 'a.rego', source: 'package a\n\nx if data.b.y\n' },
        { file: 'b.rego', source: 'package b\n\ny if data.a.x\n' },
      ]),
    ).toMatch(/^a\.rego:3: rego_recursion_error: rule x is recursive: x -> y -> x$/);
  });

  it('a chain without a cycle compiles', () => {
    expect(firstError(mod('a if b\n\nb if c\n\nc := true'))).toBeNull();
  });
});

describe('variables declared twice in one body', () => {
  it('`x := 1; x := 2`', () => {
    expect(firstError(mod('r if {\n\tx := 1\n\tx := 2\n}'))).toBe('p.rego:5: rego_compile_error: var x assigned above');
  });

  it('a variable introduced twice by `some … in`', () => {
    expect(firstError(mod('r if {\n\tsome x in [1]\n\tsome x in [2]\n}'))).toBe('p.rego:5: rego_compile_error: var x declared above');
  });

  it('assigned after being used', () => {
    expect(firstError(mod('r if {\n\tx == 1\n\tx := 1\n}'))).toBe('p.rego:5: rego_compile_error: var x referenced above');
  });

  it('a function argument assigned in the body', () => {
    expect(firstError(mod('f(x) := y if {\n\tx := 1\n\ty := x\n}'))).toBe('p.rego:4: rego_compile_error: arg x redeclared');
  });

  it('the same name in separate scopes is fine', () => {
    const c = compileModules([{ file: 'p.rego', source: mod('r := [x | some x in [1]]\n\nq if {\n\tx := 1\n\tys := [x | x := 2]\n\tx == 1\n\tys == [2]\n}') }]);
    expect(evalRef(c, 'data.p.q')).toBe(true);
  });
});

describe('imports and root documents', () => {
  it('two imports under one name', () => {
    expect(firstError('package p\n\nimport data.a as b\nimport data.c as b\n\nr := 1\n')).toBe('p.rego:4: rego_compile_error: import must not shadow import data.a as b');
    expect(firstError('package p\n\nimport data.x.b\nimport data.y.b\n\nr := 1\n')).toBe('p.rego:4: rego_compile_error: import must not shadow import data.x.b');
  });

  it('a rule named input or data, an argument named input', () => {
    expect(firstError(mod('input := 1'))).toBe('p.rego:3: rego_compile_error: rules must not shadow input (use a different rule name)');
    expect(firstError(mod('data := 1'))).toBe('p.rego:3: rego_compile_error: rules must not shadow data (use a different rule name)');
  });
});

describe('refs that cannot be defined', () => {
  it('`some x in` a scalar', () => {
    expect(firstError(mod('r if some x in "a string"'))).toBe('p.rego:3: rego_type_error: undefined ref: "a string"[_]');
    expect(firstError(mod('r if some x in 5'))).toMatch(/rego_type_error: undefined ref/);
  });

  it('indexing a constant document out of range or by the wrong type', () => {
    expect(firstError(mod('xs := [1, 2]\n\nr := xs[5]'))).toBe('p.rego:5: rego_type_error: undefined ref: data.p.xs[5]');
    expect(firstError(mod('xs := [1, 2]\n\nr := xs.a'))).toBe('p.rego:5: rego_type_error: undefined ref: data.p.xs.a');
    expect(firstError(mod('o := {"a": 1}\n\nr := o.b'))).toBe('p.rego:5: rego_type_error: undefined ref: data.p.o.b');
    expect(firstError(mod('n := 5\n\nr := n.b'))).toBe('p.rego:5: rego_type_error: undefined ref: data.p.n.b');
  });

  it('valid refs into constant documents compile and evaluate', () => {
    const c = compileModules([{ file: 'p.rego', source: mod('xs := [1, 2]\n\no := {"a": [3]}\n\nr := [xs[1], o.a[0], xs[i]] if i := 0') }]);
    expect(evalRef(c, 'data.p.r')).toEqual([2, 3, 1]);
  });
});

describe('default values are constants', () => {
  it('`default x := y` is a parse error naming what it holds', () => {
    expect(firstError(mod('default x := y'))).toBe('p.rego:3: rego_parse_error: illegal default rule (value cannot contain var)');
    expect(firstError(mod('default x := input.a'))).toBe('p.rego:3: rego_parse_error: illegal default rule (value cannot contain ref)');
    expect(firstError(mod('default x := count([])'))).toBe('p.rego:3: rego_parse_error: illegal default rule (value cannot contain call)');
    expect(firstError(mod('default x := [y | y := 1]'))).toBeNull();
  });
});

describe('aggregates over partial sets type-check (a valid policy is not rejected)', () => {
  for (const [what, elems] of [
    ['numbers', ['1', '2']],
    ['booleans', ['true', 'false']],
  ] as const) {
    it(`count and sum/any over a partial set of constant ${what}`, () => {
      const rules = elems.map((e) => `s contains ${e}`).join('\n\n');
      const agg = what === 'numbers' ? 'r := [count(s), sum(s), max(s)]' : 'r := [count(s)]';
      const c = compileModules([{ file: 'p.rego', source: mod(`${rules}\n\n${agg}`) }]);
      expect(evalRef(c, 'data.p.r')).toEqual(what === 'numbers' ? [2, 3, 2] : [2]);
    });
  }

  it('still reports a partial set where a number is wanted', () => {
    expect(firstError(mod('s contains 1\n\nr := abs(s)'))).toMatch(/^p\.rego:5: rego_type_error: abs: invalid argument\(s\)$/);
  });
});
