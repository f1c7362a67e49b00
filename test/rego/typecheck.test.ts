// The type-check stage reports the `rego_type_error`s OPA's ast/check.go reports in the common cases (builtin
// arguments of a certainly wrong type, unification of certainly different types), worded as OPA words them, and
// never rejects a policy OPA accepts: the shipped bundle, every conformance module, and every builtin call its
// implementation accepts at run time.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { RegoError, compileModules, compileQueryBody } from '../../engine/rego/index.ts';
import { allBuiltins } from '../../engine/rego/builtins/index.ts';
import type { BuiltinContext } from '../../engine/rego/builtins/registry.ts';
import { parseQuery } from '../../engine/rego/parser.ts';
import { RegoTypeError, compatible, formatType, typeOfValue } from '../../engine/rego/typecheck.ts';
import { RObject, RSet } from '../../engine/rego/value.ts';
import type { Value } from '../../engine/rego/value.ts';

const REGO_DIR = fileURLToPath(new URL('../../policies/remediation-rego', import.meta.url));
const CONFORMANCE_DIR = fileURLToPath(new URL('../../../shared/conformance/opa/v1', import.meta.url));

/** Every error of compiling one module, as `row:col: code: message` plus OPA's detail lines. */
function typeErrors(body: string): string[] {
  try {
    compileModules([{ file: 'p.rego', source: `package p\n\n${body}` }]);
  } catch (err) {
    if (err instanceof RegoError) return err.all.map((e) => `${e.location?.row}:${e.location?.col}: ${e.code}: ${e.message.split(': ').slice(2).join(': ')}`);
    throw err;
  }
  return [];
}

describe('builtin arguments of a certainly wrong type', () => {
  it('an infix operator: message, location and have/want as OPA prints them (the output operand is ???)', () => {
    expect(typeErrors('p if {\n\tx := 1 + "a"\n\tx > 0\n}')).toEqual([
      '4:7: rego_type_error: plus: invalid argument(s)\n\thave: (number, string, ???)\n\twant: (number, number, number)',
    ]);
  });

  it('a collection builtin called with a scalar', () => {
    expect(typeErrors('p if count(5) > 0')).toEqual([
      '3:6: rego_type_error: count: invalid argument(s)\n\thave: (number, ???)\n\twant: (any<array[any], object[any: any], set[any], string>, number)',
    ]);
  });

  it('a local bound by := carries its type to later calls', () => {
    const errs = typeErrors('p if {\n\tname := 42\n\tstartswith(name, "x")\n}');
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^5:2: rego_type_error: startswith: invalid argument\(s\)\n\thave: \(number, string, \?\?\?\)/);
  });

  it('a builtin result carries its signature type (count returns a number)', () => {
    expect(typeErrors('p if upper(count(input.xs)) == "X"')[0]).toMatch(/upper: invalid argument\(s\)\n\thave: \(number, \?\?\?\)\n\twant: \(string, string\)/);
  });

  it('a rule whose definitions all have constant types has that type where it is referenced', () => {
    expect(typeErrors('default limit := 5\nlimit := 10 if input.big\np if lower(limit) == "x"')[0]).toMatch(/^5:6: rego_type_error: lower: invalid argument\(s\)/);
  });

  it('comprehensions have their kind: an array comprehension is no string', () => {
    expect(typeErrors('p if trim_space([x | some x in input.xs]) == ""')[0]).toMatch(/trim_space: invalid argument\(s\)\n\thave: \(array\[any\], \?\?\?\)/);
  });

  it('calls inside comprehension and every bodies are checked', () => {
    expect(typeErrors('p if {\n\tys := [y | some x in input.xs; y := x + "s"]\n\tcount(ys) > 0\n}')[0]).toMatch(/^4:38: rego_type_error: plus/);
    expect(typeErrors('p if {\n\tevery x in input.xs { abs("s") > x }\n}')[0]).toMatch(/^4:24: rego_type_error: abs/);
  });

  it('several errors are reported together, sorted by location (RegoError.all)', () => {
    const errs = typeErrors('q if count(true) > 0\np if {\n\tx := "a" * 2\n\tx > 0\n}');
    expect(errs.map((e) => e.split('\n')[0])).toEqual(['3:6: rego_type_error: count: invalid argument(s)', '5:7: rego_type_error: mul: invalid argument(s)']);
  });

  it('a rule whose body has an error is `any` to its users, so the mistake is reported once', () => {
    expect(typeErrors('r := 1 if count(1) > 0\np if upper(r) == "A"')).toHaveLength(1);
  });

  it('queries are checked too', () => {
    const compiled = compileModules([]);
    expect(() => compileQueryBody(compiled, parseQuery('x := "a" + 1'))).toThrow(/rego_type_error: plus: invalid argument\(s\)/);
  });

  it('the error is a RegoTypeError whose detail is the message and whose details are the have/want lines', () => {
    try {
      compileModules([{ file: 'lib/x.rego', source: 'package x\np if abs("a") > 0' }]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RegoTypeError);
      const e = err as RegoTypeError;
      expect([e.code, e.detail, e.location, e.details]).toEqual([
        'rego_type_error',
        'abs: invalid argument(s)',
        { file: 'lib/x.rego', row: 2, col: 6 },
        ['have: (string, ???)', 'want: (number, number)'],
      ]);
      expect(e.message.split('\n')[0]).toBe('lib/x.rego:2: rego_type_error: abs: invalid argument(s)');
    }
  });
});

