// Builtins: object.get, object.remove, object.union, object.union_n, object.filter, object.keys, object.subset, walk
// (OPA's topdown/object.go and walk.go). `walk` is a relation: it returns every [path, value] pair as an array and
// the evaluator enumerates them.
import { BigNum, equal, RObject, RSet } from '../value.ts';
import type { Value } from '../value.ts';
import { OperandTypeError, T, expectArray, expectObject, register } from './registry.ts';

function child(v: Value, key: Value): Value | undefined {
  if (v instanceof RObject) return v.get(key);
  if (Array.isArray(v)) {
    // an index is an int text (Number.Int): 1.0 is none
    const i = key instanceof BigNum ? (/^[+-]?\d+$/.test(key.text) ? Number(key.text) : NaN) : key;
    return typeof i === 'number' && Number.isInteger(i) && i >= 0 && i < v.length ? v[i] : undefined;
  }
  if (v instanceof RSet) return v.has(key) ? key : undefined;
  return undefined;
}

register({
  name: 'object.get',
  sig: { args: [T.object(), T.any, T.any], result: T.any },
  fn: ([o, key, dflt]) => {
    const obj = expectObject('object.get', 1, o!);
    if (!Array.isArray(key)) {
      const got = obj.get(key!);
      return got !== undefined ? got : dflt!;
    }
    let cur: Value | undefined = obj;
    for (const k of key) {
      cur = cur === undefined ? undefined : child(cur, k);
      if (cur === undefined) return dflt!;
    }
    return cur;
  },
});

function keyList(name: string, pos: number, v: Value): Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return [...v.values()];
  if (v instanceof RObject) return [...v.keys()];
  throw new OperandTypeError(name, pos, 'one of {object, set, array}', v);
}

register({
  name: 'object.remove',
  sig: { args: [T.object(), T.union(T.array(), T.set(), T.object())], result: T.object() },
  fn: ([o, ks]) => {
    const obj = expectObject('object.remove', 1, o!);
    const drop = new RSet(keyList('object.remove', 2, ks!));
    const out = new RObject();
    for (const [k, v] of obj.entries()) if (!drop.has(k)) out.set(k, v);
    return out;
  },
});

register({
  name: 'object.filter',
  sig: { args: [T.object(), T.union(T.array(), T.set(), T.object())], result: T.object() },
  fn: ([o, ks]) => {
    const obj = expectObject('object.filter', 1, o!);
    const out = new RObject();
    for (const k of keyList('object.filter', 2, ks!)) {
      const v = obj.get(k);
      if (v !== undefined) out.set(k, v);
    }
    return out;
  },
});

function merge(a: RObject, b: RObject): RObject {
  const out = new RObject(a.entries());
  for (const [k, v] of b.entries()) {
    const prev = out.get(k);
    out.set(k, prev instanceof RObject && v instanceof RObject ? merge(prev, v) : v);
  }
  return out;
}

register({
  name: 'object.union',
  sig: { args: [T.object(), T.object()], result: T.object() },
  fn: ([a, b]) => merge(expectObject('object.union', 1, a!), expectObject('object.union', 2, b!)),
});

register({
  name: 'object.union_n',
  sig: { args: [T.array(T.object())], result: T.object() },
  fn: ([a]) => {
    let out = new RObject();
    for (const o of expectArray('object.union_n', 1, a!)) {
      if (!(o instanceof RObject)) throw new OperandTypeError('object.union_n', 1, 'array of objects', a!);
      out = merge(out, o);
    }
    return out;
  },
});

register({ name: 'object.keys', sig: { args: [T.object()], result: T.set() }, fn: ([o]) => new RSet(expectObject('object.keys', 1, o!).keys()) });

function subset(sup: Value, sub: Value): boolean {
  if (sup instanceof RObject && sub instanceof RObject) {
    for (const [k, v] of sub.entries()) {
      const s = sup.get(k);
      if (s === undefined) return false;
      if (!subset(s, v)) return false;
    }
    return true;
  }
  if (sup instanceof RSet && sub instanceof RSet) {
    for (const v of sub) if (!sup.has(v)) return false;
    return true;
  }
  if (Array.isArray(sup) && sub instanceof RSet) {
    const s = new RSet(sup);
    for (const v of sub) if (!s.has(v)) return false;
    return true;
  }
  if (Array.isArray(sup) && Array.isArray(sub)) {
    if (sub.length === 0) return true;
    for (let i = 0; i + sub.length <= sup.length; i++) {
      if (sub.every((v, j) => equal(v, sup[i + j] as Value))) return true;
    }
    return false;
  }
  return equal(sup, sub);
}

register({
  name: 'object.subset',
  sig: { args: [T.union(T.object(), T.set(), T.array()), T.union(T.object(), T.set(), T.array())], result: T.boolean },
  fn: ([a, b]) => {
    const kinds = (v: Value): boolean => v instanceof RObject || v instanceof RSet || Array.isArray(v);
    if (!kinds(a!)) throw new OperandTypeError('object.subset', 1, 'one of {object, set, array}', a!);
    if (!kinds(b!)) throw new OperandTypeError('object.subset', 2, 'one of {object, set, array}', b!);
    if (a instanceof RObject !== b instanceof RObject) throw new OperandTypeError('object.subset', 2, a instanceof RObject ? 'object' : 'one of {set, array}', b!);
    return subset(a!, b!);
  },
});

register({
  name: 'walk',
  sig: { args: [T.any], result: T.array() },
  fn: ([v]) => {
    const out: Value[] = [];
    const visit = (x: Value, path: Value[]): void => {
      out.push([path, x]);
      if (Array.isArray(x)) x.forEach((c, i) => visit(c, [...path, i]));
      else if (x instanceof RObject) for (const [k, c] of x.sortedEntries()) visit(c, [...path, k]);
      else if (x instanceof RSet) for (const c of x.sorted()) visit(c, [...path, c]);
    };
    visit(v!, []);
    return out;
  },
});
