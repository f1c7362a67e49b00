// Rego language behaviour beyond the engine API basics: annotations, template strings, mocks, base documents,
// safety, resource limits, and the evaluator's fast path agreeing with its general path.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RegoError, compileModules, evalQuery, evalRef } from '../../engine/rego/index.ts';
import { RObject, RSet, keyOf, toJSON } from '../../engine/rego/value.ts';

const compile = (source: string, file = 'p.rego') => compileModules([{ file, source }]);
const value = (source: string, ref: string, opts: Parameters<typeof evalRef>[2] = {}) => {
  const v = evalRef(compile(source), ref, opts);
  return v === undefined ? undefined : toJSON(v);
};
const errorOf = (fn: () => unknown): RegoError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof RegoError) return err;
    throw err;
  }
  throw new Error('expected a RegoError');
};

describe('METADATA annotations', () => {
  const source = `# METADATA
# description: remediation rules
package arbiter.policies.restart

# METADATA
# title: Restart on leaks
# authors:
# - Ops Team <ops@example.com>
# - Jane
allow := rego.metadata.rule()

# METADATA
# scope: document
# title: Chains
chain := x if { false; x := 1 }

chain := rego.metadata.chain()

bare := rego.metadata.rule()
`;

  it('rego.metadata.rule() is the rule-scope block, authors split into name and email', () => {
    expect(value(source, 'data.arbiter.policies.restart.allow')).toEqual({
      scope: 'rule',
      title: 'Restart on leaks',
      authors: [{ name: 'Ops Team', email: 'ops@example.com' }, { name: 'Jane' }],
    });
  });

  it('a rule without a block gets an empty object', () => {
    expect(value(source, 'data.arbiter.policies.restart.bare')).toEqual({});
  });

  it('rego.metadata.chain() lists the rule, its document and its package, paths without data', () => {
    expect(value(source, 'data.arbiter.policies.restart.chain')).toEqual([
      { path: ['arbiter', 'policies', 'restart', 'chain'] },
      { path: ['arbiter', 'policies', 'restart', 'chain'], annotations: { scope: 'document', title: 'Chains' } },
      { path: ['arbiter', 'policies', 'restart'], annotations: { scope: 'package', description: 'remediation rules' } },
    ]);
  });

  it('a package scope on a rule is a parse error at the block', () => {
    const err = errorOf(() => compile('package p\n\n# METADATA\n# scope: package\nq := 1\n'));
    expect(err.code).toBe('rego_parse_error');
    expect(err.location?.row).toBe(3);
  });
});

describe('template strings', () => {
  it('evaluate `with` inside a template expression', () => {
    expect(value('package p\na := input.a\nq := $"a={a with input as {"a": 42}}"', 'data.p.q', { input: { a: 1 } })).toBe('a=42');
  });

  it('print <undefined> for an expression without a value, even under with', () => {
    expect(value('package p\na := input.a\nq := $"a={a with input as {}}"', 'data.p.q')).toBe('a=<undefined>');
  });

  it('match a template string argument built from body bindings', () => {
    const src = 'package p\nf($"{x}-{input.y}") := 1 if x := "a"\nq := f(input.s)';
    fc.assert(
      fc.property(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), (y, s) => {
        expect(value(src, 'data.p.q', { input: { y, s } })).toBe(s === `a-${y}` ? 1 : undefined);
      }),
      { numRuns: 50 },
    );
  });
});

describe('rego.parse_module', () => {
  it("returns OPA's AST JSON for the package path and rules", () => {
    const src = 'package p\nm := rego.parse_module("x.rego", "package foo.bar\\n\\nallow if input.ok")';
    const ast = value(src, 'data.p.m') as { package: { path: Array<{ value: string }> }; rules: Array<{ head: { name: string } }> };
    expect(ast.package.path.map((t) => t.value)).toEqual(['data', 'foo', 'bar']);
    expect(ast.rules.map((r) => r.head.name)).toEqual(['allow']);
  });

  it('reports a parse error of the module as eval_builtin_error in strict mode', () => {
    const c = compile('package p\nm := rego.parse_module("x.rego", "package foo.")');
    const err = errorOf(() => evalRef(c, 'data.p.m', { strict: true }));
    expect(err.code).toBe('eval_builtin_error');
    expect(err.message).toContain('rego_parse_error');
  });
});

describe('with: function mocks', () => {
  it('a mock runs with the original functions, never another mock', () => {
    const src = `package p
g(x) := count(x)
f(_) := 100
q := n if { n := r with count as f }
r := n if { n := object.union_n([{"a": 1}, {"b": 2}]) with object.union_n as g }
`;
    // object.union_n is mocked by g; inside g, count is the real count (2), not the outer mock f (100)
    expect(value(src, 'data.p.q')).toBe(2);
  });
});

describe('base documents', () => {
  it('a number in a data ref finds the key written as text', () => {
    expect(value('package p\nq := data.nested[2]', 'data.p.q', { data: { nested: { '2': 'bar' } } })).toBe('bar');
  });

  it('but an ordinary object lookup does not', () => {
    expect(value('package p\nq := o[2] if o := data.nested', 'data.p.q', { data: { nested: { '2': 'bar' } } })).toBeUndefined();
  });

  it('a base document at a rule path shadows the rule', () => {
    expect(value('package p\nk := "rule"', 'data.p', { data: { p: { k: 'base' } } })).toEqual({ k: 'base' });
  });
});

