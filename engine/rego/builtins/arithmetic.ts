// Builtins: plus, minus, mul, div, rem, abs, round, ceil, floor, numbers.range, numbers.range_step, rand.intn
// OPA 1.9's topdown/arithmetic.go: operands whose text is an integer in (-1000, 1000) use machine ints; everything
// else goes through math/big.Float at 64-bit precision (builtins.NumberToFloat) and back to text
// (builtins.FloatToNumber). The fast path below takes safe JS integers when the exact result is a safe integer,
// which is what the 64-bit float path gives too (such results need fewer than 64 bits).
import * as F from '../bigfloat.ts';
import { BigNum, RSet, formatNumber, isInteger, normalizeNumber, numberFromText } from '../value.ts';
import type { RNumber, Value } from '../value.ts';
import { BuiltinError, OperandTypeError, T, checkElementCount, expectExactNumber, expectNumber, register } from './registry.ts';

/** OPA's wording for non-integer operands (an eval_type_error). */
class IntegerOperandError extends BuiltinError {
  override readonly code = 'eval_type_error';
}

const big = (n: number | bigint): bigint => (typeof n === 'bigint' ? n : BigInt(n));

// non-integer operands are parsed from their text; policies use few distinct constants, so keep the parses
const parsed = new Map<string, F.BigFloat>();
const MAX_PARSED = 4096;

/** builtins.NumberToFloat: SetString of the number's text on a 64-bit big.Float. */
export function toBigFloat(n: RNumber): F.BigFloat {
  if (typeof n === 'number' && Number.isSafeInteger(n) && !Object.is(n, -0)) return n < 0 ? { neg: true, mant: BigInt(-n), exp: 0 } : { neg: false, mant: BigInt(n), exp: 0 };
  const text = formatNumber(n);
  let f = parsed.get(text);
  if (f === undefined) {
    f = F.parseDecimal(text);
    if (f === undefined) throw new BuiltinError('number', `illegal value ${text}`);
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(text, f);
  }
  return f;
}

/** builtins.FloatToNumber: the shortest text ('f' for integers, 'g' otherwise), as a number. */
export function fromBigFloat(f: F.BigFloat): RNumber {
  if (f.mant === 0n) return f.neg ? new BigNum('-0') : 0;
  // an integer that fits a double exactly prints as its digits
  if (f.exp >= 0 && F.bitLength(f.mant) + f.exp <= 53) {
    const v = Number(f.mant) * 2 ** f.exp;
    return f.neg ? -v : v;
  }
  return numberFromText(F.toNumberText(f));
}

/** ast.Number.Int(): the text is an integer that fits an int64 (not `1.0`, not `1e2`). */
function textInt(n: RNumber): number | undefined {
  if (typeof n === 'number') return Number.isInteger(n) ? n : undefined;
  if (typeof n === 'bigint') return undefined; // beyond ±2^53: never in the small-int window
  return /^[+-]?\d+$/.test(n.text) ? Number(n.text) : undefined;
}

/** inSmallIntRange: OPA's machine-int fast path. */
const small = (n: number | undefined): n is number => n !== undefined && n > -1000 && n < 1000;

function binary(name: string, a: RNumber, b: RNumber, int: (x: number, y: number) => number, float: (x: F.BigFloat, y: F.BigFloat) => F.BigFloat): RNumber {
  if (typeof a === 'number' && typeof b === 'number' && Number.isSafeInteger(a) && Number.isSafeInteger(b)) {
    const r = int(a, b);
    // a zero result may be -0 on the float path (0 * -5000), so only the small window returns it directly
    if (Number.isSafeInteger(r) && (r !== 0 || (a > -1000 && a < 1000 && b > -1000 && b < 1000))) return r === 0 ? 0 : r;
  } else {
    const x = textInt(a);
    const y = textInt(b);
    if (small(x) && small(y)) {
      const r = int(x, y);
      return r === 0 ? 0 : r;
    }
  }
  return remembered(name, a, b, () => fromBigFloat(float(toBigFloat(a), toBigFloat(b))));
}

/**
 * A float-path result, remembered: a pure function of the operands, and policies repeat the same constants and
 * inputs. Keyed by the operands themselves (equal doubles and bigints are one key, a BigNum by identity; BigNums are
 * interned by text).
 */
