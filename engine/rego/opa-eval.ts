// The `opa eval` subset behind `arbiter eval` (DESIGN §8): load modules and data like OPA's loader, evaluate a query,
// and print what `opa eval --format json|pretty` prints — values, expression texts and locations, bindings, errors.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { InputError } from '../errors.ts';
import { BigNum, RObject, RSet, RegoError, RegoTypeError, compileModules, compileQueryBody, evalCompiledQuery, formatNumber, parseJSONText, parseQuery } from './index.ts';
import type { Body, Compiled, CompiledQuery, Expr, Term, Value } from './index.ts';

/** Files larger than this are refused (OPA has no limit; a CLI reading untrusted paths should). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface LoadedPaths {
  modules: Array<{ file: string; source: string }>;
  /** Base documents, merged at their directory's path as OPA's loader does. */
  data: Record<string, unknown>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof BigNum);
}

function readText(file: string): string {
  const size = statSync(file).size;
  if (size > MAX_FILE_BYTES) throw new InputError(`file is larger than ${MAX_FILE_BYTES} bytes`, file);
  return readFileSync(file, 'utf8');
}

/**
 * JSON as OPA reads it (util.Unmarshal with UseNumber): numbers keep their text (`1.0`, `1e2`, integers past 2^53),
 * as plain data whose number leaves may be BigNum/bigint values.
 */
export function parseExactJSON(text: string): unknown {
  return plainDocument(parseJSONText(text));
}

function plainDocument(v: Value): unknown {
  if (Array.isArray(v)) return v.map(plainDocument);
  if (v instanceof RObject) {
    // JSON keys are strings; a prototype-free record keeps a `__proto__` key an ordinary key
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of v.unorderedEntries()) out[k as string] = plainDocument(x);
    return out;
  }
  return v;
}

/** JSON or YAML (by extension), no YAML aliases. */
export function parseDataFile(text: string, file: string): unknown {
  try {
    if (file.endsWith('.json')) return parseExactJSON(text);
    return YAML.parse(text, { maxAliasCount: 0, uniqueKeys: true });
  } catch (err) {
    throw new InputError(`cannot parse: ${(err as Error).message.split('\n')[0]}`, file);
  }
}

function mergeAt(into: Record<string, unknown>, at: string[], value: unknown, file: string): void {
  if (!isRecord(value)) {
    if (at.length === 0) throw new InputError('a data file at the root must hold an object', file);
  }
  let target = into;
  for (const key of at.slice(0, -1)) {
    if (target[key] === undefined) target[key] = {};
    if (!isRecord(target[key])) throw new InputError(`merge error: data.${at.join('.')} conflicts with another data file`, file);
    target = target[key] as Record<string, unknown>;
  }
  const last = at[at.length - 1];
  const merge = (t: Record<string, unknown>, v: Record<string, unknown>, path: string[]): void => {
    for (const [k, x] of Object.entries(v)) {
      if (isRecord(t[k]) && isRecord(x)) merge(t[k] as Record<string, unknown>, x, [...path, k]);
      else if (t[k] !== undefined) throw new InputError(`merge error: data.${[...path, k].join('.')} is defined twice`, file);
      else t[k] = x;
    }
  };
  if (last === undefined) merge(target, value as Record<string, unknown>, []);
  else if (target[last] === undefined) target[last] = value;
  else if (isRecord(target[last]) && isRecord(value)) merge(target[last] as Record<string, unknown>, value, at);
  else throw new InputError(`merge error: data.${at.join('.')} is defined twice`, file);
}

/**
 * `-d` paths: `.rego` files are modules; `.json`/`.yaml`/`.yml` files are data, a file given directly at the root of
 * `data`, a file found in a directory at that directory's path below the given directory (OPA's loader).
 */
export function loadEvalPaths(paths: readonly string[]): LoadedPaths {
  const out: LoadedPaths = { modules: [], data: {} };
  const visit = (file: string, at: string[]): void => {
    if (file.endsWith('.rego')) out.modules.push({ file, source: readText(file) });
    else if (/\.(json|ya?ml)$/.test(file)) mergeAt(out.data, at, parseDataFile(readText(file), file), file);
  };
  const walk = (dir: string, at: string[]): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full, [...at, entry.name]);
      else if (entry.isFile() || entry.isSymbolicLink()) {
        if (entry.isSymbolicLink() && !statSync(full).isFile()) continue;
        visit(full, at);
      }
    }
  };
  for (const p of paths) {
    let stat;
    try {
      stat = statSync(p);
    } catch {
      throw new InputError('no such file or directory', p);
    }
    if (stat.isDirectory()) walk(p, []);
    else if (p.endsWith('.rego') || /\.(json|ya?ml)$/.test(p)) visit(p, []);
    else throw new InputError('not a .rego, .json or .yaml file', p);
  }
  return out;
}

