// OPA's numbers, exactly: ast.Number is text, arithmetic is math/big.Float at 64 bits (OPA 1.9), comparisons are
// exact rationals. Each expected value below is what OPA's Go code gives; the comment names the file that says so.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as F from '../../engine/rego/bigfloat.ts';
import { fromBigFloat, toBigFloat } from '../../engine/rego/builtins/arithmetic.ts';
import { lookupBuiltin } from '../../engine/rego/builtins/registry.ts';
import type { BuiltinContext } from '../../engine/rego/builtins/registry.ts';
import { compileModules, evalQuery } from '../../engine/rego/index.ts';
import { evalOpa, parseExactJSON } from '../../engine/rego/opa-eval.ts';
import { equal, formatNumber, numberFromText, stringifyJSON } from '../../engine/rego/value.ts';
import type { RNumber, Value } from '../../engine/rego/value.ts';

const compiled = compileModules([]);
/** The query's `x` as OPA's JSON text, or undefined. */
function x(query: string, strict = false): string | undefined {
  const r = evalQuery(compiled, `x := ${query}`, { strict });
  const v = r[0]?.bindings.get('x');
  return v === undefined ? undefined : stringifyJSON(v);
}

describe('OPA number regression table', () => {
  const table: Array<[string, string | undefined, string]> = [
    // arithmetic.go builtinPlus → builtins.NumberToFloat (64-bit big.Float) → FloatToNumber Text('g', -1): "0.3";
    // ast compare.go compares numbers as big.Rat, so the result equals the literal 0.3
    ['0.1 + 0.2 == 0.3', 'true', 'topdown/arithmetic.go, ast/compare.go'],
    ['0.1 + 0.2', '0.3', 'topdown/builtins/builtins.go FloatToNumber'],
    // 0.29 * 100 rounds to exactly 29 at 64 bits (a double gives 28.999999999999996)
    ['floor(0.29 * 100)', '29', 'topdown/arithmetic.go arithFloor'],
    // 1.2 at 64 bits is a little above 1.2: the product prints as 120.00000000000000001, and ceil takes it up
    ['100 * 1.2', '120.00000000000000001', 'topdown/arithmetic.go builtinMultiply'],
    ['ceil(100 * 1.2)', '121', 'topdown/arithmetic.go arithCeil'],
    // 612/480 prints as 1.275, times 100 is 127.5; sprintf hands Go the float64 127.5 and %.0f rounds half to even
    ['612 / 480', '1.275', 'topdown/arithmetic.go arithDivide'],
    ['sprintf("%.0f", [612 / 480 * 100])', '"128"', 'topdown/strings.go builtinSprintf'],
    // 3.9 * 0.98 at 64 bits is 3.8220000000000000002; %v formats its float64, 3.822
    ['sprintf("%v", [3.9 * 0.98])', '"3.822"', 'topdown/strings.go builtinSprintf (Number.Float64)'],
    // small ints (-1000, 1000) are machine ints; 1.0 is not an int text, so the float path: "2"
    ['1.0 + 1', '2', 'topdown/arithmetic.go inSmallIntRange'],
    // past 64 bits the float path rounds (the behaviour PR #8887 later changed): 2^64+1 is 2^64 at 64 bits
    ['18446744073709551617 + 1', '18446744073709551616', 'topdown/arithmetic.go builtinPlus (OPA 1.9)'],
    // big.Float keeps the sign of a zero product, and FloatToNumber prints it
    ['0 * -5000', '-0', 'math/big Float.Mul, builtins.FloatToNumber'],
    ['1 / 3', '0.33333333333333333334', 'topdown/arithmetic.go arithDivide'],
    ['2 / 3', '0.6666666666666666667', 'topdown/arithmetic.go arithDivide'],
    // FloatToNumber: integers in 'f' form, others in 'g' form (exponent from 1e6 up)
    ['1.5 * 1000000', '1500000', 'topdown/builtins/builtins.go FloatToNumber'],
    ['1234567.5 * 1', '1.2345675e+06', 'topdown/builtins/builtins.go FloatToNumber'],
    // arithCeil/arithFloor truncate first: ceil(-0.5) is 1, floor(-0.5) is 0
    ['ceil(-0.5)', '1', 'topdown/arithmetic.go arithCeil'],
    ['floor(-0.5)', '0', 'topdown/arithmetic.go arithFloor'],
    ['floor(-1.5)', '-2', 'topdown/arithmetic.go arithFloor'],
    ['[round(2.5), round(-2.5), round(0.49)]', '[3,-3,0]', 'topdown/arithmetic.go arithRound'],
    ['3.5 % 2', undefined, 'topdown/arithmetic.go builtinRem: modulo on floating-point number'],
    ['4.0 % 3', '1', 'topdown/arithmetic.go builtinRem: NumberToInt accepts an integral 4.0'],
    ['sum([0.1, 0.2])', '0.3', 'topdown/aggregates.go builtinSum'],
    // number text is kept where OPA keeps it: literals, json.marshal, object keys
    ['json.marshal([1.0, 1e21])', '"[1.0,1e21]"', 'ast.Number is json.Number text'],
    ['json.marshal({1e2: "a"})', '"{\\"1e2\\":\\"a\\"}"', 'ast.JSON: non-string keys as their text'],
    ['[1.0, 1e2, 0.10]', '[1.0,1e2,0.10]', 'ast.Number is json.Number text'],
    ['{1, 1.0, 1e0}', '[1]', 'ast.Number Equal/Hash: one element'],
    ['1e-400 > 0', 'true', 'ast/compare.go: big.Rat, not float64'],
    // Array.Get takes Number.Int() of the index text: 1.0 is not an int
    ['[1, 2, 3][1.0]', undefined, 'ast/term.go Array.Get'],
    ['[1, 2, 3][1]', '2', 'ast/term.go Array.Get'],
    // builtins.IntOperand takes Number.Int() (the text), BigIntOperand takes NumberToInt (the value)
    ['substring("abc", 1.0, 1)', undefined, 'topdown/builtins/builtins.go IntOperand'],
    ['bits.and(3.0, 1)', '1', 'topdown/builtins/builtins.go BigIntOperand'],
    // to_number: strconv.ParseFloat must accept the text, which becomes the number (hex needs its p exponent)
    ['to_number("0x1F")', undefined, 'topdown/casts.go builtinToNumber'],
    ['json.marshal(to_number("1.50"))', '"1.50"', 'topdown/casts.go builtinToNumber'],
    ['to_number("0x1Fp1")', '62', 'topdown/casts.go: strconv.ParseFloat hex float'],
    // sprintf hands Go an int for an int text, a *big.Int past int64, else a float64
    ['sprintf("%f", [5])', '"%!f(int=5)"', 'topdown/strings.go builtinSprintf'],
    ['sprintf("%f", [5.0])', '"5.000000"', 'topdown/strings.go builtinSprintf'],
    ['sprintf("%d", [1.5])', '"%!d(float64=1.5)"', 'topdown/strings.go builtinSprintf'],
    ['sprintf("%.2f %.0f %.0f %.1f", [0.125, 2.5, 3.5, 0.25])', '"0.12 2 4 0.2"', 'Go strconv: ties to even on the exact value'],
    ['sprintf("%v %v", [1.0, 1e21])', '"1 1e+21"', 'Go fmt %v of float64'],
    ['sprintf("%d", [100000000000000000000])', '"100000000000000000000"', 'topdown/strings.go: *big.Int'],
    ['sprintf("%f", [100000000000000000000])', '"%!f(big.Int=100000000000000000000)"', 'math/big Int.Format'],
    // strings.ToUpper/ToLower map rune by rune
    ['upper("straße")', '"STRAßE"', 'topdown/strings.go builtinUpper (Go strings.ToUpper)'],
    ['lower("ΑΣ")', '"ασ"', 'topdown/strings.go builtinLower (no final sigma in Go)'],
    ['[upper("ᾳ"), lower("İ")]', '["ᾼ","i"]', 'Go unicode.ToUpper/ToLower simple mappings'],
    ['indexof("abc", "")', undefined, 'topdown/strings.go builtinIndexOf: empty search character'],
    ['indexof_n("abc", "")', undefined, 'topdown/strings.go builtinIndexOfN: empty search character'],
    // json.filter: array elements are found by their index as a string, so the number 0 names no element
    ['json.filter({"a": [1, 2]}, [["a", 0]])', '{"a":[]}', 'topdown/json.go pathsToObject, ast filterObject'],
    ['json.filter({"a": [1, 2]}, [["a", "0"]])', '{"a":[1]}', 'ast/term.go filterObject'],
  ];
  for (const [query, want, source] of table) {
    it(`${query} is ${want ?? 'undefined'} (${source})`, () => {
      expect(x(query)).toBe(want);
    });
  }

  it('the refused cases are errors under strict-builtin-errors', () => {
    expect(() => x('indexof("abc", "")', true)).toThrow('empty search character');
    expect(() => x('to_number("0x1F")', true)).toThrow('strconv.ParseFloat: parsing "0x1F": invalid syntax');
    expect(() => x('3.5 % 2', true)).toThrow('modulo on floating-point number');
    expect(() => x('1 / 0.0', true)).toThrow('divide by zero');
  });
});

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0.5, print: () => {} };
const call = (name: string, ...args: Value[]): Value => lookupBuiltin(name)!.fn(args, ctx) as Value;
const sameNumber = (a: Value, b: RNumber): boolean => equal(a, b) && formatNumber(a as RNumber) === formatNumber(b);

