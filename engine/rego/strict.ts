// `arbiter check --strict` for Rego, like `opa check --strict` (OPA's ast/compile.go strict mode): an import that is
// never used, an import written twice, and a local variable assigned (`:=`) or declared (`some`) but never used are
// compile errors. It reads parsed modules only, so it stays apart from the compiler's stages.
import { RegoError, type Module, type Rule, type Term } from './ast.ts';

/** Occurrences of each variable name below a node (parsed AST: plain objects and arrays), calls by their first name. */
function countVars(node: unknown, counts: Map<string, number>): void {
  if (Array.isArray(node)) {
    for (const n of node) countVars(n, counts);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const t = node as { type?: unknown; name?: unknown; op?: unknown };
  if (t.type === 'var' && typeof t.name === 'string') counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
  if (t.type === 'call' && typeof t.op === 'string') {
    const first = t.op.split('.')[0]!;
    counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  for (const [k, v] of Object.entries(node)) if (k !== 'loc' && v && typeof v === 'object') countVars(v, counts);
}

const isWildcard = (name: string): boolean => name === '_' || name.startsWith('$') || name.startsWith('__');

/** `x := …` and `some x` (also `some x in …`) anywhere in a rule, with where they are written. */
function declaredLocals(node: unknown, out: Array<{ name: string; term: Term; how: 'assigned' | 'declared' }>): void {
  if (Array.isArray(node)) {
    for (const n of node) declaredLocals(n, out);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const e = node as { kind?: unknown; assign?: boolean; left?: Term; vars?: Term[]; key?: Term | null; value?: Term };
  if (e.kind === 'unify' && e.assign && e.left?.type === 'var') out.push({ name: e.left.name, term: e.left, how: 'assigned' });
  if (e.kind === 'some') for (const v of e.vars ?? []) if (v.type === 'var') out.push({ name: v.name, term: v, how: 'declared' });
  if (e.kind === 'somein') {
    for (const v of [e.key, e.value]) if (v?.type === 'var') out.push({ name: v.name, term: v, how: 'declared' });
  }
  for (const [k, v] of Object.entries(node)) if (k !== 'loc' && v && typeof v === 'object') declaredLocals(v, out);
}

function unusedLocals(rule: Rule): RegoError[] {
  const counts = new Map<string, number>();
  countVars(rule, counts);
  const locals: Array<{ name: string; term: Term; how: 'assigned' | 'declared' }> = [];
  declaredLocals([rule.body, rule.elses], locals);
  const errors: RegoError[] = [];
  for (const l of locals) {
    if (isWildcard(l.name) || (counts.get(l.name) ?? 0) > 1) continue;
    errors.push(new RegoError('rego_compile_error', `${l.how} var ${l.name} unused`, l.term.loc));
  }
  return errors;
}

/** The name an import binds: its alias, or the last segment of its path (`rego.v1` and `future.*` bind nothing). */
function importName(path: Term, alias: string | null): string | null {
  const parts: string[] = [];
  if (path.type === 'var') parts.push(path.name);
  else if (path.type === 'ref' && path.head.type === 'var') {
    parts.push(path.head.name);
    for (const p of path.path) if (p.type === 'scalar' && typeof p.value === 'string') parts.push(p.value);
  }
  if (parts[0] === 'rego' || parts[0] === 'future') return null;
  return alias ?? parts[parts.length - 1] ?? null;
}

const importText = (path: Term): string =>
  path.type === 'var' ? path.name : path.type === 'ref' && path.head.type === 'var' ? [path.head.name, ...path.path.map((p) => (p.type === 'scalar' ? String(p.value) : '?'))].join('.') : '?';

/** Every strict-mode error of the modules, in file and row order. */
export function strictErrors(modules: readonly Module[]): RegoError[] {
  const errors: RegoError[] = [];
  for (const m of modules) {
    const counts = new Map<string, number>();
    countVars(m.rules, counts);
    const seen = new Set<string>();
    for (const imp of m.imports) {
      const text = importText(imp.path) + (imp.alias ? ` as ${imp.alias}` : '');
      if (seen.has(text)) errors.push(new RegoError('rego_compile_error', `import ${text} is redundant`, imp.loc));
      seen.add(text);
      const name = importName(imp.path, imp.alias);
      if (name !== null && !counts.has(name)) errors.push(new RegoError('rego_compile_error', `import ${text} unused`, imp.loc));
    }
    for (const r of m.rules) errors.push(...unusedLocals(r));
  }
  return errors.sort((a, b) => (a.location?.file ?? '').localeCompare(b.location?.file ?? '') || (a.location?.row ?? 0) - (b.location?.row ?? 0) || (a.location?.col ?? 0) - (b.location?.col ?? 0));
}