// ── evaluation ──────────────────────────────────────────────────────────────────────────────────

export interface OpaExpression {
  value: Value;
  text: string;
  location: { row: number; col: number };
}

export interface OpaResult {
  expressions: OpaExpression[];
  bindings: Map<string, Value>;
}

export interface OpaErrorEntry {
  message: string;
  code: string;
  location?: { file: string; row: number; col: number };
  /** Type errors' have/want lines, printed under the error in pretty mode (OPA's JSON holds typed details instead). */
  details?: string[];
}

export type OpaOutput = { result: OpaResult[] } | { errors: OpaErrorEntry[]; stage: 'compile' | 'eval' };

export interface OpaEvalArgs {
  modules: Array<{ file: string; source: string }>;
  data?: unknown;
  input?: unknown;
  query: string;
  /** Builtin errors are raised instead of making the expression undefined (`--strict-builtin-errors`). */
  strict?: boolean;
  nowNs?: bigint;
  limits?: { maxSteps?: number; maxDepth?: number };
}

const CAPTURE = '__expr';

/** Each query expression's source text: from its start to the next one's, without separators (`;`, newlines). */
function expressionTexts(query: string, body: Body): string[] {
  const lines = query.split('\n');
  const offsetOf = (row: number, col: number): number => {
    let off = 0;
    for (let i = 0; i < row - 1; i++) off += (lines[i]?.length ?? 0) + 1;
    return off + col - 1;
  };
  const starts = body.map((e) => offsetOf(e.loc.row, e.loc.col));
  return starts.map((s, i) => query.slice(s, starts[i + 1] ?? query.length).replace(/[\s;]+$/, ''));
}

/** Relation builtins (several results per call), which OPA counts as iteration. */
const RELATIONS = new Set(['walk']);

/**
 * OPA's `iteration(query)` (rego/rego.go): a ref with a variable after its head, or a relation builtin, outside
 * comprehensions.
 */
function hasIteration(body: Body): boolean {
  const term = (t: Term): boolean => {
    switch (t.type) {
      case 'ref':
        return t.path.some((p) => p.type === 'var') || term(t.head) || t.path.some(term);
      case 'call':
        return RELATIONS.has(t.op) || t.args.some(term);
      case 'array':
      case 'set':
        return t.items.some(term);
      case 'object':
        return t.items.some(([k, v]) => term(k) || term(v));
      case 'template':
        return t.parts.some((p) => typeof p !== 'string' && term(p));
      default:
        return false; // scalars, vars, comprehensions
    }
  };
  const expr = (e: Expr): boolean => {
    const own = ((): boolean => {
      switch (e.kind) {
        case 'term':
          return term(e.term);
        case 'unify':
          return term(e.left) || term(e.right);
        case 'somein':
          return (e.key ? term(e.key) : false) || term(e.value) || term(e.domain);
        case 'every':
          return term(e.domain) || e.body.some(expr);
        default:
          return false;
      }
    })();
    return own || e.withs.some((w) => term(w.value));
  };
  return body.some(expr);
}

/**
 * OPA's value capture (rego.go rewriteQueryToCaptureValue): a term (or call) expression is evaluated into a fresh
 * variable; only when the query has several expressions or iterates does a `false` value fail it, so a single `false`
 * expression (`data.p.allow`, `1 == 2`) is a result with the value false. Every other expression (unification,
 * assignment, `not`, `some`, `every`) has the value true when it holds.
 */
function captureValues(body: Body): { body: Body; captured: Array<string | null> } {
  const out: Body = [];
  const captured: Array<string | null> = [];
  const checkCapture = body.length > 1 || hasIteration(body);
  body.forEach((e, i) => {
    if (e.kind === 'term' && !e.negated) {
      const name = `${CAPTURE}${i}__`;
      const v: Term = { type: 'var', name, loc: e.loc };
      const falseTerm: Term = { type: 'scalar', value: false, loc: e.loc };
      out.push({ kind: 'unify', left: v, right: e.term, assign: false, negated: false, withs: e.withs, loc: e.loc } as Expr);
      if (checkCapture) {
        out.push({ kind: 'term', term: { type: 'call', op: 'neq', args: [v, falseTerm], loc: e.loc }, negated: false, withs: [], loc: e.loc } as Expr);
      }
      captured.push(name);
    } else {
      out.push(e);
      captured.push(null);
    }
  });
  return { body: out, captured };
}

