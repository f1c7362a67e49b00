// Builtins: plus, minus, mul, div, rem, abs, round, ceil, floor, numbers.range, numbers.range_step, rand.intn
// Integers stay exact (bigint past ±2^53, as OPA's big numbers); decimals are doubles.
import { RSet, isInteger, normalizeNumber, typeName } from '../value.ts';
import type { RNumber, Value } from '../value.ts';
import { BuiltinError, OperandTypeError, T, checkElementCount, expectNumber, register } from './registry.ts';

/** OPA's wording for non-integer operands (an eval_type_error). */
class IntegerOperandError extends BuiltinError {
  override readonly code = 'eval_type_error';
}

const big = (n: RNumber): bigint => (typeof n === 'bigint' ? n : BigInt(n));
const dbl = (n: RNumber): number => (typeof n === 'bigint' ? Number(n) : n);
const bothInt = (a: RNumber, b: RNumber): boolean => isInteger(a) && isInteger(b);

/** Integer result in its canonical representation (number when safe). */
function int(n: bigint): RNumber {
  return normalizeNumber(n);
}

function finite(name: string, n: number): number {
  if (!Number.isFinite(n)) throw new BuiltinError(name, 'arithmetic result is not a finite number');
  return n;
}

function arith(name: string, infix: string, op: (a: bigint, b: bigint) => bigint, fop: (a: number, b: number) => number): void {
  register({
    name,
    infix,
    sig: { args: [T.number, T.number], result: T.number },
    fn: ([a, b]) => {
      const x = expectNumber(name, 1, a!);
      const y = expectNumber(name, 2, b!);
      if (typeof x === 'number' && typeof y === 'number' && Number.isInteger(x) && Number.isInteger(y)) {
        const r = fop(x, y);
        if (Number.isSafeInteger(r)) return r;
      }
      if (bothInt(x, y)) return int(op(big(x), big(y)));
      return finite(name, fop(dbl(x), dbl(y)));
    },
  });
}

arith('plus', '+', (a, b) => a + b, (a, b) => a + b);
arith('mul', '*', (a, b) => a * b, (a, b) => a * b);

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
    if (typeof x !== 'number' && typeof x !== 'bigint') throw new OperandTypeError('minus', 1, 'one of {number, set}', x);
    if (typeof y !== 'number' && typeof y !== 'bigint') throw new OperandTypeError('minus', 2, 'one of {number, set}', y);
    if (typeof x === 'number' && typeof y === 'number') {
      const r = x - y;
      if (!Number.isInteger(x) || !Number.isInteger(y) || Number.isSafeInteger(r)) return r;
    }
    if (bothInt(x, y)) return int(big(x) - big(y));
    return finite('minus', dbl(x) - dbl(y));
  },
});

register({
  name: 'div',
  infix: '/',
  sig: { args: [T.number, T.number], result: T.number },
  fn: ([a, b]) => {
    const x = expectNumber('div', 1, a!);
    const y = expectNumber('div', 2, b!);
    if (dbl(y) === 0 && (typeof y !== 'bigint' || y === 0n)) throw new BuiltinError('div', 'divide by zero');
    if (bothInt(x, y) && big(x) % big(y) === 0n) return int(big(x) / big(y));
    return finite('div', dbl(x) / dbl(y));
  },
});

register({
  name: 'rem',
  infix: '%',
  sig: { args: [T.number, T.number], result: T.number },
  fn: ([a, b]) => {
    const x = expectNumber('rem', 1, a!);
    const y = expectNumber('rem', 2, b!);
    if (!bothInt(x, y)) throw new BuiltinError('rem', 'modulo on floating-point number');
    if (big(y) === 0n) throw new BuiltinError('rem', 'modulo by zero');
    return int(big(x) % big(y));
  },
});

function unary(name: string, f: (n: number) => number): void {
  register({
    name,
    sig: { args: [T.number], result: T.number },
    fn: ([a]) => {
      const x = expectNumber(name, 1, a!);
      if (typeof x === 'bigint') return name === 'abs' && x < 0n ? int(-x) : x;
      return f(x);
    },
  });
}
unary('abs', Math.abs);
unary('round', (n) => (n < 0 ? -Math.round(-n) : Math.round(n)));
unary('ceil', Math.ceil);
unary('floor', Math.floor);

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
  if (from <= to) for (let i = from; i <= to; i += s) out.push(int(i));
  else for (let i = from; i >= to; i -= s) out.push(int(i));
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
    const m = Math.abs(dbl(max));
    if (m === 0) return 0;
    const key = `rand.intn\u0000${s}\u0000${m}`;
    const hit = ctx.cache.get(key);
    if (hit !== undefined) return hit as number;
    const r = Math.floor(ctx.random() * m);
    ctx.cache.set(key, r);
    return r;
  },
});

void typeName;
