import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import '../../../engine/rego/builtins/index.ts';
import { lookupBuiltin } from '../../../engine/rego/builtins/registry.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { RObject, RSet, equal, toJSON } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0.5, print: () => {} };
const call = (name: string, ...args: Value[]): Value | undefined => lookupBuiltin(name)!.fn(args, ctx);

describe('base64 / base64url / hex', () => {
  it('encode and decode like Go', () => {
    expect(call('base64.encode', 'subjects?_d')).toBe('c3ViamVjdHM/X2Q=');
    expect(call('base64.decode', 'c3ViamVjdHM/X2Q=')).toBe('subjects?_d');
    expect(call('base64.is_valid', "{'not':'base64'}")).toBe(false);
    expect(call('base64url.encode', 'hello')).toBe('aGVsbG8=');
    expect(call('base64url.encode_no_pad', 'there')).toBe('dGhlcmU');
    expect(call('base64url.decode', 'aGVsbG8')).toBe('hello');
    expect(call('base64url.decode', 'aGVsbG8=')).toBe('hello');
    expect(call('hex.encode', 'lorem ipsum')).toBe('6c6f72656d20697073756d');
    expect(call('hex.decode', '6c6f72656d20697073756d')).toBe('lorem ipsum');
  });
  it('reports Go’s decoding errors', () => {
    expect(() => call('base64.decode', 'aGVsbG8')).toThrow('base64.decode: illegal base64 data at input byte');
    expect(() => call('hex.decode', 'fghijkl')).toThrow("invalid byte: U+0067 'g'");
    expect(() => call('hex.decode', 'abc')).toThrow('odd length hex string');
  });
  it('round-trips any string', () => {
    fc.assert(
      fc.property(fc.string(), (s) =>
        call('base64.decode', call('base64.encode', s) as string) === s &&
        call('base64url.decode', call('base64url.encode_no_pad', s) as string) === s &&
        call('hex.decode', call('hex.encode', s) as string) === s &&
        call('urlquery.decode', call('urlquery.encode', s) as string) === s,
      ),
    );
  });
});

describe('urlquery', () => {
  it('escapes like url.QueryEscape', () => {
    expect(call('urlquery.encode', 'a=b+1')).toBe('a%3Db%2B1');
    expect(call('urlquery.encode', 'a b~')).toBe('a+b~');
    expect(call('urlquery.decode', 'a%3Db%2B1')).toBe('a=b+1');
    expect(() => call('urlquery.decode', '%zz')).toThrow('invalid URL escape "%zz"');
  });
  it('encodes objects with sorted keys, arrays and sets', () => {
    expect(call('urlquery.encode_object', RObject.fromRecord({ c: 'd', a: 'b' }))).toBe('a=b&c=d');
    expect(call('urlquery.encode_object', RObject.fromRecord({ a: ['b+1', 'c+2'] }))).toBe('a=b%2B1&a=c%2B2');
    expect(call('urlquery.encode_object', RObject.fromRecord({ a: new RSet(['b+1']) }))).toBe('a=b%2B1');
  });
  it('decodes objects into arrays of values', () => {
    expect(toJSON(call('urlquery.decode_object', 'a=value_a1&b=value_b&a=value_a2') as Value)).toEqual({
      a: ['value_a1', 'value_a2'],
      b: ['value_b'],
    });
    expect(toJSON(call('urlquery.decode_object', 'a=value_a1&b') as Value)).toEqual({ a: ['value_a1'], b: [''] });
    expect(toJSON(call('urlquery.decode_object', '') as Value)).toEqual({});
  });
});

