// Top-down Rego evaluation (OPA's topdown): continuation-passing search with backtracking over a binding trail.
// A continuation returns true to stop the search (negation, `every`, and early exit use it).
import { RegoError, refParts } from './ast.ts';
import type { Body, Expr, Term } from './ast.ts';
import type { CompiledRule, RuleNode } from './compile.ts';
import { BuiltinError, BuiltinHalt, checkElementCount, checkStringLength, lookupBuiltin } from './builtins/registry.ts';
import type { BuiltinContext } from './builtins/registry.ts';
import { printLine } from './builtins/runtime.ts';
import { BigNum, RObject, RSet, equal, formatNumber, formatTerm, isNumber, keyOf } from './value.ts';
import type { Value } from './value.ts';

type K = () => boolean | void;
type KV = (v: Value) => boolean | void;

export interface EvalLimits {
  /** Maximum evaluation steps (expressions entered) per query. */
  maxSteps: number;
  /** Maximum nesting of rule and function evaluation. */
  maxDepth: number;
  /** Wall-clock budget per query in milliseconds (0: none; the step budget still applies). */
  timeoutMs: number;
  /** Deepest nesting of arrays/objects accepted in plain-JSON `input` and `data`. */
  maxInputDepth: number;
  /** Most values (scalars and collections) accepted in plain-JSON `input` and `data`. */
  maxInputNodes: number;
}

export const DEFAULT_LIMITS: EvalLimits = { maxSteps: 5_000_000, maxDepth: 400, timeoutMs: 0, maxInputDepth: 1_000, maxInputNodes: 5_000_000 };

/** Called when a rule body produces a value (explanations: which rule, at which location). */
export type RuleTracer = (rule: CompiledRule, value: Value) => void;

/** A rule body's variable bindings; most bodies bind few or none, so the map is made on first binding. */
class Frame {
  private vars: Map<string, Value> | undefined = undefined;
  get(name: string): Value | undefined {
    return this.vars === undefined ? undefined : this.vars.get(name);
  }
  has(name: string): boolean {
    return this.vars !== undefined && this.vars.has(name);
  }
  set(name: string, v: Value): void {
    (this.vars ??= new Map()).set(name, v);
  }
  delete(name: string): void {
    this.vars?.delete(name);
  }
}

interface WithState {
  input: Value | undefined;
  /** Replaced data paths (`with data.x.y as v`), longest match wins. */
  dataPatches: Array<{ path: string[]; value: Value }>;
  /** Replaced functions/builtins by name (`with count as f`). */
  mocks: Map<string, Value | { fn: string }>;
  /** Node values of this evaluation by node id (UNDEFINED: computed, no value). */
  cache: Array<Value | typeof IN_PROGRESS | typeof UNDEFINED | undefined>;
}

const IN_PROGRESS = Symbol('in-progress');
const UNDEFINED = Symbol('undefined');
const NO_TERMS: Term[] = [];
const NO_RULES: CompiledRule[] = [];

/** How a rule node's value is built: one complete value, a partial set, or an object of keys and children. */
function shapeOf(node: RuleNode): 'complete' | 'set' | 'tree' {
  const rules = node.rules;
  if (rules.length && rules.every((r) => !r.multi && r.suffix.length === 0)) return 'complete';
  if (rules.length && rules.every((r) => r.multi && r.suffix.length === 0) && node.children.size === 0) return 'set';
  return 'tree';
}

type CallTerm = Extract<Term, { type: 'call' }>;
type RefTerm = Extract<Term, { type: 'ref' }>;

/** Where a constant `data` ref meets its first node with rules (or ends on a rule node): that node and the path index. */
export interface RulePlan {
  root: object;
  node: RuleNode | null;
  at: number;
}

function rulePlanOf(root: RuleNode, path: Term[]): RulePlan {
  let node = root;
  for (let i = 0; ; i++) {
    if (!node.hasRules) return { root, node: null, at: 0 };
    if (node.rules.length || i === path.length) return { root, node, at: i };
    const p = path[i] as Term;
    if (p.type !== 'scalar' || typeof p.value !== 'string') return { root, node: null, at: 0 };
    const child = node.children.get(p.value);
    if (!child) return { root, node: null, at: 0 };
    node = child;
  }
}

/** What a call runs, resolved once per call site and compiled tree. */
export type CallTarget =
  | { kind: 'user'; node: RuleNode; arity: number }
  | { kind: 'builtin'; name: string; arity: number }
  | { kind: 'value'; value: Value };

/** The outputs of one function call: every body solution must agree. */
interface Outputs {
  result: Value | undefined;
  any: boolean;
}

/** One clause of a rule being evaluated (state shared by its solutions). */
interface RuleRun {
  rule: CompiledRule;
  value: Term | null;
  suffix: Term[];
  f: Frame;
  emit: (keys: Value[], v: Value) => void;
  any: boolean;
  keys: Value[];
}

/** A term with at most one value whatever the bindings: no iteration over ref keys, no relation builtins. */
export function isPure(t: Term): boolean {
  const a = t as Term & { pure?: boolean };
  if (a.pure === undefined) a.pure = computePure(t);
  return a.pure;
}

function computePure(t: Term): boolean {
  switch (t.type) {
    case 'scalar':
    case 'var':
    case 'arraycompr':
    case 'setcompr':
    case 'objectcompr':
    case 'template':
      return true;
    case 'ref':
      // a key that is a variable or holds one in pattern position may iterate
      return isPure(t.head) && t.path.every((p) => p.type !== 'var' && p.type !== 'array' && p.type !== 'object' && isPure(p));
    case 'array':
    case 'set':
      return t.items.every(isPure);
    case 'object':
      return t.items.every(([k, v]) => isPure(k) && isPure(v));
    case 'call':
      return t.op !== 'walk' && t.op !== 'print' && t.args.every(isPure);
  }
}

function builtinTarget(name: string, t: CallTerm): CallTarget {
  const b = lookupBuiltin(name);
  return { kind: 'builtin', name, arity: b ? (b.sig.variadic ? t.args.length : b.sig.args.length) : t.args.length };
}

/** Every builtin's result within the output bounds (a last line of defence: builtins that could build a huge value check first). */
function boundedOutput(name: string, v: Value | undefined): Value | undefined {
  if (typeof v === 'string') checkStringLength(name, v.length);
  else if (Array.isArray(v)) checkElementCount(name, v.length);
  else if (v instanceof RSet || v instanceof RObject) checkElementCount(name, v.size);
  return v;
}

