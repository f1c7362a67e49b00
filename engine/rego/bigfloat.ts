// Go's math/big.Float as OPA uses it for arithmetic (topdown/builtins.NumberToFloat / FloatToNumber): a binary
// floating-point number with a 64-bit mantissa, rounded to nearest-even after every operation, parsed from a
// number's decimal text and printed back with the shortest decimal that reads back to the same 64-bit value.
// JS doubles have 53 bits, so `0.1 + 0.2` differs; decimal libraries (decimal.js, big.js) are decimal, not
// binary, so `ceil(100 * 1.2)` would be 120 where OPA says 121. Hence this small emulation on native BigInt.

/** value = (neg ? -1 : 1) * mant * 2^exp; mant === 0n is a (signed) zero. */
export interface BigFloat {
  readonly neg: boolean;
  readonly mant: bigint;
  readonly exp: number;
}

/** big.Float's default precision, which NumberToFloat (SetString on a zero Float) gives every operand. */
export const PREC = 64;

const ZERO: BigFloat = { neg: false, mant: 0n, exp: 0 };

export function bitLength(x: bigint): number {
  if (x === 0n) return 0;
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0] as string, 16)));
}

/** Round mant*2^exp to `prec` bits, ties to even; `sticky` says the true value is a little above mant. */
function round(neg: boolean, mant: bigint, exp: number, prec: number, sticky = false): BigFloat {
  if (mant === 0n) return { neg, mant: 0n, exp: 0 };
  const bits = bitLength(mant);
  if (bits <= prec) {
    // sticky bits below an exact mantissa cannot change it (they are less than half an ulp at this precision)
    return { neg, mant, exp };
  }
  const shift = bits - prec;
  const s = BigInt(shift);
  let keep = mant >> s;
  const rest = mant - (keep << s);
  const half = 1n << (s - 1n);
  if (rest > half || (rest === half && (sticky || (keep & 1n) === 1n))) keep += 1n;
  return { neg, mant: keep, exp: exp + shift };
}

function fromInt(n: bigint): BigFloat {
  return n < 0n ? { neg: true, mant: -n, exp: 0 } : { neg: false, mant: n, exp: 0 };
}

// ── operations (z's precision 0, so the result takes the operands' precision: 64) ───────────────

export function mul(x: BigFloat, y: BigFloat, prec = PREC): BigFloat {
  return round(x.neg !== y.neg, x.mant * y.mant, x.exp + y.exp, prec);
}

export function quo(x: BigFloat, y: BigFloat, prec = PREC): BigFloat {
  if (y.mant === 0n) throw new RangeError('division by zero');
  const neg = x.neg !== y.neg;
  if (x.mant === 0n) return { neg, mant: 0n, exp: 0 };
  // enough quotient bits for the precision plus a rounding bit; the remainder is the sticky bit
  const shift = Math.max(0, prec + 2 + bitLength(y.mant) - bitLength(x.mant));
  const num = x.mant << BigInt(shift);
  const q = num / y.mant;
  return round(neg, q, x.exp - y.exp - shift, prec, q * y.mant !== num);
}

function addSigned(x: BigFloat, y: BigFloat, yneg: boolean, prec: number): BigFloat {
  if (x.mant === 0n && y.mant === 0n) {
    // IEEE rules for the sign of a zero sum, as big.Float follows: -0 + -0 = -0, otherwise +0
    return { neg: x.neg && yneg, mant: 0n, exp: 0 };
  }
  if (x.mant === 0n) return round(yneg, y.mant, y.exp, prec);
  if (y.mant === 0n) return round(x.neg, x.mant, x.exp, prec);
  const e = Math.min(x.exp, y.exp);
  const a = x.mant << BigInt(x.exp - e);
  const b = y.mant << BigInt(y.exp - e);
  const sa = x.neg ? -a : a;
  const sb = yneg ? -b : b;
  const sum = sa + sb;
  if (sum === 0n) return { neg: false, mant: 0n, exp: 0 };
  return round(sum < 0n, sum < 0n ? -sum : sum, e, prec);
}

export function add(x: BigFloat, y: BigFloat, prec = PREC): BigFloat {
  return addSigned(x, y, y.neg, prec);
}

export function sub(x: BigFloat, y: BigFloat, prec = PREC): BigFloat {
  return addSigned(x, y, !y.neg, prec);
}

