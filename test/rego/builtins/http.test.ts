import { describe, expect, it } from 'vitest';
import { lookupBuiltin } from '../../../engine/rego/builtins/index.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { fromJSON } from '../../../engine/rego/value.ts';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0, print: () => {} };
const send = (req: Record<string, unknown>): unknown => lookupBuiltin('http.send')!.fn([fromJSON(req)], ctx);
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('http.send', () => {
  it('refuses a well-formed request: policies have no network access', () => {
    expect(() => send({ method: 'get', url: 'http://127.0.0.1:1' })).toThrow('http.send: not supported: arbiter policies have no network access');
    expect(codeOf(() => send({ method: 'get', url: 'http://127.0.0.1:1' }))).toBe('eval_builtin_error');
  });
  it('reports unknown and missing request keys as type errors, as OPA does', () => {
    const bad = { bad_key: 'bad_value', method: 'get', url: 'http://127.0.0.1:51113' };
    expect(() => send(bad)).toThrow('invalid request parameters(s): {"bad_key"}');
    expect(codeOf(() => send(bad))).toBe('eval_type_error');
    expect(() => send({ method: 'get' })).toThrow('missing required request parameters(s): {"url"}');
  });
  it('is marked nondeterministic', () => {
    expect(lookupBuiltin('http.send')!.nondeterministic).toBe(true);
  });
});