export class Evaluator {
  /** Bindings to undo on backtracking, as (frame, name) pairs flattened into one array. */
  private trail: Array<Frame | string> = [];
  private steps = 0;
  private depth = 0;
  private readonly deadline: number;
  /** Objects and sets this evaluation built, which insertAt may extend in place (base documents are copied first). */
  private readonly owned = new Set<object>();
  private state: WithState;

  constructor(
    private readonly root: RuleNode,
    private readonly baseData: Value,
    input: Value | undefined,
    private readonly ctx: BuiltinContext,
    private readonly limits: EvalLimits = DEFAULT_LIMITS,
    private readonly tracer?: RuleTracer,
  ) {
    this.state = { input, dataPatches: [], mocks: new Map(), cache: [] };
    this.deadline = limits.timeoutMs > 0 ? Date.now() + limits.timeoutMs : 0;
  }

  /** All solutions of a query body, as variable bindings. */
  query(body: Body, outputVars: string[]): Array<Map<string, Value>> {
    const f = new Frame();
    const out: Array<Map<string, Value>> = [];
    this.evalBody(body, 0, f, () => {
      const m = new Map<string, Value>();
      for (const v of outputVars) {
        const x = f.get(v);
        if (x !== undefined) m.set(v, x);
      }
      out.push(m);
    });
    return out;
  }

  // ── bindings ────────────────────────────────────────────────────────────────────────────────

  private bind(f: Frame, name: string, v: Value): void {
    f.set(name, v);
    this.trail.push(f, name);
  }

  private undo(mark: number): void {
    while (this.trail.length > mark) {
      const n = this.trail.pop() as string;
      (this.trail.pop() as Frame).delete(n);
    }
  }

  // ── bodies and expressions ──────────────────────────────────────────────────────────────────

  evalBody(body: Body, i: number, f: Frame, k: K): boolean {
    for (;;) {
      if (++this.steps > this.limits.maxSteps) {
        throw new RegoError('eval_cancel_error', `evaluation exceeded its step budget (${this.limits.maxSteps} steps)`, body[Math.min(i, body.length - 1)]?.loc);
      }
      // the clock is read every 4096 steps only: cheap enough to leave on
      if ((this.steps & 0xfff) === 0 && this.deadline !== 0 && Date.now() > this.deadline) {
        throw new RegoError('eval_cancel_error', `evaluation exceeded its time budget (${this.limits.timeoutMs} ms)`, body[Math.min(i, body.length - 1)]?.loc);
      }
      if (i === body.length) return k() === true;
      const e = body[i] as Expr;
      if (e.withs.length === 0 && this.state.mocks.size === 0) {
        // single-valued tests and assignments run in a loop: no continuation closure per expression
        if (e.kind === 'term' && this.isTest(e.term)) {
          const v = this.valueOf(e.term, f);
          if ((v !== undefined && v !== false) === e.negated) return false;
          i++;
          continue;
        }
        if (e.kind === 'unify' && !e.negated && e.left.type === 'var' && isPure(e.right) && this.isUnboundVar(e.left, f) && !e.left.name.startsWith('$_')) {
          const v = this.valueOf(e.right, f);
          if (v === undefined) return false;
          const mark = this.trail.length;
          this.bind(f, e.left.name, v);
          const stop = this.evalBody(body, i + 1, f, k);
          this.undo(mark);
          return stop;
        }
      }
      return this.evalExpr(e, f, () => this.evalBody(body, i + 1, f, k));
    }
  }

  /** A single-valued expression term: pure, and a call without an output argument (`count(x, n)` binds n). */
  private isTest(t: Term): boolean {
    if (!isPure(t)) return false;
    if (t.type !== 'call' || t.op === 'internal.member_2' || t.op === 'internal.member_3') return true;
    const target = this.callTarget(t, undefined);
    return target !== undefined && target.kind !== 'value' && t.args.length === target.arity;
  }

  private evalExpr(e: Expr, f: Frame, k: K): boolean {
    if (e.withs.length) return this.evalWith(e, f, k);
    if (e.negated) {
      const mark = this.trail.length;
      let found = false;
      this.evalPositive(e, f, () => {
        found = true;
        return true;
      });
      this.undo(mark);
      return found ? false : k() === true;
    }
    return this.evalPositive(e, f, k);
  }

  private evalWith(e: Expr, f: Frame, k: K): boolean {
    const saved = this.state;
    const next: WithState = {
      input: saved.input,
      dataPatches: [...saved.dataPatches],
      mocks: new Map(saved.mocks),
      cache: [],
    };
    for (const w of e.withs) {
      let value: Value | undefined;
      const mark = this.trail.length;
      this.evalTerm(w.value, f, (v) => {
        value = v;
        return true;
      });
      this.undo(mark);
      const target = w.target;
      if (target.type === 'scalar' && typeof target.value === 'string' && target.value.startsWith('builtin:')) {
        next.mocks.set(target.value.slice(8), mockOf(w.value, value));
        continue;
      }
      const parts = refPath(target);
      if (parts[0] === 'input') {
        if (value === undefined) return false;
        next.input = parts.length === 1 ? value : patch(next.input, parts.slice(1), value);
      } else {
        const fnNode = this.node(parts.slice(1));
        if (fnNode?.isFunction) next.mocks.set(parts.join('.'), mockOf(w.value, value));
        else {
          if (value === undefined) return false;
          next.dataPatches.push({ path: parts.slice(1), value });
        }
      }
    }
    const inner = { ...e, withs: [] };
    this.state = next;
    try {
      return this.evalExpr(inner, f, () => {
        this.state = saved;
        try {
          return k();
        } finally {
          this.state = next;
        }
      });
    } finally {
      this.state = saved;
    }
  }

  /** While a mock runs, every function is the original again (OPA: a mock never calls itself or another mock). */
  private withoutMock(): WithState {
    const saved = this.state;
    this.state = { ...saved, mocks: new Map(), cache: [] };
    return saved;
  }

  private node(path: string[]): RuleNode | undefined {
    let n: RuleNode | undefined = this.root;
    for (const p of path) {
      n = n.children.get(p);
      if (!n) return undefined;
    }
    return n;
  }

