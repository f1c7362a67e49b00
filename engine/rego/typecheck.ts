// Rego type checker (OPA's ast/check.go, the common cases): infers term types bottom-up and reports builtin calls
// whose arguments certainly cannot match the builtin's signature, and unifications of certainly different types.
// It is deliberately conservative: whatever it cannot type is `any`, and `any` is compatible with everything, so a
// policy OPA accepts is never rejected here (a missed error is acceptable, a false one is not).
import { RegoError } from './ast.ts';
import type { Body, Expr, Location, Term } from './ast.ts';
import { lookupBuiltin } from './builtins/index.ts';
import type { CompiledRule, RuleNode } from './compile.ts';
import { RObject, RSet, typeName } from './value.ts';
import type { Value } from './value.ts';

/** A static type: a signature type, or the precise type of a literal (`array<number, string>`, `object<a: number>`). */
export type Ty =
  | { type: 'any' | 'null' | 'boolean' | 'number' | 'string' }
  | { type: 'array'; of?: Ty }
  | { type: 'set'; of?: Ty }
  | { type: 'object'; key?: Ty; value?: Ty }
  | { type: 'union'; of: Ty[] }
  | { type: 'tuple'; items: Ty[] }
  | { type: 'record'; fields: Array<[string, Ty]> };


const ANY: Ty = { type: 'any' };

/** A `rego_type_error` with OPA's detail lines (`have: …`, `want: …`), printed below the message as `opa check` does. */
export class RegoTypeError extends RegoError {
  constructor(
    detail: string,
    location: Location,
    readonly details: string[],
    more: readonly RegoError[] = [],
  ) {
    super('rego_type_error', detail, location, more);
    this.message += details.map((l) => `\n\t${l}`).join('');
  }
}

// ── types ────────────────────────────────────────────────────────────────────────────────────

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'set' | 'object';

/** The kinds a type admits; null means any kind (`any`, or a union holding `any`). */
function kindsOf(t: Ty): Set<Kind> | null {
  switch (t.type) {
    case 'any':
      return null;
    case 'union': {
      const out = new Set<Kind>();
      for (const m of t.of) {
        const k = kindsOf(m);
        if (!k) return null;
        for (const x of k) out.add(x);
      }
      return out;
    }
    case 'tuple':
      return new Set(['array']);
    case 'record':
      return new Set(['object']);
    default:
      return new Set([t.type]);
  }
}

/** False only when no value of `have` can be a value of `want` (compared by kind: element types never reject). */
export function compatible(have: Ty, want: Ty): boolean {
  const h = kindsOf(have);
  const w = kindsOf(want);
  if (!h || !w) return true;
  for (const k of h) if (w.has(k)) return true;
  return false;
}

/** OPA's type notation: `number`, `array[string]`, `array<number, string>`, `object[string: any]`, `any<number, set[any]>`. */
export function formatType(t: Ty): string {
  switch (t.type) {
    case 'array':
      return `array[${formatType(t.of ?? ANY)}]`;
    case 'set':
      return `set[${formatType(t.of ?? ANY)}]`;
    case 'object':
      return `object[${formatType(t.key ?? ANY)}: ${formatType(t.value ?? ANY)}]`;
    case 'union':
      return `any<${t.of.map(formatType).join(', ')}>`;
    case 'tuple':
      return t.items.length ? `array<${t.items.map(formatType).join(', ')}>` : 'array';
    case 'record':
      return t.fields.length ? `object<${t.fields.map(([k, v]) => `${k}: ${formatType(v)}`).join(', ')}>` : 'object';
    default:
      return t.type;
  }
}

/** Union of types, `any` absorbing everything (OPA's types.Or). */
function or(types: Ty[]): Ty {
  const out: Ty[] = [];
  const seen = new Set<string>();
  for (const t of types) {
    const members = t.type === 'union' ? t.of : [t];
    for (const m of members) {
      if (m.type === 'any') return ANY;
      const key = formatType(m);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(m);
      }
    }
  }
  if (out.length === 0) return ANY;
  return out.length === 1 ? (out[0] as Ty) : { type: 'union', of: out };
}

/** The type of a constant (OPA types literals precisely: `[1, "a"]` is `array<number, string>`). */
export function typeOfValue(v: Value): Ty {
  const k = typeName(v);
  if (Array.isArray(v)) return { type: 'tuple', items: v.map(typeOfValue) };
  if (v instanceof RSet) return { type: 'set', of: or([...v].map(typeOfValue)) };
  if (v instanceof RObject) return { type: 'object' };
  return { type: k } as Ty;
}