describe('the fast paths give what the 64-bit float path gives', () => {
  const ops: Array<[string, (a: F.BigFloat, b: F.BigFloat) => F.BigFloat]> = [
    ['plus', (a, b) => F.add(a, b)],
    ['minus', (a, b) => F.sub(a, b)],
    ['mul', (a, b) => F.mul(a, b)],
  ];
  const ints = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });

  it('on integers (including products past 2^53, rounded at 64 bits)', () => {
    fc.assert(
      fc.property(ints, ints, (a, b) => {
        for (const [name, op] of ops) {
          if (!sameNumber(call(name, a, b), fromBigFloat(op(toBigFloat(a), toBigFloat(b))))) return false;
        }
        return true;
      }),
      { numRuns: 50 },
    );
  }, 30_000);

  it('on doubles and on a repeated operation (the remembered result is the computed one)', () => {
    const dbl = fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((d) => !Object.is(d, -0));
    fc.assert(
      fc.property(dbl, dbl, (a, b) => {
        for (const [name, op] of ops) {
          const want = fromBigFloat(op(toBigFloat(a), toBigFloat(b)));
          if (!sameNumber(call(name, a, b), want) || !sameNumber(call(name, a, b), want)) return false;
        }
        return true;
      }),
    );
  });

  it('integer arithmetic is exact while results fit 64 bits, beyond 2^53 too', () => {
    const big = fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n });
    fc.assert(
      fc.property(big, big, (a, b) => {
        const [x, y] = [numberFromText(a.toString()), numberFromText(b.toString())];
        return BigInt(formatNumber(call('plus', x, y) as RNumber)) === a + b && BigInt(formatNumber(call('minus', x, y) as RNumber)) === a - b;
      }),
    );
  });
});

