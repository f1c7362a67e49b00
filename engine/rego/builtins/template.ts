// Builtins: strings.render_template
// The subset of Go's text/template that policies use: fields and variables, pipelines with `|`, if/else if/else,
// range (with index/value variables and else), with, variable declarations, comments, trim markers, and the
// builtin functions and, or, not, len, index, eq, ne, lt, le, gt, ge, print, printf, println.
import { register, T, BuiltinError, expectObject, expectString } from './registry.ts';
import { RObject, RSet, compare, equal, formatNumber, isNumber, toDouble } from '../value.ts';
import type { Value } from '../value.ts';

const NAME = 'strings.render_template';
/** What a missing map key prints as (OPA renders it so instead of Go's `<no value>`). */
const MISSING = '<undefined>';

class TemplateError extends Error {}

// ── parse ───────────────────────────────────────────────────────────────────────────────────────

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; pipe: Pipeline; then: Node[]; otherwise: Node[] }
  | { kind: 'range'; vars: string[]; pipe: Pipeline; then: Node[]; otherwise: Node[] };

interface Pipeline {
  decl: string[];
  assign: boolean;
  commands: Arg[][];
}

type Arg =
  | { kind: 'field'; base: 'dot' | string; path: string[] }
  | { kind: 'lit'; value: Value | undefined }
  | { kind: 'fn'; name: string }
  | { kind: 'sub'; pipe: Pipeline };

function tokenize(src: string): Array<{ text: string } | { action: string }> {
  const out: Array<{ text: string } | { action: string }> = [];
  let at = 0;
  while (at < src.length) {
    const open = src.indexOf('{{', at);
    if (open < 0) {
      out.push({ text: src.slice(at) });
      break;
    }
    let text = src.slice(at, open);
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    const close = findClose(src, start);
    let body = src.slice(start, close);
    let next = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      const m = /^\s*/.exec(src.slice(next)) as RegExpExecArray;
      next += m[0].length;
    }
    if (text) out.push({ text });
    const action = body.trim();
    if (!(action.startsWith('/*') && action.endsWith('*/'))) out.push({ action });
    at = next;
  }
  return out;
}

function findClose(src: string, from: number): number {
  let quote = '';
  for (let i = from; i < src.length; i++) {
    const ch = src[i] as string;
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = '';
    } else if (ch === '"' || ch === '`' || ch === "'") quote = ch;
    else if (src.startsWith('}}', i)) return i;
  }
  throw new TemplateError('unclosed action');
}

function words(action: string): string[] {
  const re = /"(?:[^"\\]|\\.)*"|`[^`]*`|'(?:[^'\\]|\\.)*'|:=|=|\||\(|\)|,|[^\s|(),=:]+(?::(?!=)[^\s|(),=:]*)*/g;
  return action.match(re) ?? [];
}

function parsePipeline(ws: string[]): Pipeline {
  let decl: string[] = [];
  let assign = false;
  const op = ws.findIndex((w) => w === ':=' || w === '=');
  if (op > 0 && ws.slice(0, op).every((w) => w === ',' || w.startsWith('$'))) {
    decl = ws.slice(0, op).filter((w) => w !== ',');
    assign = ws[op] === '=';
    ws = ws.slice(op + 1);
  }
  const commands: Arg[][] = [[]];
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i] as string;
    if (w === '|') {
      commands.push([]);
      continue;
    }
    if (w === '(') {
      let depth = 1;
      let j = i + 1;
      for (; j < ws.length && depth > 0; j++) depth += ws[j] === '(' ? 1 : ws[j] === ')' ? -1 : 0;
      (commands[commands.length - 1] as Arg[]).push({ kind: 'sub', pipe: parsePipeline(ws.slice(i + 1, j - 1)) });
      i = j - 1;
      continue;
    }
    (commands[commands.length - 1] as Arg[]).push(parseArg(w));
  }
  if (commands.some((c) => c.length === 0)) throw new TemplateError('missing command in pipeline');
  return { decl, assign, commands };
}

function parseArg(w: string): Arg {
  if (w === '.') return { kind: 'field', base: 'dot', path: [] };
  if (w.startsWith('.')) return { kind: 'field', base: 'dot', path: w.slice(1).split('.') };
  if (w.startsWith('$')) {
    const [v, ...path] = w.split('.');
    return { kind: 'field', base: v as string, path };
  }
  if (w.startsWith('"')) return { kind: 'lit', value: JSON.parse(w) as string };
  if (w.startsWith('`')) return { kind: 'lit', value: w.slice(1, -1) };
  if (w === 'true' || w === 'false') return { kind: 'lit', value: w === 'true' };
  if (w === 'nil') return { kind: 'lit', value: null };
  if (/^[-+]?(\d|\.\d)/.test(w)) return { kind: 'lit', value: Number(w) };
  if (/^[A-Za-z_]\w*$/.test(w)) return { kind: 'fn', name: w };
  throw new TemplateError(`unexpected "${w}" in command`);
}

