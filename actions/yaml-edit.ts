// Round-trip YAML edits as text splices located through `yaml`'s Document API: everything outside the
// changed scalar or the inserted lines keeps its bytes (comments, quoting, flow style, `---` separators).
import { isMap, isPair, isScalar, isSeq, parseAllDocuments, parseDocument } from 'yaml';
import type { Document, Node, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { PlanRefusedError } from './types.ts';

export type ScalarValue = string | number | boolean;

/** Replace `text[start, end)` with `text`. */
export interface Splice {
  start: number;
  end: number;
  text: string;
  /** What the splice means: the value at `at` (a node of the file as parsed) followed by `keys` becomes `value`. */
  intent?: SpliceIntent;
}

export interface SpliceIntent {
  at: Node;
  keys: Array<string | number>;
  value: unknown;
}

export function applySplices(source: string, splices: Splice[]): string {
  const ordered = [...splices].sort((a, b) => b.start - a.start);
  let out = source;
  let floor = Infinity;
  for (const s of ordered) {
    if (s.end > floor) throw new Error(`overlapping YAML edits at offset ${s.start}`);
    out = out.slice(0, s.start) + s.text + out.slice(s.end);
    floor = s.start;
  }
  return out;
}

/** Every document of a (multi-document) file; undefined when any document has a syntax error. */
export function parseDocuments(source: string): Document.Parsed[] | undefined {
  try {
    const docs = parseAllDocuments(source, { prettyErrors: false });
    if (!Array.isArray(docs)) return [];
    return docs.some((d) => d.errors.length > 0) ? undefined : docs;
  } catch {
    return undefined;
  }
}

/** True when `plain` written unquoted reads back as exactly `value` under YAML 1.2 and 1.1 (kubectl's go-yaml). */
export function readsBackAs(plain: string, value: ScalarValue): boolean {
  if (plain === '' || /[\r\n]/.test(plain) || plain !== plain.trim()) return false;
  // tags, anchors, aliases and reserved indicators change meaning even when the value reads back
  if (/^[!&*%@`]/.test(plain)) return false;
  // flow indicators end or open a value inside a flow collection (`{a: 1,EVIL}`); quoting them is harmless elsewhere
  if (/[,[\]{}]/.test(plain)) return false;
  for (const version of ['1.2', '1.1'] as const) {
    // as a mapping value, where every edit puts it; errors and warnings both mean "not as written"
    const doc = parseDocument(`k: ${plain}`, { version, prettyErrors: false, logLevel: 'silent' });
    if (doc.errors.length > 0 || doc.warnings.length > 0) return false;
    const read = doc.toJS() as unknown;
    if (!read || typeof read !== 'object' || (read as Record<string, unknown>).k !== value) return false;
  }
  return true;
}

/** Render a scalar in the style it had (`type`), falling back to double quotes when plain would change its type. */
export function renderScalar(value: ScalarValue, style?: Scalar.Type | string | undefined): string {
  if (typeof value === 'string' && style === 'QUOTE_SINGLE' && !/[\r\n]/.test(value)) return `'${value.replace(/'/g, "''")}'`;
  if (typeof value === 'string' && style === 'QUOTE_DOUBLE') return JSON.stringify(value);
  const plain = String(value);
  return readsBackAs(plain, value) ? plain : JSON.stringify(plain);
}

/** The splice that sets a scalar node to `value` in its own style, or null when it already has it. */
export function replaceScalar(source: string, node: Scalar, value: ScalarValue): Splice | null {
  if (node.value === value) return null;
  const [start, end] = rangeOf(node);
  const original = source.slice(start, end);
  // block scalars own their trailing line break; keep it
  const trailing = /\s*$/.exec(original)?.[0] ?? '';
  return { start, end, text: renderScalar(value, node.type) + (node.type?.startsWith('BLOCK') ? trailing : ''), intent: { at: node, keys: [], value } };
}

export function rangeOf(node: Node): [number, number] {
  if (!node.range) throw new Error('YAML node without a source range');
  return [node.range[0], node.range[1]];
}

export function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
}

/** The value node under `key` of a mapping, if it is there. */
export function childOf(node: unknown, key: string): Node | undefined {
  if (!isMap(node)) return undefined;
  const v = pairOf(node, key)?.value;
  return v === null || v === undefined ? undefined : (v as Node);
}

export function nodeAt(node: unknown, keys: string[]): Node | undefined {
  let cur: unknown = node;
  for (const k of keys) {
    cur = childOf(cur, k);
    if (cur === undefined) return undefined;
  }
  return cur as Node;
}

export function scalarAt(node: unknown, keys: string[]): Scalar | undefined {
  const n = nodeAt(node, keys);
  return isScalar(n) ? n : undefined;
}

export function stringAt(node: unknown, keys: string[]): string | undefined {
  const s = scalarAt(node, keys);
  return s && s.value !== null && s.value !== undefined ? String(s.value) : undefined;
}