describe('unification of certainly different types (match error)', () => {
  it('a local re-unified with a value of another type', () => {
    expect(typeErrors('p if {\n\tx := 1\n\tx = "a"\n}')).toEqual(['5:2: rego_type_error: match error\n\tleft  : number\n\tright : string']);
  });

  it('two literals of different kinds', () => {
    expect(typeErrors('p if [1] = {"a": 1}')[0]).toMatch(/^3:6: rego_type_error: match error\n\tleft  : array<number>\n\tright : object<a: number>/);
  });
});

describe('what OPA accepts is not reported', () => {
  const accepted: Array<[string, string]> = [
    ['comparisons of unrelated types', 'p if 1 == "a"\nq if 1 < "a"\nr if [1] != {"a": 1}'],
    ['input and data refs are any', 'p if count(input.x) + data.base.n > input.s'],
    ['a union admits each member (minus on sets)', 'p if count({1, 2} - {1}) == 1'],
    ['a rule with a non-constant definition is any', 'r := 1 if input.a\nr := input.b if input.c\np if upper(r) == "X"'],
    ['partial rules and functions are not typed', 'f(x) := x\ns contains "a"\np if count(s) > 0\nq if upper(f(1)) == "1"'],
    ['a var bound by iteration is not typed', 'p if {\n\tsome x in [1, 2]\n\tx == "a"\n}'],
    ['with-modified expressions are left to evaluation', 'p if upper(1) == "1" with upper as lower'],
    ['negated unifications bind nothing', 'p if {\n\tx := 1\n\tnot x = "a"\n}'],
    ['comparisons and equality of mixed values', 'p if {\n\tx := [1, "a"]\n\tx == ["a", 1]\n}'],
  ];
  for (const [name, body] of accepted) it(name, () => expect(typeErrors(body)).toEqual([]));
});

