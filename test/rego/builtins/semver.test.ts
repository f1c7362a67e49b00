import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import '../../../engine/rego/builtins/index.ts';
import { lookupBuiltin } from '../../../engine/rego/builtins/registry.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import type { Value } from '../../../engine/rego/value.ts';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0.5, print: () => {} };
const call = (name: string, ...args: Value[]): Value | undefined => lookupBuiltin(name)!.fn(args, ctx);

describe('semver', () => {
  it('validates as OPA\'s internal/semver Parse does, not as the SemVer grammar reads', () => {
    expect(call('semver.is_valid', '1.0.0')).toBe(true);
    expect(call('semver.is_valid', '1.0.0-rc.1+build.5')).toBe(true);
    expect(call('semver.is_valid', '1')).toBe(false);
    expect(call('semver.is_valid', 1)).toBe(false);
    // the numbers are strconv.ParseInt: leading zeros and a sign pass; one leading `v` is dropped
    expect(call('semver.is_valid', '01.0.0')).toBe(true);
    expect(call('semver.is_valid', '+1.0.0')).toBe(false); // the first `+` starts the metadata, leaving no numbers
    expect(call('semver.is_valid', 'v1.2.3')).toBe(true);
    expect(call('semver.is_valid', 'vv1.2.3')).toBe(false);
    // pre-release and metadata are dot-separated [0-9A-Za-z-]+ runs (leading zeros allowed) or empty
    expect(call('semver.is_valid', '1.0.0-01')).toBe(true);
    expect(call('semver.is_valid', '1.0.0+')).toBe(true);
    expect(call('semver.is_valid', '1.0.0-')).toBe(true);
    expect(call('semver.is_valid', '1.0.0-a..b')).toBe(false);
    expect(call('semver.is_valid', '1.0.0+a_b')).toBe(false);
    expect(call('semver.is_valid', '1.0.0.0')).toBe(false);
    expect(call('semver.is_valid', '9223372036854775808.0.0')).toBe(false); // past int64
  });
  it('compares by SemVer 2.0.0 precedence', () => {
    const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '2.0.0'];
    for (let i = 0; i + 1 < chain.length; i++) {
      expect(call('semver.compare', chain[i]!, chain[i + 1]!)).toBe(-1);
      expect(call('semver.compare', chain[i + 1]!, chain[i]!)).toBe(1);
    }
    expect(call('semver.compare', '1.0.0+a', '1.0.0+b')).toBe(0);
    expect(() => call('semver.compare', '1', '1.0.0')).toThrow('semver.compare: operand 1: string "1" is not a valid SemVer');
  });
  it('orders release versions like their numeric triples', () => {
    const v = fc.tuple(fc.nat(50), fc.nat(50), fc.nat(50));
    fc.assert(
      fc.property(v, v, (a, b) => {
        const cmp = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
        return call('semver.compare', a.join('.'), b.join('.')) === Math.sign(cmp);
      }),
    );
  });
});