  private evalPositive(e: Expr, f: Frame, k: K): boolean {
    switch (e.kind) {
      case 'term': {
        const t = e.term;
        if (t.type === 'call') return this.evalCall(t, f, (v) => (v === false ? false : k()), true);
        return this.evalTerm(t, f, (v) => (v === false ? false : k()));
      }
      case 'unify':
        return this.unify(e.left, e.right, f, k);
      case 'some':
        return k() === true;
      case 'somein':
        return this.evalTerm(e.domain, f, (coll) =>
          this.iterate(coll, (key, val) => {
            const mark = this.trail.length;
            const stop =
              (e.key ? this.unifyValue(e.key, key, f, () => this.unifyValue(e.value, val, f, k)) : this.unifyValue(e.value, val, f, k));
            this.undo(mark);
            return stop;
          }),
        );
      case 'every':
        return this.evalTerm(e.domain, f, (coll) => {
          let ok = true;
          if (!(Array.isArray(coll) || coll instanceof RSet || coll instanceof RObject)) return false;
          this.iterate(coll, (key, val) => {
            const mark = this.trail.length;
            let found = false;
            if (e.key) this.unifyValue(e.key, key, f, () => this.unifyValue(e.value, val, f, () => this.evalBody(e.body, 0, f, () => ((found = true), true))));
            else this.unifyValue(e.value, val, f, () => this.evalBody(e.body, 0, f, () => ((found = true), true)));
            this.undo(mark);
            if (!found) {
              ok = false;
              return true;
            }
            return false;
          });
          return ok ? k() === true : false;
        });
    }
  }

  /** Iterate a collection as (key, value): arrays by index, objects by key, sets as (element, element). */
  private iterate(coll: Value, fn: (k: Value, v: Value) => boolean | void): boolean {
    if (Array.isArray(coll)) {
      for (let i = 0; i < coll.length; i++) if (fn(i, coll[i] as Value) === true) return true;
    } else if (coll instanceof RObject) {
      for (const [k, v] of coll.entries()) if (fn(k, v) === true) return true;
    } else if (coll instanceof RSet) {
      for (const v of coll.values()) if (fn(v, v) === true) return true;
    }
    return false;
  }

  // ── unification ─────────────────────────────────────────────────────────────────────────────

  private isUnboundVar(t: Term, f: Frame): boolean {
    return t.type === 'var' && t.name !== 'input' && t.name !== 'data' && !f.has(t.name);
  }

  /** Does `t` hold unbound variables in pattern positions (bare, or inside array/object literals)? */
  private hasPatternVars(t: Term, f: Frame): boolean {
    if (t.type === 'var') return this.isUnboundVar(t, f);
    if (t.type === 'array') return t.items.some((x) => this.hasPatternVars(x, f));
    if (t.type === 'object') return t.items.some(([, v]) => this.hasPatternVars(v, f));
    return false;
  }

  unify(a: Term, b: Term, f: Frame, k: K): boolean {
    const pa = this.hasPatternVars(a, f);
    const pb = this.hasPatternVars(b, f);
    if (!pa) return this.evalTerm(a, f, (va) => this.unifyValue(b, va, f, k));
    if (!pb) {
      if (this.direct(b)) {
        const vb = this.valueOf(b, f);
        return vb === undefined ? false : this.unifyValue(a, vb, f, k);
      }
      return this.evalTerm(b, f, (vb) => this.unifyValue(a, vb, f, k));
    }
    if (a.type === 'array' && b.type === 'array') {
      if (a.items.length !== b.items.length) return false;
      return this.unifyPairs(a.items.map((x, i) => [x, b.items[i] as Term]), f, k);
    }
    if (a.type === 'object' && b.type === 'object') {
      if (a.items.length !== b.items.length) return false;
      const pairs: Array<[Term, Term]> = [];
      for (const [ka, va] of a.items) {
        const m = b.items.find(([kb]) => kb.type === 'scalar' && ka.type === 'scalar' && equal(kb.value, ka.value));
        if (!m) return false;
        pairs.push([va, m[1]]);
      }
      return this.unifyPairs(pairs, f, k);
    }
    if (a.type === 'var' && b.type === 'var') throw new RegoError('rego_unsafe_var_error', `var ${a.name} is unsafe`, a.loc);
    return false;
  }

  private unifyPairs(pairs: Array<[Term, Term]>, f: Frame, k: K): boolean {
    if (!pairs.length) return k() === true;
    // unify a pair where one side is already evaluable first
    let idx = pairs.findIndex(([x, y]) => !this.hasPatternVars(x, f) || !this.hasPatternVars(y, f));
    if (idx < 0) idx = 0;
    const [x, y] = pairs[idx] as [Term, Term];
    const rest = pairs.filter((_, i) => i !== idx);
    return this.unify(x, y, f, () => this.unifyPairs(rest, f, k));
  }

  /** Unify term `t` (possibly with unbound vars) against a ground value. */
  unifyValue(t: Term, v: Value, f: Frame, k: K): boolean {
    switch (t.type) {
      case 'var': {
        if (t.name.startsWith('$_')) return k() === true;
        const cur = f.get(t.name);
        if (cur !== undefined) return equal(cur, v) ? k() === true : false;
        if (t.name === 'input' || t.name === 'data') return this.evalTerm(t, f, (x) => (equal(x, v) ? k() : false));
        const mark = this.trail.length;
        this.bind(f, t.name, v);
        const stop = k() === true;
        this.undo(mark);
        return stop;
      }
      case 'array': {
        if (!Array.isArray(v) || v.length !== t.items.length) return false;
        return this.unifyItems(t.items, v, 0, f, k);
      }
      case 'object': {
        if (!(v instanceof RObject) || v.size !== t.items.length) return false;
        return this.unifyEntries(t.items, v, 0, f, k);
      }
      case 'scalar':
        return equal(t.value, v) ? k() === true : false;
      default:
        return this.evalTerm(t, f, (x) => (equal(x, v) ? k() : false));
    }
  }

  private unifyItems(items: Term[], v: Value[], i: number, f: Frame, k: K): boolean {
    if (i === items.length) return k() === true;
    return this.unifyValue(items[i] as Term, v[i] as Value, f, () => this.unifyItems(items, v, i + 1, f, k));
  }

  private unifyEntries(items: Array<[Term, Term]>, v: RObject, i: number, f: Frame, k: K): boolean {
    if (i === items.length) return k() === true;
    const [kt, vt] = items[i] as [Term, Term];
    return this.evalTerm(kt, f, (key) => {
      const child = v.get(key);
      if (child === undefined) return false;
      return this.unifyValue(vt, child, f, () => this.unifyEntries(items, v, i + 1, f, k));
    });
  }

