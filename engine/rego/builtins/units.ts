// Builtins: units.parse, units.parse_bytes
// Amounts are computed exactly (decimal mantissa as bigint over a power of ten) so 10Ei stays 11529215046068469760.
import type { RNumber, Value } from '../value.ts';
import { normalizeNumber } from '../value.ts';
import { BuiltinError, T, checkNumberDigits, expectString, register } from './registry.ts';

const K = 1000n;
const KI = 1024n;
const pow = (b: bigint, e: number): bigint => b ** BigInt(e);

/** An exact decimal: value = num / 10^scale. */
interface Decimal {
  num: bigint;
  scale: number;
}

/** Split "4.5e1GiB" into number text and unit the way OPA does (an `e` is an exponent only when digits follow). */
function splitAmount(s: string): { num: string; unit: string } {
  const m = /^[+-]?[0-9.]*(?:[eE][+-]?[0-9]+)?/.exec(s) as RegExpExecArray;
  const num = /[0-9]/.test(m[0]) || m[0].includes('.') ? m[0] : '';
  return { num, unit: s.slice(num.length) };
}

function parseDecimal(name: string, text: string): Decimal | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  // "1e1000000000" would be a billion-digit integer: a bound, not a minute of bigint arithmetic
  checkNumberDigits(name, (m[2] ?? '').length + frac.length + Math.abs(Number(m[4] ?? 0)));
  let num = BigInt(`${m[2] || '0'}${frac}`);
  let scale = frac.length - Number(m[4] ?? 0);
  if (scale < 0) {
    num *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { num: m[1] === '-' ? -num : num, scale };
}

/** The decimal times a multiplier, as an exact integer when it is one and a double otherwise. */
function scaled(d: Decimal, mul: bigint, div: bigint): { exact: RNumber; truncated: bigint } {
  const den = 10n ** BigInt(d.scale) * div;
  const num = d.num * mul;
  const truncated = num / den;
  if (num % den === 0n) return { exact: normalizeNumber(truncated), truncated };
  // den is a power of ten: print the exact decimal and let JS round it once
  const neg = num < 0n;
  const digits = (neg ? -num : num).toString().padStart(den.toString().length, '0');
  const point = digits.length - (den.toString().length - 1);
  return { exact: Number(`${neg ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}`), truncated };
}

const SI: Record<string, bigint> = { k: K, m: pow(K, 2), g: pow(K, 3), t: pow(K, 4), p: pow(K, 5), e: pow(K, 6) };
const IEC: Record<string, bigint> = { ki: KI, mi: pow(KI, 2), gi: pow(KI, 3), ti: pow(KI, 4), pi: pow(KI, 5), ei: pow(KI, 6) };

register({
  name: 'units.parse',
  sig: { args: [T.string], result: T.number },
  fn: ([x]) => {
    const name = 'units.parse';
    const s = expectString(name, 1, x as Value).replaceAll('"', '');
    if (s.includes(' ')) throw new BuiltinError(name, 'spaces not allowed in resource strings');
    const { num, unit: raw } = splitAmount(s);
    if (num === '') throw new BuiltinError(name, 'no amount provided');
    // only the first letter keeps its case, so "m" (milli) and "M" (mega) differ
    const unit = raw.length > 1 ? raw[0] + raw.slice(1).toLowerCase() : raw;
    let mul = 1n;
    let div = 1n;
    if (unit === 'm') div = K;
    else if (unit === 'M') mul = SI.m as bigint;
    else if (unit !== '') {
      const lower = unit.toLowerCase();
      const f = lower === 'm' ? undefined : (SI[lower] ?? IEC[lower]);
      if (f === undefined) throw new BuiltinError(name, `unit ${unit} not recognized`);
      mul = f;
    }
    const d = parseDecimal(name, num);
    if (!d) throw new BuiltinError(name, 'could not parse amount to a number');
    return scaled(d, mul, div).exact;
  },
});

register({
  name: 'units.parse_bytes',
  sig: { args: [T.string], result: T.number },
  fn: ([x]) => {
    const name = 'units.parse_bytes';
    const s = expectString(name, 1, x as Value).toLowerCase().replace(/^"+|"+$/g, '');
    if (s.includes(' ')) throw new BuiltinError(name, 'spaces not allowed in resource strings');
    const { num, unit } = splitAmount(s);
    if (num === '') throw new BuiltinError(name, 'no byte amount provided');
    const u = unit.endsWith('b') ? unit.slice(0, -1) : unit;
    const mul = u === '' ? 1n : (SI[u] ?? IEC[u]);
    if (mul === undefined) throw new BuiltinError(name, `byte unit ${unit} not recognized`);
    const d = parseDecimal(name, num);
    if (!d) throw new BuiltinError(name, 'could not parse byte amount to a number');
    return normalizeNumber(scaled(d, mul, 1n).truncated);
  },
});