function remembered(name: string, a: RNumber, b: RNumber, compute: () => RNumber): RNumber {
  const memo = memos.get(name) as Memo;
  let row = memo.rows.get(a);
  let r = row?.get(b);
  if (r === undefined) {
    r = compute();
    if (memo.size >= MAX_REMEMBERED) {
      memo.rows.clear();
      memo.size = 0;
      row = undefined;
    }
    if (row === undefined) memo.rows.set(a, (row = new Map()));
    row.set(b, r);
    memo.size++;
  }
  return r;
}

interface Memo {
  rows: Map<RNumber, Map<RNumber, RNumber>>;
  size: number;
}
const memos = new Map<string, Memo>(['plus', 'minus', 'mul', 'div', 'abs', 'round', 'ceil', 'floor'].map((op) => [op, { rows: new Map(), size: 0 }]));
const MAX_REMEMBERED = 4096;

function arith(name: string, infix: string, int: (x: number, y: number) => number, float: (x: F.BigFloat, y: F.BigFloat) => F.BigFloat): void {
  register({
    name,
    infix,
    sig: { args: [T.number, T.number], result: T.number },
    fn: ([a, b]) => binary(name, expectExactNumber(name, 1, a!), expectExactNumber(name, 2, b!), int, float),
  });
}

arith('plus', '+', (a, b) => a + b, (a, b) => F.add(a, b));
arith('mul', '*', (a, b) => a * b, (a, b) => F.mul(a, b));

register({
  name: 'minus',
  infix: '-',
  sig: { args: [T.union(T.number, T.set()), T.union(T.number, T.set())], result: T.union(T.number, T.set()) },
  fn: ([a, b]) => {
    if (a instanceof RSet && b instanceof RSet) {
      const out = new RSet();
      for (const v of a) if (!b.has(v)) out.add(v);
      return out;
    }
    if (a instanceof RSet) throw new OperandTypeError('minus', 2, 'set', b!);
    if (b instanceof RSet) throw new OperandTypeError('minus', 2, 'number', b);
    const x = a!;
    const y = b!;
    if (!isNum(x)) throw new OperandTypeError('minus', 1, 'one of {number, set}', x);
    if (!isNum(y)) throw new OperandTypeError('minus', 2, 'one of {number, set}', y);
    return binary('minus', x, y, (p, q) => p - q, (p, q) => F.sub(p, q));
  },
});

const isNum = (v: Value): v is RNumber => typeof v === 'number' || typeof v === 'bigint' || v instanceof BigNum;

register({
  name: 'div',
  infix: '/',
  sig: { args: [T.number, T.number], result: T.number },
  fn: ([a, b]) => {
    const x = expectExactNumber('div', 1, a!);
    const y = expectExactNumber('div', 2, b!);
    // arithDivide: every quotient is a big.Float quotient; a divisor that is exactly 0 (0, 0.0, -0) is an error
    if (typeof x === 'number' && typeof y === 'number' && Number.isSafeInteger(x) && Number.isSafeInteger(y) && y !== 0 && x !== 0 && x % y === 0) return x / y;
    const fy = toBigFloat(y);
    if (fy.mant === 0n) throw new BuiltinError('div', 'divide by zero');
    return remembered('div', x, y, () => fromBigFloat(F.quo(toBigFloat(x), fy)));
  },
});

/** builtins.NumberToInt: through the 64-bit float (integers beyond 64 bits round), exact integers only. */
function floatInt(n: RNumber): bigint | undefined {
  if (typeof n === 'number' && Number.isSafeInteger(n)) return BigInt(n);
  const f = toBigFloat(n);
  return F.isInt(f) ? F.truncate(f) : undefined;
}

register({
  name: 'rem',
  infix: '%',
  sig: { args: [T.number, T.number], result: T.number },
  fn: ([a, b]) => {
    const x = expectExactNumber('rem', 1, a!);
    const y = expectExactNumber('rem', 2, b!);
    const sx = textInt(x);
    const sy = textInt(y);
    if (small(sx) && small(sy)) {
      if (sy === 0) throw new BuiltinError('rem', 'modulo by zero');
      const r = sx % sy;
      return r === 0 ? 0 : r;
    }
    const ix = floatInt(x);
    const iy = floatInt(y);
    if (ix === undefined || iy === undefined) throw new BuiltinError('rem', 'modulo on floating-point number');
    // arithRem checks b.Int64(): the low 64 bits, so a divisor that is a multiple of 2^64 also counts as zero
    if (BigInt.asIntN(64, iy) === 0n) throw new BuiltinError('rem', 'modulo by zero');
    return normalizeNumber(ix % iy);
  },
});