  // ── terms ───────────────────────────────────────────────────────────────────────────────────

  evalTerm(t: Term, f: Frame, k: KV): boolean {
    if (t.type !== 'scalar' && t.type !== 'var' && this.direct(t)) {
      const v = this.valueOf(t, f);
      return v === undefined ? false : k(v) === true;
    }
    return this.evalTermK(t, f, k);
  }

  /** Can `t` be evaluated without continuations? Mocks (`with f as g`) go through the general path. */
  private direct(t: Term): boolean {
    return this.state.mocks.size === 0 && isPure(t);
  }

  /** The value of a term that has at most one (isPure), or undefined; no continuation, no closure per step. */
  private valueOf(t: Term, f: Frame): Value | undefined {
    switch (t.type) {
      case 'scalar':
        return t.value;
      case 'var': {
        const v = f.get(t.name);
        if (v !== undefined) return v;
        if (t.name === 'input') return this.state.input;
        return this.single(t, f);
      }
      case 'ref': {
        const head = t.head;
        if (head.type === 'var' && !f.has(head.name)) {
          if (head.name === 'data') return this.dataValue(t, f);
          if (head.name === 'input') return this.state.input === undefined ? undefined : this.walkValue(this.state.input, t.path, 0, f);
        }
        const v = this.valueOf(head, f);
        return v === undefined ? undefined : this.walkValue(v, t.path, 0, f);
      }
      case 'array': {
        const out: Value[] = new Array(t.items.length);
        for (let i = 0; i < t.items.length; i++) {
          const v = this.valueOf(t.items[i] as Term, f);
          if (v === undefined) return undefined;
          out[i] = v;
        }
        return out;
      }
      case 'set': {
        const out = new RSet();
        for (const x of t.items) {
          const v = this.valueOf(x, f);
          if (v === undefined) return undefined;
          out.add(v);
        }
        return out;
      }
      case 'object': {
        const out = new RObject();
        for (const [kt, vt] of t.items) {
          const kv = this.valueOf(kt, f);
          if (kv === undefined) return undefined;
          const vv = this.valueOf(vt, f);
          if (vv === undefined) return undefined;
          out.set(kv, vv);
        }
        return out;
      }
      case 'call': {
        if (t.op === 'internal.member_2' || t.op === 'internal.member_3') return this.single(t, f);
        const target = this.callTarget(t, undefined) as CallTarget;
        if (target.kind !== 'value' && t.args.length !== target.arity) throw new RegoError('rego_type_error', `${t.op}: arity mismatch`, t.loc);
        const args: Value[] = new Array(t.args.length);
        for (let i = 0; i < t.args.length; i++) {
          const v = this.valueOf(t.args[i] as Term, f);
          if (v === undefined) return undefined;
          args[i] = v;
        }
        return this.invoke(t, target, undefined, args);
      }
      default:
        return this.single(t, f);
    }
  }

  /** The first value of a term through the general evaluator. */
  private single(t: Term, f: Frame): Value | undefined {
    if (t.type === 'scalar') return t.value;
    let got: Value | undefined;
    this.evalTermK(t, f, (v) => {
      got = v;
      return true;
    });
    return got;
  }

  /** Index `value` by constant path[i..] (isPure refs). */
  private walkValue(value: Value, path: Term[], i: number, f: Frame, inData = false): Value | undefined {
    let cur: Value | undefined = value;
    for (; i < path.length && cur !== undefined; i++) {
      const key = this.valueOf(path[i] as Term, f);
      if (key === undefined) return undefined;
      cur = inData ? lookupData(cur, key) : lookup(cur, key);
    }
    return cur;
  }

  /** `data` at a constant path (isPure refs): descend the rule tree, materializing the first node with rules. */
  private dataValue(t: RefTerm, f: Frame): Value | undefined {
    const path = t.path;
    if (this.state.dataPatches.length) {
      let got: Value | undefined;
      this.evalData(this.root, this.baseData, [], path, 0, f, (v) => {
        got = v;
        return true;
      });
      return got;
    }
    // a rule already computed in this evaluation: skip the descent
    let plan = t.rulePlan;
    if (plan === undefined || plan.root !== this.root) plan = t.rulePlan = rulePlanOf(this.root, path);
    if (plan.node !== null) {
      const c = this.state.cache[plan.node.id];
      if (c !== undefined && c !== IN_PROGRESS) return c === UNDEFINED ? undefined : this.walkValue(c, path, plan.at, f, true);
    }
    let node: RuleNode | undefined = this.root;
    let base: Value | undefined = this.baseData;
    let prefix: string[] = [];
    for (let i = 0; ; i++) {
      if (!node || !node.hasRules) return base === undefined ? undefined : this.walkValue(base, path, i, f, true);
      if (node.rules.length || i === path.length) {
        const v = this.materialize(node, base, prefix);
        return v === undefined ? undefined : this.walkValue(v, path, i, f, true);
      }
      const key = this.valueOf(path[i] as Term, f);
      const sk = typeof key === 'string' ? key : key !== undefined && isNumber(key) ? formatNumber(key) : undefined;
      if (sk === undefined) return undefined;
      base = base instanceof RObject ? base.get(sk) : undefined;
      node = node.children.get(sk);
      prefix = node ? node.path : [...prefix, sk];
    }
  }

