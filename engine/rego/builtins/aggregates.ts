// Builtins: count, sum, product, max, min, sort, all, any (OPA's topdown/aggregates.go)
import * as F from '../bigfloat.ts';
import { RObject, RSet, compare, isNumber, normalizeNumber } from '../value.ts';
import { fromBigFloat, toBigFloat } from './arithmetic.ts';
import type { RNumber, Value } from '../value.ts';
import { OperandTypeError, T, register } from './registry.ts';

function elements(name: string, v: Value, kinds = 'one of {array, set}'): Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return [...v.values()];
  throw new OperandTypeError(name, 1, kinds, v);
}

register({
  name: 'count',
  sig: { args: [T.union(T.array(), T.object(), T.set(), T.string)], result: T.number },
  fn: ([v]) => {
    if (typeof v === 'string') return [...v].length;
    if (Array.isArray(v)) return v.length;
    if (v instanceof RSet || v instanceof RObject) return v.size;
    throw new OperandTypeError('count', 1, 'one of {array, object, set, string}', v!);
  },
});

// OPA 1.9's builtinSum: integers (int64 text) add exactly; any other element sends the whole sum through a 64-bit
// big.Float. builtinProduct always multiplies big.Floats (exact while the product fits 64 bits).
const INT64 = 2n ** 63n;

function numbers(name: string, v: Value): RNumber[] {
  const xs = elements(name, v);
  for (const x of xs) if (!isNumber(x)) throw new OperandTypeError(name, 1, `one of {array, set} of numbers`, v);
  return xs as RNumber[];
}

const int64Text = (x: RNumber): boolean =>
  typeof x === 'number' ? Number.isInteger(x) : typeof x === 'bigint' ? x >= -INT64 && x < INT64 : /^-?\d+$/.test(x.text) && BigInt(x.text) >= -INT64 && BigInt(x.text) < INT64;

register({
  name: 'sum',
  sig: { args: [T.union(T.array(T.number), T.set(T.number))], result: T.number },
  fn: ([v]) => {
    const xs = numbers('sum', v!);
    if (xs.every(int64Text)) {
      let small = 0;
      let safe = true;
      for (const x of xs) {
        if (typeof x !== 'number') safe = false;
        else small += x;
      }
      if (safe && Number.isSafeInteger(small)) return small === 0 ? 0 : small;
      let acc = 0n;
      for (const x of xs) acc += typeof x === 'bigint' ? x : BigInt(typeof x === 'number' ? x : x.text);
      return normalizeNumber(acc);
    }
    let acc = F.parseDecimal('0') as F.BigFloat;
    for (const x of xs) acc = F.add(acc, toBigFloat(x));
    return fromBigFloat(acc);
  },
});

register({
  name: 'product',
  sig: { args: [T.union(T.array(T.number), T.set(T.number))], result: T.number },
  fn: ([v]) => {
    const xs = numbers('product', v!);
    let small = 1;
    let safe = true;
    for (const x of xs) {
      if (typeof x !== 'number' || !Number.isSafeInteger(x)) {
        safe = false;
        break;
      }
      small *= x;
    }
    // a zero product may be -0 in big.Float (a negative factor), so only nonzero safe products skip the float path
    if (safe && Number.isSafeInteger(small) && small !== 0) return small;
    let acc: F.BigFloat = { neg: false, mant: 1n, exp: 0 };
    for (const x of xs) acc = F.mul(acc, toBigFloat(x));
    return fromBigFloat(acc);
  },
});

function extreme(name: string, dir: number): void {
  register({
    name,
    sig: { args: [T.union(T.array(), T.set())], result: T.any },
    fn: ([v]) => {
      const xs = elements(name, v!);
      if (xs.length === 0) return undefined;
      let best = xs[0] as Value;
      for (const x of xs) if (compare(x, best) * dir > 0) best = x;
      return best;
    },
  });
}
extreme('max', 1);
extreme('min', -1);

register({ name: 'sort', sig: { args: [T.union(T.array(), T.set())], result: T.array() }, fn: ([v]) => [...elements('sort', v!)].sort(compare) });

register({
  name: 'all',
  sig: { args: [T.union(T.array(), T.set())], result: T.boolean },
  fn: ([v]) => elements('all', v!).every((x) => x === true),
});
register({
  name: 'any',
  sig: { args: [T.union(T.array(), T.set())], result: T.boolean },
  fn: ([v]) => elements('any', v!).some((x) => x === true),
});