describe('json', () => {
  const nums: Value[] = [1234567890, 2000000, 1000000000];
  it('marshals sets as arrays and escapes HTML like Go', () => {
    expect(call('json.marshal', [RObject.fromRecord({ foo: new RSet([3, 1, 2]) })])).toBe('[{"foo":[1,2,3]}]');
    expect(call('json.marshal', '<a&b>')).toBe('"\\u003ca\\u0026b\\u003e"');
    expect(call('json.marshal', nums)).toBe('[1234567890,2000000,1000000000]');
  });
  it('marshal_with_options indents with prefix on every line', () => {
    const opt = (r: Record<string, Value>) => RObject.fromRecord(r);
    expect(call('json.marshal_with_options', nums, opt({ indent: '  ' }))).toBe('[\n  1234567890,\n  2000000,\n  1000000000\n]');
    expect(call('json.marshal_with_options', nums, opt({}))).toBe('[1234567890,2000000,1000000000]');
    expect(call('json.marshal_with_options', nums, opt({ pretty: true }))).toBe('[\n\t1234567890,\n\t2000000,\n\t1000000000\n]');
    expect(call('json.marshal_with_options', nums, opt({ pretty: false, prefix: 'NO!', indent: 'BAD!' }))).toBe(
      '[1234567890,2000000,1000000000]',
    );
    expect(call('json.marshal_with_options', RObject.fromRecord({ foo: 'bar', bar: 'baz' }), opt({ prefix: 'JSON => ' }))).toBe(
      'JSON => {\nJSON => \t"bar": "baz",\nJSON => \t"foo": "bar"\nJSON => }',
    );
    expect(call('json.marshal_with_options', [], opt({ indent: '    ', prefix: '---' }))).toBe('---[]');
    expect(() => call('json.marshal_with_options', [], opt({ include_winning_lottery_numbers: true }))).toThrow(
      'object contained unknown key "include_winning_lottery_numbers"',
    );
  });
  it('unmarshals keeping big integers exact and reports Go messages', () => {
    expect(toJSON(call('json.unmarshal', '[{"foo":[1,2,3]}]') as Value)).toEqual([{ foo: [1, 2, 3] }]);
    expect(call('json.unmarshal', '123456789012345678901234567890')).toBe(123456789012345678901234567890n);
    expect(() => call('json.unmarshal', 'plainstring')).toThrow("invalid character 'p' looking for beginning of value");
    expect(() => call('json.unmarshal', '{')).toThrow('unexpected end of JSON input');
    expect(() => call('json.unmarshal', 1)).toThrow('operand 1 must be string but got number');
  });
  it('is_valid is false for non-strings', () => {
    expect(['plainstring', '{', '{"json": "ok"}'].map((d) => call('json.is_valid', d))).toEqual([false, false, true]);
    expect(call('json.is_valid', 1)).toBe(false);
  });
  it('marshal then unmarshal is the identity on JSON data', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (j) => {
        const v = JSON.parse(JSON.stringify(j)) as unknown;
        const back = call('json.unmarshal', call('json.marshal', toValue(v)) as string) as Value;
        return equal(back, toValue(v));
      }),
    );
  });
});

function toValue(x: unknown): Value {
  if (x === null || typeof x !== 'object') return (Object.is(x, -0) ? 0 : x) as Value;
  if (Array.isArray(x)) return x.map(toValue);
  return new RObject(Object.entries(x).map(([k, v]) => [k, toValue(v)] as [Value, Value]));
}

describe('yaml', () => {
  it('round-trips and validates', () => {
    const y = call('yaml.marshal', [RObject.fromRecord({ foo: new RSet([1, 2, 3]) })]) as string;
    expect(toJSON(call('yaml.unmarshal', y) as Value)).toEqual([{ foo: [1, 2, 3] }]);
    expect(call('yaml.is_valid', 'foo:\n   - qux: bar\n   - baz: 2')).toBe(true);
    expect(call('yaml.is_valid', 'foo:\n   - qux: bar\n   - baz: {')).toBe(false);
    expect(call('yaml.is_valid', 1)).toBe(false);
  });
  it('reports go-yaml’s wording for an unclosed flow sequence', () => {
    expect(() => call('yaml.unmarshal', '[1,2,3')).toThrow("yaml: line 1: did not find expected ',' or ']'");
  });
  it('keeps timestamps as strings', () => {
    expect(toJSON(call('yaml.unmarshal', 'at: 2001-12-14') as Value)).toEqual({ at: '2001-12-14' });
  });
});