  private evalTermK(t: Term, f: Frame, k: KV): boolean {
    switch (t.type) {
      case 'scalar':
        return k(t.value) === true;
      case 'var': {
        const v = f.get(t.name);
        if (v !== undefined) return k(v) === true;
        if (t.name === 'input') return this.state.input === undefined ? false : k(this.state.input) === true;
        if (t.name === 'data') return this.evalData(this.root, this.baseData, [], [], 0, f, k);
        if (t.name.startsWith('$_')) throw new RegoError('rego_unsafe_var_error', 'var _ is unsafe', t.loc);
        throw new RegoError('rego_unsafe_var_error', `var ${t.name} is unsafe`, t.loc);
      }
      case 'ref':
        return this.evalRef(t, f, k);
      case 'array': {
        const items = t.items;
        const out: Value[] = new Array(items.length);
        const step = (i: number): boolean => {
          if (i === items.length) return k(out.slice()) === true;
          return this.evalTerm(items[i] as Term, f, (v) => {
            out[i] = v;
            return step(i + 1);
          });
        };
        return step(0);
      }
      case 'set': {
        const items = t.items;
        const out: Value[] = [];
        const step = (i: number): boolean => {
          if (i === items.length) return k(new RSet(out)) === true;
          return this.evalTerm(items[i] as Term, f, (v) => {
            out[i] = v;
            const r = step(i + 1);
            out.length = i;
            return r;
          });
        };
        return step(0);
      }
      case 'object': {
        const items = t.items;
        const keys: Value[] = [];
        const vals: Value[] = [];
        const step = (i: number): boolean => {
          if (i === items.length) {
            const o = new RObject();
            for (let j = 0; j < keys.length; j++) o.set(keys[j] as Value, vals[j] as Value);
            return k(o) === true;
          }
          const [kt, vt] = items[i] as [Term, Term];
          return this.evalTerm(kt, f, (kv) =>
            this.evalTerm(vt, f, (vv) => {
              keys[i] = kv;
              vals[i] = vv;
              return step(i + 1);
            }),
          );
        };
        return step(0);
      }
      case 'call':
        return this.evalCall(t, f, k, false);
      case 'arraycompr': {
        const out: Value[] = [];
        const mark = this.trail.length;
        this.evalBody(t.body, 0, f, () => {
          this.evalTerm(t.head, f, (v) => {
            out.push(v);
          });
        });
        this.undo(mark);
        return k(out) === true;
      }
      case 'setcompr': {
        const out = new RSet();
        const mark = this.trail.length;
        this.evalBody(t.body, 0, f, () => {
          this.evalTerm(t.head, f, (v) => {
            out.add(v);
          });
        });
        this.undo(mark);
        return k(out) === true;
      }
      case 'objectcompr': {
        const out = new RObject();
        const mark = this.trail.length;
        this.evalBody(t.body, 0, f, () => {
          this.evalTerm(t.key, f, (kv) =>
            this.evalTerm(t.value, f, (vv) => {
              const prev = out.get(kv);
              if (prev !== undefined && !equal(prev, vv)) {
                throw new RegoError('eval_conflict_error', 'object keys must be unique', t.loc);
              }
              out.set(kv, vv);
            }),
          );
        });
        this.undo(mark);
        return k(out) === true;
      }
      case 'template': {
        let s = '';
        for (const p of t.parts) {
          if (typeof p === 'string') {
            s += p;
            continue;
          }
          let got: Value | undefined;
          const mark = this.trail.length;
          this.evalTerm(p, f, (v) => {
            got = v;
            return true;
          });
          this.undo(mark);
          s += got === undefined ? '<undefined>' : typeof got === 'string' ? got : formatTerm(got);
        }
        return k(s) === true;
      }
    }
  }

  private evalRef(t: Extract<Term, { type: 'ref' }>, f: Frame, k: KV): boolean {
    const head = t.head;
    if (head.type === 'var') {
      if (head.name === 'data' && !f.has('data')) return this.evalData(this.root, this.baseData, [], t.path, 0, f, k);
      if (head.name === 'input' && !f.has('input')) {
        const input = this.state.input;
        if (input === undefined) return false;
        return this.walk(input, t.path, 0, f, k);
      }
    }
    return this.evalTerm(head, f, (v) => this.walk(v, t.path, 0, f, k));
  }

  /** Index `value` by path[i..], iterating over unbound variable keys. */
  private walk(value: Value, path: Term[], i: number, f: Frame, k: KV, inData = false): boolean {
    if (i === path.length) return k(value) === true;
    const p = path[i] as Term;
    if (this.hasPatternVars(p, f)) {
      return this.iterate(value, (key, child) => {
        const mark = this.trail.length;
        const stop = this.unifyValue(p, key, f, () => this.walk(child, path, i + 1, f, k, inData));
        this.undo(mark);
        return stop;
      });
    }
    return this.evalTerm(p, f, (key) => {
      const child = inData ? lookupData(value, key) : lookup(value, key);
      if (child === undefined) return false;
      return this.walk(child, path, i + 1, f, k, inData);
    });
  }

  // ── data: base documents merged with virtual documents ─────────────────────────────────────

  private patchAt(path: string[]): { exact?: Value; below: boolean } {
    let exact: Value | undefined;
    let below = false;
    for (const p of this.state.dataPatches) {
      if (p.path.length <= path.length && p.path.every((s, i) => s === path[i])) exact = lookupPath(p.value, path.slice(p.path.length));
      else if (p.path.length > path.length && path.every((s, i) => s === p.path[i])) below = true;
    }
    return exact !== undefined ? { exact, below } : { below };
  }

  private evalData(node: RuleNode | undefined, base: Value | undefined, prefix: string[], path: Term[], i: number, f: Frame, k: KV): boolean {
    let below = false;
    if (this.state.dataPatches.length) {
      const pt = this.patchAt(prefix);
      if (pt.exact !== undefined && !pt.below) return this.walk(pt.exact, path, i, f, k, true);
      if (pt.exact !== undefined) base = pt.exact;
      below = pt.below;
    }
    if (!below && (!node || !node.hasRules)) {
      if (base === undefined) return false;
      return this.walk(base, path, i, f, k, true);
    }
    const p = path[i];
    if ((node && node.rules.length) || p === undefined || this.hasPatternVars(p, f)) {
      const v = this.materialize(node, base, prefix);
      if (v === undefined) return false;
      return this.walk(v, path, i, f, k, true);
    }
    return this.evalTerm(p, f, (key) => {
      // data keys are strings: `data[2]` finds "2" as OPA does
      const sk = typeof key === 'string' ? key : isNumber(key) ? formatNumber(key) : undefined;
      if (sk === undefined) return false;
      const child = node?.children.get(sk);
      const baseChild = base instanceof RObject ? base.get(sk) : undefined;
      return this.evalData(child, baseChild, child ? child.path : [...prefix, sk], path, i + 1, f, k);
    });
  }

