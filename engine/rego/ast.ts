// Rego abstract syntax (OPA's ast package, trimmed to what evaluation needs). Every node keeps its location so that
// errors and explanations can point at file:row:col.
import type { CallTarget, RulePlan } from './eval.ts';
import type { Value } from './value.ts';

export interface Location {
  file: string;
  row: number;
  col: number;
}

/** An error with OPA's code (`rego_parse_error`, `eval_conflict_error`, …) and location; message prints like OPA. */
export class RegoError extends Error {
  /** Every error of the failing step, this one first (OPA reports e.g. each unsafe variable); usually just this. */
  readonly all: readonly RegoError[];

  constructor(
    readonly code: string,
    readonly detail: string,
    readonly location?: Location,
    more: readonly RegoError[] = [],
  ) {
    super(location ? `${location.file}:${location.row}: ${code}: ${detail}` : `${code}: ${detail}`);
    this.name = 'RegoError';
    this.all = [this, ...more];
  }
}

export type Term =
  | { type: 'scalar'; value: Value; loc: Location }
  | { type: 'var'; name: string; loc: Location }
  | { type: 'ref'; head: Term; path: Term[]; loc: Location; rulePlan?: RulePlan }
  | { type: 'array'; items: Term[]; loc: Location }
  | { type: 'set'; items: Term[]; loc: Location }
  | { type: 'object'; items: Array<[Term, Term]>; loc: Location }
  | { type: 'arraycompr'; head: Term; body: Body; loc: Location }
  | { type: 'setcompr'; head: Term; body: Body; loc: Location }
  | { type: 'objectcompr'; key: Term; value: Term; body: Body; loc: Location }
  /** `op` is the dotted name as written (`count`, `data.lib.f`); the compiler resolves it. */
  | { type: 'call'; op: string; args: Term[]; loc: Location; target?: { root: object; target: CallTarget } }
  | { type: 'template'; parts: Array<string | Term>; loc: Location };

export interface WithModifier {
  target: Term;
  value: Term;
  loc: Location;
}

export type ExprBody =
  | { kind: 'term'; term: Term }
  | { kind: 'unify'; left: Term; right: Term; assign: boolean }
  | { kind: 'some'; vars: Term[] }
  | { kind: 'somein'; key: Term | null; value: Term; domain: Term }
  | { kind: 'every'; key: Term | null; value: Term; domain: Term; body: Body };

export type Expr = ExprBody & { negated: boolean; withs: WithModifier[]; loc: Location };

export type Body = Expr[];

export interface ElseClause {
  value: Term | null;
  body: Body;
  loc: Location;
}

export interface Rule {
  /** Head reference after `data.<package>`, e.g. `p[q].r` is [scalar "p", var q, scalar "r"]. */
  ref: Term[];
  args: Term[] | null;
  /** null means `true`. */
  value: Term | null;
  /** `contains`: a multi-value rule (partial set at its ref). */
  multi: boolean;
  isDefault: boolean;
  body: Body;
  elses: ElseClause[];
  loc: Location;
  /** The rule's `# METADATA` block (scope made explicit), if it has one. */
  annotations?: Record<string, unknown>;
}

export interface Import {
  path: Term;
  alias: string | null;
  loc: Location;
}

export interface Module {
  file: string;
  pkg: string[];
  pkgLoc: Location;
  imports: Import[];
  rules: Rule[];
  /** The package's `# METADATA` block, if it has one. */
  annotations?: Record<string, unknown>;
}

/** A var or a ref through string keys as its names (`data.a.b` → data, a, b); null for any other term. */
export function refParts(t: Term): string[] | null {
  if (t.type === 'var') return [t.name];
  if (t.type !== 'ref' || t.head.type !== 'var') return null;
  const out = [t.head.name];
  for (const p of t.path) {
    if (p.type !== 'scalar' || typeof p.value !== 'string') return null;
    out.push(p.value);
  }
  return out;
}

/** Which vars a walk collects: also those inside closures (comprehensions, `every`), also those `some` declares. */
export interface VarScope {
  closures: boolean;
  declared: boolean;
}
const ALL_VARS: VarScope = { closures: true, declared: true };

/** Vars of a term; with `closures` false, not those inside comprehensions (they have their own scope). */
export function varsOf(t: Term, out = new Set<string>(), closures = true): Set<string> {
  switch (t.type) {
    case 'var':
      out.add(t.name);
      break;
    case 'ref':
      varsOf(t.head, out, closures);
      for (const p of t.path) varsOf(p, out, closures);
      break;
    case 'array':
    case 'set':
      for (const x of t.items) varsOf(x, out, closures);
      break;
    case 'object':
      for (const [k, v] of t.items) {
        varsOf(k, out, closures);
        varsOf(v, out, closures);
      }
      break;
    case 'call':
      for (const a of t.args) varsOf(a, out, closures);
      break;
    case 'template':
      for (const p of t.parts) if (typeof p !== 'string') varsOf(p, out, closures);
      break;
    case 'arraycompr':
    case 'setcompr':
      if (!closures) break;
      varsOf(t.head, out);
      bodyVars(t.body, out);
      break;
    case 'objectcompr':
      if (!closures) break;
      varsOf(t.key, out);
      varsOf(t.value, out);
      bodyVars(t.body, out);
      break;
  }
  return out;
}

export function exprVars(e: Expr, out = new Set<string>(), scope: VarScope = ALL_VARS): Set<string> {
  const term = (t: Term): void => void varsOf(t, out, scope.closures);
  switch (e.kind) {
    case 'term':
      term(e.term);
      break;
    case 'unify':
      term(e.left);
      term(e.right);
      break;
    case 'some':
      if (scope.declared) for (const v of e.vars) term(v);
      break;
    case 'somein':
      if (e.key) term(e.key);
      term(e.value);
      term(e.domain);
      break;
    case 'every':
      // the key, value and body of `every` are a closure: only its domain is evaluated in the enclosing body
      if (scope.closures && e.key) term(e.key);
      if (scope.closures) term(e.value);
      term(e.domain);
      if (scope.closures) bodyVars(e.body, out, scope);
      break;
  }
  for (const w of e.withs) term(w.value);
  return out;
}

export function bodyVars(b: Body, out = new Set<string>(), scope: VarScope = ALL_VARS): Set<string> {
  for (const e of b) exprVars(e, out, scope);
  return out;
}
