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

export function varsOf(t: Term, out = new Set<string>()): Set<string> {
  switch (t.type) {
    case 'var':
      out.add(t.name);
      break;
    case 'ref':
      varsOf(t.head, out);
      for (const p of t.path) varsOf(p, out);
      break;
    case 'array':
    case 'set':
      for (const x of t.items) varsOf(x, out);
      break;
    case 'object':
      for (const [k, v] of t.items) {
        varsOf(k, out);
        varsOf(v, out);
      }
      break;
    case 'call':
      for (const a of t.args) varsOf(a, out);
      break;
    case 'template':
      for (const p of t.parts) if (typeof p !== 'string') varsOf(p, out);
      break;
    case 'arraycompr':
    case 'setcompr':
      varsOf(t.head, out);
      bodyVars(t.body, out);
      break;
    case 'objectcompr':
      varsOf(t.key, out);
      varsOf(t.value, out);
      bodyVars(t.body, out);
      break;
  }
  return out;
}

export function exprVars(e: Expr, out = new Set<string>()): Set<string> {
  switch (e.kind) {
    case 'term':
      varsOf(e.term, out);
      break;
    case 'unify':
      varsOf(e.left, out);
      varsOf(e.right, out);
      break;
    case 'some':
      for (const v of e.vars) varsOf(v, out);
      break;
    case 'somein':
      if (e.key) varsOf(e.key, out);
      varsOf(e.value, out);
      varsOf(e.domain, out);
      break;
    case 'every':
      if (e.key) varsOf(e.key, out);
      varsOf(e.value, out);
      varsOf(e.domain, out);
      bodyVars(e.body, out);
      break;
  }
  for (const w of e.withs) {
    varsOf(w.value, out);
  }
  return out;
}

export function bodyVars(b: Body, out = new Set<string>()): Set<string> {
  for (const e of b) exprVars(e, out);
  return out;
}