  /** The full value of a data node: base document, child nodes and the rules at this node, memoized per query. */
  private materialize(node: RuleNode | undefined, base: Value | undefined, prefix: string[]): Value | undefined {
    if (this.state.dataPatches.length) {
      const pt = this.patchAt(prefix);
      if (pt.exact !== undefined && !pt.below) return pt.exact;
      if (pt.exact !== undefined) base = pt.exact;
    }
    if (!node) {
      if (!this.state.dataPatches.length || !(base instanceof RObject || base === undefined)) return base;
      if (!this.patchAt(prefix).below) return base;
    }
    if (!node) return this.computeNode(node, base, prefix);
    const cache = this.state.cache;
    const c = cache[node.id];
    if (c !== undefined) {
      if (c === IN_PROGRESS) {
        throw new RegoError('rego_recursion_error', `rule data.${node.path.join('.')} is recursive`, node.rules[0]?.loc);
      }
      return c === UNDEFINED ? undefined : c;
    }
    cache[node.id] = IN_PROGRESS;
    try {
      const v = this.computeNode(node, base, prefix);
      cache[node.id] = v === undefined ? UNDEFINED : v;
      return v;
    } catch (err) {
      cache[node.id] = undefined;
      throw err;
    }
  }

  private computeNode(node: RuleNode | undefined, base: Value | undefined, prefix: string[]): Value | undefined {
    if (node?.isFunction) return undefined;
    if (node) {
      const shape = node.shape ?? (node.shape = shapeOf(node));
      // a base document at a rule's path shadows the rule (OPA reads storage first)
      if (shape === 'complete') return base !== undefined ? base : this.evalComplete(node.rules);
      if (shape === 'set') {
        const set = new RSet();
        for (const r of node.rules) this.evalRule(r, (_keys, v) => void set.add(v));
        return set;
      }
    }
    let obj: RObject;
    if (base instanceof RObject) obj = base.copy();
    else if (base !== undefined && !node?.hasRules) return base;
    else obj = new RObject();
    this.owned.add(obj);
    if (node) {
      for (const [key, child] of node.children) {
        if (child.isFunction) continue;
        const v = this.materialize(child, obj.get(key), child.path);
        if (v !== undefined) obj.set(key, v);
        else if (!(base instanceof RObject && base.has(key))) obj.delete(key);
      }
    }
    for (const p of this.state.dataPatches) {
      // patched paths below this node that no rule node covers
      if (p.path.length <= prefix.length || !prefix.every((s, i) => s === p.path[i])) continue;
      const key = p.path[prefix.length] as string;
      if (node?.children.has(key)) continue;
      const v = this.materialize(undefined, obj.get(key), [...prefix, key]);
      if (v !== undefined) obj.set(key, v);
    }
    for (const r of node?.rules ?? NO_RULES) {
      this.evalRule(r, (keys, v) => insertAt(obj, keys, v, r, this.owned));
    }
    return obj;
  }

  /** Complete rules at one node: all bodies must agree on one value (else eval_conflict_error). */
  private evalComplete(rules: CompiledRule[]): Value | undefined {
    let result: Value | undefined;
    let deflt: Value | undefined;
    for (const r of rules) {
      if (r.isDefault) {
        deflt = this.single(r.value as Term, new Frame());
        continue;
      }
      this.evalRule(r, (_keys, v) => {
        if (result !== undefined && !equal(result, v)) {
          throw new RegoError('eval_conflict_error', 'complete rules must not produce multiple outputs', r.loc);
        }
        result = v;
      });
    }
    return result !== undefined ? result : deflt;
  }

  /** Evaluate one rule (with its else chain); `emit` gets the head's suffix keys and value per solution. */
  private evalRule(r: CompiledRule, emit: (keys: Value[], v: Value) => void): void {
    if (r.isDefault) return;
    if (++this.depth > this.limits.maxDepth) {
      this.depth = 0;
      throw new RegoError('eval_cancel_error', 'evaluation exceeded its depth limit', r.loc);
    }
    try {
      for (let ci = 0; ci <= r.elses.length; ci++) {
        const clause = ci === 0 ? r : (r.elses[ci - 1] as CompiledRule['elses'][number]);
        const f = new Frame();
        const run: RuleRun = { rule: r, value: clause.value, suffix: ci === 0 ? r.suffix : NO_TERMS, f, emit, any: false, keys: [] };
        this.evalBody(clause.body, 0, f, () => this.emitRule(run, 0));
        if (run.any || r.elses.length === 0) return;
      }
    } finally {
      if (this.depth > 0) this.depth--;
    }
  }

  /** One solution of a rule body: evaluate the head's key terms and value, and hand them on. */
  private emitRule(run: RuleRun, i: number): boolean {
    if (i === run.suffix.length) {
      const value = run.value;
      if (value === null) {
        this.acceptRule(run, true);
        return false;
      }
      if (this.direct(value)) {
        const v = this.valueOf(value, run.f);
        if (v !== undefined) this.acceptRule(run, v);
        return false;
      }
      return this.evalTerm(value, run.f, (v) => void this.acceptRule(run, v));
    }
    return this.evalTerm(run.suffix[i] as Term, run.f, (kv) => {
      run.keys[i] = kv;
      return this.emitRule(run, i + 1);
    });
  }

  private acceptRule(run: RuleRun, v: Value): void {
    run.any = true;
    this.tracer?.(run.rule, v);
    run.emit(run.keys.slice(), v);
  }

  // ── calls ───────────────────────────────────────────────────────────────────────────────────

  private evalCall(t: Extract<Term, { type: 'call' }>, f: Frame, k: KV, asExpr: boolean): boolean {
    const op = t.op;
    if (op === 'internal.member_2' || op === 'internal.member_3') return this.evalMember(t, f, k);
    const mock = this.state.mocks.size ? this.state.mocks.get(op) : undefined;
    const target = this.callTarget(t, mock);
    if (target === undefined) return false;
    if (target.kind === 'builtin' && target.name === 'print') return this.evalPrint(t, f, k);
    const arity = target.kind === 'value' ? t.args.length : target.arity;
    const hasOut = asExpr && t.args.length === arity + 1;
    if (!hasOut && t.args.length !== arity && target.kind !== 'value') {
      throw new RegoError('rego_type_error', `${op}: arity mismatch`, t.loc);
    }
    const n = hasOut ? arity : t.args.length;
    let direct = this.state.mocks.size === 0;
    for (let i = 0; i < n; i++) if (!isPure(t.args[i] as Term)) direct = false;
    if (direct) {
      // every operand has at most one value: no continuation per operand
      const args: Value[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = this.valueOf(t.args[i] as Term, f);
        if (v === undefined) return false;
        args[i] = v;
      }
      return this.finishCall(t, target, hasOut, arity, this.invoke(t, target, mock, args), f, k);
    }
    // refs may bind variables that other operands use (`foo == xs[foo]`): evaluate plain variables last
    const order: number[] = [];
    for (let i = 0; i < n; i++) if (t.args[i]?.type !== 'var') order.push(i);
    for (let i = 0; i < n; i++) if (t.args[i]?.type === 'var') order.push(i);
    return this.evalCallArgs(t, target, mock, hasOut, arity, order, 0, new Array(n), f, k);
  }

