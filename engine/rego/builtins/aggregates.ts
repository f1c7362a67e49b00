// Builtins: count, sum, product, max, min, sort, all, any (OPA's topdown/aggregates.go)
import { RObject, RSet, compare, isInteger, normalizeNumber } from '../value.ts';
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

function fold(name: string, v: Value, start: bigint, op: (a: bigint, b: bigint) => bigint, fop: (a: number, b: number) => number): Value {
  const xs = elements(name, v);
  let exact = true;
  let acc = start;
  let facc = Number(start);
  for (const x of xs) {
    if (typeof x !== 'number' && typeof x !== 'bigint') throw new OperandTypeError(name, 1, `one of {array, set} of numbers`, v);
    if (exact && isInteger(x)) {
      acc = op(acc, BigInt(x));
      facc = Number(acc);
    } else {
      if (exact) facc = Number(acc);
      exact = false;
      facc = fop(facc, Number(x));
    }
  }
  return exact ? normalizeNumber(acc) : (facc as RNumber);
}

register({ name: 'sum', sig: { args: [T.union(T.array(T.number), T.set(T.number))], result: T.number }, fn: ([v]) => fold('sum', v!, 0n, (a, b) => a + b, (a, b) => a + b) });
register({ name: 'product', sig: { args: [T.union(T.array(T.number), T.set(T.number))], result: T.number }, fn: ([v]) => fold('product', v!, 1n, (a, b) => a * b, (a, b) => a * b) });

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
