// Builtins: print, trace, opa.runtime, time.now_ns, test.sleep, rego.parse_module (rego.metadata.* are rewritten by the
// compiler).
// `print` is handled by the evaluator too (undefined operands print as <undefined>).
import { RegoError } from '../ast.ts';
import type { Body, Expr, Module, Term } from '../ast.ts';
import { parseModule } from '../parser.ts';
import { RObject, formatTerm, fromJSON, typeName } from '../value.ts';
import type { Value } from '../value.ts';
import { BuiltinError, T, expectString, register } from './registry.ts';
import { parseDuration } from './time-layout.ts';

export function printLine(args: Array<Value | undefined>): string {
  return args.map((a) => (a === undefined ? '<undefined>' : typeof a === 'string' ? a : formatTerm(a))).join(' ');
}

register({
  name: 'print',
  sig: { args: [], result: T.boolean, variadic: T.any },
  fn: (args, ctx) => {
    ctx.print(printLine(args));
    return true;
  },
});

register({
  name: 'trace',
  sig: { args: [T.string], result: T.boolean },
  fn: () => true,
});

register({ name: 'opa.runtime', nondeterministic: true, sig: { args: [], result: T.object() }, fn: () => new RObject() });

register({ name: 'time.now_ns', nondeterministic: true, sig: { args: [], result: T.number }, fn: (_a, ctx) => {
  const n = ctx.nowNs;
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
} });

/** Sleeping blocks the event loop (builtins are synchronous), so one query sleeps at most this long in total. */
const MAX_SLEEP_MS_PER_QUERY = 1000;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

register({
  name: 'test.sleep',
  sig: { args: [T.string], result: T.null },
  fn: (args, ctx) => {
    let ns: bigint;
    try {
      ns = parseDuration(expectString('test.sleep', 1, args[0] as Value));
    } catch (err) {
      if (err instanceof BuiltinError) throw err;
      throw new BuiltinError('test.sleep', (err as Error).message);
    }
    const slept = (ctx.cache.get('test.sleep') as number | undefined) ?? 0;
    const ms = Math.min(Math.max(0, Number(ns / 1_000_000n)), MAX_SLEEP_MS_PER_QUERY - slept);
    ctx.cache.set('test.sleep', slept + ms);
    // a bounded synchronous sleep; nothing ever notifies the cell, so this waits out the timeout
    if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
    return null;
  },
});

register({
  name: 'rego.parse_module',
  sig: { args: [T.string, T.string], result: T.object() },
  fn: (args) => {
    const [file, source] = args as [string, string];
    let m: Module;
    try {
      m = parseModule(file, source);
    } catch (err) {
      if (err instanceof RegoError) throw new BuiltinError('rego.parse_module', `${err.code}: ${err.detail}`);
      throw err;
    }
    return fromJSON(moduleJSON(m));
  },
});

// ── OPA's AST JSON (the shape `opa parse --format json` prints), for rego.parse_module ──────────────

type AstJSON = Record<string, unknown>;

function moduleJSON(m: Module): AstJSON {
  const out: AstJSON = { package: { path: [{ type: 'var', value: 'data' }, ...m.pkg.map((p) => ({ type: 'string', value: p }))] } };
  if (m.imports.length) out.imports = m.imports.map((i) => (i.alias ? { path: termJSON(i.path), alias: i.alias } : { path: termJSON(i.path) }));
  if (m.rules.length) {
    out.rules = m.rules.map((r) => {
      const first = r.ref[0];
      const head: AstJSON = { ref: r.ref.map((t, i) => (i === 0 && t.type === 'scalar' ? { type: 'var', value: t.value } : termJSON(t))) };
      if (first?.type === 'scalar' && r.ref.length === 1) head.name = first.value;
      if (r.args) head.args = r.args.map(termJSON);
      if (r.multi && r.value) head.key = termJSON(r.value);
      else head.value = r.value ? termJSON(r.value) : { type: 'boolean', value: true };
      const rule: AstJSON = { head, body: bodyJSON(r.body) };
      if (r.isDefault) rule.default = true;
      if (r.elses.length) rule.else = r.elses.map((e) => ({ head: { value: e.value ? termJSON(e.value) : { type: 'boolean', value: true } }, body: bodyJSON(e.body) }));
      return rule;
    });
  }
  return out;
}

function bodyJSON(b: Body): AstJSON[] {
  if (b.length === 0) return [{ index: 0, terms: { type: 'boolean', value: true } }];
  return b.map((e, index) => exprJSON(e, index));
}

const op = (name: string): AstJSON => ({ type: 'ref', value: name.split('.').map((p, i) => (i === 0 ? { type: 'var', value: p } : { type: 'string', value: p })) });

function exprJSON(e: Expr, index: number): AstJSON {
  const out: AstJSON = { index };
  if (e.negated) out.negated = true;
  switch (e.kind) {
    case 'term':
      out.terms = e.term.type === 'call' ? [op(e.term.op), ...e.term.args.map(termJSON)] : termJSON(e.term);
      break;
    case 'unify':
      out.terms = [op(e.assign ? 'assign' : 'eq'), termJSON(e.left), termJSON(e.right)];
      break;
    case 'some':
      out.terms = { type: 'some', value: e.vars.map(termJSON) };
      break;
    case 'somein':
      out.terms = { type: 'some', value: [{ type: 'call', value: [op(e.key ? 'internal.member_3' : 'internal.member_2'), ...(e.key ? [termJSON(e.key)] : []), termJSON(e.value), termJSON(e.domain)] }] };
      break;
    case 'every':
      out.terms = { type: 'every', value: { key: e.key ? termJSON(e.key) : null, value: termJSON(e.value), domain: termJSON(e.domain), body: bodyJSON(e.body) } };
      break;
  }
  if (e.withs.length) out.with = e.withs.map((w) => ({ target: termJSON(w.target), value: termJSON(w.value) }));
  return out;
}

function termJSON(t: Term): AstJSON {
  switch (t.type) {
    case 'scalar': {
      const v = t.value as Value;
      return { type: typeName(v), value: v };
    }
    case 'var':
      return { type: 'var', value: t.name };
    case 'ref':
      return { type: 'ref', value: [termJSON(t.head), ...t.path.map(termJSON)] };
    case 'array':
    case 'set':
      return { type: t.type, value: t.items.map(termJSON) };
    case 'object':
      return { type: 'object', value: t.items.map(([k, v]) => [termJSON(k), termJSON(v)]) };
    case 'call':
      return { type: 'call', value: [op(t.op), ...t.args.map(termJSON)] };
    case 'arraycompr':
      return { type: 'arraycomprehension', value: { term: termJSON(t.head), body: bodyJSON(t.body) } };
    case 'setcompr':
      return { type: 'setcomprehension', value: { term: termJSON(t.head), body: bodyJSON(t.body) } };
    case 'objectcompr':
      return { type: 'objectcomprehension', value: { key: termJSON(t.key), value: termJSON(t.value), body: bodyJSON(t.body) } };
    case 'template':
      return { type: 'templatestring', value: t.parts.map((p) => (typeof p === 'string' ? { type: 'string', value: p } : termJSON(p))) };
  }
}