const errorEntry = (err: RegoError): OpaErrorEntry => {
  const entry: OpaErrorEntry = { message: err.detail, code: err.code };
  if (err.location) entry.location = { file: err.location.file, row: err.location.row, col: err.location.col };
  if (err instanceof RegoTypeError && err.details.length > 0) entry.details = err.details;
  return entry;
};

export function evalOpa(args: OpaEvalArgs): OpaOutput {
  let compiled: Compiled;
  let parsed: Body;
  try {
    compiled = compileModules(args.modules);
    parsed = parseQuery(args.query, '');
  } catch (err) {
    if (err instanceof RegoError) return { errors: err.all.map(errorEntry), stage: 'compile' };
    throw err;
  }
  if (parsed.length === 0) {
    return { errors: [{ message: 'empty query', code: 'rego_parse_error', location: { file: '', row: 1, col: 1 } }], stage: 'compile' };
  }
  const texts = expressionTexts(args.query, parsed);
  const { body, captured } = captureValues(parsed);
  let query: CompiledQuery;
  try {
    query = compileQueryBody(compiled, body);
  } catch (err) {
    if (err instanceof RegoError) return { errors: err.all.map(errorEntry), stage: 'compile' };
    throw err;
  }
  try {
    const solutions = evalCompiledQuery(compiled, query, {
      data: args.data ?? {},
      ...(args.input !== undefined ? { input: args.input } : {}),
      strict: args.strict ?? false,
      ...(args.nowNs !== undefined ? { nowNs: args.nowNs } : {}),
      ...(args.limits ? { limits: args.limits } : {}),
    });
    const result = solutions.map((s): OpaResult => {
      const expressions = parsed.map((e, i): OpaExpression => {
        const name = captured[i];
        const value = name ? (s.bindings.get(name) as Value) : true;
        return { value, text: texts[i] as string, location: { row: e.loc.row, col: e.loc.col } };
      });
      const bindings = new Map<string, Value>();
      for (const [k, v] of s.bindings) if (!k.startsWith(CAPTURE) && !k.startsWith('$') && !k.startsWith('__')) bindings.set(k, v);
      return { expressions, bindings };
    });
    return { result };
  } catch (err) {
    if (err instanceof RegoError) return { errors: err.all.map(errorEntry), stage: 'eval' };
    throw err;
  }
}

// ── printing (Go's encoding/json with two-space indentation, as OPA's presentation package prints) ──────

const GO_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** A JSON string as Go's encoder writes it: HTML characters and U+2028/2029 escaped, lone surrogates replaced. */
export function goString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i] as string;
    if (GO_ESCAPES[ch]) out += GO_ESCAPES[ch];
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += ch + s[i + 1];
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

/** A plain-JSON tree with Rego values at the leaves, printed in Go's indented form. */
type Printable = Value | { [key: string]: Printable | undefined } | Printable[];

function printGo(v: Printable | undefined, indent: string, out: string[]): void {
  if (v === null || v === undefined) {
    out.push('null');
    return;
  }
  if (typeof v === 'boolean') {
    out.push(v ? 'true' : 'false');
    return;
  }
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof BigNum) {
    out.push(formatNumber(v));
    return;
  }
  if (typeof v === 'string') {
    out.push(goString(v));
    return;
  }
  const inner = `${indent}  `;
  const items: Array<[string | null, Printable | undefined]> = [];
  let open = '[';
  let close = ']';
  if (Array.isArray(v)) for (const x of v) items.push([null, x]);
  else if (v instanceof RSet) for (const x of v.sorted()) items.push([null, x]);
  else if (v instanceof RObject) {
    open = '{';
    close = '}';
    // Go sorts map keys by their JSON text; non-string Rego keys are printed as their JSON text, as OPA does
    const entries = v.sortedEntries().map(([k, x]): [string, Value] => [typeof k === 'string' ? k : compactGo(k), x]);
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [k, x] of entries) items.push([k, x]);
  } else {
    open = '{';
    close = '}';
    for (const [k, x] of Object.entries(v)) if (x !== undefined) items.push([k, x]);
  }
  if (items.length === 0) {
    out.push(open + close);
    return;
  }
  out.push(`${open}\n`);
  items.forEach(([k, x], i) => {
    out.push(inner);
    if (k !== null) out.push(`${goString(k)}: `);
    printGo(x, inner, out);
    out.push(i < items.length - 1 ? ',\n' : '\n');
  });
  out.push(`${indent}${close}`);
}

