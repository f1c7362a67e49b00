import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import '../../../engine/rego/builtins/index.ts';
import { lookupBuiltin } from '../../../engine/rego/builtins/registry.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { RObject, RSet, equal, fromJSON, toJSON } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0.5, print: () => {} };
const call = (name: string, ...args: Value[]): Value | undefined => lookupBuiltin(name)!.fn(args, ctx);
const v = (x: unknown): Value => fromJSON(x);
const patch = (doc: unknown, ops: unknown[]) => {
  const r = call('json.patch', v(doc), v(ops));
  return r === undefined ? undefined : toJSON(r);
};

describe('json.patch (RFC 6902)', () => {
  it('applies the RFC appendix examples', () => {
    expect(patch({ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }])).toEqual({ foo: ['bar', 'qux', 'baz'] });
    expect(patch({ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }])).toEqual({ foo: 'bar' });
    expect(patch({ foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }])).toEqual({
      foo: ['all', 'cows', 'eat', 'grass'],
    });
    expect(patch({ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }])).toEqual({ '/': 9, '~1': 10 });
    expect(patch({ foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc'] }])).toEqual({ foo: ['bar', ['abc']] });
    expect(patch({}, [{ op: 'add', path: '/', value: 1 }])).toEqual({ '': 1 });
    expect(patch({ a: 1 }, [{ op: 'copy', from: '/a', path: '/b' }])).toEqual({ a: 1, b: 1 });
    expect(patch([], [{ op: 'add', path: '', value: {} }])).toEqual({});
  });
  it('is undefined when an operation cannot apply', () => {
    expect(patch({ q: { bar: 2 } }, [{ op: 'add', path: '/a/b', value: 1 }])).toBeUndefined();
    expect(patch({ baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }])).toBeUndefined();
    expect(patch({ bar: [1, 2] }, [{ op: 'add', path: '/bar/8', value: 5 }])).toBeUndefined();
    expect(patch(['foo', 'bar'], [{ op: 'test', path: '/1e0', value: 'bar' }])).toBeUndefined();
    expect(patch([1, 2, 3], [{ op: 'add', path: '1.2', value: 'foo' }])).toBeUndefined();
    expect(patch({ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }])).toBeUndefined();
  });
  it('addresses set members by themselves', () => {
    const doc = RObject.fromRecord({ foo: new RSet(['a', 'b', 'c']) });
    const ops = (o: Record<string, Value>) => [RObject.fromRecord(o)];
    expect(toJSON(call('json.patch', doc, ops({ op: 'remove', path: 'foo/b' })) as Value)).toEqual({ foo: ['a', 'c'] });
    expect(toJSON(call('json.patch', doc, ops({ op: 'add', path: 'foo/d', value: 'd' })) as Value)).toEqual({ foo: ['a', 'b', 'c', 'd'] });
    expect(call('json.patch', doc, ops({ op: 'add', path: 'foo/d', value: 'e' }))).toBeUndefined();
  });
  it('never changes its input and an empty patch is the identity', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (d) => {
        const doc = v(JSON.parse(JSON.stringify(d)));
        const before = JSON.stringify(toJSON(doc));
        call('json.patch', doc, [RObject.fromRecord({ op: 'add', path: '/x', value: 1 })]);
        return JSON.stringify(toJSON(doc)) === before && equal(call('json.patch', doc, []) as Value, doc);
      }),
    );
  });
});