describe('safety', () => {
  it.each([
    ['a variable only under not', 'package p\ns := {1}\nq if not s[x]', 'var x is unsafe'],
    ['a wildcard under not', 'package p\ns := {1}\nq if not s[_]', 'var _ is unsafe'],
    ['a variable under not in a comprehension', 'package p\ns := {1}\nq := [1 | not s[x]]', 'var x is unsafe'],
  ])('rejects %s', (_name, src, message) => {
    const err = errorOf(() => compile(src));
    expect(err.code).toBe('rego_unsafe_var_error');
    expect(err.message).toContain(message);
  });

  it('accepts a negation whose variables are bound before it', () => {
    expect(value('package p\ns := {1}\nq if { x := 2; not s[x] }', 'data.p.q')).toBe(true);
  });
});

describe('limits', () => {
  const identity = compile('package p\nq := input');

  it('rejects input nested deeper than maxInputDepth, naming the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 50_000; i++) deep = [deep];
    const err = errorOf(() => evalRef(identity, 'data.p.q', { input: deep }));
    expect(err.code).toBe('eval_input_error');
    expect(err.message).toContain('maxInputDepth');
  });

  it('rejects a cyclic input instead of looping', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(errorOf(() => evalRef(identity, 'data.p.q', { input: cyclic })).code).toBe('eval_input_error');
  });

  it('rejects input with more values than maxInputNodes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 30 }), fc.integer({ min: 1, max: 40 }), (xs, max) => {
        const run = () => evalRef(identity, 'data.p.q', { input: xs, limits: { maxInputNodes: max } });
        if (xs.length + 1 > max) expect(errorOf(run).code).toBe('eval_input_error');
        else expect(toJSON(run() as never)).toEqual(xs);
      }),
      { numRuns: 50 },
    );
  });

  it('turns a stack overflow on an already converted deep value into eval_cancel_error', () => {
    let deep: RObject | number = 1;
    for (let i = 0; i < 200_000; i++) deep = new RObject([['a', deep]]);
    const c = compile('package p\nq if { x := {input}; count(x) == 1 }');
    expect(errorOf(() => evalRef(c, 'data.p.q', { input: deep })).code).toBe('eval_cancel_error');
  });

  const runaway = compile('package p\nr := numbers.range(1, 1000)\nq if { some a in r; some b in r; some c in r; a + b + c < 0 }');

  it('stops a runaway body at the step budget', () => {
    const err = errorOf(() => evalRef(runaway, 'data.p.q', { limits: { maxSteps: 20_000 } }));
    expect(err.code).toBe('eval_cancel_error');
    expect(err.message).toContain('step budget (20000 steps)');
  });

  it('stops a runaway body at the time budget', () => {
    const start = Date.now();
    const err = errorOf(() => evalRef(runaway, 'data.p.q', { limits: { timeoutMs: 50, maxSteps: 1e12 } }));
    expect(err.message).toContain('time budget (50 ms)');
    expect(Date.now() - start).toBeLessThan(2_000);
  });
});

describe('fast path and general path agree', () => {
  // `with time.now_ns as 1` is a no-op for these rules but sends evaluation through the general (continuation) path
  const src = `package p
summary := {
  "sum": sum([x | some x in input.xs]),
  "first": input.xs[0],
  "tag": $"{input.s}:{count(input.xs)}",
  "shout": shout(input.s),
  "big": {x | some x in input.xs; x > 10},
  "pairs": [[i, x] | some i, x in input.xs],
}
shout(s) := concat("", [upper(s), "!"])
plain := summary
general := x if x := summary with time.now_ns as 1
`;
  const c = compile(src);

  it('gives the same values on random inputs, and the values JavaScript computes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 8 }), fc.string({ maxLength: 6 }), (xs, s) => {
        const input = { xs, s };
        const plain = toJSON(evalRef(c, 'data.p.plain', { input }) as never) as Record<string, unknown>;
        expect(toJSON(evalRef(c, 'data.p.general', { input }) as never)).toEqual(plain);
        expect(plain.sum).toBe(xs.reduce((a, b) => a + b, 0));
        expect(plain.first).toBe(xs[0]);
        expect(plain.tag).toBe(`${s}:${xs.length}`);
        expect(plain.big).toEqual([...new Set(xs.filter((x) => x > 10))].sort((a, b) => a - b));
        expect(plain.pairs).toEqual(xs.map((x, i) => [i, x]));
      }),
      { numRuns: 100 },
    );
  });

  it('query bindings match between evalQuery and evalRef', () => {
    const input = { xs: [3, 12, 12], s: 'ab' };
    const [first] = evalQuery(c, 'x := data.p.plain', { input });
    expect(toJSON(first?.bindings.get('x') as never)).toEqual(toJSON(evalRef(c, 'data.p.plain', { input }) as never));
  });
});

describe('structural keys', () => {
  it('follow changes to objects and sets after being computed', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 3 }), fc.integer()), fc.string({ maxLength: 3 }), fc.integer(), (rec, k, v) => {
        const o = new RObject(Object.entries(rec));
        const before = keyOf(o);
        o.set(k, v);
        expect(keyOf(o)).toBe(keyOf(new RObject([...Object.entries(rec), [k, v]])));
        if (rec[k] === v) expect(keyOf(o)).toBe(before);
        const s = new RSet(Object.values(rec));
        keyOf(s);
        s.add(v);
        expect(keyOf(s)).toBe(keyOf(new RSet([...Object.values(rec), v])));
      }),
      { numRuns: 100 },
    );
  });
});