function parseTemplate(src: string): Node[] {
  const tokens = tokenize(src);
  let at = 0;
  const control = (head: 'if' | 'with' | 'range', ws: string[]): Node => {
    const pipe = parsePipeline(ws);
    const then = block();
    let otherwise: Node[] = [];
    const rest = words(then.end).slice(1);
    if (then.end.startsWith('else') && (rest[0] === 'if' || rest[0] === 'with')) {
      // `else if x` is an if nested in the else branch that shares the outer `end`
      otherwise = [control(rest[0], rest.slice(1))];
    } else if (then.end.startsWith('else')) {
      const e = block();
      otherwise = e.nodes;
      if (e.end !== 'end') throw new TemplateError(`expected end; found ${e.end || 'EOF'}`);
    } else if (then.end !== 'end') throw new TemplateError('unexpected EOF');
    if (head !== 'range') return { kind: head, pipe, then: then.nodes, otherwise };
    const { decl, ...plain } = pipe;
    return { kind: 'range', vars: decl, pipe: { ...plain, decl: [] }, then: then.nodes, otherwise };
  };
  const block = (): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (at < tokens.length) {
      const tok = tokens[at++] as { text: string } | { action: string };
      if ('text' in tok) {
        nodes.push({ kind: 'text', text: tok.text });
        continue;
      }
      const ws = words(tok.action);
      const head = ws[0];
      if (head === 'end' || head === 'else') return { nodes, end: tok.action };
      if (head === 'if' || head === 'with' || head === 'range') nodes.push(control(head, ws.slice(1)));
      else nodes.push({ kind: 'action', pipe: parsePipeline(ws) });
    }
    return { nodes, end: '' };
  };
  const top = block();
  if (top.end) throw new TemplateError(`unexpected {{${top.end}}}`);
  return top.nodes;
}

// ── execute ─────────────────────────────────────────────────────────────────────────────────────

type Scope = Array<Map<string, Value | undefined>>;

function lookupVar(scope: Scope, name: string): Value | undefined {
  for (let i = scope.length - 1; i >= 0; i--) if ((scope[i] as Map<string, Value | undefined>).has(name)) return (scope[i] as Map<string, Value | undefined>).get(name);
  throw new TemplateError(`undefined variable: ${name}`);
}

function field(v: Value | undefined, key: string): Value | undefined {
  if (v instanceof RObject) return v.get(key);
  if (v === undefined || v === null) return undefined;
  throw new TemplateError(`can't evaluate field ${key} in type ${typeof v}`);
}

function truthy(v: Value | undefined): boolean {
  if (v === undefined || v === null || v === false || v === '' || v === 0 || v === 0n) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof RObject || v instanceof RSet) return v.size > 0;
  return true;
}

/** Go's `%v` for the JSON-like values a template sees. */
function show(v: Value | undefined): string {
  if (v === undefined) return MISSING;
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (isNumber(v)) return formatNumber(v);
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  if (v instanceof RSet) return `[${v.sorted().map(show).join(' ')}]`;
  return `map[${v.sortedEntries().map(([k, x]) => `${show(k)}:${show(x)}`).join(' ')}]`;
}

function length(v: Value | undefined): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof RObject || v instanceof RSet) return v.size;
  throw new TemplateError(`len of type ${typeof v}`);
}

