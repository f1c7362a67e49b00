import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import '../../../engine/rego/builtins/index.ts';
import { lookupBuiltin } from '../../../engine/rego/builtins/registry.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import type { Value } from '../../../engine/rego/value.ts';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0.5, print: () => {} };
const call = (name: string, ...args: Value[]): Value | undefined => lookupBuiltin(name)!.fn(args, ctx);

describe('glob.match', () => {
  it.each([
    ['*.github.com', ['.'], 'api.github.com', true],
    ['api.**.com', ['.'], 'api.cdn.github.com', true],
    ['*:github:com', [':'], 'api:github:com', true],
    ['*.github.com', ['.'], 'api.not-github.com', false],
    ['[abc]at', [], 'cat', true],
    ['[!abc]at', [], 'cat', false],
    ['[!a-c]at', [], 'fat', true],
    ['?at', [], 'at', false],
    ['?at', ['f'], 'fat', false],
    ['{cat,bat,[fr]at}', [], 'rat', true],
    ['{cat,bat,[fr]at}', [], 'at', false],
    ['*', [], 'foo.bar', false],
    ['*', null, 'foo.bar', true],
  ] as Array<[string, Value, string, boolean]>)('glob.match(%s, %j, %s) = %s', (p, d, s, want) => {
    expect(call('glob.match', p, d, s)).toBe(want);
  });
  it('rejects a delimiters operand that is neither array nor null', () => {
    expect(() => call('glob.match', '*', 'x', 'y')).toThrow('operand 2 must be one of {array, null} but got string');
  });
  it('a quoted pattern matches exactly its own text', () => {
    fc.assert(
      fc.property(fc.string(), (s) => call('glob.match', call('glob.quote_meta', s) as string, null, s) === true),
    );
  });
});

describe('glob.quote_meta', () => {
  it('escapes glob syntax', () => expect(call('glob.quote_meta', '*.github.com')).toBe('\\*.github.com'));
});
