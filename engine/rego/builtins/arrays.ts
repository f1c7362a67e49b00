// Builtins: array.concat, array.slice, array.reverse, array.flatten (OPA's topdown/array.go)
import { isInteger } from '../value.ts';
import { BuiltinError, T, checkElementCount, expectArray, expectNumber, register } from './registry.ts';

register({
  name: 'array.concat',
  sig: { args: [T.array(), T.array()], result: T.array() },
  fn: ([a, b]) => {
    const x = expectArray('array.concat', 1, a!);
    const y = expectArray('array.concat', 2, b!);
    checkElementCount('array.concat', x.length + y.length);
    return [...x, ...y];
  },
});

register({
  name: 'array.slice',
  sig: { args: [T.array(), T.number, T.number], result: T.array() },
  fn: ([a, s, e]) => {
    const arr = expectArray('array.slice', 1, a!);
    const start = expectNumber('array.slice', 2, s!);
    const stop = expectNumber('array.slice', 3, e!);
    if (!isInteger(start)) throw new BuiltinError('array.slice', 'operand 2 must be integer');
    if (!isInteger(stop)) throw new BuiltinError('array.slice', 'operand 3 must be integer');
    let i = Math.max(0, Number(start));
    const j = Math.min(arr.length, Number(stop));
    if (i > j) i = j;
    return arr.slice(i, j);
  },
});

register({ name: 'array.reverse', sig: { args: [T.array()], result: T.array() }, fn: ([a]) => [...expectArray('array.reverse', 1, a!)].reverse() });

register({
  name: 'array.flatten',
  sig: { args: [T.array()], result: T.array() },
  fn: ([a]) => expectArray('array.flatten', 1, a!).flatMap((x) => (Array.isArray(x) ? x : [x])),
});