/** Compact JSON of a value (Go's json.Marshal form). */
export function compactGo(v: Value): string {
  if (v === null || typeof v !== 'object' || v instanceof BigNum) {
    const out: string[] = [];
    printGo(v, '', out);
    return out.join('');
  }
  if (Array.isArray(v)) return `[${v.map(compactGo).join(',')}]`;
  if (v instanceof RSet) return `[${v.sorted().map(compactGo).join(',')}]`;
  const entries = v.sortedEntries().map(([k, x]): [string, Value] => [typeof k === 'string' ? k : compactGo(k), x]);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `{${entries.map(([k, x]) => `${goString(k)}:${compactGo(x)}`).join(',')}}`;
}

export function goIndent(v: Printable): string {
  const out: string[] = [];
  printGo(v, '', out);
  return `${out.join('')}\n`;
}

/** `opa eval --format json`. */
export function formatOpaJson(output: OpaOutput): string {
  if ('errors' in output) {
    return goIndent({ errors: output.errors.map((e) => ({ message: e.message, code: e.code, location: e.location ? { file: e.location.file, row: e.location.row, col: e.location.col } : undefined })) });
  }
  if (output.result.length === 0) return '{}\n';
  return goIndent({
    result: output.result.map((r) => ({
      expressions: r.expressions.map((e) => ({ value: e.value, text: e.text, location: { row: e.location.row, col: e.location.col } })),
      // a Go map: keys in sorted order
      bindings: r.bindings.size > 0 ? Object.fromEntries([...r.bindings].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : undefined,
    })),
  });
}

/** The text of one error as OPA's ast.Error prints it: `file:row: code: message` (`row:col:` without a file). */
export function opaErrorText(e: OpaErrorEntry): string {
  const prefix = e.location ? (e.location.file ? `${e.location.file}:${e.location.row}` : `${e.location.row}:${e.location.col}`) : '';
  return `${prefix ? `${prefix}: ` : ''}${e.code}: ${e.message}${(e.details ?? []).map((d) => `\n\t${d}`).join('')}`;
}

/** `opa eval --format pretty`: a lone value as indented JSON, several results as a table, `undefined`, or the errors. */
export function formatOpaPretty(output: OpaOutput): string {
  if ('errors' in output) {
    const head = output.errors.length === 1 ? '1 error occurred: ' : `${output.errors.length} errors occurred:\n`;
    return `${head}${output.errors.map(opaErrorText).join('\n')}\n`;
  }
  const rs = output.result;
  if (rs.length === 0) return 'undefined\n';
  const first = rs[0] as OpaResult;
  if (rs.length === 1 && first.bindings.size === 0 && (first.expressions.length === 1 || first.expressions.every((e) => typeof e.value === 'boolean'))) {
    return goIndent((first.expressions[0] as OpaExpression).value);
  }
  // columns: the bindings, then expressions whose value is not plain true
  const columns: Array<{ header: string; cell: (r: OpaResult) => Value | undefined }> = [];
  const names: string[] = [];
  for (const r of rs) for (const k of r.bindings.keys()) if (!names.includes(k)) names.push(k);
  for (const n of names) columns.push({ header: n, cell: (r) => r.bindings.get(n) });
  first.expressions.forEach((e, i) => {
    if (e.value !== true) columns.push({ header: e.text, cell: (r) => r.expressions[i]?.value });
  });
  const rows = rs.map((r) => columns.map((c) => {
    const v = c.cell(r);
    return v === undefined ? '' : compactGo(v);
  }));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((row) => (row[i] as string).length)));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (cells: string[]): string => `|${cells.map((c, i) => ` ${c.padEnd(widths[i] as number)} `).join('|')}|`;
  return `${[rule, line(columns.map((c) => c.header)), rule, ...rows.map(line), rule].join('\n')}\n`;
}