describe('the big.Float emulation', () => {
  // at 53 bits, big.Float rounding is IEEE double rounding: JS arithmetic is an independent oracle
  const PREC53 = 53;
  const fromDouble = (d: number): F.BigFloat => F.parseDecimal(d.toString(), PREC53) as F.BigFloat;
  const toDouble = (f: F.BigFloat): number => Number(F.text(f, 'g', PREC53));
  const normal = fc.double({ min: -1e15, max: 1e15, noNaN: true }).filter((d) => d !== 0 && Math.abs(d) > 1e-15);

  it('parses decimal text correctly rounded (as a JS double at 53 bits)', () => {
    fc.assert(fc.property(normal, (d) => toDouble(fromDouble(d)) === d));
  });

  it('adds, subtracts, multiplies and divides with round-to-nearest-even (as doubles at 53 bits)', () => {
    fc.assert(
      fc.property(normal, normal, (a, b) => {
        const [x, y] = [fromDouble(a), fromDouble(b)];
        return (
          toDouble(F.add(x, y, PREC53)) === a + b &&
          toDouble(F.sub(x, y, PREC53)) === a - b &&
          toDouble(F.mul(x, y, PREC53)) === a * b &&
          toDouble(F.quo(x, y, PREC53)) === a / b
        );
      }),
    );
  });

  it('prints the shortest text that reads back to the same value', () => {
    const text = fc.tuple(fc.bigInt({ min: 1n, max: 10n ** 25n }), fc.integer({ min: -40, max: 40 })).map(([m, e]) => `${m}e${e}`);
    fc.assert(
      fc.property(text, (t) => {
        const f = F.parseDecimal(t) as F.BigFloat;
        const printed = F.toNumberText(f);
        const back = F.parseDecimal(printed) as F.BigFloat;
        // 64 bits never need more than 21 significant digits (Matula's bound)
        const digits = printed.replace(/e.*$/, '').replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '');
        return F.cmp(back, f) === 0 && digits.length <= 21;
      }),
    );
  });
});

describe('input and data numbers keep their text (util.Unmarshal with UseNumber)', () => {
  it('arbiter eval reads JSON input and data files exactly: big integers, 1.0, 1e2', () => {
    const input = parseExactJSON('{"n": 12345678901234567890123, "f": 1.0, "e": 1e2, "__proto__": 2.50}');
    const out = evalOpa({ modules: [], input, data: { d: parseExactJSON('[1.0, 9007199254740993]') }, query: 'json.marshal([input, data.d])' });
    expect('result' in out && out.result[0]?.expressions[0]?.value).toBe('[{"__proto__":2.50,"e":1e2,"f":1.0,"n":12345678901234567890123},[1.0,9007199254740993]]');
  });

  it('equal numbers are one key whatever their text', () => {
    const out = evalOpa({ modules: [], input: parseExactJSON('{"a": 1.0, "b": 100}'), query: 'input.a == 1; input.b == 1e2; {input.a: 1}[1] == 1' });
    expect('result' in out && out.result.length).toBe(1);
  });
});
