// Builtins: uuid.rfc4122, uuid.parse
// rfc4122 draws from the seeded ctx.random and is cached per key for the query, as OPA returns one UUID per key.
import type { Value } from '../value.ts';
import { RObject, normalizeNumber } from '../value.ts';
import { T, expectString, register } from './registry.ts';

register({
  name: 'uuid.rfc4122',
  sig: { args: [T.string], result: T.string },
  nondeterministic: true,
  fn: ([k], ctx) => {
    const key = `uuid.rfc4122\u0000${expectString('uuid.rfc4122', 1, k as Value)}`;
    const hit = ctx.cache.get(key);
    if (typeof hit === 'string') return hit;
    const bytes = Array.from({ length: 16 }, () => Math.floor(ctx.random() * 256) & 255);
    bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
    bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
    const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    ctx.cache.set(key, id);
    return id;
  },
});

/** The 16 bytes of a UUID in any form google/uuid.Parse accepts, or undefined. */
function uuidBytes(s: string): number[] | undefined {
  let hex: string;
  if (s.length === 36 || s.length === 38 || s.length === 45) {
    let body = s;
    if (s.length === 45) {
      if (s.slice(0, 9).toLowerCase() !== 'urn:uuid:') return undefined;
      body = s.slice(9);
    } else if (s.length === 38) {
      if (s[0] !== '{' || s[37] !== '}') return undefined;
      body = s.slice(1, 37);
    }
    if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(body)) return undefined;
    hex = body.replaceAll('-', '');
  } else if (s.length === 32 && /^[0-9a-fA-F]{32}$/.test(s)) hex = s;
  else return undefined;
  return Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

const VARIANTS = ['Reserved', 'Reserved', 'RFC4122', 'Microsoft', 'Future'];

// 100-ns intervals between the Gregorian reform (1582-10-15) and the Unix epoch
const GREGORIAN_OFFSET = 0x01b21dd213814000n;

register({
  name: 'uuid.parse',
  sig: { args: [T.string], result: T.object(T.string, T.any) },
  fn: ([s]) => {
    const b = uuidBytes(expectString('uuid.parse', 1, s as Value));
    if (!b) return undefined;
    const at = (i: number): number => b[i] as number;
    const version = at(6) >> 4;
    const v8 = at(8);
    const variant = (v8 & 0xc0) === 0x80 ? 'RFC4122' : (v8 & 0xe0) === 0xc0 ? 'Microsoft' : (v8 & 0xe0) === 0xe0 ? 'Future' : VARIANTS[0];
    const out = RObject.fromRecord({ version, variant: variant as string });
    if (version === 1 || version === 2) {
      const low = BigInt((at(0) << 24) >>> 0 | (at(1) << 16) | (at(2) << 8) | at(3));
      const mid = BigInt((at(4) << 8) | at(5));
      const hi = BigInt(((at(6) << 8) | at(7)) & 0x0fff);
      const time = (hi << 48n) | (mid << 32n) | low;
      out.set('time', normalizeNumber((time - GREGORIAN_OFFSET) * 100n));
      out.set('clocksequence', ((at(8) & 0x3f) << 8) | at(9));
      out.set('nodeid', b.slice(10).map((x) => x.toString(16).padStart(2, '0')).join('-'));
      out.set('macvariables', `${at(10) & 2 ? 'local' : 'global'}:${at(10) & 1 ? 'multicast' : 'unicast'}`);
      if (version === 2) {
        out.set('domain', ['Person', 'Group', 'Org'][at(9)] ?? `Domain${at(9)}`);
        out.set('id', Number(low));
      }
    }
    return out;
  },
});
