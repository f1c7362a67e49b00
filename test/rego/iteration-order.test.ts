// Sets and objects are iterated in OPA's order (ast.Compare on elements and keys), not in insertion order: every
// place where the order shows — `some x in`, `s[x]`, `o[k]`, comprehensions, walk, the order of query results.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileModules, evalQuery, evalRef } from '../../engine/rego/index.ts';
import { RObject, RSet, compare, fromJSON, toJSON } from '../../engine/rego/value.ts';
import type { Value } from '../../engine/rego/value.ts';

const compile = (source: string) => compileModules([{ file: 'p.rego', source }]);
const json = (source: string, ref: string, input?: unknown): unknown => {
  const v = evalRef(compile(source), ref, input === undefined ? {} : { input });
  return v === undefined ? undefined : toJSON(v);
};
const bindingsOf = (source: string, query: string, name: string): unknown[] =>
  evalQuery(compile(source), query).map((r) => toJSON(r.bindings.get(name) as Value));

describe('iterating a set goes in sorted order', () => {
  const authz = `package authz
roles contains r if some r in ["viewer", "admin"]
`;

  it('query results over a partial set come in sorted order (OPA: admin, then viewer)', () => {
    expect(bindingsOf(authz, 'data.authz.roles[r]', 'r')).toEqual(['admin', 'viewer']);
  });

  it('some x in set, set[x] and comprehensions over a set see sorted elements', () => {
    const source = `${authz}
viaSomeIn := [r | some r in roles]
viaRef := [r | roles[r]]
viaEvery := [r | some r in roles; every s in roles { s >= "admin" }]
viaLiteral := [x | some x in {"c", "a", "b"}]
`;
    expect(json(source, 'data.authz.viaSomeIn')).toEqual(['admin', 'viewer']);
    expect(json(source, 'data.authz.viaRef')).toEqual(['admin', 'viewer']);
    expect(json(source, 'data.authz.viaEvery')).toEqual(['admin', 'viewer']);
    expect(json(source, 'data.authz.viaLiteral')).toEqual(['a', 'b', 'c']);
  });

  it('mixed element types follow the type order null < boolean < number < string < array < object < set', () => {
    const source = `package p
xs := [x | some x in {"s", 2, [1], {"k": 1}, true, null, 1.5, {1}}]
`;
    expect(json(source, 'data.p.xs')).toEqual([null, true, 1.5, 2, 's', [1], { k: 1 }, [1]]);
  });
});

describe('iterating an object goes in key order', () => {
  it('some k, v in obj, obj[k] and query results see sorted keys', () => {
    const source = `package p
obj := {"zeta": 1, "alpha": 2, "mid": 3}
keys := [k | some k, _ in obj]
refKeys := [k | obj[k]]
values := [v | some v in obj]
`;
    expect(json(source, 'data.p.keys')).toEqual(['alpha', 'mid', 'zeta']);
    expect(json(source, 'data.p.refKeys')).toEqual(['alpha', 'mid', 'zeta']);
    expect(json(source, 'data.p.values')).toEqual([2, 3, 1]);
    expect(bindingsOf(source, 'data.p.obj[k]', 'k')).toEqual(['alpha', 'mid', 'zeta']);
  });

  it('a partial object rule is iterated by key, whatever order its rules produced the keys in', () => {
    const source = `package p
byName[name] := n if some n, name in ["c", "a", "b"]
order := [name | some name, _ in byName]
`;
    expect(json(source, 'data.p.order')).toEqual(['a', 'b', 'c']);
  });

  it('non-string keys sort by type, then value', () => {
    const source = `package p
obj := {"a": 1, 2: 2, null: 3, false: 4}
keys := [k | some k, _ in obj]
`;
    expect(json(source, 'data.p.keys')).toEqual([null, false, 2, 'a']);
  });

  it('input objects are iterated by key too', () => {
    const source = `package p
keys := [k | some k, _ in input.labels]
`;
    expect(json(source, 'data.p.keys', { labels: { team: 'x', app: 'y', env: 'z' } })).toEqual(['app', 'env', 'team']);
  });

  it('walk visits children in key order', () => {
    const source = `package p
paths := [p | walk(input, [p, _])]
`;
    expect(json(source, 'data.p.paths', { b: { y: 1, x: 2 }, a: 0 })).toEqual([[], ['a'], ['b'], ['b', 'x'], ['b', 'y']]);
  });
});

describe('the order is compare, for any elements (property)', () => {
  const scalar = fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: -50, max: 50 }), fc.boolean(), fc.constant(null));
  const element = fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 2 }), scalar, { maxKeys: 2 }));
  const compiled = compile(`package p
set := {x | some x in input.xs}
asList := [x | some x in set]
keys := [k | some k, _ in {k: 1 | some k in input.keys}]
`);

  it('a set built from any array is iterated as its distinct elements sorted by compare', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 12 }), (xs) => {
        const got = evalRef(compiled, 'data.p.asList', { input: { xs, keys: [] } }) as Value[];
        const want = [...new RSet(xs.map(fromJSON)).unorderedValues()].sort(compare);
        expect(got.map(toJSON)).toEqual(want.map(toJSON));
      }),
      { numRuns: 150 },
    );
  });

  it('object keys are iterated sorted by compare', () => {
    fc.assert(
      fc.property(fc.array(scalar, { maxLength: 12 }), (keys) => {
        const got = evalRef(compiled, 'data.p.keys', { input: { xs: [], keys } }) as Value[];
        const want = [...new RSet(keys.map(fromJSON)).unorderedValues()].sort(compare);
        expect(got.map(toJSON)).toEqual(want.map(toJSON));
      }),
      { numRuns: 150 },
    );
  });
});

describe('the sorted order is cached until the value changes', () => {
  it('a set sees an element added after it was iterated', () => {
    const s = new RSet(['b', 'a']);
    expect([...s]).toEqual(['a', 'b']);
    s.add('0');
    expect([...s]).toEqual(['0', 'a', 'b']);
    s.delete('a');
    expect([...s.values()]).toEqual(['0', 'b']);
  });

  it('an object sees new keys and new values after it was iterated; a copy changes alone', () => {
    const o = new RObject([['b', 1], ['a', 2]]);
    expect([...o.keys()]).toEqual(['a', 'b']);
    const c = o.copy();
    o.set('a', 3);
    o.set(0, 4);
    expect([...o.entries()]).toEqual([[0, 4], ['a', 3], ['b', 1]]);
    expect([...c.entries()]).toEqual([['a', 2], ['b', 1]]);
    c.delete('a');
    expect([...c]).toEqual([['b', 1]]);
    expect([...o.keys()]).toEqual([0, 'a', 'b']);
  });
});
