// Builtins: json.patch, json.filter, json.remove, json.verify_schema, json.match_schema
// Documents are Rego values; every operation copies on write, so inputs are never changed.
import type { Value } from '../value.ts';
import { RObject, RSet, equal, formatNumber, isNumber, keyOf } from '../value.ts';
import { BuiltinError, OperandTypeError, T, expectObject, register } from './registry.ts';
import { JSONSyntaxError, parseJSONText } from './encoding-json.ts';
import { SchemaError, compileSchema, plainJSON, schemaErrors } from './json-schema.ts';
import { OperandMessageError, elementError } from './strings-operands.ts';

// ── paths ────────────────────────────────────────────────────────────────────────────────────

const segmentText = (s: Value): string => (typeof s === 'string' ? s : isNumber(s) ? formatNumber(s) : '');

/**
 * topdown/json.go parsePath: "a/b/c" (leading slashes dropped, ~1 ~0 unescaped, "" is no path) gives string segments;
 * an array path's segments are its values as they are, so `["a", 0]` names the key 0, not "0".
 */
function pathOf(p: Value): Value[] | undefined {
  if (typeof p === 'string') {
    if (p === '') return [];
    return p
      .replace(/^\/+/, '')
      .split('/')
      .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  }
  if (Array.isArray(p)) return p;
  return undefined;
}

/** The filter object of pathsToObject: children by segment (structural key). */
interface PathTree {
  leaf: boolean;
  children: Map<string, PathTree>;
}

function pathTree(name: string, paths: Value): PathTree {
  if (!(Array.isArray(paths) || paths instanceof RSet)) throw new OperandTypeError(name, 2, 'one of {set, array}', paths);
  const root: PathTree = { leaf: false, children: new Map() };
  for (const p of Array.isArray(paths) ? paths : paths.sorted()) {
    const segs = pathOf(p);
    if (segs === undefined) {
      throw new OperandMessageError(name, `operand 2 must be one of {set, array} containing string paths or array of path segments but got ${typeName(p)}`);
    }
    // an empty path adds nothing to the filter (pathsToObject skips it)
    if (segs.length === 0) continue;
    let node = root;
    for (const seg of segs) {
      if (node.leaf) break;
      const s = keyOf(seg);
      let next = node.children.get(s);
      if (!next) {
        next = { leaf: false, children: new Map() };
        node.children.set(s, next);
      }
      node = next;
    }
    node.leaf = true;
    node.children.clear();
  }
  return root;
}

function typeName(v: Value): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof RSet) return 'set';
  if (v instanceof RObject) return 'object';
  return isNumber(v) ? 'number' : typeof v;
}

/**
 * json.filter (keepListed) and json.remove walk alike: they differ only in what the end of a listed path and a member
 * no path names mean (kept or dropped).
 */
function prunePaths(v: Value, tree: PathTree, keepListed: boolean): Value | undefined {
  if (tree.leaf) return keepListed ? v : undefined;
  const member = (x: Value, sub: PathTree | undefined): Value | undefined => (sub ? prunePaths(x, sub, keepListed) : keepListed ? undefined : x);
  if (v instanceof RObject) {
    const out = new RObject();
    for (const [k, val] of v.entries()) {
      const kept = member(val, tree.children.get(keyOf(k)));
      if (kept !== undefined) out.set(k, kept);
    }
    return out;
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    v.forEach((x, i) => {
      // array elements are looked up by their index as a string (InternedIntegerString), so a number segment misses
      const kept = member(x, tree.children.get(keyOf(String(i))));
      if (kept !== undefined) out.push(kept);
    });
    return out;
  }
  if (v instanceof RSet) {
    const out = new RSet();
    for (const x of v) {
      const kept = member(x, tree.children.get(keyOf(x)));
      if (kept !== undefined) out.add(kept);
    }
    return out;
  }
  return keepListed ? undefined : v;
}

register({
  name: 'json.filter',
  sig: { args: [T.object(T.any, T.any), T.union(T.array(T.any), T.set(T.any))], result: T.any },
  fn: ([o, p]) => prunePaths(expectObject('json.filter', 1, o as Value), pathTree('json.filter', p as Value), true) ?? new RObject(),
});

