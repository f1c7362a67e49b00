// The Rego engine's public API: compile once, evaluate many queries with OPA's semantics.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RegoError, compileModules, compileQueryBody, evalCompiledQuery, evalQuery, evalRef } from '../../engine/rego/index.ts';
import { parseQuery } from '../../engine/rego/parser.ts';
import { RObject, RSet, formatNumber, toJSON } from '../../engine/rego/value.ts';
import type { RNumber } from '../../engine/rego/value.ts';

const policy = compileModules([
  {
    file: 'policy.rego',
    source: `package arbiter.policies.restart

default allow := false

allow if {
  input.diagnosis.severity in {"high", "critical"}
  count(blockers) == 0
}

blockers contains msg if {
  some svc in input.context.frozen
  svc == input.diagnosis.service
  msg := $"service {svc} is frozen"
}

limits[name] := n if {
  some name, n in input.limits
  n > 0
}

double(x) := x * 2
`,
  },
]);

describe('evalRef', () => {
  it('evaluates complete rules with defaults', () => {
    const input = { diagnosis: { severity: 'high', service: 'api' }, context: { frozen: [] } };
    expect(evalRef(policy, 'data.arbiter.policies.restart.allow', { input })).toBe(true);
    expect(evalRef(policy, 'data.arbiter.policies.restart.allow', { input: { ...input, diagnosis: { severity: 'low' } } })).toBe(false);
  });

  it('builds partial sets and objects', () => {
    const input = { diagnosis: { severity: 'high', service: 'api' }, context: { frozen: ['api', 'db'] }, limits: { a: 1, b: 0 } };
    const blockers = evalRef(policy, 'data.arbiter.policies.restart.blockers', { input });
    expect(blockers).toBeInstanceOf(RSet);
    expect(toJSON(blockers as RSet)).toEqual(['service api is frozen']);
    expect(toJSON(evalRef(policy, 'data.arbiter.policies.restart.limits', { input }) as RObject)).toEqual({ a: 1 });
    expect(evalRef(policy, 'data.arbiter.policies.restart.allow', { input })).toBe(false);
  });

  it('keeps big integers exact', () => {
    expect(evalRef(policy, 'data.arbiter.policies.restart.double(9007199254740993)')).toBe(18014398509481986n);
  });
});

describe('evalQuery', () => {
  it('returns one binding set per solution', () => {
    const r = evalQuery(policy, 'x := [1, 2, 3][_]; x > 1');
    expect(r.map((b) => b.bindings.get('x'))).toEqual([2, 3]);
  });

  // OPA 1.9 computes beyond ±999 in a 64-bit big.Float (topdown/arithmetic.go): exact while results fit 64 bits
  it('integer arithmetic agrees with BigInt while results fit a 64-bit mantissa', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 31n), max: 2n ** 31n }), fc.bigInt({ min: -(2n ** 31n), max: 2n ** 31n }), (a, b) => {
        const r = evalQuery(policy, `x := ${a} + ${b}; y := ${a} * ${b}`)[0]?.bindings;
        expect(BigInt(formatNumber(r?.get('x') as RNumber))).toBe(a + b);
        expect(BigInt(formatNumber(r?.get('y') as RNumber))).toBe(a * b);
      }),
      { numRuns: 50 },
    );
  });
});

describe('compileQueryBody / evalCompiledQuery', () => {
  it('a parsed query body, rewritten by the caller, compiles and evaluates like a query string', () => {
    const compiled = compileModules([{ file: 'p.rego', source: 'package p\nxs := [3, 1, 2]' }]);
    const body = parseQuery('x := data.p.xs[_]; x > 1');
    // the caller's rewrite: keep only the first expression
    const q = compileQueryBody(compiled, body.slice(0, 1));
    const got = evalCompiledQuery(compiled, q).map((r) => r.bindings.get('x'));
    expect(got).toEqual([3, 1, 2]);
    expect(evalQuery(compiled, 'x := data.p.xs[_]').map((r) => r.bindings.get('x'))).toEqual(got);
    expect(compiled.queries.size).toBe(1);
  });

  it('compile errors of the body are RegoErrors; the options apply as for evalQuery', () => {
    const compiled = compileModules([]);
    expect(() => compileQueryBody(compiled, parseQuery('x := y'))).toThrow(RegoError);
    const q = compileQueryBody(compiled, parseQuery('t := time.now_ns(); v := input.v'));
    const [r] = evalCompiledQuery(compiled, q, { nowNs: 42n, input: { v: 'in' } });
    expect(r?.bindings.get('t')).toBe(42);
    expect(r?.bindings.get('v')).toBe('in');
  });
});

describe('errors', () => {
  it('reports parse errors with file and row', () => {
    expect(() => compileModules([{ file: 'bad.rego', source: 'package x\n\np := [1,\n' }])).toThrow(/bad\.rego:\d+: rego_parse_error/);
  });

  it('reports conflicting complete rules as eval_conflict_error', () => {
    const c = compileModules([{ file: 'c.rego', source: 'package c\n\np := 1 if true\np := 2 if true\n' }]);
    let err: unknown;
    try {
      evalRef(c, 'data.c.p');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegoError);
    expect((err as RegoError).code).toBe('eval_conflict_error');
  });

  it('stops a runaway evaluation with eval_cancel_error', () => {
    const c = compileModules([{ file: 'loop.rego', source: 'package l\n\np := count([1 | numbers.range(1, 3000)[_]; numbers.range(1, 3000)[_]])\n' }]);
    expect(() => evalRef(c, 'data.l.p', { limits: { maxSteps: 10_000 } })).toThrow(/eval_cancel_error/);
  });
});