/** x.Cmp(y): -1, 0, +1 (zeros of either sign are equal). */
export function cmp(x: BigFloat, y: BigFloat): number {
  const d = sub({ ...x, neg: x.neg }, y, Number.MAX_SAFE_INTEGER);
  return d.mant === 0n ? 0 : d.neg ? -1 : 1;
}

/** x.Int(nil): the integer part, truncated toward zero. */
export function truncate(x: BigFloat): bigint {
  if (x.mant === 0n) return 0n;
  const m = x.exp >= 0 ? x.mant << BigInt(x.exp) : x.mant >> BigInt(-x.exp);
  return x.neg ? -m : m;
}

export function isInt(x: BigFloat): boolean {
  if (x.mant === 0n || x.exp >= 0) return true;
  const s = BigInt(-x.exp);
  return (x.mant >> s) << s === x.mant;
}

export function fromBigInt(n: bigint): BigFloat {
  // SetInt: precision max(64, bit length), so an integer is exact
  return fromInt(n);
}

// ── SetString (floatconv.go scan): digits as one integer, then 10^e applied as 2^e * 5^e ─────────

const POW5_EXACT = 27; // 5^27 is the largest power of five in a uint64 (Go's pow5tab)

/** Float.pow5 on a Float of precision `prec`, with Go's rounding of the intermediate products. */
function pow5(n: number, prec: number): BigFloat {
  if (n <= POW5_EXACT) return fromInt(5n ** BigInt(n));
  let z = fromInt(5n ** BigInt(POW5_EXACT));
  let rest = n - POW5_EXACT;
  let f = fromInt(5n);
  const fprec = prec + 64;
  while (rest > 0) {
    if (rest & 1) z = mul(z, f, prec);
    f = mul(f, f, fprec);
    rest = Math.floor(rest / 2);
  }
  return z;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Float.SetString on a Float of precision 0 (becomes 64), for decimal number text; undefined if not a number. */
export function parseDecimal(text: string, prec = PREC): BigFloat | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const [, sign = '', int = '', frac = '', expText] = m;
  if (int === '' && frac === '') return undefined;
  const neg = sign === '-';
  const digits = BigInt(`${int}${frac}` || '0');
  if (digits === 0n) return { ...ZERO, neg };
  const exp10 = (expText === undefined ? 0 : Number(expText)) - frac.length;
  if (!Number.isSafeInteger(exp10)) return undefined;
  // z holds the unrounded digits at precision 64; 5^|e| is a Float of precision 128
  const z: BigFloat = { neg, mant: digits, exp: exp10 };
  if (exp10 === 0) return round(neg, digits, 0, prec);
  const p = pow5(Math.abs(exp10), prec + 64);
  return exp10 < 0 ? quo(z, p, prec) : mul(z, p, prec);
}

// ── Text('f' | 'g', -1) (ftoa.go): exact decimal, then the shortest digits that read back ────────

interface Decimal {
  /** significant digits, no trailing zeros ('' for zero) */
  mant: string;
  /** value = 0.mant * 10^exp */
  exp: number;
}

function trimZeros(d: Decimal): Decimal {
  const mant = d.mant.replace(/0+$/, '');
  return mant === '' ? { mant: '', exp: 0 } : { mant, exp: d.exp };
}

/** The exact decimal of mant * 2^exp (mant > 0). */
function toDecimal(mant: bigint, exp: number): Decimal {
  if (mant === 0n) return { mant: '', exp: 0 };
  if (exp >= 0) {
    const s = (mant << BigInt(exp)).toString();
    return trimZeros({ mant: s, exp: s.length });
  }
  // mant / 2^k = mant * 5^k / 10^k
  const k = -exp;
  const s = (mant * 5n ** BigInt(k)).toString();
  return trimZeros({ mant: s, exp: s.length - k });
}

function shouldRoundUp(d: Decimal, n: number): boolean {
  const c = d.mant.charCodeAt(n) - 48;
  if (c === 5 && n + 1 === d.mant.length) return n > 0 && (d.mant.charCodeAt(n - 1) - 48) % 2 === 1;
  return c >= 5;
}

function roundDown(d: Decimal, n: number): Decimal {
  if (n < 0 || n >= d.mant.length) return d;
  return trimZeros({ mant: d.mant.slice(0, n), exp: d.exp });
}