register({
  name: 'json.remove',
  sig: { args: [T.object(T.any, T.any), T.union(T.array(T.any), T.set(T.any))], result: T.any },
  fn: ([o, p]) => prunePaths(expectObject('json.remove', 1, o as Value), pathTree('json.remove', p as Value), false) ?? new RObject(),
});

// ── JSON Patch (RFC 6902) ────────────────────────────────────────────────────────────────────

class PatchFailed extends Error {}

/** JSON Pointer → segments; "" is the whole document. */
function pointer(p: Value | undefined): string[] {
  if (typeof p === 'string') {
    if (p === '') return [];
    // OPA also accepts a pointer without its leading slash ("foo/b")
    return (p.startsWith('/') ? p.slice(1) : p)
      .split('/')
      .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  }
  if (Array.isArray(p)) return p.map(segmentText);
  throw new PatchFailed('missing path');
}

function arrayIndex(seg: string, length: number, allowEnd: boolean): number {
  if (allowEnd && seg === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(seg)) throw new PatchFailed(`invalid array index ${seg}`);
  const i = Number(seg);
  if (i > (allowEnd ? length : length - 1)) throw new PatchFailed(`index ${seg} out of bounds`);
  return i;
}

function childKey(container: RObject | RSet, seg: string): Value | undefined {
  for (const k of container instanceof RObject ? container.keys() : container.values()) if (segmentText(k) === seg) return k;
  return undefined;
}

function getAt(doc: Value, path: string[]): Value {
  let cur = doc;
  for (const seg of path) {
    if (cur instanceof RObject) {
      const k = childKey(cur, seg);
      if (k === undefined) throw new PatchFailed(`path not found: ${seg}`);
      cur = cur.get(k) as Value;
    } else if (Array.isArray(cur)) cur = cur[arrayIndex(seg, cur.length, false)] as Value;
    else if (cur instanceof RSet) {
      const k = childKey(cur, seg);
      if (k === undefined) throw new PatchFailed(`path not found: ${seg}`);
      cur = k;
    } else throw new PatchFailed(`path not found: ${seg}`);
  }
  return cur;
}

type Edit = 'add' | 'remove' | 'replace';

/** A copy of `doc` with `path` added / removed / replaced. */
function editAt(doc: Value, path: string[], edit: Edit, value?: Value): Value {
  if (path.length === 0) {
    if (edit === 'remove') throw new PatchFailed('cannot remove the root');
    return value as Value;
  }
  const [seg, ...rest] = path as [string, ...string[]];
  if (doc instanceof RObject) {
    const existing = childKey(doc, seg);
    const out = new RObject(doc.entries());
    if (rest.length === 0) {
      if (edit === 'add') out.set(existing ?? seg, value as Value);
      else {
        if (existing === undefined) throw new PatchFailed(`path not found: ${seg}`);
        if (edit === 'remove') out.delete(existing);
        else out.set(existing, value as Value);
      }
      return out;
    }
    if (existing === undefined) throw new PatchFailed(`path not found: ${seg}`);
    out.set(existing, editAt(doc.get(existing) as Value, rest, edit, value));
    return out;
  }
  if (Array.isArray(doc)) {
    const out = [...doc];
    if (rest.length === 0) {
      const i = arrayIndex(seg, doc.length, edit === 'add');
      if (edit === 'add') out.splice(i, 0, value as Value);
      else if (edit === 'remove') out.splice(i, 1);
      else out[i] = value as Value;
      return out;
    }
    const i = arrayIndex(seg, doc.length, false);
    out[i] = editAt(doc[i] as Value, rest, edit, value);
    return out;
  }
  if (doc instanceof RSet) {
    const out = new RSet(doc);
    const existing = childKey(doc, seg);
    if (rest.length === 0) {
      if (edit !== 'add' && existing === undefined) throw new PatchFailed(`path not found: ${seg}`);
      // a set member is addressed by itself: the last segment must name the value being added
      if (edit !== 'remove' && segmentText(value as Value) !== seg) throw new PatchFailed(`set key ${seg} does not match value`);
      if (existing !== undefined && edit !== 'add') out.delete(existing);
      if (edit !== 'remove') out.add(value as Value);
      return out;
    }
    if (existing === undefined) throw new PatchFailed(`path not found: ${seg}`);
    out.delete(existing);
    out.add(editAt(existing, rest, edit, value));
    return out;
  }
  throw new PatchFailed(`path not found: ${seg}`);
}

