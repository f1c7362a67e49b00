// Builtins: net.cidr_contains, net.cidr_intersects, net.cidr_expand, net.cidr_merge, net.cidr_is_valid, net.cidr_contains_matches, net.lookup_ip_addr (not supported)
// Address arithmetic on bigints, parsing and printing as Go's net package (see net-ip.ts).
import type { Value } from '../value.ts';
import { RObject, RSet } from '../value.ts';
import { BuiltinError, OperandTypeError, T, expectString, register } from './registry.ts';
import { bitsOf, cidrContainsIP, formatCIDR, formatIP, lastAddr, network, parseCIDR, parseIP } from './net-ip.ts';
import type { CIDR, IP } from './net-ip.ts';
import { elementError } from './strings-operands.ts';

const S = T.string;

function cidrOperand(name: string, s: string): CIDR {
  const c = parseCIDR(s);
  if (!c) throw new BuiltinError(name, `invalid CIDR address: ${s}`);
  return c;
}

/** An address or a block: a bare IP is its own /32 or /128. */
function cidrOrIP(name: string, s: string): CIDR {
  const ip = parseIP(s);
  if (ip) return { ...ip, prefix: bitsOf(ip) };
  return cidrOperand(name, s);
}

function contains(outer: CIDR, inner: CIDR): boolean {
  if (outer.v6 !== inner.v6 || inner.prefix < outer.prefix) return false;
  return cidrContainsIP(outer, network(inner)) && cidrContainsIP(outer, { v6: inner.v6, addr: lastAddr(inner) });
}

register({
  name: 'net.cidr_contains',
  sig: { args: [S, S], result: T.boolean },
  fn: ([a, b]) => {
    const name = 'net.cidr_contains';
    return contains(cidrOperand(name, expectString(name, 1, a as Value)), cidrOrIP(name, expectString(name, 2, b as Value)));
  },
});

register({
  name: 'net.cidr_intersects',
  sig: { args: [S, S], result: T.boolean },
  fn: ([a, b]) => {
    const name = 'net.cidr_intersects';
    const x = cidrOperand(name, expectString(name, 1, a as Value));
    const y = cidrOperand(name, expectString(name, 2, b as Value));
    return cidrContainsIP(x, network(y)) || cidrContainsIP(y, network(x));
  },
});

register({
  name: 'net.cidr_is_valid',
  sig: { args: [T.any], result: T.boolean },
  fn: ([a]) => typeof a === 'string' && parseCIDR(a) !== undefined,
});

// expanding more addresses than this would exhaust memory; OPA has no limit but no policy needs a /8 listed
const EXPAND_LIMIT = 1n << 20n;

register({
  name: 'net.cidr_expand',
  sig: { args: [S], result: T.set(S) },
  fn: ([a]) => {
    const name = 'net.cidr_expand';
    const c = network(cidrOperand(name, expectString(name, 1, a as Value)));
    const size = 1n << BigInt(bitsOf(c) - c.prefix);
    if (size > EXPAND_LIMIT) throw new BuiltinError(name, `CIDR ${formatCIDR(c)} has ${size} addresses, more than the ${EXPAND_LIMIT} allowed`);
    const out = new RSet();
    for (let i = 0n; i < size; i++) out.add(formatIP({ v6: c.v6, addr: c.addr + i }));
    return out;
  },
});

// ── cidr_merge ───────────────────────────────────────────────────────────────────────────────

/** Go's IP.DefaultMask for a bare IPv4 address: classful /8, /16 or /24. */
function classful(ip: IP): number {
  const first = Number(ip.addr >> 24n);
  return first < 0x80 ? 8 : first < 0xc0 ? 16 : 24;
}

const order = (a: CIDR, b: CIDR): number =>
  a.v6 !== b.v6 ? (a.v6 ? 1 : -1) : a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : a.prefix - b.prefix;