export function columnOf(source: string, offset: number): number {
  return offset - (source.lastIndexOf('\n', offset - 1) + 1);
}

/** The smallest indentation used in the file: the step for nested lines we insert. */
export function indentStepOf(source: string): number {
  let step = Infinity;
  for (const line of source.split('\n')) {
    const m = /^( +)[^ #\n]/.exec(line);
    if (m && m[1]!.length < step) step = m[1]!.length;
  }
  return Number.isFinite(step) ? step : 2;
}

/** Offset just after the last character of content inside a node (ignoring trailing comments/blank lines). */
function contentEnd(node: unknown): number {
  if (isPair(node)) return contentEnd(node.value ?? node.key);
  if ((isMap(node) || isSeq(node)) && !node.flow && node.items.length > 0) return contentEnd(node.items[node.items.length - 1]);
  return rangeOf(node as Node)[1];
}

function lineEndAfter(source: string, offset: number): { at: number; prefix: string } {
  if (offset > 0 && source[offset - 1] === '\n') return { at: offset, prefix: '' };
  const nl = source.indexOf('\n', offset);
  return nl === -1 ? { at: source.length, prefix: '\n' } : { at: nl + 1, prefix: '' };
}

/**
 * Lines for `keys[0]: … keys[n]: <leaf>` nested in block style; `leaf` is a rendered scalar, or block lines
 * (already indented relative to the last key) when it is an array.
 */
function nestedBlock(keys: string[], leaf: string | string[], indent: number, step: number): string {
  const lines: string[] = [];
  keys.forEach((k, i) => {
    const pad = ' '.repeat(indent + i * step);
    const last = i === keys.length - 1;
    if (last && typeof leaf === 'string') lines.push(`${pad}${renderKey(k)}: ${leaf}`);
    else lines.push(`${pad}${renderKey(k)}:`);
  });
  if (Array.isArray(leaf)) {
    const pad = ' '.repeat(indent + (keys.length - 1) * step + step);
    for (const l of leaf) lines.push(pad + l);
  }
  return lines.map((l) => `${l}\n`).join('');
}

function renderKey(key: string): string {
  return readsBackAs(key, key) && !key.includes(': ') && !key.includes(' #') ? key : JSON.stringify(key);
}

function nestedFlow(keys: string[], leaf: string): string {
  return keys.slice(1).reduceRight((acc, k) => `{${renderKey(k)}: ${acc}}`, leaf);
}

/** Insert `keys[0]: …: leaf` as the last entry of `map` (block or flow), matching its indentation. */
export function insertIntoMap(source: string, map: YAMLMap, keys: string[], leaf: string | string[], value: unknown): Splice {
  const intent: SpliceIntent = { at: map, keys, value };
  if (map.flow) {
    if (Array.isArray(leaf)) throw new PlanRefusedError('cannot insert a block value into a flow mapping');
    const item = `${renderKey(keys[0]!)}: ${nestedFlow(keys, leaf)}`;
    const [start, end] = rangeOf(map);
    if (map.items.length === 0) return { start, end, text: `{${item}}`, intent };
    const at = contentEnd(map.items[map.items.length - 1]);
    return { start: at, end: at, text: `, ${item}`, intent };
  }
  if (map.items.length === 0) throw new PlanRefusedError('cannot insert into an empty block mapping');
  const first = map.items[0]!.key as Node;
  const indent = columnOf(source, rangeOf(first)[0]);
  const { at, prefix } = lineEndAfter(source, contentEnd(map));
  return { start: at, end: at, text: prefix + nestedBlock(keys, leaf, indent, indentStepOf(source)), intent };
}

/** Append a mapping item (`- k: v` lines) to a block sequence of mappings. */
export function appendToSeq(source: string, seq: YAMLSeq, fields: Array<[string, ScalarValue]>): Splice {
  if (seq.flow || seq.items.length === 0) throw new PlanRefusedError('cannot append to a flow or empty sequence');
  const firstItem = seq.items[0] as Node;
  const itemStart = rangeOf(firstItem)[0];
  const lineStart = source.lastIndexOf('\n', itemStart - 1) + 1;
  const dashCol = source.lastIndexOf('-', itemStart) - lineStart;
  const keyCol = itemStart - lineStart;
  const lines = fields.map(([k, v], i) =>
    i === 0
      ? `${' '.repeat(dashCol)}-${' '.repeat(keyCol - dashCol - 1)}${renderKey(k)}: ${renderScalar(v)}\n`
      : `${' '.repeat(keyCol)}${renderKey(k)}: ${renderScalar(v)}\n`,
  );
  const { at, prefix } = lineEndAfter(source, contentEnd(seq));
  return { start: at, end: at, text: prefix + lines.join(''), intent: { at: seq, keys: [seq.items.length], value: Object.fromEntries(fields) } };
}

/**
 * Set `keys` (a path of mapping keys) under `root` to a scalar, creating missing mappings in the style of
 * the surrounding file. Returns null when the value is already there.
 */
export function setScalarAt(source: string, root: unknown, keys: string[], value: ScalarValue): Splice | null {
  let node: unknown = root;
  for (let i = 0; i < keys.length; i++) {
    if (!isMap(node)) throw new PlanRefusedError(`expected a mapping at ${keys.slice(0, i).join('.') || 'the document root'}`);
    const pair = pairOf(node, keys[i]!);
    if (!pair) return insertIntoMap(source, node, keys.slice(i), renderScalar(value, 'QUOTE_DOUBLE'), value);
    if (i === keys.length - 1) {
      if (!isScalar(pair.value)) throw new PlanRefusedError(`${keys.join('.')} is not a scalar`);
      return replaceScalar(source, pair.value, value);
    }
    if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) {
      throw new PlanRefusedError(`${keys.slice(0, i + 1).join('.')} is empty; expected a mapping`);
    }
    node = pair.value;
  }
  return null;
}