function printf(format: string, args: Array<Value | undefined>): string {
  let i = 0;
  return format.replace(/%([-+# 0]*\d*(?:\.\d+)?)([vdsqtfgx%])/g, (_m, _flags: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    if (verb === 'q') return JSON.stringify(show(a));
    if (verb === 'x' && typeof a === 'string') return Buffer.from(a).toString('hex');
    if (verb === 'x' && a !== undefined && isNumber(a)) return a.toString(16);
    return show(a);
  });
}

function callFn(name: string, args: Array<Value | undefined>): Value | undefined {
  const cmp = (): number => compare(args[0] ?? null, args[1] ?? null);
  switch (name) {
    case 'and':
      return args.find((a) => !truthy(a)) ?? args[args.length - 1];
    case 'or':
      return args.find((a) => truthy(a)) ?? args[args.length - 1];
    case 'not':
      return !truthy(args[0]);
    case 'len':
      return length(args[0]);
    case 'index': {
      let v = args[0];
      for (const k of args.slice(1)) v = Array.isArray(v) && isNumber(k ?? null) ? v[Number(toDouble(k as number))] : field(v, show(k));
      return v;
    }
    case 'eq':
      return args.slice(1).some((a) => equal(args[0] ?? null, a ?? null));
    case 'ne':
      return !equal(args[0] ?? null, args[1] ?? null);
    case 'lt':
      return cmp() < 0;
    case 'le':
      return cmp() <= 0;
    case 'gt':
      return cmp() > 0;
    case 'ge':
      return cmp() >= 0;
    case 'print':
      return args.map(show).join('');
    case 'println':
      return `${args.map(show).join(' ')}\n`;
    case 'printf':
      return printf(show(args[0]), args.slice(1));
  }
  throw new TemplateError(`function "${name}" not defined`);
}

function evalArg(arg: Arg, dot: Value | undefined, scope: Scope): Value | undefined {
  switch (arg.kind) {
    case 'lit':
      return arg.value;
    case 'sub':
      return evalPipeline(arg.pipe, dot, scope);
    case 'fn':
      return callFn(arg.name, []);
    case 'field': {
      let v = arg.base === 'dot' ? dot : lookupVar(scope, arg.base);
      for (const k of arg.path) v = field(v, k);
      return v;
    }
  }
}

function evalPipeline(pipe: Pipeline, dot: Value | undefined, scope: Scope): Value | undefined {
  let result: Value | undefined;
  pipe.commands.forEach((cmd, i) => {
    const [head, ...rest] = cmd as [Arg, ...Arg[]];
    const args = rest.map((a) => evalArg(a, dot, scope));
    if (i > 0) args.push(result);
    if (head.kind === 'fn') result = callFn(head.name, args);
    else if (args.length > 0) throw new TemplateError("can't give argument to non-function");
    else result = evalArg(head, dot, scope);
  });
  for (const name of pipe.decl) {
    if (pipe.assign) lookupVar(scope, name);
    const frame = pipe.assign ? scope.findLast((f) => f.has(name)) : scope[scope.length - 1];
    (frame as Map<string, Value | undefined>).set(name, result);
  }
  return result;
}

function execute(nodes: Node[], dot: Value | undefined, scope: Scope, out: string[]): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out.push(node.text);
        break;
      case 'action': {
        const v = evalPipeline(node.pipe, dot, scope);
        if (node.pipe.decl.length === 0) out.push(show(v));
        break;
      }
      case 'if':
      case 'with': {
        scope.push(new Map());
        const v = evalPipeline(node.pipe, dot, scope);
        if (truthy(v)) execute(node.then, node.kind === 'with' ? v : dot, scope, out);
        else execute(node.otherwise, dot, scope, out);
        scope.pop();
        break;
      }
      case 'range': {
        const v = evalPipeline(node.pipe, dot, scope);
        const items: ReadonlyArray<readonly [Value, Value]> = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : v instanceof RObject
            ? v.sortedEntries()
            : v instanceof RSet
              ? v.sorted().map((x, i) => [i, x])
              : [];
        if (v !== undefined && v !== null && !Array.isArray(v) && !(v instanceof RObject) && !(v instanceof RSet)) {
          throw new TemplateError(`range can't iterate over ${show(v)}`);
        }
        if (items.length === 0) execute(node.otherwise, dot, scope, out);
        for (const [k, x] of items) {
          const frame = new Map<string, Value | undefined>();
          if (node.vars.length === 1) frame.set(node.vars[0] as string, x);
          if (node.vars.length === 2) frame.set(node.vars[0] as string, k).set(node.vars[1] as string, x);
          scope.push(frame);
          execute(node.then, x, scope, out);
          scope.pop();
        }
        break;
      }
    }
  }
}

/** Render a Go text/template against the given variables. */
export function renderTemplate(src: string, vars: RObject): string {
  const out: string[] = [];
  execute(parseTemplate(src), vars, [new Map([['$', vars]])], out);
  return out.join('');
}

register({
  name: NAME,
  sig: { args: [T.string, T.object(T.string, T.any)], result: T.string },
  fn([tmpl, vars]) {
    const src = expectString(NAME, 1, tmpl as Value);
    const data = expectObject(NAME, 2, vars as Value);
    try {
      return renderTemplate(src, data);
    } catch (e) {
      if (e instanceof TemplateError) throw new BuiltinError(NAME, `template: ${e.message}`);
      throw e;
    }
  },
});
