import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lookupBuiltin } from '../../../engine/rego/builtins/index.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { RObject, RSet, toJSON } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0, print: () => {} };
const call = (name: string, ...args: Value[]): unknown => toJSON(lookupBuiltin(name)!.fn(args, ctx) as Value);
const graph = (edges: Record<string, Value>): RObject => RObject.fromRecord(edges);
const set = (...xs: Value[]): RSet => new RSet(xs);

describe('graph.reachable', () => {
  it('follows cycles once', () => {
    expect(call('graph.reachable', graph({ a: set('b'), b: set('c'), c: set('a') }), set('a'))).toEqual(['a', 'b', 'c']);
  });
  it('reaches only the components of the initial vertices; arrays work as sets', () => {
    const g = graph({ a: set('b', 'c'), b: set('d'), c: set('d'), d: set(), e: ['f'], f: ['e'], x: set('x') });
    expect(call('graph.reachable', g, ['b', 'e'])).toEqual(['b', 'd', 'e', 'f']);
  });
  it('an array of initial vertices is left as it was (the walk queues on its own copy)', () => {
    const initial: Value[] = ['a'];
    expect(call('graph.reachable', graph({ a: ['b'], b: ['c'], c: [] }), initial)).toEqual(['a', 'b', 'c']);
    expect(initial).toEqual(['a']);
  });
  it('a vertex with null edges is reached; one missing from the graph is not', () => {
    expect(call('graph.reachable', graph({ a: null }), ['a', 'zz'])).toEqual(['a']);
  });
  it('type errors name the operand', () => {
    expect(() => call('graph.reachable', 1, [1])).toThrow('operand 1 must be object but got number');
    expect(() => call('graph.reachable', graph({ a: [] }), 'a')).toThrow('operand 2 must be one of {array, set} but got string');
  });
  it('every reached vertex is a key of the graph and the initial keys are reached', () => {
    const vertex = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    fc.assert(
      fc.property(fc.dictionary(vertex, fc.array(vertex)), fc.array(vertex), (edges, initial) => {
        const reached = call('graph.reachable', graph(edges), initial) as string[];
        for (const v of reached) expect(v in edges).toBe(true);
        for (const v of initial) if (v in edges) expect(reached).toContain(v);
        for (const v of reached) for (const w of edges[v]!) if (w in edges) expect(reached).toContain(w);
      }),
    );
  });
});

describe('graph.reachable_paths', () => {
  it('ends a path at a cycle, a leaf or a vertex missing from the graph', () => {
    expect(call('graph.reachable_paths', graph({ a: set('b'), b: set('c'), c: set('a') }), set('a'))).toEqual([['a', 'b', 'c']]);
    expect(call('graph.reachable_paths', graph({ a: ['b', 'c'], b: ['c'], c: [] }), set('a'))).toEqual([['a', 'b', 'c'], ['a', 'c']]);
    expect(call('graph.reachable_paths', graph({ a: ['b'], b: ['nonexistent'] }), set('a', 'b'))).toEqual([['a', 'b'], ['b']]);
    expect(call('graph.reachable_paths', graph({ a: null }), ['a'])).toEqual([['a']]);
  });
  it('matches OPA on the issue 1022 graph', () => {
    const g = graph({ one: ['two', 'five'], two: ['four'], three: [''], four: ['three'], five: ['seven', 'six'], six: ['nine', 'seven'], seven: ['eight'], eight: ['three'], nine: [''] });
    expect(call('graph.reachable_paths', g, set('one'))).toEqual([
      ['one', 'five', 'seven', 'eight', 'three'],
      ['one', 'five', 'six'],
      ['one', 'five', 'six', 'nine'],
      ['one', 'two', 'four', 'three'],
    ]);
  });
  it('empty graph gives no paths', () => {
    expect(call('graph.reachable_paths', graph({}), set('a'))).toEqual([]);
  });
});