  private evalCallArgs(t: CallTerm, target: CallTarget, mock: unknown, hasOut: boolean, arity: number, order: number[], j: number, vals: Value[], f: Frame, k: KV): boolean {
    if (j < order.length) {
      const i = order[j] as number;
      return this.evalTerm(t.args[i] as Term, f, (v) => {
        vals[i] = v;
        return this.evalCallArgs(t, target, mock, hasOut, arity, order, j + 1, vals, f, k);
      });
    }
    return this.finishCall(t, target, hasOut, arity, this.invoke(t, target, mock, vals.slice()), f, k);
  }

  /** What a call runs: a user function, a builtin, or a mocked value (`with f as 1`); undefined if a mock is missing. */
  private callTarget(t: CallTerm, mock: Value | { fn: string } | undefined): CallTarget | undefined {
    if (mock !== undefined) {
      if (mock !== null && typeof mock === 'object' && 'fn' in mock && !(mock instanceof RObject) && !(mock instanceof RSet) && !Array.isArray(mock)) {
        const name = (mock as { fn: string }).fn;
        if (name.startsWith('data.')) {
          const n = this.node(name.split('.').slice(1));
          if (!n) return undefined;
          return { kind: 'user', node: n, arity: (n.rules[0]?.args ?? []).length };
        }
        return builtinTarget(name, t);
      }
      return { kind: 'value', value: mock as Value };
    }
    const cached = t.target;
    if (cached !== undefined && cached.root === this.root) return cached.target;
    let target: CallTarget;
    if (t.op.startsWith('data.')) {
      const n = this.node(t.op.split('.').slice(1));
      if (!n || !n.isFunction) {
        throw new RegoError('rego_type_error', `undefined function ${t.op}`, t.loc);
      }
      target = { kind: 'user', node: n, arity: (n.rules[0]?.args ?? []).length };
    } else target = builtinTarget(t.op, t);
    t.target = { root: this.root, target };
    return target;
  }

  private invoke(t: CallTerm, target: CallTarget, mock: unknown, args: Value[]): Value | undefined {
    if (target.kind === 'value') return target.value;
    const unmock = mock !== undefined ? this.withoutMock() : undefined;
    try {
      if (target.kind === 'user') return this.callUser(target.node, args, t);
      return this.callBuiltin(target.name, args, t);
    } finally {
      if (unmock) this.state = unmock;
    }
  }

  private finishCall(t: CallTerm, target: CallTarget, hasOut: boolean, arity: number, result: Value | undefined, f: Frame, k: KV): boolean {
    if (result === undefined) return false;
    if (target.kind === 'builtin' && target.name === 'walk' && Array.isArray(result)) {
      // relations (walk) yield each element as one result
      for (const r of result) {
        if (hasOut ? this.unifyValue(t.args[arity] as Term, r, f, () => k(true)) : k(r) === true) return true;
      }
      return false;
    }
    if (hasOut) return this.unifyValue(t.args[arity] as Term, result, f, () => k(true));
    return k(result) === true;
  }

  /** print: every operand is printed, undefined ones as <undefined>; all combinations of values are printed. */
  private evalPrint(t: Extract<Term, { type: 'call' }>, f: Frame, k: KV): boolean {
    const vals: Array<Value | undefined> = [];
    const step = (i: number): void => {
      if (i === t.args.length) {
        this.ctx.print(printLine(vals));
        return;
      }
      let any = false;
      const mark = this.trail.length;
      this.evalTerm(t.args[i] as Term, f, (v) => {
        any = true;
        vals[i] = v;
        step(i + 1);
      });
      this.undo(mark);
      if (!any) {
        vals[i] = undefined;
        step(i + 1);
      }
    };
    step(0);
    return k(true) === true;
  }

  private callBuiltin(name: string, args: Value[], t: Term): Value | undefined {
    const b = lookupBuiltin(name);
    if (!b) throw new RegoError('rego_type_error', `undefined function ${name}`, t.loc);
    try {
      return boundedOutput(name, b.fn(args, this.ctx));
    } catch (err) {
      if (err instanceof RegoError) throw err;
      if (err instanceof BuiltinHalt) throw new RegoError(err.code, err.message, t.loc);
      // a value too large for the JS engine itself: a bound, never an undefined result
      if (err instanceof RangeError && /Invalid (string|array|typed array) length|Array buffer allocation/.test(err.message)) {
        throw new RegoError('eval_cancel_error', `${name}: ${err.message} (output bound)`, t.loc);
      }
      if (err instanceof BuiltinError) {
        if (this.ctx.strict) throw new RegoError(err.code, err.message, t.loc);
        return undefined;
      }
      if (this.ctx.strict) throw new RegoError('eval_builtin_error', `${name}: ${(err as Error).message}`, t.loc);
      return undefined;
    }
  }

  /** A user function call: every definition whose arguments unify contributes; outputs must agree. */
  private callUser(node: RuleNode, args: Value[], t: Term): Value | undefined {
    let deflt: Value | undefined;
    if (++this.depth > this.limits.maxDepth) {
      this.depth = 0;
      throw new RegoError('eval_cancel_error', 'evaluation exceeded its depth limit (recursive function?)', t.loc);
    }
    const acc: Outputs = { result: undefined, any: false };
    try {
      for (const r of node.rules) {
        const params = r.args as Term[];
        if (r.isDefault) {
          deflt = this.single(r.value as Term, new Frame());
          continue;
        }
        for (let ci = 0; ci <= r.elses.length; ci++) {
          const clause = ci === 0 ? r : (r.elses[ci - 1] as CompiledRule['elses'][number]);
          const f = new Frame();
          acc.any = false;
          this.bindParams(params, args, 0, f, () => this.evalBody(clause.body, 0, f, () => this.emitOutput(acc, r, clause.value, f)));
          if (acc.any) break;
        }
      }
    } finally {
      if (this.depth > 0) this.depth--;
    }
    return acc.result !== undefined ? acc.result : deflt;
  }

