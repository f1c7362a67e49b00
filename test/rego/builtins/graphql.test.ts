import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lookupBuiltin } from '../../../engine/rego/builtins/index.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { RObject, equal, toJSON } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';
import { LiteralTerms, conformanceCases } from '../../support/conformance-cases.ts';
import type { ConformanceCase as Case } from '../../support/conformance-cases.ts';

const cases = conformanceCases('graphql');
const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0, print: () => {} };
const call = (name: string, ...args: Value[]): Value => lookupBuiltin(name)!.fn(args, ctx) as Value;

/** Top-level `name := term` constants of a case module. */
function constants(module: string): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const m of module.matchAll(/^(\w+) := (graphql\.\w+\()?/gm)) {
    const v = m[2]
      ? call(m[2].slice(0, -1), new LiteralTerms(module, (m.index as number) + m[0].length).term() as Value)
      : new LiteralTerms(module, (m.index as number) + m[0].length).term();
    if (v !== undefined) out.set(m[1] as string, v);
  }
  return out;
}

/**
 * Evaluates the one rule body shape each graphql case uses (`p if { <call> == ast }`, `[valid, q_ast, _] = ...`, …)
 * with the builtin under test, so the expected result of the case can be checked without the evaluator.
 */
function evaluate(c: Case): unknown {
  const module = c.modules[0] as string;
  const consts = constants(module);
  const body = module.slice(module.lastIndexOf('\np ')).replace(/\s+/g, ' ');
  const arg = (t: string): Value => {
    t = t.trim();
    const nested = /^graphql\.(\w+)\((.*)\)$/.exec(t);
    if (nested) return call(`graphql.${nested[1]}`, ...(nested[2] as string).split(',').map(arg));
    if (consts.has(t)) return consts.get(t) as Value;
    return new LiteralTerms(t).term() as Value;
  };
  const m = /(not )?(?:(\[[^\]]*\]|\S+) (?:=|:=) )?graphql\.(\w+)\(((?:graphql\.\w+\([^)]*\)|[^)])*)\)(?: == (\w+))?( valid| not valid)?/.exec(body);
  if (!m) throw new Error(`unrecognised case body: ${body}`);
  const [, not, lhs, fn, argText, eqName, validCheck] = m;
  const result = call(`graphql.${fn}`, ...splitArgs(argText as string).map(arg));
  if (eqName) return equal(result, consts.get(eqName) as Value);
  if (lhs && lhs.startsWith('[')) {
    const parts = lhs.slice(1, -1).split(',').map((s) => s.trim());
    const got = result as Value[];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string;
      if (p === 'valid' || p === '_') continue;
      const want = p === '{}' ? new RObject() : consts.get(p);
      if (want === undefined) continue; // an unbound variable: unification binds it
      if (!equal(got[i] as Value, want)) return undefined; // unification fails: p undefined
    }
    const valid = parts[0] === 'valid' ? got[0] : true;
    if (validCheck === ' valid') return valid === true ? true : undefined;
    if (validCheck === ' not valid') return valid === false ? true : undefined;
    return true;
  }
  if (lhs) return result; // p := x if { x = graphql.f(...) }
  if (not) return result === false ? true : undefined;
  return result === false ? undefined : true;
}

function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  return [...out, cur];
}

describe('graphql builtins (conformance cases)', () => {
  for (const c of cases) {
    it(c.note, () => {
      if (c.want_error) return void expect(() => evaluate(c)).toThrow(c.want_error);
      const want = c.want_result!.length === 0 ? undefined : c.want_result![0]!.x;
      expect(evaluate(c)).toEqual(want);
    });
  }
});

describe('graphql.parse_query', () => {
  it('an AST object given back to is_valid means the same as the text it came from', () => {
    const schema = 'type Query { hero(episode: Int): Hero } type Hero { id: ID name: String friends: [Hero] }';
    const field = fc.constantFrom('id', 'name', 'friends { id }');
    fc.assert(
      fc.property(fc.uniqueArray(field, { minLength: 1 }), fc.option(fc.integer({ min: 0, max: 9 })), (fields, ep) => {
        const q = `{ hero${ep === null ? '' : `(episode: ${ep})`} { ${fields.join(' ')} } }`;
        const ast = call('graphql.parse_query', q);
        expect(call('graphql.is_valid', ast, schema)).toBe(true);
        expect(toJSON(call('graphql.parse_query', q))).toEqual(toJSON(ast));
      }),
      { numRuns: 30 },
    );
  });
  it('reports syntax errors with gqlparser wording and the position', () => {
    expect(() => call('graphql.parse_query', '{')).toThrow('graphql.parse_query: Expected Name, found <EOF> in GraphQL string at location 1:2');
  });
});

