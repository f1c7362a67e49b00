import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import '../../../engine/rego/builtins/index.ts';
import { lookupBuiltin } from '../../../engine/rego/builtins/registry.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import type { Value } from '../../../engine/rego/value.ts';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0.5, print: () => {} };
const call = (name: string, ...args: Value[]): Value | undefined => lookupBuiltin(name)!.fn(args, ctx);

describe('regex.match', () => {
  it('matches unanchored like Go MatchString', () => {
    expect(call('regex.match', '^[a-z]+\\[[0-9]+\\]$', 'foo[1]')).toBe(true);
    expect(call('regex.match', '', 'x')).toBe(true);
    expect(call('regex.match', '^$', 'something')).toBe(false);
  });
  it('rejects a bad pattern with Go’s message prefix', () => {
    expect(() => call('regex.match', '$^[[[', 'x')).toThrow('regex.match: error parsing regexp');
  });
  it('translates RE2-only syntax', () => {
    expect(call('regex.match', '(?i)^ABC$', 'abc')).toBe(true);
    expect(call('regex.match', '^(?P<word>\\w+)\\z', 'hello')).toBe(true);
    expect(call('regex.match', 'a\\z', 'a\n')).toBe(false);
    expect(call('regex.match', '^[[:digit:]]+$', '123')).toBe(true);
    expect(call('regex.match', '^\\pL+$', 'héllo')).toBe(true);
    expect(call('regex.match', '^a{,2}$', 'a{,2}')).toBe(true);
    expect(call('regex.match', '^\\Q.*\\E$', '.*')).toBe(true);
    expect(call('regex.match', '^\\s$', '\u00a0')).toBe(false);
  });
  it('refuses what RE2 refuses', () => {
    expect(() => call('regex.match', '(a)\\1', 'aa')).toThrow('invalid escape sequence');
    expect(() => call('regex.match', 'a(?=b)', 'ab')).toThrow('invalid or unsupported Perl syntax');
  });
  it('accepts flag groups anywhere, as Go does', () => {
    expect(call('regex.match', 'a(?i)b', 'aB')).toBe(true);
    expect(call('regex.match', 'a(?i:b)c', 'aBC')).toBe(false);
    expect(call('regex.match', '(?U)^a+', 'aaa')).toBe(true);
  });
  it('literal text always matches its own QuoteMeta-style escape', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const quoted = s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
        return call('regex.match', `^${quoted}$`, s) === true;
      }),
    );
  });
});

describe('regex.is_valid', () => {
  it('is false for non-strings and bad patterns', () => {
    expect(call('regex.is_valid', 10)).toBe(false);
    expect(call('regex.is_valid', '++')).toBe(false);
    expect(call('regex.is_valid', '.+')).toBe(true);
  });
});

describe('Go match iteration', () => {
  it('find_n', () => {
    expect(call('regex.find_n', 'a.', 'paranormal', -1)).toEqual(['ar', 'an', 'al']);
    expect(call('regex.find_n', 'a.', 'paranormal', 2)).toEqual(['ar', 'an']);
    expect(call('regex.find_n', 'a.', 'paranormal', 0)).toEqual([]);
    expect(call('regex.find_n', '^a.', 'abacadaeaf', -1)).toEqual(['ab']);
    expect(call('regex.find_n', '[abcdef]{2}', 'abacadaeaf', -1)).toEqual(['ab', 'ac', 'ad', 'ae', 'af']);
    expect(call('regex.find_n', 'x*', 'axb', -1)).toEqual(['', 'x', '']);
  });
  it('find_all_string_submatch_n fills unmatched groups with ""', () => {
    expect(call('regex.find_all_string_submatch_n', 'a(x*)b', '-ab-axb-', -1)).toEqual([
      ['ab', ''],
      ['axb', 'x'],
    ]);
    expect(call('regex.find_all_string_submatch_n', '[^aouiye]([aouiye])([^aouiye])?', 'somestri', -1)).toEqual([
      ['som', 'o', 'm'],
      ['ri', 'i', ''],
    ]);
  });
  it('split', () => {
    expect(call('regex.split', '^[a-z]+\\[[0-9]+\\]$', '')).toEqual(['']);
    expect(call('regex.split', '^[a-z]+', 'foobar baz')).toEqual(['', ' baz']);
    expect(call('regex.split', '[a-z]+$', 'foobar baz')).toEqual(['foobar ', '']);
    expect(call('regex.split', '^[a-z ]+$', 'foobar baz')).toEqual(['', '']);
    expect(call('regex.split', 'a', 'banana')).toEqual(['b', 'n', 'n', '']);
    expect(call('regex.split', 'z+', 'pizza')).toEqual(['pi', 'a']);
  });
  it('replace expands $1 and ${name} like Go', () => {
    expect(call('regex.replace', '-wy-wxxy-', 'w(x*)y', '0')).toBe('-0-0-');
    expect(call('regex.replace', 'foo', '(foo)', '$1$1')).toBe('foofoo');
    expect(call('regex.replace', 'foo', '(foo)', '$1x')).toBe('');
    expect(call('regex.replace', 'foo', '(foo)', '${1}x')).toBe('foox');
    expect(call('regex.replace', 'foo bar', '[a-z]', '_')).toBe('___ ___');
    expect(call('regex.replace', 'foo barx', '[a-z]{2}', '_')).toBe('_o __');
    expect(call('regex.replace', 'abc', 'x*', '-')).toBe('-a-b-c-');
  });
});

describe('regex.template_match', () => {
  it('treats delimited parts as regexes and the rest literally', () => {
    expect(call('regex.template_match', 'urn:foo:{.*}', 'urn:foo:bar:baz', '{', '}')).toBe(true);
    expect(call('regex.template_match', 'urn:foo:<.*>', 'urn:foo:bar:baz', '<', '>')).toBe(true);
    expect(call('regex.template_match', 'urn.foo:{[a-z]+}', 'urnXfoo:bar', '{', '}')).toBe(false);
  });
});

describe('regex.globs_match', () => {
  it('decides whether two patterns intersect', () => {
    expect(call('regex.globs_match', 'a.a.[0-9]+z', '.b.b2359825792*594823z')).toBe(true);
    expect(call('regex.globs_match', '[a-z]+', '[0-9]*')).toBe(false);
    expect(call('regex.globs_match', 'b.*', 'bar')).toBe(true);
    expect(call('regex.globs_match', '[a-z]+\\[[0-9]+\\]', 'foo\\[1\\]')).toBe(true);
    expect(call('regex.globs_match', '[a-z]+\\[[0-9]+\\]', 'foo["bar"]')).toBe(false);
  });
  it('names an unbalanced set-close', () => {
    expect(() => call('regex.globs_match', 'pqrs]', '[a-b]+')).toThrow(
      "input:pqrs], pos:5, set-close ']' with no preceding '[': the input provided is invalid",
    );
  });
});
