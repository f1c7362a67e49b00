// Builtins: and (&), or (|), intersection, union (set forms; set difference is `minus` in arithmetic.ts)
import { RSet } from '../value.ts';
import { OperandTypeError, T, expectSet, register } from './registry.ts';

register({
  name: 'and',
  infix: '&',
  sig: { args: [T.set(), T.set()], result: T.set() },
  fn: ([a, b]) => {
    const x = expectSet('and', 1, a!);
    const y = expectSet('and', 2, b!);
    const out = new RSet();
    for (const v of x) if (y.has(v)) out.add(v);
    return out;
  },
});

register({
  name: 'or',
  infix: '|',
  sig: { args: [T.set(), T.set()], result: T.set() },
  fn: ([a, b]) => new RSet([...expectSet('or', 1, a!), ...expectSet('or', 2, b!)]),
});

register({
  name: 'intersection',
  sig: { args: [T.set(T.set())], result: T.set() },
  fn: ([a]) => {
    const sets = [...expectSet('intersection', 1, a!)];
    for (const s of sets) if (!(s instanceof RSet)) throw new OperandTypeError('intersection', 1, 'set of sets', a!);
    if (sets.length === 0) return new RSet();
    const [first, ...rest] = sets as RSet[];
    const out = new RSet();
    for (const v of first as RSet) if (rest.every((s) => s.has(v))) out.add(v);
    return out;
  },
});

register({
  name: 'union',
  sig: { args: [T.set(T.set())], result: T.set() },
  fn: ([a]) => {
    const out = new RSet();
    for (const s of expectSet('union', 1, a!)) {
      if (!(s instanceof RSet)) throw new OperandTypeError('union', 1, 'set of sets', a!);
      for (const v of s) out.add(v);
    }
    return out;
  },
});