const HALF: F.BigFloat = { neg: false, mant: 1n, exp: -1 };
const ONE: F.BigFloat = { neg: false, mant: 1n, exp: 0 };

/** arithRound: add (or subtract) one half at 64 bits, then truncate: half away from zero. */
function roundFloat(a: F.BigFloat): F.BigFloat {
  return F.fromBigInt(F.truncate(a.neg ? F.sub(a, HALF) : F.add(a, HALF)));
}

/** arithCeil as OPA wrote it: truncate, and add one unless the truncation is negative or exact (so ceil(-0.5) is 1). */
function ceilFloat(a: F.BigFloat): F.BigFloat {
  const i = F.truncate(a);
  const f = F.fromBigInt(i);
  if (i < 0n || F.cmp(a, f) === 0) return f;
  return F.add(f, ONE);
}

/** arithFloor as OPA wrote it: truncate, and subtract one only if the truncation is negative and inexact (floor(-0.5) is 0). */
function floorFloat(a: F.BigFloat): F.BigFloat {
  const i = F.truncate(a);
  const f = F.fromBigInt(i);
  if (i >= 0n || F.cmp(a, f) === 0) return f;
  return F.sub(f, ONE);
}

function unary(name: string, int: (n: number) => number, float: (f: F.BigFloat) => F.BigFloat): void {
  register({
    name,
    sig: { args: [T.number], result: T.number },
    fn: ([a]) => {
      const x = expectExactNumber(name, 1, a!);
      if (typeof x === 'number' && Number.isSafeInteger(x)) return int(x) === 0 ? 0 : int(x);
      return remembered(name, x, 0, () => fromBigFloat(float(toBigFloat(x))));
    },
  });
}
unary('abs', Math.abs, (f) => ({ ...f, neg: false }));
unary('round', (n) => n, roundFloat);
unary('ceil', (n) => n, ceilFloat);
unary('floor', (n) => n, floorFloat);

function range(name: string, a: Value, b: Value, step: Value | undefined): Value {
  const x = expectNumber(name, 1, a);
  const y = expectNumber(name, 2, b);
  if (!isInteger(x)) throw new IntegerOperandError(name, 'operand 1 must be integer number but got floating-point number');
  if (!isInteger(y)) throw new IntegerOperandError(name, 'operand 2 must be integer number but got floating-point number');
  let s = 1n;
  if (step !== undefined) {
    const st = expectNumber(name, 3, step);
    if (!isInteger(st)) throw new IntegerOperandError(name, 'operand 3 must be integer number but got floating-point number');
    s = big(st);
    if (s <= 0n) throw new BuiltinError(name, 'step must be a positive integer');
  }
  const from = big(x);
  const to = big(y);
  const count = (from <= to ? to - from : from - to) / s + 1n;
  checkElementCount(name, count);
  const out: Value[] = [];
  if (from <= to) for (let i = from; i <= to; i += s) out.push(normalizeNumber(i));
  else for (let i = from; i >= to; i -= s) out.push(normalizeNumber(i));
  return out;
}

register({ name: 'numbers.range', sig: { args: [T.number, T.number], result: T.array(T.number) }, fn: ([a, b]) => range('numbers.range', a!, b!, undefined) });
register({
  name: 'numbers.range_step',
  sig: { args: [T.number, T.number, T.number], result: T.array(T.number) },
  fn: ([a, b, c]) => range('numbers.range_step', a!, b!, c!),
});

register({
  name: 'rand.intn',
  nondeterministic: true,
  sig: { args: [T.string, T.number], result: T.number },
  fn: ([s, n], ctx) => {
    if (typeof s !== 'string') throw new OperandTypeError('rand.intn', 1, 'string', s!);
    const max = expectNumber('rand.intn', 2, n!);
    if (!isInteger(max)) throw new BuiltinError('rand.intn', 'operand 2 must be integer');
    const m = Math.abs(Number(max));
    if (m === 0) return 0;
    const key = `rand.intn\u0000${s}\u0000${m}`;
    const hit = ctx.cache.get(key);
    if (hit !== undefined) return hit as number;
    const r = Math.floor(ctx.random() * m);
    ctx.cache.set(key, r);
    return r;
  },
});