function roundUp(d: Decimal, n: number): Decimal {
  if (n < 0 || n >= d.mant.length) return d;
  let i = n;
  while (i > 0 && d.mant[i - 1] === '9') i--;
  if (i === 0) return { mant: '1', exp: d.exp + 1 };
  return { mant: d.mant.slice(0, i - 1) + String.fromCharCode(d.mant.charCodeAt(i - 1) + 1), exp: d.exp };
}

/** decimal.round: half to even on the decimal digits. */
export function roundDecimal(d: Decimal, n: number): Decimal {
  if (n < 0 || n >= d.mant.length) return d;
  return shouldRoundUp(d, n) ? roundUp(d, n) : roundDown(d, n);
}

const digitAt = (d: Decimal, i: number): number => (i >= 0 && i < d.mant.length ? d.mant.charCodeAt(i) - 48 : 0);

/** roundShortest: the fewest digits that still lie within half an ulp (at `prec` bits) of x. */
function roundShortest(d: Decimal, x: BigFloat, prec: number): Decimal {
  if (d.mant === '') return d;
  let mant = x.mant;
  const bits = bitLength(mant);
  let exp = x.exp;
  const s = bits - (prec + 1);
  if (s < 0) mant <<= BigInt(-s);
  else if (s > 0) mant >>= BigInt(s);
  exp += s;
  const lower = toDecimal(mant - 1n, exp);
  const upper = toDecimal(mant + 1n, exp);
  const inclusive = (mant & 2n) === 0n;
  // Go compares the digit strings by index, even when lower has one digit fewer (crossing a power of ten)
  for (let i = 0; i < d.mant.length; i++) {
    const m = d.mant.charCodeAt(i) - 48;
    const l = digitAt(lower, i);
    const u = digitAt(upper, i);
    const okdown = l !== m || (inclusive && i + 1 === lower.mant.length);
    const okup = m !== u && (inclusive || m + 1 < u || i + 1 < upper.mant.length);
    if (okdown && okup) return roundDecimal(d, i + 1);
    if (okdown) return roundDown(d, i + 1);
    if (okup) return roundUp(d, i + 1);
  }
  return d;
}

/** x.Text(format, -1) for format 'f' or 'g'. */
export function text(x: BigFloat, format: 'f' | 'g', prec = PREC): string {
  const sign = x.neg ? '-' : '';
  let d = toDecimal(x.mant, x.exp);
  d = roundShortest(d, x, prec);
  if (format === 'f') return sign + fmtF(d, Math.max(d.mant.length - d.exp, 0));
  // 'g' shortest: %e when the exponent is < -4 or >= 6
  const e = d.exp - 1;
  if (d.mant !== '' && (e < -4 || e >= 6)) return sign + fmtE(d, d.mant.length - 1);
  let p = d.mant.length;
  if (p > d.exp) p = d.mant.length;
  return sign + fmtF(d, Math.max(p - d.exp, 0));
}

export function fmtF(d: Decimal, prec: number): string {
  let out = '';
  if (d.exp > 0) {
    const m = Math.min(d.mant.length, d.exp);
    out = d.mant.slice(0, m) + '0'.repeat(d.exp - m);
  } else out = '0';
  if (prec > 0) {
    out += '.';
    for (let i = 0; i < prec; i++) out += String(digitAt(d, d.exp + i));
  }
  return out;
}

export function fmtE(d: Decimal, prec: number, e = 'e'): string {
  let out = d.mant === '' ? '0' : (d.mant[0] as string);
  if (prec > 0) {
    out += '.';
    const m = Math.min(d.mant.length, prec + 1);
    out += d.mant.slice(1, m) + '0'.repeat(Math.max(0, prec + 1 - Math.max(m, 1)));
  }
  let exp = d.mant === '' ? 0 : d.exp - 1;
  const sign = exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  return `${out}${e}${sign}${exp < 10 ? '0' : ''}${exp}`;
}

/** OPA's FloatToNumber: integers in 'f' form, everything else in 'g' form, shortest digits either way. */
export function toNumberText(x: BigFloat): string {
  return text(x, isInt(x) ? 'f' : 'g');
}

export { toDecimal, type Decimal };