describe('json.filter / json.remove', () => {
  const doc = v({ a: { b: { c: 7, d: 8 } }, e: 9 });
  it('filter keeps the listed paths (strings or segment arrays)', () => {
    expect(toJSON(call('json.filter', doc, new RSet(['a/b/c', 'e'])) as Value)).toEqual({ a: { b: { c: 7 } }, e: 9 });
    expect(toJSON(call('json.filter', doc, new RSet([['a', 'b', 'c'], ['e']])) as Value)).toEqual({ a: { b: { c: 7 } }, e: 9 });
    expect(toJSON(call('json.filter', v({ a: { b: 7 } }), new RSet(['a', 'a/b'])) as Value)).toEqual({ a: { b: 7 } });
    expect(toJSON(call('json.filter', v({ a: [{ b: 7, c: 8 }, { d: 9 }] }), new RSet(['a/0/b', 'a/1'])) as Value)).toEqual({
      a: [{ b: 7 }, { d: 9 }],
    });
    expect(toJSON(call('json.filter', v({ a: 7 }), new RSet()) as Value)).toEqual({});
  });
  it('remove drops the listed paths', () => {
    expect(toJSON(call('json.remove', doc, ['a/b/c', 'e']) as Value)).toEqual({ a: { b: { d: 8 } } });
    expect(toJSON(call('json.remove', v({ a: { b: 7 }, c: 1 }), new RSet(['a/b', 'c'])) as Value)).toEqual({ a: {} });
    expect(toJSON(call('json.remove', v({ a: [{ '1': ['b', 'c', 'd'] }, { x: 'y' }] }), new RSet(['a/0/1/2'])) as Value)).toEqual({
      a: [{ '1': ['b', 'c'] }, { x: 'y' }],
    });
  });
  it('type errors name the operand as OPA does', () => {
    expect(() => call('json.remove', 'foo', new RSet(['a']))).toThrow('json.remove: operand 1 must be object but got string');
    expect(() => call('json.remove', doc, 'x')).toThrow('json.remove: operand 2 must be one of {set, array} but got string');
    expect(() => call('json.remove', doc, ['a', 1])).toThrow(
      'json.remove: operand 2 must be one of {set, array} containing string paths or array of path segments but got number',
    );
  });
  it('filter and remove split a document into disjoint parts', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }).filter((s) => !s.includes('/') && !s.includes('~')), fc.integer()), fc.array(fc.string()), (d, keys) => {
        const o = v(d);
        const paths = new RSet(keys.filter((k) => k !== '' && !k.includes('/') && !k.includes('~')));
        const kept = call('json.filter', o, paths) as RObject;
        const rest = call('json.remove', o, paths) as RObject;
        return kept.size + rest.size === (o as RObject).size;
      }),
    );
  });
});

describe('json schema', () => {
  const schema = v({ properties: { id: { type: 'integer' } }, required: ['id'] });
  it('match_schema returns [ok, errors] in gojsonschema’s shape', () => {
    expect(toJSON(call('json.match_schema', v({ id: 5 }), schema) as Value)).toEqual([true, []]);
    expect(toJSON(call('json.match_schema', '{"id": 5}', schema) as Value)).toEqual([true, []]);
    expect(toJSON(call('json.match_schema', v({ id: 'foo' }), schema) as Value)).toEqual([
      false,
      [
        {
          desc: 'Invalid type. Expected: integer, given: string',
          error: 'id: Invalid type. Expected: integer, given: string',
          field: 'id',
          type: 'invalid_type',
        },
      ],
    ]);
    expect(toJSON(call('json.match_schema', v({}), schema) as Value)).toEqual([
      false,
      [{ desc: 'id is required', error: '(root): id is required', field: '(root)', type: 'required' }],
    ]);
  });
  it('verify_schema reports an unknown primitive type', () => {
    expect(call('json.verify_schema', '{"type": "boolean"}')).toEqual([true, null]);
    expect(call('json.verify_schema', v({ type: 'unknown_type' }))).toEqual([
      false,
      'jsonschema: has a primitive type that is NOT VALID -- given: /unknown_type/ Expected valid values are:[array boolean integer number null object string]',
    ]);
    expect(() => call('json.match_schema', v({}), v({ properties: { id: { type: 'unknown' } } }))).toThrow(
      'json.match_schema: has a primitive type that is NOT VALID -- given: /unknown/',
    );
  });
});