// ── environments ─────────────────────────────────────────────────────────────────────────────

/** Types of local vars in one body; `seen` holds every var already mentioned (bound by something we may not model). */
class TypeEnv {
  readonly types: Map<string, Ty>;
  readonly seen: Set<string>;
  constructor(parent?: TypeEnv) {
    this.types = new Map(parent?.types);
    this.seen = new Set(parent?.seen);
  }
}

/** Checks a rule tree; rule types (used where rules are referenced) come from checked rule values. */
export class TypeChecker {
  readonly errors: RegoTypeError[] = [];
  private readonly nodeTypes = new Map<RuleNode, Ty>();
  private readonly inProgress = new Set<RuleNode>();

  /** `inputType`: the type of `input` (from a JSON Schema, as `opa check --schema`); unknown when absent. */
  constructor(
    private readonly root: RuleNode,
    private readonly inputType?: Ty,
  ) {}

  /** Check every rule of the tree (each node once, dependencies first, as OPA checks rules in dependency order). */
  checkTree(node: RuleNode = this.root): void {
    this.typeOfNode(node);
    for (const c of node.children.values()) this.checkTree(c);
  }

  checkQuery(body: Body): void {
    this.checkBody(body, new TypeEnv());
  }

  /** The type of `data.<node path>`: the union of its rules' value types when it is a plain rule, else any. */
  private typeOfNode(node: RuleNode): Ty {
    const known = this.nodeTypes.get(node);
    if (known) return known;
    if (this.inProgress.has(node)) return ANY;
    this.inProgress.add(node);
    const before = this.errors.length;
    const values: Ty[] = [];
    for (const r of node.rules) values.push(...this.checkRule(r));
    // a rule whose body holds an error is `any` to its users, so one mistake is reported once (as OPA does)
    const plain = node.rules.length > 0 && node.children.size === 0 && !node.isFunction;
    const t = this.errors.length > before || !plain ? ANY : or(values);
    this.inProgress.delete(node);
    this.nodeTypes.set(node, t);
    return t;
  }

  /** Checks a rule's clauses; returns the type of each value it can produce. */
  private checkRule(r: CompiledRule): Ty[] {
    const out: Ty[] = [];
    const clauses = [{ value: r.value, body: r.body }, ...r.elses];
    for (const c of clauses) {
      const env = new TypeEnv();
      for (const a of r.args ?? []) for (const v of varNames(a)) env.seen.add(v);
      this.checkBody(c.body, env);
      for (const s of r.suffix) this.typeOf(s, env);
      const vt = c.value ? this.typeOf(c.value, env) : ({ type: 'boolean' } as Ty);
      // `s contains v`: the document is a set of the values' types (OPA types partial sets so, `count(s)` is fine)
      if (r.multi) out.push(r.suffix.length ? ANY : { type: 'set', of: vt });
      else if (r.suffix.length || r.args) out.push(ANY);
      else out.push(vt);
    }
    return out;
  }

  private checkBody(body: Body, env: TypeEnv): void {
    for (const e of body) this.checkExpr(e, env);
  }

  private checkExpr(e: Expr, env: TypeEnv): void {
    // `with` may replace builtins and documents; leave such expressions to evaluation
    if (e.withs.length) {
      markSeen(e, env);
      return;
    }
    switch (e.kind) {
      case 'term':
        this.typeOf(e.term, env);
        break;
      case 'unify': {
        const lt = this.typeOf(e.left, env);
        const rt = this.typeOf(e.right, env);
        const lv = e.left.type === 'var' && !env.seen.has(e.left.name) ? e.left.name : null;
        const rv = e.right.type === 'var' && !env.seen.has(e.right.name) ? e.right.name : null;
        if (e.negated) break;
        if (lv && !rv) env.types.set(lv, rt);
        else if (rv && !lv) env.types.set(rv, lt);
        else if (!lv && !rv && isTyped(e.left, env) && isTyped(e.right, env) && !compatible(lt, rt)) {
          this.errors.push(new RegoTypeError('match error', e.loc, [`left  : ${formatType(lt)}`, `right : ${formatType(rt)}`]));
        }
        break;
      }
      case 'somein': {
        const dt = this.typeOf(e.domain, env);
        // `some x in "a string"`: OPA rewrites it to a ref into the domain, and a scalar cannot be dereferenced
        const kinds = kindsOf(dt);
        if (!e.negated && kinds && kinds.size > 0 && isTyped(e.domain, env) && [...kinds].every((k) => SCALAR_KINDS.has(k))) {
          const key = e.key ? termText(e.key) : '_';
          this.errors.push(new RegoTypeError(`undefined ref: ${termText(e.domain)}[${key}]`, e.loc, [`have: ${formatType(dt)}`]));
        }
        // as OPA's rewrite `x = domain[k]`: a fresh value (and key) variable has the domain's element (and key) type
        if (!e.negated) {
          if (e.value.type === 'var' && !env.seen.has(e.value.name)) env.types.set(e.value.name, elementType(dt));
          if (e.key?.type === 'var' && !env.seen.has(e.key.name)) env.types.set(e.key.name, keyType(dt));
        }
        break;
      }
      case 'every': {
        this.typeOf(e.domain, env);
        const inner = new TypeEnv(env);
        if (e.key) markTerm(e.key, inner);
        markTerm(e.value, inner);
        this.checkBody(e.body, inner);
        break;
      }
      case 'some':
        break;
    }
    markSeen(e, env);
  }