/** The value nodes of a document with their paths (document root, mapping values, sequence items). */
function* valueNodes(node: unknown, path: Array<string | number>): Generator<[Node, Array<string | number>]> {
  if (!node || typeof node !== 'object' || !('range' in (node as object))) return;
  yield [node as Node, path];
  if (isMap(node)) {
    for (const pair of node.items) if (isScalar(pair.key)) yield* valueNodes(pair.value, [...path, String(pair.key.value)]);
  } else if (isSeq(node)) for (const [i, item] of node.items.entries()) yield* valueNodes(item, [...path, i]);
}

/** Where an intent's node sits in `docs` (matched by its source range and kind): document index and key path. */
function locate(docs: Document.Parsed[], at: Node): { doc: number; path: Array<string | number> } | undefined {
  const [start, end] = rangeOf(at);
  const kind = isMap(at) ? 'map' : isSeq(at) ? 'seq' : 'scalar';
  for (const [d, doc] of docs.entries()) {
    for (const [node, path] of valueNodes(doc.contents, [])) {
      const k = isMap(node) ? 'map' : isSeq(node) ? 'seq' : 'scalar';
      if (k === kind && node.range && node.range[0] === start && node.range[1] === end) return { doc: d, path };
    }
  }
  return undefined;
}

function setIn(root: unknown, path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const container = (root && typeof root === 'object' ? root : typeof head === 'number' ? [] : {}) as Record<string | number, unknown>;
  container[head!] = setIn(container[head!], rest, value);
  return container;
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function readAll(source: string, version: '1.1' | '1.2'): unknown[] | undefined {
  try {
    const docs = parseAllDocuments(source, { version, prettyErrors: false, logLevel: 'silent' });
    if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0 || d.warnings.length > 0)) return undefined;
    return docs.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown);
  } catch {
    return undefined;
  }
}

/**
 * Checks an edited YAML file by re-parsing it (as YAML 1.2 and as YAML 1.1, kubectl's reading): it must parse, and
 * equal the original with exactly the splices' intended changes applied — no other key, document or value changed.
 * Throws PlanRefusedError naming the file otherwise.
 */
export function verifyYamlEdit(path: string, before: string, after: string, splices: Splice[]): void {
  const parsed = parseDocuments(before);
  if (!parsed) throw new PlanRefusedError(`${path} did not parse before the edit; arbiter does not edit it`);
  const intents = splices.map((s) => {
    if (!s.intent) throw new PlanRefusedError(`${path}: an edit without a declared intent cannot be verified`);
    const where = locate(parsed, s.intent.at);
    if (!where) throw new PlanRefusedError(`${path}: cannot locate the edited node to verify the edit`);
    return { doc: where.doc, path: [...where.path, ...s.intent.keys], value: s.intent.value };
  });
  for (const version of ['1.2', '1.1'] as const) {
    const was = readAll(before, version);
    const now = readAll(after, version);
    if (!was && version === '1.2') throw new PlanRefusedError(`${path} cannot be read back as plain data (aliases?); arbiter does not edit it`);
    if (!was) continue; // the file is not valid YAML 1.1 to begin with: only the 1.2 reading is checked
    if (!now) throw new PlanRefusedError(`the edit would leave ${path} unparseable as YAML ${version}: refused`);
    const expected = [...was];
    for (const i of intents) expected[i.doc] = setIn(structuredClone(expected[i.doc]), i.path, i.value);
    if (now.length !== expected.length || !now.every((doc, d) => sameJson(doc, expected[d]))) {
      throw new PlanRefusedError(`the edit of ${path} would change more than ${intents.map((i) => i.path.join('.')).join(', ')} (re-parsed as YAML ${version}): refused`);
    }
  }
}