  /** Bind a function's parameters to its arguments (plain variables directly: the frame is fresh). */
  private bindParams(params: Term[], args: Value[], i: number, f: Frame, k: K): boolean {
    for (; i < params.length; i++) {
      const p = params[i] as Term;
      if (p.type === 'var') {
        if (p.name.startsWith('$_')) continue;
        if (p.name !== 'input' && p.name !== 'data' && !f.has(p.name)) {
          f.set(p.name, args[i] as Value);
          continue;
        }
      }
      const next = i + 1;
      return this.unifyValue(p, args[i] as Value, f, () => this.bindParams(params, args, next, f, k));
    }
    return k() === true;
  }

  /** One solution of a function body: every solution must produce the same output. */
  private emitOutput(acc: Outputs, r: CompiledRule, value: Term | null, f: Frame): boolean {
    if (value === null) {
      this.acceptOutput(acc, r, true);
      return false;
    }
    if (this.direct(value)) {
      const v = this.valueOf(value, f);
      if (v !== undefined) this.acceptOutput(acc, r, v);
      return false;
    }
    return this.evalTerm(value, f, (v) => void this.acceptOutput(acc, r, v));
  }

  private acceptOutput(acc: Outputs, r: CompiledRule, v: Value): void {
    acc.any = true;
    if (acc.result !== undefined && !equal(acc.result, v)) {
      throw new RegoError('eval_conflict_error', 'functions must not produce multiple outputs for same inputs', r.loc);
    }
    this.tracer?.(r, v);
    acc.result = v;
  }

  private evalMember(t: Extract<Term, { type: 'call' }>, f: Frame, k: KV): boolean {
    const [a, b, c] = t.args as [Term, Term, Term | undefined];
    if (c === undefined) {
      return this.evalTerm(a, f, (x) =>
        this.evalTerm(b, f, (coll) => {
          let found = false;
          if (coll instanceof RSet) found = coll.has(x);
          else this.iterate(coll, (_k, v) => (equal(v, x) ? (found = true) : false));
          return k(found);
        }),
      );
    }
    return this.evalTerm(a, f, (key) =>
      this.evalTerm(b, f, (val) =>
        this.evalTerm(c, f, (coll) => {
          const got = coll instanceof RSet ? (equal(key, val) && coll.has(val) ? val : undefined) : lookup(coll, key);
          return k(got !== undefined && equal(got, val));
        }),
      ),
    );
  }
}

function mockOf(t: Term, value: Value | undefined): Value | { fn: string } {
  if (t.type === 'scalar' && typeof t.value === 'string' && t.value.startsWith('fn:')) return { fn: t.value.slice(3) };
  if (t.type === 'var' && value === undefined) return { fn: t.name };
  if (t.type === 'ref') {
    const p = refParts(t);
    if (p && p[0] === 'data' && value === undefined) return { fn: p.join('.') };
  }
  if (value === undefined) {
    const p = refParts(t);
    if (p) return { fn: p.join('.') };
  }
  return value as Value;
}

function refPath(t: Term): string[] {
  const p = refParts(t);
  if (!p) throw new RegoError('rego_type_error', 'with target must be a ground reference', t.loc);
  return p;
}

/** Replace the value at `path` inside `doc`, creating objects on the way (OPA's `with input.a.b as v`). */
function patch(doc: Value | undefined, path: string[], value: Value): Value {
  if (!path.length) return value;
  const obj = new RObject();
  if (doc instanceof RObject) for (const [k, v] of doc.unorderedEntries()) obj.set(k, v);
  const [head, ...rest] = path as [string, ...string[]];
  obj.set(head, patch(obj.get(head), rest, value));
  return obj;
}

function lookupPath(v: Value, path: string[]): Value | undefined {
  let cur: Value | undefined = v;
  for (const p of path) {
    if (cur === undefined) return undefined;
    cur = lookup(cur, p);
  }
  return cur;
}

/** Lookup inside `data` refs: a number also finds its decimal text as an object key (OPA's storage paths). */
function lookupData(v: Value, key: Value): Value | undefined {
  const got = lookup(v, key);
  if (got === undefined && v instanceof RObject && isNumber(key)) return v.get(formatNumber(key));
  return got;
}

export function lookup(v: Value, key: Value): Value | undefined {
  if (Array.isArray(v)) {
    if (!isNumber(key)) return undefined;
    // Array.Get takes the index's text as an int (Number.Int): `xs[1.0]` finds nothing
    const n = key instanceof BigNum ? (/^[+-]?\d+$/.test(key.text) ? Number(key.text) : NaN) : Number(key);
    if (!Number.isInteger(n) || n < 0 || n >= v.length) return undefined;
    return v[n];
  }
  if (v instanceof RObject) return v.get(key);
  if (v instanceof RSet) return v.has(key) ? key : undefined;
  return undefined;
}

/** Put a rule's value at `keys` below `obj` (ref heads), raising OPA's conflict errors. */
function insertAt(obj: RObject, keys: Value[], v: Value, r: CompiledRule, owned: Set<object>): void {
  if (keys.length === 0) return;
  let cur = obj;
  for (let i = 0; i < keys.length - 1; i++) {
    cur.key = undefined; // the object changes below: forget its structural key
    const key = keys[i] as Value;
    let next = cur.get(key);
    if (next === undefined) {
      next = new RObject();
      owned.add(next);
      cur.set(key, next);
    } else if (!(next instanceof RObject)) {
      throw new RegoError('eval_conflict_error', 'object keys must be unique', r.loc);
    } else if (!owned.has(next)) {
      const copy = next.copy();
      owned.add(copy);
      cur.set(key, copy);
      next = copy;
    }
    cur = next as RObject;
  }
  const last = keys[keys.length - 1] as Value;
  const prev = cur.get(last);
  if (r.multi) {
    let set: RSet;
    if (prev === undefined) {
      set = new RSet();
      owned.add(set);
      cur.set(last, set);
    } else if (!(prev instanceof RSet)) throw new RegoError('eval_conflict_error', 'object keys must be unique', r.loc);
    else if (!owned.has(prev)) {
      set = new RSet(prev.unorderedValues());
      owned.add(set);
      cur.set(last, set);
    } else set = prev;
    set.add(v);
    return;
  }
  if (prev !== undefined && !equal(prev, v)) throw new RegoError('eval_conflict_error', 'object keys must be unique', r.loc);
  cur.set(last, v);
}

export { keyOf };
