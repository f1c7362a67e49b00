import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import '../../../engine/rego/builtins/index.ts';
import { lookupBuiltin } from '../../../engine/rego/builtins/registry.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { equal } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0.5, print: () => {} };
const call = (name: string, ...args: Value[]): Value | undefined => lookupBuiltin(name)!.fn(args, ctx);
const RFC3339 = '2006-01-02T15:04:05Z07:00';

describe('time.parse_ns / parse_rfc3339_ns', () => {
  it('parses at the int64 edges and rejects beyond them', () => {
    expect(call('time.parse_ns', RFC3339, '2017-06-02T19:00:00-07:00')).toBe(1496455200000000000n);
    expect(call('time.parse_rfc3339_ns', '1677-09-21T00:12:43.145224192-00:00')).toBe(-9223372036854775808n);
    expect(call('time.parse_rfc3339_ns', '2262-04-11T23:47:16.854775807-00:00')).toBe(9223372036854775807n);
    expect(call('time.parse_rfc3339_ns', '1970-01-01T00:00:00-00:00')).toBe(0);
    expect(() => call('time.parse_rfc3339_ns', '2262-04-11T23:47:16.854775808-00:00')).toThrow('time outside of valid range');
    expect(() => call('time.parse_ns', RFC3339, '1677-09-21T00:12:43.145224191-00:00')).toThrow('time outside of valid range');
  });
  it('parses other layouts, named ones too', () => {
    expect(call('time.parse_ns', 'RFC822Z', '02 Jun 17 19:00 -0700')).toBe(1496455200000000000n);
    expect(call('time.parse_ns', "01/02 03:04:05PM '06 -0700", "06/02 07:00:00PM '17 -0700")).toBe(1496455200000000000n);
    expect(call('time.parse_ns', '2006-01-02', '2020-02-29')).toBe(1582934400000000000n);
    expect(call('time.parse_ns', 'Mon Jan _2 15:04:05 MST 2006', 'Mon Jun  2 19:00:00 UTC 2017')).toBe(1496430000000000000n);
    expect(call('time.parse_ns', '01/02/06 3:04PM', '06/02/17 7:00PM')).toBe(1496430000000000000n);
  });
  it('reports Go’s parse errors', () => {
    expect(() => call('time.parse_ns', '2006-01-02', '2020-02-30')).toThrow('day out of range');
    expect(() => call('time.parse_ns', '2006-01-02', 'x')).toThrow('parsing time "x" as "2006-01-02": cannot parse "x" as "2006"');
  });
});

describe('time.parse_duration_ns', () => {
  it('follows time.ParseDuration', () => {
    expect(call('time.parse_duration_ns', '100ms')).toBe(100000000);
    expect(call('time.parse_duration_ns', '1h2m3.5s')).toBe(3723500000000);
    expect(call('time.parse_duration_ns', '-1.5h')).toBe(-5400000000000);
    expect(call('time.parse_duration_ns', '0')).toBe(0);
    expect(() => call('time.parse_duration_ns', '5')).toThrow('time: missing unit in duration "5"');
    expect(() => call('time.parse_duration_ns', 'x')).toThrow('time: invalid duration "x"');
  });
});

describe('calendar views', () => {
  const ns = 1517814000n * 1_000_000_000n;
  it('date, clock and weekday in UTC and IANA zones', () => {
    expect(call('time.date', ns)).toEqual([2018, 2, 5]);
    expect(call('time.date', [ns, 'America/Los_Angeles'])).toEqual([2018, 2, 4]);
    expect(call('time.date', [1517832000000000000n, ''])).toEqual([2018, 2, 5]);
    expect(call('time.date', 1582977600000000000n)).toEqual([2020, 2, 29]);
    expect(call('time.clock', 1517832000000000000n)).toEqual([12, 0, 0]);
    expect(call('time.clock', [1517832000000000000n, 'America/New_York'])).toEqual([7, 0, 0]);
    expect(call('time.weekday', 1517832000000000000n)).toBe('Monday');
    expect(call('time.weekday', 1518350400000000000n)).toBe('Sunday');
  });
  it('rejects timestamps beyond int64 and unknown zones', () => {
    expect(() => call('time.date', 1582977600000000000000n)).toThrow('timestamp too big');
    expect(() => call('time.format', 1582977600 * 10e12)).toThrow('timestamp too big');
    expect(() => call('time.date', [0, 'Mars/Olympus'])).toThrow('unknown time zone Mars/Olympus');
  });
  it('time.date agrees with JS Date for every ms instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e12, max: 8.64e12 }), (ms) => {
        const d = new Date(ms);
        return equal(call('time.date', BigInt(ms) * 1_000_000n) as Value, [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()]);
      }),
    );
  });
});

describe('time.format', () => {
  const t = 1670006453141828752n;
  it('uses RFC3339Nano, zones, layouts and named constants', () => {
    expect(call('time.format', t)).toBe('2022-12-02T18:40:53.141828752Z');
    expect(call('time.format', [t, 'Asia/Kolkata'])).toBe('2022-12-03T00:10:53.141828752+05:30');
    expect(call('time.format', [t, 'Asia/Kolkata', 'Mon Jan 02 15:04:05 -0700 2006'])).toBe('Sat Dec 03 00:10:53 +0530 2022');
    expect(call('time.format', [t, 'Asia/Kolkata', 'RFC1123Z'])).toBe('Sat, 03 Dec 2022 00:10:53 +0530');
    expect(call('time.format', [t, 'UTC', 'Kitchen'])).toBe('6:40PM');
    expect(call('time.format', [t, 'UTC', '2006-01-02 15:04:05.000'])).toBe('2022-12-02 18:40:53.141');
  });
  it('formats and parses back to the same instant', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), (ns) => {
        const text = call('time.format', ns) as string;
        return equal(call('time.parse_rfc3339_ns', text) as Value, ns);
      }),
    );
  });
});

describe('time.add_date and time.diff', () => {
  it('adds calendar units with Go normalisation', () => {
    expect(call('time.add_date', 1585852421593912000n, 3, 9, 12)).toBe(1705257221593912000n);
    expect(call('time.add_date', 1585852421593912000n, -1, -1, -1)).toBe(1551465221593912000n);
    expect(() => call('time.add_date', 0, 2262, 1, 1)).toThrow('time outside of valid range');
    expect(() => call('time.add_date', -9223372036854775808n, 0, 0, -1)).toThrow('time outside of valid range');
  });
  it('diffs in years..seconds', () => {
    const p = (d: string) => call('time.parse_ns', '2006-01-02', d) as Value;
    expect(call('time.diff', p('2020-02-02'), p('2020-03-01'))).toEqual([0, 0, 28, 0, 0, 0]);
    expect(call('time.diff', p('2021-02-02'), p('2021-03-01'))).toEqual([0, 0, 27, 0, 0, 0]);
    expect(call('time.diff', p('2004-02-29'), p('2005-03-01'))).toEqual([1, 0, 1, 0, 0, 0]);
    expect(call('time.diff', 61_000_000_000, 0)).toEqual([0, 0, 0, 0, 1, 1]);
    expect(call('time.diff', [60_000_000_000, 'UTC'], [0, 'Asia/Shanghai'])).toEqual([0, 0, 0, 0, 1, 0]);
  });
});
