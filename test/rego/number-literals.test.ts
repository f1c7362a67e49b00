// Number literals beyond the double range stay exact and print as written (OPA keeps a number's text), and
// `test.sleep` pauses a query without moving `time.now_ns`.
import { describe, expect, it } from 'vitest';
import { compileModules, evalRef } from '../../engine/rego/index.ts';
import { formatNumber, parseNumber, stringifyJSON } from '../../engine/rego/value.ts';
import type { Value } from '../../engine/rego/value.ts';

const value = (source: string, ref: string): Value | undefined => evalRef(compileModules([{ file: 'p.rego', source }]), ref);

describe('number literals beyond the double range', () => {
  it('sprintf prints 2e308 as written (OPA: "hi 2e308"), not Infinity', () => {
    expect(value('package p\nx := sprintf("hi %v", [2e308])', 'data.p.x')).toBe('hi 2e308');
    expect(value('package p\nx := sprintf("%v", [-3.5e400])', 'data.p.x')).toBe('-3.5e400');
  });

  it('they are exact integers: compared, added and printed without rounding', () => {
    expect(value('package p\nx := 2e308 > 1e308', 'data.p.x')).toBe(true);
    expect(value('package p\nx := 2e308 == 20e307', 'data.p.x')).toBe(true);
    expect(value('package p\nx := 3e308 - 1e309 == -7e308', 'data.p.x')).toBe(true);
    expect(stringifyJSON(value('package p\nx := [2e308]', 'data.p.x') as Value)).toBe('[2e308]');
  });

  it('to_number keeps the text too; a computed big integer prints its digits', () => {
    expect(value('package p\nx := sprintf("%v", [to_number("7e309")])', 'data.p.x')).toBe('7e309');
    expect(formatNumber(2n ** 1100n)).toBe((2n ** 1100n).toString());
  });

  it('numbers in range parse as before: doubles and safe integers', () => {
    expect(parseNumber('1.5e308')).toBe(1.5e308);
    expect(parseNumber('12')).toBe(12);
    expect(parseNumber('9007199254740993')).toBe(9007199254740993n);
    expect(parseNumber('1e-400')).toBe(0);
  });

  it('a non-integral or absurdly long overflow stays the double Infinity', () => {
    expect(parseNumber(`${'9'.repeat(400)}.5e0`)).toBe(Infinity);
    expect(parseNumber('1e100000')).toBe(Infinity);
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
