// Builtins: graph.reachable, graph.reachable_paths
import { register, T, expectObject, OperandTypeError } from './registry.ts';
import { RSet } from '../value.ts';
import type { RObject, Value } from '../value.ts';

/** Vertex collections may be arrays or sets; anything else (e.g. null edges) has no vertices. */
function vertices(collection: Value): readonly Value[] {
  if (Array.isArray(collection)) return collection;
  if (collection instanceof RSet) return collection.sorted();
  return [];
}

/** A fresh array: the breadth-first walk appends to it, and must not touch the operand. */
function initialVertices(name: string, v: Value): Value[] {
  if (!Array.isArray(v) && !(v instanceof RSet)) throw new OperandTypeError(name, 2, 'one of {array, set}', v);
  return [...vertices(v)];
}

const graphType = T.object(T.any, T.union(T.array(T.any), T.set(T.any)));
const vertexSet = T.union(T.array(T.any), T.set(T.any));

register({
  name: 'graph.reachable',
  sig: { args: [graphType, vertexSet], result: T.set(T.any) },
  fn([g, initial]) {
    const graph = expectObject('graph.reachable', 1, g as Value);
    const queue = initialVertices('graph.reachable', initial as Value);
    const reached = new RSet();
    // breadth-first; a vertex that is not a key of the graph is never reached (as OPA does)
    for (let i = 0; i < queue.length; i++) {
      const node = queue[i] as Value;
      const edges = graph.get(node);
      if (edges === undefined) continue;
      for (const next of vertices(edges)) if (!reached.has(next)) queue.push(next);
      reached.add(node);
    }
    return reached;
  },
});

/**
 * Depth-first from `root`, committing the path at a leaf, at a vertex missing from the graph, or at an already
 * visited vertex. `visited` is shared by the whole walk below one start edge (OPA's semantics, which the suite pins).
 */
function collectPaths(graph: RObject, root: Value, path: Value[], out: RSet, visited: RSet): void {
  const edges = graph.get(root);
  if (edges === undefined) {
    out.add(path);
    return;
  }
  const here = [...path, root];
  const next = vertices(edges);
  if (next.length === 0) out.add(here);
  for (const n of next) {
    if (visited.has(n)) {
      out.add(here);
      continue;
    }
    visited.add(root);
    collectPaths(graph, n, here, out, visited);
  }
}

register({
  name: 'graph.reachable_paths',
  sig: { args: [graphType, vertexSet], result: T.set(T.array(T.any)) },
  fn([g, initial]) {
    const graph = expectObject('graph.reachable_paths', 1, g as Value);
    const out = new RSet();
    for (const node of initialVertices('graph.reachable_paths', initial as Value)) {
      const edges = graph.get(node);
      if (edges === undefined) continue;
      const next = vertices(edges);
      if (next.length === 0) out.add([node]);
      for (const n of next) collectPaths(graph, n, [node], out, new RSet([node]));
    }
    return out;
  },
});
