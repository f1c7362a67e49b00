import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import '../../../engine/rego/builtins/index.ts';
import { lookupBuiltin } from '../../../engine/rego/builtins/registry.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { RObject, RSet, toJSON } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';
import { formatIP, parseIP } from '../../../engine/rego/builtins/net-ip.ts';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0.5, print: () => {} };
const call = (name: string, ...args: Value[]): Value | undefined => lookupBuiltin(name)!.fn(args, ctx);
const json = (name: string, ...args: Value[]) => toJSON(call(name, ...args) as Value);

describe('net.cidr_contains / cidr_intersects / cidr_is_valid', () => {
  it('contains blocks and bare addresses, v4 and v6', () => {
    expect(call('net.cidr_contains', '10.0.0.0/8', '10.1.0.0/24')).toBe(true);
    expect(call('net.cidr_contains', '172.17.0.0/24', '172.17.0.0/16')).toBe(false);
    expect(call('net.cidr_contains', '10.0.0.0/8', '10.1.2.3')).toBe(true);
    expect(call('net.cidr_contains', '2001:4860:4860::8888/32', '2001:4860:4860:1234::8888/40')).toBe(true);
    expect(call('net.cidr_contains', '2001:4860::/32', 'fd1e:5bfe:8af3:9ddc::/64')).toBe(false);
    expect(() => call('net.cidr_contains', 'not-a-cidr', '192.168.1.67')).toThrow('invalid CIDR address: not-a-cidr');
  });
  it('intersects', () => {
    expect(call('net.cidr_intersects', '192.168.1.0/25', '192.168.1.64/25')).toBe(true);
    expect(call('net.cidr_intersects', '192.168.1.0/24', '192.168.2.0/24')).toBe(false);
    expect(call('net.cidr_intersects', 'fd1e:5bfe:8af3:9ddc::/64', 'fd1e:5bfe:8af3:9ddc:1111::/72')).toBe(true);
  });
  it('is_valid', () => {
    expect(['192.168.1.0/24', '', 'there goes a string', '192.168.1.2', '2002::1234:abcd:ffff:c0a8:101/64'].map((s) => call('net.cidr_is_valid', s))).toEqual([
      true,
      false,
      false,
      false,
      true,
    ]);
  });
});

describe('net.cidr_expand', () => {
  it('lists every address', () => {
    expect(json('net.cidr_expand', '172.16.100.255/30')).toEqual(['172.16.100.252', '172.16.100.253', '172.16.100.254', '172.16.100.255']);
    expect(() => call('net.cidr_expand', '192.168.1.1/33')).toThrow('net.cidr_expand: invalid CIDR address: 192.168.1.1/33');
    expect(() => call('net.cidr_expand', '10.0.0.0/8')).toThrow('more than the');
  });
});

describe('net.cidr_merge', () => {
  it.each([
    [['192.0.128.0/24', '192.0.129.0/24'], ['192.0.128.0/23']],
    [['192.0.2.112/30', '192.0.2.116/31', '192.0.2.118/31'], ['192.0.2.112/29']],
    [['192.0.129.0/24', '192.0.130.0/24'], ['192.0.129.0/24', '192.0.130.0/24']],
    [['192.0.2.112/31', '192.0.2.116/31', '192.0.2.118/31'], ['192.0.2.112/31', '192.0.2.116/30']],
    [['::/0', '::192.0.2.0/124', 'ff00::101/128'], ['::/0']],
    [['fe80::/120', '192.0.2.0/24', '192.0.3.0/24', '192.0.4.0/25', '192.0.4.128/25'], ['192.0.2.0/23', '192.0.4.0/24', 'fe80::/120']],
    [['2601:600:8a80:207e:a57d:7567:e2c9:e7b3/64', '2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128'], ['2601:600:8a80:207e::/64']],
    [['192.0.2.112', '192.0.2.116/31'], ['192.0.2.0/24']],
    [[], []],
  ])('merges %j', (input, want) => expect(json('net.cidr_merge', input)).toEqual(want));
  it('requires a prefix for IPv6 addresses', () => {
    expect(() => call('net.cidr_merge', ['2601:600:8a80:207e:a57d:7567:e2c9:e7b3'])).toThrow('net.cidr_merge: IPv6 invalid: needs prefix length');
  });
  it('merging the /32s of a block gives the block', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 4 }), (third, bits) => {
        const size = 2 ** bits;
        const base = Math.floor(third / size) * size;
        const hosts = Array.from({ length: size * 256 }, (_, i) => `10.9.${base + Math.floor(i / 256)}.${i % 256}/32`);
        return JSON.stringify(json('net.cidr_merge', hosts)) === JSON.stringify([`10.9.${base}.0/${24 - bits}`]);
      }),
      { numRuns: 20 },
    );
  });
});

describe('net.cidr_contains_matches', () => {
  it('pairs keys of containing and contained entries', () => {
    expect(json('net.cidr_contains_matches', '1.1.1.0/24', '1.1.1.1')).toEqual([['1.1.1.0/24', '1.1.1.1']]);
    expect(json('net.cidr_contains_matches', ['1.1.2.0/24', '1.1.1.0/24'], ['1.1.1.1', '1.1.2.1'])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(json('net.cidr_contains_matches', RObject.fromRecord({ k1: '1.1.1.1/24', k2: ['1.1.1.2/24', 1] }), '1.1.1.128')).toEqual([
      ['k1', '1.1.1.128'],
      ['k2', '1.1.1.128'],
    ]);
    expect(() => call('net.cidr_contains_matches', ['1.1.1.0/24'], new RSet([[], 'x']))).toThrow(
      'net.cidr_contains_matches: operand 2: element must be string or non-empty array',
    );
  });
});

describe('net.lookup_ip_addr', () => {
  it('answers literals and localhost without the network, refuses names', () => {
    expect(json('net.lookup_ip_addr', '10.0.0.0')).toEqual(['10.0.0.0']);
    expect(json('net.lookup_ip_addr', '::')).toEqual(['::']);
    expect(json('net.lookup_ip_addr', 'localhost')).toEqual(['127.0.0.1', '::1']);
    expect(() => call('net.lookup_ip_addr', 'example.com')).toThrow('not supported: arbiter policies have no network access');
  });
});

describe('IP text', () => {
  it('prints IPv6 in RFC 5952 form and round-trips', () => {
    expect(formatIP(parseIP('2001:0db8:0000:0000:0000:ff00:0042:8329')!)).toBe('2001:db8::ff00:42:8329');
    fc.assert(fc.property(fc.ipV6(), (s) => formatIP(parseIP(formatIP(parseIP(s)!))!) === formatIP(parseIP(s)!)));
    fc.assert(fc.property(fc.ipV4(), (s) => formatIP(parseIP(s)!) === s));
  });
});