  /** The type of a term in `env`, checking every call inside it on the way. */
  typeOf(t: Term, env: TypeEnv): Ty {
    switch (t.type) {
      case 'scalar':
        return typeOfValue(t.value);
      case 'var':
        return env.types.get(t.name) ?? ANY;
      case 'ref': {
        for (const p of t.path) this.typeOf(p, env);
        if (t.head.type === 'var' && t.head.name === 'data') return this.typeOfDataRef(t);
        if (t.head.type === 'var' && t.head.name === 'input' && this.inputType) return this.select(this.inputType, t, 0);
        const head = this.typeOf(t.head, env);
        // a local whose type is known (`some h in input.xs`, `x := [1, 2]`): the ref is checked against it
        if (t.head.type === 'var' && env.types.has(t.head.name)) return this.select(head, t, 0);
        return ANY;
      }
      case 'array':
        return { type: 'tuple', items: t.items.map((x) => this.typeOf(x, env)) };
      case 'set':
        return { type: 'set', of: or(t.items.map((x) => this.typeOf(x, env))) };
      case 'object': {
        const fields: Array<[string, Ty]> = [];
        let dynamic = false;
        for (const [k, v] of t.items) {
          this.typeOf(k, env);
          const vt = this.typeOf(v, env);
          if (k.type === 'scalar' && typeof k.value === 'string') fields.push([k.value, vt]);
          else dynamic = true;
        }
        return dynamic ? { type: 'object' } : { type: 'record', fields: fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
      }
      case 'template':
        for (const p of t.parts) if (typeof p !== 'string') this.typeOf(p, env);
        return { type: 'string' };
      case 'arraycompr': {
        const inner = new TypeEnv(env);
        this.checkBody(t.body, inner);
        return { type: 'array', of: this.typeOf(t.head, inner) };
      }
      case 'setcompr': {
        const inner = new TypeEnv(env);
        this.checkBody(t.body, inner);
        return { type: 'set', of: this.typeOf(t.head, inner) };
      }
      case 'objectcompr': {
        const inner = new TypeEnv(env);
        this.checkBody(t.body, inner);
        return { type: 'object', key: this.typeOf(t.key, inner), value: this.typeOf(t.value, inner) };
      }
      case 'call':
        return this.checkCall(t, env);
    }
  }

  /**
   * A ref to a rule (`data.pkg.p`) has the rule's type, and a ref into it (`data.pkg.xs[5]`) is checked against that
   * type as OPA does; anything else under `data` is `any`.
   */
  private typeOfDataRef(ref: Extract<Term, { type: 'ref' }>): Ty {
    let node: RuleNode | undefined = this.root;
    const path = ref.path;
    for (let i = 0; i < path.length; i++) {
      const p = path[i] as Term;
      if (p.type !== 'scalar' || typeof p.value !== 'string') return ANY;
      node = node.children.get(p.value);
      if (!node) return ANY;
      if (node.rules.length && !node.isFunction) return this.select(this.typeOfNode(node), ref, i + 1);
    }
    return node === this.root ? ANY : this.typeOfNode(node);
  }

  /**
   * The type of `ref.path[from..]` applied to a value of type `t`; a step that certainly fails (a key into a scalar, an
   * array index out of range or not a number, a key an object certainly lacks) is OPA's `undefined ref` type error.
   * Unions and open types are never rejected.
   */
  private select(t: Ty, ref: Extract<Term, { type: 'ref' }>, from: number): Ty {
    let cur = t;
    for (let i = from; i < ref.path.length; i++) {
      const p = ref.path[i] as Term;
      const key = p.type === 'scalar' ? p.value : undefined;
      const constant = p.type === 'scalar';
      const fail = (details: string[]): Ty => {
        this.errors.push(new RegoTypeError(`undefined ref: ${termText(ref)}`, ref.loc, [termText(ref), ...details]));
        return ANY;
      };
      switch (cur.type) {
        case 'null':
        case 'boolean':
        case 'number':
        case 'string':
          return fail([`have: ${formatType(cur)}`]);
        case 'tuple': {
          if (!constant) {
            cur = cur.items.length ? or(cur.items) : ANY;
            break;
          }
          const n = typeof key === 'number' || typeof key === 'bigint' ? Number(key) : NaN;
          if (!Number.isInteger(n)) return fail([`have: ${formatValueText(key)}`, 'want (type): number']);
          if (n < 0 || n >= cur.items.length) return fail([`have: ${n}`, `want (one of): [${cur.items.map((_, j) => j).join(' ')}]`]);
          cur = cur.items[n] as Ty;
          break;
        }
        case 'array':
          if (constant && typeof key !== 'number' && typeof key !== 'bigint') return fail([`have: ${formatValueText(key)}`, 'want (type): number']);
          cur = cur.of ?? ANY;
          break;
        case 'record': {
          if (!constant) {
            cur = cur.fields.length ? or(cur.fields.map(([, v]) => v)) : ANY;
            break;
          }
          const field = typeof key === 'string' ? cur.fields.find(([k]) => k === key) : undefined;
          if (!field) return fail([`have: ${formatValueText(key)}`, `want (one of): [${cur.fields.map(([k]) => JSON.stringify(k)).join(' ')}]`]);
          cur = field[1];
          break;
        }
        case 'object':
          cur = cur.value ?? ANY;
          break;
        case 'set':
          cur = cur.of ?? ANY;
          break;
        default:
          return ANY;
      }
    }
    return cur;
  }

  private checkCall(t: Extract<Term, { type: 'call' }>, env: TypeEnv): Ty {
    const argTypes = t.args.map((a) => this.typeOf(a, env));
    const def = t.op.startsWith('data.') ? undefined : lookupBuiltin(t.op);
    if (!def) return ANY;
    const { sig } = def;
    const want = [...sig.args];
    const outputArg = t.args.length === sig.args.length + 1 && !sig.variadic;
    if (outputArg) want.push(sig.result);
    if (t.args.length < sig.args.length || (t.args.length > want.length && !sig.variadic)) return sig.result;
    for (let i = 0; i < t.args.length; i++) {
      const w = want[i] ?? sig.variadic ?? ANY;
      const a = t.args[i] as Term;
      if (outputArg && i === want.length - 1 && a.type === 'var' && !env.seen.has(a.name)) continue;
      if (!isTyped(a, env) || compatible(argTypes[i] as Ty, w)) continue;
      // as in OPA, the call's output is an extra operand: `???` while it is still untyped, and the result is wanted
      const haves = t.args.map((x, j) => (x.type === 'var' && !env.seen.has(x.name) && !env.types.has(x.name) ? '???' : formatType(argTypes[j] as Ty)));
      if (!outputArg && !sig.variadic) haves.push('???');
      const wants = [...sig.args, ...(sig.variadic ? [] : [sig.result])].map(formatType);
      const have = `(${haves.join(', ')})`;
      const wanted = `(${wants.join(', ')}${sig.variadic ? `, ${formatType(sig.variadic)}...` : ''})`;
      this.errors.push(new RegoTypeError(`${t.op}: invalid argument(s)`, t.loc, [`have: ${have}`, `want: ${wanted}`]));
      return ANY;
    }
    if (outputArg) {
      const out = t.args[t.args.length - 1] as Term;
      if (out.type === 'var' && !env.seen.has(out.name)) env.types.set(out.name, sig.result);
    }
    return sig.result;
  }
}

/** Whether the checker knows the term's type for sure (an unbound var or a var bound by unmodelled means does not count). */
function isTyped(t: Term, env: TypeEnv): boolean {
  switch (t.type) {
    case 'var':
      return env.types.has(t.name);
    case 'scalar':
    case 'template':
    case 'call':
    case 'arraycompr':
    case 'setcompr':
    case 'objectcompr':
    case 'ref':
      return true;
    case 'array':
    case 'set':
    case 'object':
      // a literal's kind is certain whatever its elements are; only its kind is ever compared
      return true;
  }
}

const SCALAR_KINDS = new Set<Kind>(['null', 'boolean', 'number', 'string']);

/** The type of a collection's elements (`any` when unknown). */
function elementType(t: Ty): Ty {
  switch (t.type) {
    case 'tuple':
      return t.items.length ? or(t.items) : ANY;
    case 'array':
    case 'set':
      return t.of ?? ANY;
    case 'record':
      return t.fields.length ? or(t.fields.map(([, v]) => v)) : ANY;
    case 'object':
      return t.value ?? ANY;
    default:
      return ANY;
  }
}

/** The type of a collection's keys (`any` when unknown). */
function keyType(t: Ty): Ty {
  switch (t.type) {
    case 'tuple':
    case 'array':
      return { type: 'number' };
    case 'record':
      return { type: 'string' };
    case 'object':
      return t.key ?? ANY;
    case 'set':
      return t.of ?? ANY;
    default:
      return ANY;
  }
}

function formatValueText(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** A term as OPA prints it in a ref error (`data.p.xs[5]`, `input.a[_].b`). */
export function termText(t: Term): string {
  switch (t.type) {
    case 'scalar':
      return typeof t.value === 'string' || t.value === null || typeof t.value === 'boolean' || typeof t.value === 'number' || typeof t.value === 'bigint'
        ? formatValueText(t.value)
        : '…';
    case 'var':
      return t.name.startsWith('$') ? t.name.replace(/^\$/, '').replace(/\d+$/, '') : t.name;
    case 'ref':
      return (
        termText(t.head) +
        t.path
          .map((p) => (p.type === 'scalar' && typeof p.value === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(p.value) ? `.${p.value}` : `[${termText(p)}]`))
          .join('')
      );
    case 'call':
      return `${t.op}(${t.args.map(termText).join(', ')})`;
    case 'array':
      return `[${t.items.map(termText).join(', ')}]`;
    default:
      return '…';
  }
}

function varNames(t: Term, out: string[] = []): string[] {
  switch (t.type) {
    case 'var':
      out.push(t.name);
      break;
    case 'ref':
      varNames(t.head, out);
      for (const p of t.path) varNames(p, out);
      break;
    case 'array':
    case 'set':
      for (const x of t.items) varNames(x, out);
      break;
    case 'object':
      for (const [k, v] of t.items) {
        varNames(k, out);
        varNames(v, out);
      }
      break;
    case 'call':
      for (const a of t.args) varNames(a, out);
      break;
    case 'template':
      for (const p of t.parts) if (typeof p !== 'string') varNames(p, out);
      break;
    default:
      // comprehension locals are renamed apart and never leak into the enclosing body
      break;
  }
  return out;
}

function markTerm(t: Term, env: TypeEnv): void {
  for (const v of varNames(t)) env.seen.add(v);
}

function markSeen(e: Expr, env: TypeEnv): void {
  switch (e.kind) {
    case 'term':
      markTerm(e.term, env);
      break;
    case 'unify':
      markTerm(e.left, env);
      markTerm(e.right, env);
      break;
    case 'some':
      for (const v of e.vars) markTerm(v, env);
      break;
    case 'somein':
      if (e.key) markTerm(e.key, env);
      markTerm(e.value, env);
      markTerm(e.domain, env);
      break;
    case 'every':
      markTerm(e.domain, env);
      break;
  }
  for (const w of e.withs) markTerm(w.value, env);
}

/** OPA reports a stage's type errors together, sorted by location; throws them as one RegoError (see `all`). */
export function raiseTypeErrors(errors: RegoTypeError[]): void {
  if (errors.length === 0) return;
  const sorted = [...errors].sort((a, b) => {
    const x = a.location as Location;
    const y = b.location as Location;
    return x.file < y.file ? -1 : x.file > y.file ? 1 : x.row - y.row || x.col - y.col;
  });
  const [first, ...more] = sorted as [RegoTypeError, ...RegoTypeError[]];
  throw new RegoTypeError(first.detail, first.location as Location, first.details, more);
}

/** Type-check a compiled rule tree (OPA's checkTypes stage); throws a `rego_type_error` listing every error found. */
export function checkTypes(root: RuleNode, inputType?: Ty): void {
  const tc = new TypeChecker(root, inputType);
  tc.checkTree();
  raiseTypeErrors(tc.errors);
}

/** Type-check a compiled query body against the rule tree. */
export function checkQueryTypes(body: Body, root: RuleNode): void {
  const tc = new TypeChecker(root);
  tc.checkQuery(body);
  raiseTypeErrors(tc.errors);
}
