// Number literals beyond the double range stay exact and print as written (OPA keeps a number's text), and
// `test.sleep` pauses a query without moving `time.now_ns`.
import { describe, expect, it } from 'vitest';
import { compileModules, evalRef } from '../../engine/rego/index.ts';
import { formatNumber, parseNumber, stringifyJSON } from '../../engine/rego/value.ts';
import type { RNumber, Value } from '../../engine/rego/value.ts';

const value = (source: string, ref: string): Value | undefined => evalRef(compileModules([{ file: 'p.rego', source }]), ref);

describe('number literals beyond the double range', () => {
  it('sprintf prints 2e308 as written (OPA: "hi 2e308"), not Infinity', () => {
    expect(value('package p\nx := sprintf("hi %v", [2e308])', 'data.p.x')).toBe('hi 2e308');
    expect(value('package p\nx := sprintf("%v", [-3.5e400])', 'data.p.x')).toBe('-3.5e400');
  });

  it('they are exact integers: compared, added and printed without rounding', () => {
    expect(value('package p\nx := 2e308 > 1e308', 'data.p.x')).toBe(true);
    expect(value('package p\nx := 2e308 == 20e307', 'data.p.x')).toBe(true);
    // arithmetic rounds to big.Float's 64-bit mantissa (OPA 1.9 topdown/arithmetic.go via builtins.NumberToFloat)
    expect(value('package p\nx := 3e308 - 1e309 == -7e308', 'data.p.x')).toBe(false);
    expect(formatNumber(value('package p\nx := 3e308 - 1e309', 'data.p.x') as RNumber)).toBe(`-69999999999999999997${'0'.repeat(289)}`);
    expect(stringifyJSON(value('package p\nx := [2e308]', 'data.p.x') as Value)).toBe('[2e308]');
  });

  it('to_number keeps the text too; a computed big integer prints its digits', () => {
    expect(value('package p\nx := sprintf("%v", [to_number("7.50")])', 'data.p.x')).toBe('7.5');
    expect(value('package p\nx := json.marshal(to_number("7.50"))', 'data.p.x')).toBe('7.50');
    // strconv.ParseFloat refuses what overflows a float64, so to_number does too (topdown/casts.go)
    expect(value('package p\nx := to_number("7e309")', 'data.p.x')).toBeUndefined();
    expect(formatNumber(2n ** 1100n)).toBe((2n ** 1100n).toString());
  });

  it('numbers JS prints back parse to doubles and safe integers; others keep their text (ast.Number is text)', () => {
    expect(parseNumber('0.5')).toBe(0.5);
    expect(parseNumber('12')).toBe(12);
    expect(parseNumber('9007199254740993')).toBe(9007199254740993n);
    expect(formatNumber(parseNumber('1.5e308'))).toBe('1.5e308');
    // 1e-400 is not zero to OPA: numbers compare as exact rationals of their text (ast.Compare, big.Rat)
    expect(value('package p\nx := 1e-400 > 0', 'data.p.x')).toBe(true);
  });

  it('a non-integral or absurdly long literal keeps its text instead of becoming Infinity', () => {
    const long = `${'9'.repeat(400)}.5e0`;
    expect(formatNumber(parseNumber(long))).toBe(long);
    expect(formatNumber(parseNumber('1e100000'))).toBe('1e100000');
    expect(value('package p\nx := 1e100000 > 9e99999', 'data.p.x')).toBe(true);
  });
});

describe('test.sleep', () => {
  const source = `package p
r := {"same": t0 == t1, "t0": t0} if {
	time.now_ns(t0)
	test.sleep("30ms")
	time.now_ns(t1)
}
bad if test.sleep("soon")
`;

  it('sleeps for the duration, and time.now_ns stays fixed within the query', () => {
    const start = performance.now();
    const r = evalRef(compileModules([{ file: 'p.rego', source }]), 'data.p.r', { nowNs: 5_000_000_000n });
    expect(performance.now() - start).toBeGreaterThanOrEqual(25);
    expect(stringifyJSON(r as Value)).toBe('{"same":true,"t0":5000000000}');
  });

  it('an invalid duration is a builtin error (undefined unless strict)', () => {
    const compiled = compileModules([{ file: 'p.rego', source }]);
    expect(evalRef(compiled, 'data.p.bad')).toBeUndefined();
    expect(() => evalRef(compiled, 'data.p.bad', { strict: true })).toThrow(/test.sleep: time: invalid duration "soon"/);
  });

  it('one query sleeps at most a second in total, however often it asks', () => {
    const start = performance.now();
    evalRef(compileModules([{ file: 'p.rego', source: 'package p\nr if { some i in numbers.range(1, 5); test.sleep("1s"); i == 5 }' }]), 'data.p.r');
    const ms = performance.now() - start;
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(1900);
  });
});