function applyOperation(doc: Value, op: RObject): Value {
  const kind = op.get('op');
  const path = pointer(op.get('path'));
  switch (kind) {
    case 'add':
    case 'replace': {
      if (!op.has('value')) throw new PatchFailed('missing value');
      return editAt(doc, path, kind, op.get('value') as Value);
    }
    case 'remove':
      return editAt(doc, path, 'remove');
    case 'move': {
      const from = pointer(op.get('from'));
      if (from.length < path.length && from.every((s, i) => s === path[i])) throw new PatchFailed('cannot move into a child of itself');
      const v = getAt(doc, from);
      return editAt(editAt(doc, from, 'remove'), path, 'add', v);
    }
    case 'copy':
      return editAt(doc, path, 'add', getAt(doc, pointer(op.get('from'))));
    case 'test': {
      if (!op.has('value')) throw new PatchFailed('missing value');
      if (!equal(getAt(doc, path), op.get('value') as Value)) throw new PatchFailed('test failed');
      return doc;
    }
    default:
      throw new PatchFailed(`unknown op ${String(kind)}`);
  }
}

register({
  name: 'json.patch',
  sig: { args: [T.any, T.array(T.object(T.string, T.any))], result: T.any },
  fn: ([doc, ops]) => {
    if (!Array.isArray(ops)) throw new OperandTypeError('json.patch', 2, 'array', ops as Value);
    let out = doc as Value;
    for (const op of ops) {
      if (!(op instanceof RObject)) throw elementError('json.patch', 2, ops, op, 'object');
      try {
        out = applyOperation(out, op);
      } catch (e) {
        // a patch that cannot apply leaves the call undefined, as in OPA
        if (e instanceof PatchFailed) return undefined;
        throw e;
      }
    }
    return out;
  },
});

// ── JSON Schema ──────────────────────────────────────────────────────────────────────────────

/** A schema or document operand: a value, or JSON text. */
function jsonOperand(name: string, pos: number, v: Value): unknown {
  if (typeof v === 'string') {
    try {
      return plainJSON(parseJSONText(v));
    } catch (e) {
      if (e instanceof JSONSyntaxError) throw new BuiltinError(name, e.message);
      throw e;
    }
  }
  if (v instanceof RObject || Array.isArray(v) || typeof v === 'boolean') return plainJSON(v);
  throw new OperandTypeError(name, pos, 'one of {string, object}', v);
}

register({
  name: 'json.verify_schema',
  sig: { args: [T.union(T.string, T.object(T.any, T.any))], result: T.array(T.any) },
  fn: ([s]) => {
    try {
      compileSchema(jsonOperand('json.verify_schema', 1, s as Value));
      return [true, null];
    } catch (e) {
      if (e instanceof SchemaError) return [false, `jsonschema: ${e.message}`];
      if (e instanceof BuiltinError && !(e instanceof OperandTypeError)) return [false, e.message];
      throw e;
    }
  },
});

register({
  name: 'json.match_schema',
  sig: { args: [T.union(T.string, T.object(T.any, T.any)), T.union(T.string, T.object(T.any, T.any))], result: T.array(T.any) },
  fn: ([d, s]) => {
    const doc = jsonOperand('json.match_schema', 1, d as Value);
    let validate;
    try {
      validate = compileSchema(jsonOperand('json.match_schema', 2, s as Value));
    } catch (e) {
      if (e instanceof SchemaError) throw new BuiltinError('json.match_schema', e.message);
      throw e;
    }
    const errors = schemaErrors(validate, doc);
    return [errors.length === 0, errors];
  },
});
