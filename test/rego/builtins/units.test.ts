import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import '../../../engine/rego/builtins/index.ts';
import { lookupBuiltin } from '../../../engine/rego/builtins/registry.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { equal } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0.5, print: () => {} };
const call = (name: string, ...args: Value[]): Value | undefined => lookupBuiltin(name)!.fn(args, ctx);

// expectations taken from OPA's compliance cases (units/)
const EXACT: Array<[string, string, number | bigint]> = [
  ['units.parse', '500m', 0.5],
  ['units.parse', '0.0005K', 0.5],
  ['units.parse', '0.0000005M', 0.5],
  ['units.parse_bytes', '"100TIB"', 109951162777600],
  ['units.parse_bytes', '0', 0],
  ['units.parse_bytes', '0.0', 0],
  ['units.parse_bytes', '.0', 0],
  ['units.parse_bytes', '12345', 12345],
  ['units.parse_bytes', '10KB', 10000],
  ['units.parse_bytes', '10KIB', 10240],
  ['units.parse_bytes', '10kb', 10000],
  ['units.parse_bytes', '10Kib', 10240],
  ['units.parse_bytes', '200mb', 200000000],
  ['units.parse_bytes', '300GiB', 322122547200],
  ['units.parse_bytes', '1.1KB', 1100],
  ['units.parse_bytes', '1.1KiB', 1126],
  ['units.parse_bytes', '.5KB', 500],
  ['units.parse_bytes', '100k', 100000],
  ['units.parse_bytes', '100kb', 100000],
  ['units.parse_bytes', '100ki', 102400],
  ['units.parse_bytes', '100kib', 102400],
  ['units.parse_bytes', '100m', 100000000],
  ['units.parse_bytes', '100mb', 100000000],
  ['units.parse_bytes', '100mi', 104857600],
  ['units.parse_bytes', '100mib', 104857600],
  ['units.parse_bytes', '100g', 100000000000],
  ['units.parse_bytes', '100gb', 100000000000],
  ['units.parse_bytes', '100gi', 107374182400],
  ['units.parse_bytes', '100gib', 107374182400],
  ['units.parse_bytes', '100t', 100000000000000],
  ['units.parse_bytes', '100tb', 100000000000000],
  ['units.parse_bytes', '100ti', 109951162777600],
  ['units.parse_bytes', '100tib', 109951162777600],
  ['units.parse_bytes', '100p', 100000000000000000n],
  ['units.parse_bytes', '100pb', 100000000000000000n],
  ['units.parse_bytes', '100pi', 112589990684262400n],
  ['units.parse_bytes', '100pib', 112589990684262400n],
  ['units.parse_bytes', '10e', 10000000000000000000n],
  ['units.parse_bytes', '10eb', 10000000000000000000n],
  ['units.parse_bytes', '10ei', 11529215046068469760n],
  ['units.parse_bytes', '10eib', 11529215046068469760n],
  ['units.parse_bytes', '1e3KB', 1000000],
  ['units.parse_bytes', '3.2E2MiB', 335544320],
  ['units.parse_bytes', '4.5e1GiB', 48318382080],
  ['units.parse_bytes', '5e6', 5000000],
  ['units.parse_bytes', '1e-2KB', 10],
  ['units.parse_bytes', '6.4E1GB', 64000000000],
  ['units.parse_bytes', '7.5e1TiB', 82463372083200],
  ['units.parse_bytes', '5e2MiB', 524288000],
  ['units.parse_bytes', '2e2GiB', 214748364800],
  ['units.parse', '"100TI"', 109951162777600],
  ['units.parse', '0', 0],
  ['units.parse', '0.0', 0],
  ['units.parse', '.0', 0],
  ['units.parse', '12345', 12345],
  ['units.parse', '10K', 10000],
  ['units.parse', '10KI', 10240],
  ['units.parse', '10k', 10000],
  ['units.parse', '10Ki', 10240],
  ['units.parse', '200M', 200000000],
  ['units.parse', '300Gi', 322122547200],
  ['units.parse', '1.1K', 1100],
  ['units.parse', '1.1Ki', 1126.4],
  ['units.parse', '.5K', 500],
  ['units.parse', '100k', 100000],
  ['units.parse', '100K', 100000],
  ['units.parse', '100ki', 102400],
  ['units.parse', '100Ki', 102400],
  ['units.parse', '100M', 100000000],
  ['units.parse', '100mi', 104857600],
  ['units.parse', '100Mi', 104857600],
  ['units.parse', '100g', 100000000000],
  ['units.parse', '100gi', 107374182400],
  ['units.parse', '100t', 100000000000000],
  ['units.parse', '100T', 100000000000000],
  ['units.parse', '100ti', 109951162777600],
  ['units.parse', '100Ti', 109951162777600],
  ['units.parse', '100p', 100000000000000000n],
  ['units.parse', '100P', 100000000000000000n],
  ['units.parse', '100pi', 112589990684262400n],
  ['units.parse', '100Pi', 112589990684262400n],
  ['units.parse', '10e', 10000000000000000000n],
  ['units.parse', '10E', 10000000000000000000n],
  ['units.parse', '10ei', 11529215046068469760n],
  ['units.parse', '10Ei', 11529215046068469760n],
  ['units.parse', '1e10', 10000000000],
  ['units.parse', '3.2E4', 32000],
  ['units.parse', '2.5e3K', 2500000],
  ['units.parse', '1e3M', 1000000000],
  ['units.parse', '4E2G', 400000000000],
  ['units.parse', '5e1Gi', 53687091200],
  ['units.parse', '1e-2', 0.01],
  ['units.parse', '7.8E-1', 0.78],
  ['units.parse', '6e3Mi', 6291456000],
  ['units.parse', '42', 42],
  ['units.parse', '-3.5E2m', -0.35],
];
const FAILURES: Array<[string, string, string]> = [
  ['units.parse_bytes', '', 'units.parse_bytes: no byte amount provided'],
  ['units.parse_bytes', 'GB', 'units.parse_bytes: no byte amount provided'],
  ['units.parse_bytes', 'foo', 'units.parse_bytes: no byte amount provided'],
  ['units.parse_bytes', '0.0.0', 'units.parse_bytes: could not parse byte amount to a number'],
  ['units.parse_bytes', '.5.2', 'units.parse_bytes: could not parse byte amount to a number'],
  ['units.parse_bytes', '100 kb', 'units.parse_bytes: spaces not allowed in resource strings'],
  ['units.parse_bytes', ' 327MiB ', 'units.parse_bytes: spaces not allowed in resource strings'],
  ['units.parse', '', 'units.parse: no amount provided'],
  ['units.parse', 'G', 'units.parse: no amount provided'],
  ['units.parse', 'foo', 'units.parse: no amount provided'],
  ['units.parse', '0.0.0', 'units.parse: could not parse amount to a number'],
  ['units.parse', '.5.2', 'units.parse: could not parse amount to a number'],
  ['units.parse', '100 k', 'units.parse: spaces not allowed in resource strings'],
  ['units.parse', ' 327Mi ', 'units.parse: spaces not allowed in resource strings'],
];

describe('units.parse and units.parse_bytes match OPA exactly', () => {
  it.each(EXACT)('%s(%s) = %s', (fn, text, want) => {
    const got = call(fn, text) as Value;
    expect(equal(got, want), `${String(got)} vs ${String(want)}`).toBe(true);
  });
  it.each(FAILURES)('%s(%j) fails with %s', (fn, text, message) => {
    expect(() => call(fn, text)).toThrow(message);
  });
  it('keeps fractions in units.parse and truncates bytes', () => {
    expect(call('units.parse', '1.1Ki')).toBe(1126.4);
    expect(call('units.parse_bytes', '1.1KiB')).toBe(1126);
    expect(call('units.parse', '-3.5E2m')).toBe(-0.35);
    expect(call('units.parse', '5E')).toBe(5000000000000000000n);
  });
  it('names an unknown unit', () => {
    expect(() => call('units.parse', '5Q')).toThrow('units.parse: unit Q not recognized');
    expect(() => call('units.parse_bytes', '5qb')).toThrow('units.parse_bytes: byte unit qb not recognized');
  });
  it('Ki is 1024 times the plain amount for every integer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (n) => equal(call('units.parse', `${n}Ki`) as Value, n * 1024)),
    );
  });
});