export function mergeCIDRs(blocks: CIDR[]): CIDR[] {
  let list = blocks.map(network).sort(order);
  for (let changed = true; changed; ) {
    changed = false;
    const out: CIDR[] = [];
    for (const c of list) {
      const prev = out[out.length - 1];
      if (prev && contains(prev, c)) {
        changed ||= prev.prefix !== c.prefix || prev.addr !== c.addr;
        continue;
      }
      // siblings: same size, adjacent, and the first is aligned on the parent block
      if (prev && prev.v6 === c.v6 && prev.prefix === c.prefix && c.prefix > 0) {
        const parent = network({ ...prev, prefix: prev.prefix - 1 });
        if (parent.addr === prev.addr && lastAddr(prev) + 1n === c.addr) {
          out[out.length - 1] = parent;
          changed = true;
          continue;
        }
      }
      out.push(c);
    }
    list = out.sort(order);
  }
  return list;
}

register({
  name: 'net.cidr_merge',
  sig: { args: [T.union(T.array(S), T.set(S))], result: T.set(S) },
  fn: ([a]) => {
    const name = 'net.cidr_merge';
    if (!(Array.isArray(a) || a instanceof RSet)) throw new OperandTypeError(name, 1, 'one of {array, set}', a as Value);
    const blocks: CIDR[] = [];
    for (const x of Array.isArray(a) ? a : a.sorted()) {
      if (typeof x !== 'string') throw elementError(name, 1, a, x, 'string');
      const c = parseCIDR(x);
      if (c) {
        blocks.push(c);
        continue;
      }
      const ip = parseIP(x);
      if (!ip) throw new BuiltinError(name, `invalid IP address or CIDR: ${x}`);
      if (ip.v6) throw new BuiltinError(name, 'IPv6 invalid: needs prefix length');
      blocks.push({ ...ip, prefix: classful(ip) });
    }
    return new RSet(mergeCIDRs(blocks).map(formatCIDR));
  },
});

// ── cidr_contains_matches ────────────────────────────────────────────────────────────────────

/** (key, cidr text) pairs of a string / array / set / object operand. */
function keyedCIDRs(name: string, pos: number, v: Value): Array<[Value, string]> {
  const elem = (x: Value): string => {
    if (typeof x === 'string') return x;
    if (Array.isArray(x) && x.length > 0 && typeof x[0] === 'string') return x[0];
    throw new BuiltinError(name, `operand ${pos}: element must be string or non-empty array`);
  };
  if (typeof v === 'string') return [[v, v]];
  if (Array.isArray(v)) return v.map((x, i) => [i, elem(x)]);
  if (v instanceof RSet) return v.sorted().map((x) => [x, elem(x)]);
  if (v instanceof RObject) return v.sortedEntries().map(([k, x]) => [k, elem(x)]);
  throw new OperandTypeError(name, pos, 'one of {string, array, set, object}', v);
}

register({
  name: 'net.cidr_contains_matches',
  sig: { args: [T.any, T.any], result: T.set(T.array(T.any)) },
  fn: ([a, b]) => {
    const name = 'net.cidr_contains_matches';
    const outer = keyedCIDRs(name, 1, a as Value).map(([k, s]) => [k, cidrOperand(name, s)] as const);
    const inner = keyedCIDRs(name, 2, b as Value).map(([k, s]) => [k, cidrOrIP(name, s)] as const);
    const out = new RSet();
    for (const [k1, c1] of outer) for (const [k2, c2] of inner) if (contains(c1, c2)) out.add([k1, k2]);
    return out;
  },
});

// ── lookups: no network in policies; literals and localhost need none ───────────────────────

register({
  name: 'net.lookup_ip_addr',
  sig: { args: [S], result: T.set(S) },
  nondeterministic: true,
  fn: ([a]) => {
    const host = expectString('net.lookup_ip_addr', 1, a as Value);
    const ip = parseIP(host);
    if (ip) return new RSet([formatIP(ip)]);
    if (host.toLowerCase() === 'localhost') return new RSet(['127.0.0.1', '::1']);
    throw new BuiltinError('net.lookup_ip_addr', 'not supported: arbiter policies have no network access');
  },
});