describe('never a false positive', () => {
  it('every module of the shipped Rego bundle compiles', () => {
    const modules = readdirSync(REGO_DIR)
      .filter((f) => f.endsWith('.rego'))
      .map((f) => ({ file: f, source: readFileSync(join(REGO_DIR, f), 'utf8') }));
    expect(modules.length).toBeGreaterThan(0);
    expect(() => compileModules(modules)).not.toThrow();
  });

  it('every conformance case OPA compiles still compiles here (modules and query)', (test) => {
    if (!existsSync(CONFORMANCE_DIR)) {
      console.log(`skipped: no conformance suite at ${CONFORMANCE_DIR}`);
      test.skip();
    }
    let checked = 0;
    const failures: string[] = [];
    for (const dir of readdirSync(CONFORMANCE_DIR, { withFileTypes: true })) {
      if (!dir.isDirectory()) continue;
      for (const f of readdirSync(join(CONFORMANCE_DIR, dir.name)).filter((x) => x.endsWith('.yaml'))) {
        const doc = YAML.parse(readFileSync(join(CONFORMANCE_DIR, dir.name, f), 'utf8')) as { cases?: Array<Record<string, unknown>> };
        for (const c of doc.cases ?? []) {
          const wantCode = String(c.want_error_code ?? '');
          if (wantCode.startsWith('rego_')) continue; // OPA rejects these at compile time
          try {
            const compiled = compileModules(((c.modules as string[] | undefined) ?? []).map((source, i) => ({ file: `m${i}.rego`, source })));
            if (typeof c.query === 'string') compileQueryBody(compiled, parseQuery(c.query));
            checked++;
          } catch (err) {
            if (err instanceof RegoError && err.code === 'rego_type_error') failures.push(`${String(c.note)}: ${err.message}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(1500);
  });
});

// ── builtin signatures agree with the implementations ─────────────────────────────────────────

const scalar = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -5, max: 40 }), fc.constantFrom('', 'a', '1', 'x.y', '10.0.0.0/8', '1.2.3', '2024-01-02T03:04:05Z', 'a,b'));
const valueArb: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.array(tie('v'), { maxLength: 3 }).map((xs) => new RSet(xs)),
    fc.array(fc.tuple(fc.constantFrom('a', 'b', 'op', 'path'), tie('v')), { maxLength: 3 }).map((kv) => new RObject(kv)),
  ),
})).v as fc.Arbitrary<Value>;

// validators answer "not valid" (false, or [false, …]) for operands of the wrong type instead of failing, as in OPA,
// whose signatures still reject those operand types at compile time
const VALIDATORS = new Set(['graphql.is_valid', 'graphql.parse_and_verify', 'graphql.schema_is_valid', 'json.match_schema', 'json.verify_schema']);
// run time also takes JSON documents and boolean schemas here; OPA declares (and type-checks) string or object
const WIDER_AT_RUN_TIME = new Set(['json.match_schema', 'json.verify_schema']);
const saysInvalid = (r: Value | undefined): boolean => r === false || (Array.isArray(r) && r[0] === false);

const ctx: BuiltinContext = { nowNs: 0n, strict: false, cache: new Map(), random: () => 0.5, print: () => undefined };
// side effects, the network, sleeping, or unbounded work: not exercised with random operands
const SKIP = new Set(['http.send', 'net.lookup_ip_addr', 'test.sleep', 'opa.runtime', 'print', 'trace', 'numbers.range', 'numbers.range_step', 'strings.render_template']);

describe('builtin signatures never reject what the implementation accepts', () => {
  for (const b of allBuiltins().filter((x) => !SKIP.has(x.name) && !x.sig.variadic)) {
    it(`${b.name}${formatSignature(b.sig.args)}`, () => {
      fc.assert(
        fc.property(fc.array(valueArb, { minLength: b.sig.args.length, maxLength: b.sig.args.length }), (args) => {
          let result: Value | undefined;
          try {
            result = b.fn(args, ctx);
          } catch {
            return; // a run-time error: the checker may or may not know it statically
          }
          if (VALIDATORS.has(b.name) && saysInvalid(result)) return;
          if (WIDER_AT_RUN_TIME.has(b.name)) return;
          // accepted at run time: each operand and the result must be admitted by the signature
          args.forEach((a, i) => expect(compatible(typeOfValue(a), b.sig.args[i]!), `operand ${i + 1} ${formatType(typeOfValue(a))}`).toBe(true));
          if (result !== undefined) expect(compatible(typeOfValue(result), b.sig.result), `result ${formatType(typeOfValue(result))}`).toBe(true);
        }),
        { numRuns: 60, seed: 42 },
      );
    });
  }
});

function formatSignature(args: Parameters<typeof formatType>[0][]): string {
  return `(${args.map(formatType).join(', ')})`;
}
