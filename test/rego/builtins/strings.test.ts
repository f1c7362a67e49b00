import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import '../../../engine/rego/builtins/index.ts';
import { lookupBuiltin } from '../../../engine/rego/builtins/registry.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { RObject, RSet } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0.5, print: () => {} };
const call = (name: string, ...args: Value[]): Value | undefined => lookupBuiltin(name)!.fn(args, ctx);

describe('sprintf follows Go fmt as OPA feeds it', () => {
  it.each([
    ['hi', [], 'hi'],
    ['hi %s', ['there'], 'hi there'],
    ['hi %02d', [5], 'hi 05'],
    ['hi %02X.%02X', [127, 1], 'hi 7F.01'],
    ['hi %.2f', [3.1415], 'hi 3.14'],
    ['hi %s', [true], 'hi true'],
    ['hi %v', [['there', 5, 3.14]], 'hi ["there", 5, 3.14]'],
    ['%s', [123456789123456789123n], '123456789123456789123'],
    ['%s/%d', ['a', 3], 'a/3'],
    ['%d', [], '%!d(MISSING)'],
    ['%s', [5], '%!s(int=5)'],
    ['%d', [1.5], '%!d(float64=1.5)'],
    ['%v', [1234567.5], '1.2345675e+06'],
    ['%v', [0.00001], '1e-05'],
    ['%T %T %T', [1, 1.5, 'x'], 'int float64 string'],
    ['%q', ['a"b'], '"a\\"b"'],
    ['%-4s|%4s', ['ab', 'cd'], 'ab  |  cd'],
    ['%x', ['hi'], '6869'],
    ['%e', [1234.5678], '1.234568e+03'],
    ['%+d', [5], '+5'],
    ['%v', [new RSet([2, 1])], '{1, 2}'],
    ['%v', [new RSet()], 'set()'],
    ['%v', [RObject.fromRecord({ b: 1, a: null })], '{"a": null, "b": 1}'],
    ['%d%%', [50], '50%'],
    ['x', [1], 'x%!(EXTRA int=1)'],
  ] as Array<[string, Value[], string]>)('sprintf(%s, …) → %s', (f, args, want) => {
    expect(call('sprintf', f, args)).toBe(want);
  });

  it('prints every safe integer with %d exactly as its decimal text', () => {
    fc.assert(fc.property(fc.maxSafeInteger(), (n) => call('sprintf', '%d', [n]) === String(n)));
  });
});

describe('code-point positions', () => {
  it('indexof counts runes', () => {
    expect(call('indexof', 'abcabcabcdefgh', 'cde')).toBe(8);
    expect(call('indexof', 'skön var våren', 'vår')).toBe(9);
    expect(call('indexof', '🍧🍨🧁🍰🍮', '🍮')).toBe(4);
    expect(call('indexof', 'μ', 'μμ')).toBe(-1);
  });
  it('indexof_n lists every match', () => {
    expect(call('indexof_n', 'dogcatdogcat', 'cat')).toEqual([3, 9]);
    expect(call('indexof_n', '😇😀😇😀😇😀', '😀')).toEqual([1, 3, 5]);
    expect(call('indexof_n', 'dogcat', 'rabbit')).toEqual([]);
  });
  it('substring clamps and rejects negative offsets', () => {
    expect(call('substring', 'abcdefgh', 2, 3)).toBe('cde');
    expect(call('substring', 'aåäö', 2, -1)).toBe('äö');
    expect(call('substring', 'abcdefghåäö', 2, 10000)).toBe('cdefghåäö');
    expect(call('substring', 'åäö', 4, -1)).toBe('');
    expect(() => call('substring', 'aaa', -1, -1)).toThrow('substring: negative offset');
  });
  it('strings.reverse reverses code points', () => {
    expect(call('strings.reverse', '1😀𝛾')).toBe('𝛾😀1');
    expect(call('strings.reverse', '2️⃣')).toBe('⃣️2');
    expect(() => call('strings.reverse', 123)).toThrow('strings.reverse: operand 1 must be string but got number');
  });
});

describe('Go strings semantics', () => {
  it('split with an empty delimiter splits runes', () => {
    expect(call('split', 'test', '')).toEqual(['t', 'e', 's', 't']);
    expect(call('split', '', '')).toEqual([]);
    expect(call('split', '', '.')).toEqual(['']);
  });
  it('replace is non-overlapping', () => expect(call('replace', 'foo...bar', '..', ',,')).toBe('foo,,.bar'));
  it('trim family uses cutsets of runes', () => {
    expect(call('trim', '...foo.bar...', '.fr')).toBe('oo.ba');
    expect(call('trim', '¡¡¡foo, bar!!!', '!¡')).toBe('foo, bar');
    expect(call('trim_left', '¡¡¡foo, bar!!!', '!¡')).toBe('foo, bar!!!');
    expect(call('trim_right', '¡¡¡foo, bar!!!', '!¡')).toBe('¡¡¡foo, bar');
    expect(call('trim_prefix', '¡¡¡foo, bar!!!', '¡¡¡foo')).toBe(', bar!!!');
    expect(call('trim_suffix', '¡¡¡foo, bar!!!', ', foo!!!')).toBe('¡¡¡foo, bar!!!');
    expect(call('trim_space', ' \t\n foo, bar \n\t\r\n')).toBe('foo, bar');
  });
  it('strings.count counts non-overlapping matches, runes+1 for ""', () => {
    expect(call('strings.count', '11111', '11')).toBe(2);
    expect(call('strings.count', 'dummy', '')).toBe(6);
    expect(call('strings.count', '', '')).toBe(1);
  });
  it('format_int truncates and checks the base', () => {
    expect(call('format_int', 15.5, 16)).toBe('f');
    expect(call('format_int', -15.5, 2)).toBe('-1111');
    expect(() => call('format_int', 4.1, 199)).toThrow('operand 2 must be one of {2, 8, 10, 16}');
  });
  it('concat joins arrays and sorted sets, naming bad elements', () => {
    expect(call('concat', '/', ['', 'foo', 'bar'])).toBe('/foo/bar');
    expect(call('concat', ',', new RSet(['2', '1']))).toBe('1,2');
    expect(() => call('concat', ',', ['a', 1])).toThrow('operand 2 must be array of strings but got array containing number');
  });
  it('strings.replace_n prefers the smaller key where patterns overlap', () => {
    expect(call('strings.replace_n', RObject.fromRecord({ f: 'x', foo: 'xxx' }), 'foobar')).toBe('xoobar');
    expect(call('strings.replace_n', RObject.fromRecord({ '<': '&lt;', '>': '&gt;' }), 'This is <b>HTML</b>!')).toBe(
      'This is &lt;b&gt;HTML&lt;/b&gt;!',
    );
    expect(() => call('strings.replace_n', new RObject([[2, 'x']]), 'foo')).toThrow('operand 1 non-string key found in pattern object');
  });
  it('any_prefix_match / any_suffix_match accept strings, arrays and sets', () => {
    expect(call('strings.any_prefix_match', ['a/b/c', 'e/f/g'], ['x/', 'e/'])).toBe(true);
    expect(call('strings.any_prefix_match', 'a/b/c', new RSet(['g/']))).toBe(false);
    expect(call('strings.any_suffix_match', ['a/b/c'], '/c')).toBe(true);
    expect(() => call('strings.any_suffix_match', [1], ['a'])).toThrow(
      'strings.any_suffix_match: operand 1 must be array of strings but got array containing number',
    );
    expect(() => call('strings.any_prefix_match', 1, ['a'])).toThrow('operand 1 must be one of {string, set, array} but got number');
  });
});
