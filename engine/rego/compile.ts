// Rego compiler (OPA's ast/compile.go, the stages evaluation needs): merge modules into a rule tree under `data`,
// resolve names (package rules, imports, builtins), rename shadowing locals, and reorder bodies for safety.
import { RegoError, bodyVars, exprVars, refParts, varsOf } from './ast.ts';
import type { Body, Expr, Location, Module, Rule, Term, VarScope } from './ast.ts';
import { lookupBuiltin } from './builtins/index.ts';
import { RegoTypeError, checkQueryTypes, checkTypes } from './typecheck.ts';
import { typeOfJsonSchema } from './schema.ts';
import { fromJSON } from './value.ts';
import type { Value } from './value.ts';

/** A rule ready for evaluation, hung at the tree node of its ground ref prefix. */
export interface CompiledRule {
  /** Head ref terms below the node (variables or non-string keys), e.g. `[q, "r"]` for `p[q].r`. */
  suffix: Term[];
  args: Term[] | null;
  value: Term | null;
  multi: boolean;
  isDefault: boolean;
  body: Body;
  elses: Array<{ value: Term | null; body: Body; loc: Location }>;
  loc: Location;
  /** `data.pkg.p` as text, for explanations. */
  name: string;
  /** The head ref as written, relative to the package (`p`, `a.b[x]`), for compile errors worded as OPA's. */
  head?: string;
  /** Where the rule's `package` line is (OPA reports some conflicts there). */
  pkgLoc?: Location;
}

export interface RuleNode {
  id: number;
  path: string[];
  children: Map<string, RuleNode>;
  rules: CompiledRule[];
  /** Any rule at this node or below (so the evaluator can skip pure base-document subtrees). */
  hasRules: boolean;
  isFunction: boolean;
  arities?: Map<string, number>;
  /** How the evaluator builds the node's value (computed on first use). */
  shape?: 'complete' | 'set' | 'tree';
}

export interface CompiledQuery {
  body: Body;
  /** Variable names to report (user-visible query vars). */
  outputVars: string[];
}

const ROOTS = new Set(['data', 'input']);

export interface CompileOptions {
  /** JSON Schema of `input`: refs into `input` are type-checked against it (`opa check --schema`). */
  inputSchema?: unknown;
}

/** One named compiler stage (OPA's `stages` table in ast/compile.go). */
interface Stage {
  readonly name: string;
  readonly f: () => void;
}

/**
 * One compilation of a set of modules (OPA's ast.Compiler): the stages run in order from one table, each reports its
 * errors on the compiler, and compilation stops after the first stage that found any. All state lives on the object,
 * so compilations never share anything (several bundles in one server, or interleaved compilations, are safe).
 */
export class Compiler {
  readonly errors: RegoError[] = [];
  readonly root: RuleNode;
  /** User function arities by dotted path (`data.pkg.f` → 1): the safety pass needs them to spot output arguments. */
  readonly arities = new Map<string, number>();
  /** Names of the first head segment of every rule, by package (what a bare name in a package resolves to). */
  private readonly pkgNames = new Map<string, Set<string>>();
  private annotations: AnnotationIndex = { packages: new Map(), subpackages: new Map(), documents: new Map() };
  /** Node ids number the nodes of one tree densely (the evaluator's per-query cache is an array by id). */
  private nextNodeId = 0;
  readonly stages: readonly Stage[] = [
    { name: 'CheckKeywordOverrides', f: () => this.checkRootDocumentOverrides() },
    { name: 'CheckDuplicateImports', f: () => this.checkDuplicateImports() },
    { name: 'SetRuleArities', f: () => this.setRuleArities() },
    { name: 'SetPackageNames', f: () => this.setPackageNames() },
    { name: 'SetAnnotationSet', f: () => (this.annotations = annotationIndex(this.modules)) },
    { name: 'ResolveRefsAndCheckSafety', f: () => this.setRuleTree() },
    { name: 'CheckRuleConflicts', f: () => this.checkRuleConflicts(this.root) },
    { name: 'CheckRecursion', f: () => this.checkRecursion() },
    { name: 'CheckTypes', f: () => this.checkTypes() },
  ];

  constructor(
    private readonly modules: readonly Module[],
    private readonly options: CompileOptions = {},
  ) {
    this.root = this.newNode([]);
    this.root.arities = this.arities;
  }

  /** Run every stage; throws the errors of the first failing stage as one RegoError (the first, with `all`). */
  compile(): RuleNode {
    for (const stage of this.stages) {
      stage.f();
      if (this.errors.length) throw combineErrors(this.errors);
    }
    return this.root;
  }

  /** Record the errors a step threw (a RegoError with its `all`); anything else is a bug and propagates. */
  private collect(step: () => void): void {
    try {
      step();
    } catch (err) {
      if (!(err instanceof RegoError)) throw err;
      this.errors.push(...err.all);
    }
  }

  newNode(path: string[]): RuleNode {
    return { id: this.nextNodeId++, path, children: new Map(), rules: [], hasRules: false, isFunction: false };
  }

  private child(node: RuleNode, seg: string): RuleNode {
    node.hasRules = true;
    let c = node.children.get(seg);
    if (!c) {
      c = this.newNode([...node.path, seg]);
      node.children.set(seg, c);
    }
    return c;
  }

  /** A rule named `input` or `data`, or an argument of that name, would shadow a root document. */
  private checkRootDocumentOverrides(): void {
    for (const m of this.modules) {
      for (const r of m.rules) {
        const first = r.ref[0];
        if (first?.type === 'scalar' && typeof first.value === 'string' && ROOTS.has(first.value)) {
          this.errors.push(new RegoError('rego_compile_error', `rules must not shadow ${first.value} (use a different rule name)`, r.loc));
        }
        for (const a of r.args ?? []) {
          if (a.type === 'var' && ROOTS.has(a.name)) {
            this.errors.push(new RegoError('rego_compile_error', `args must not shadow ${a.name} (use a different variable name)`, a.loc));
          }
        }
      }
    }
  }

  /** Two imports of one module under the same name. */
  private checkDuplicateImports(): void {
    for (const m of this.modules) {
      const seen = new Map<string, string>();
      for (const imp of m.imports) {
        const path = refParts(imp.path);
        if (!path) continue;
        const name = imp.alias ?? (path[path.length - 1] as string);
        const prev = seen.get(name);
        if (prev !== undefined) this.errors.push(new RegoError('rego_compile_error', `import must not shadow ${prev}`, imp.loc));
        else seen.set(name, `import ${path.join('.')}${imp.alias ? ` as ${imp.alias}` : ''}`);
      }
    }
  }

  private setRuleArities(): void {
    for (const m of this.modules) {
      for (const r of m.rules) {
        if (r.args) this.arities.set(['data', ...m.pkg, ...r.ref.map((t) => String((t as { value?: unknown }).value))].join('.'), r.args.length);
      }
    }
  }

  private setPackageNames(): void {
    for (const m of this.modules) {
      const key = m.pkg.join('.');
      const names = this.pkgNames.get(key) ?? new Set<string>();
      for (const r of m.rules) {
        const first = r.ref[0];
        if (first?.type === 'scalar' && typeof first.value === 'string') names.add(first.value);
      }
      this.pkgNames.set(key, names);
    }
  }

  /** Resolve names, rename locals and order every rule body for safety; hang each rule at its ground ref prefix. */
  private setRuleTree(): void {
    for (const m of this.modules) {
      const names = this.pkgNames.get(m.pkg.join('.')) as Set<string>;
      const imports = new Map<string, Term>();
      for (const imp of m.imports) {
        const path = refParts(imp.path);
        if (!path || (path[0] !== 'data' && path[0] !== 'input')) continue; // rego.v1, future.keywords: no-ops
        const alias = imp.alias ?? path[path.length - 1];
        if (alias) imports.set(alias, imp.path);
      }
      const ctx: ResolveCtx = { pkg: m.pkg, names, imports, fresh: { n: 0 }, arities: this.arities };
      let pn = this.root;
      for (const seg of m.pkg) pn = this.child(pn, seg);
      pn.hasRules = true;
      for (const r of m.rules) {
        this.collect(() => {
          ctx.meta = metadataOf(r, m.pkg, this.annotations);
          const cr = compileRule(r, ctx);
          cr.head = headText(r.ref);
          cr.pkgLoc = m.pkgLoc;
          let node = this.root;
          const staticPath = [...m.pkg];
          let i = 0;
          for (; i < r.ref.length; i++) {
            const t = r.ref[i] as Term;
            if (t.type === 'scalar' && typeof t.value === 'string') staticPath.push(t.value);
            else break;
          }
          cr.suffix = cr.suffix.slice(i);
          for (const seg of staticPath) node = this.child(node, seg);
          node.hasRules = true;
          node.rules.push(cr);
          if (cr.args) node.isFunction = true;
        });
      }
    }
  }

  /**
   * OPA's checkRuleConflicts, one error per node, children in key order: a rule with a ground ref may have no rules
   * below it (`a.b := 1` beside `a.b.c := 2`); rules of one node agree on kind (single/multi-value), arity, and
   * complete versus partial; at most one `default`.
   */
  private checkRuleConflicts(node: RuleNode): void {
    const rules = node.rules;
    if (rules.length) {
      const first = rules[0] as CompiledRule;
      const name = first.name;
      const kinds = new Set(rules.map((r) => r.multi));
      const arities = new Set(rules.map((r) => r.args?.length ?? 0));
      const complete = rules.filter((r) => !r.multi && r.suffix.length === 0).length;
      const partial = rules.length - complete;
      const defaults = rules.filter((r) => r.isDefault);
      const ground = rules.some((r) => r.suffix.length === 0);
      const below = ground ? descendantRulePaths(node) : [];
      if (below.length) {
        this.errors.push(new RegoError('rego_type_error', `rule ${name} conflicts with [${below.join(' ')}]`, first.loc));
        return;
      }
      if (kinds.size > 1 || arities.size > 1 || (complete >= 1 && partial >= 1) || new Set(rules.map((r) => r.args !== null)).size > 1) {
        this.errors.push(new RegoError('rego_type_error', `conflicting rules ${name} found`, first.loc));
        return;
      }
      if (defaults.length > 1) {
        const at = defaults.map((r) => `${r.loc.file}:${r.loc.row}`).join(', ');
        this.errors.push(new RegoError('rego_type_error', `multiple default rules ${name} found at ${at}`, defaults[0]?.pkgLoc ?? first.loc));
        return;
      }
    }
    for (const key of [...node.children.keys()].sort()) this.checkRuleConflicts(node.children.get(key) as RuleNode);
  }

  /** OPA's checkRecursion: a rule that depends on itself, through other rules or directly, is a rego_recursion_error. */
  private checkRecursion(): void {
    const deps = new Map<RuleNode, RuleNode[]>();
    const depsOf = (n: RuleNode): RuleNode[] => {
      let d = deps.get(n);
      if (!d) {
        const found = new Set<RuleNode>();
        for (const r of n.rules) ruleRefs(r, (path) => this.rulesReferenced(path, found));
        d = [...found];
        deps.set(n, d);
      }
      return d;
    };
    const visit = (n: RuleNode): void => {
      if (n.rules.length) {
        const cycle = pathBack(n, depsOf);
        if (cycle) {
          const r = n.rules[0] as CompiledRule;
          const label = (x: RuleNode): string => (x.rules[0] as CompiledRule).head ?? (x.rules[0] as CompiledRule).name;
          this.errors.push(new RegoError('rego_recursion_error', `rule ${label(n)} is recursive: ${[n, ...cycle].map(label).join(' -> ')}`, r.loc));
        }
      }
      for (const key of [...n.children.keys()].sort()) visit(n.children.get(key) as RuleNode);
    };
    visit(this.root);
  }

  /** Rule nodes a `data` ref may read (OPA's GetRulesDynamic): along its ground prefix, then every rule below. */
  private rulesReferenced(path: Term[], out: Set<RuleNode>): void {
    const walk = (node: RuleNode, i: number): void => {
      if (node.rules.length) out.add(node);
      if (i >= path.length) {
        for (const c of node.children.values()) walk(c, i);
        return;
      }
      const p = path[i] as Term;
      if (p.type === 'scalar') {
        const c = typeof p.value === 'string' ? node.children.get(p.value) : undefined;
        if (c) walk(c, i + 1);
        return;
      }
      for (const c of node.children.values()) walk(c, i + 1);
    };
    walk(this.root, 0);
  }

  private checkTypes(): void {
    const inputType = this.options.inputSchema === undefined ? undefined : typeOfJsonSchema(this.options.inputSchema);
    this.collect(() => checkTypes(this.root, inputType));
  }
}

/** Paths of the rule-holding nodes strictly below `node`, depth first in key order (`data.p.a.b.c`). */
function descendantRulePaths(node: RuleNode): string[] {
  const out: string[] = [];
  for (const key of [...node.children.keys()].sort()) {
    const c = node.children.get(key) as RuleNode;
    if (c.rules.length) out.push(['data', ...c.path].join('.'));
    out.push(...descendantRulePaths(c));
  }
  return out;
}

/** The head ref as OPA prints it: `p`, `a.b`, `p[x]`. */
function headText(ref: Term[]): string {
  return ref
    .map((t, i) => {
      if (t.type === 'scalar' && typeof t.value === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(t.value)) return i === 0 ? t.value : `.${t.value}`;
      if (t.type === 'var') return `[${t.name}]`;
      return `[${t.type === 'scalar' ? JSON.stringify(t.value) : '_'}]`;
    })
    .join('');
}

/** Every `data` ref path (terms after `data`) and every user function call a rule reads, closures included. */
function ruleRefs(r: CompiledRule, visit: (path: Term[]) => void): void {
  const term = (t: Term): void => {
    switch (t.type) {
      case 'ref':
        if (t.head.type === 'var' && t.head.name === 'data') visit(t.path);
        else term(t.head);
        for (const p of t.path) term(p);
        return;
      case 'call':
        if (t.op.startsWith('data.')) visit(t.op.split('.').slice(1).map((s) => ({ type: 'scalar', value: s, loc: t.loc }) as Term));
        for (const a of t.args) term(a);
        return;
      case 'array':
      case 'set':
        for (const x of t.items) term(x);
        return;
      case 'object':
        for (const [k, v] of t.items) {
          term(k);
          term(v);
        }
        return;
      case 'template':
        for (const p of t.parts) if (typeof p !== 'string') term(p);
        return;
      case 'arraycompr':
      case 'setcompr':
        term(t.head);
        body(t.body);
        return;
      case 'objectcompr':
        term(t.key);
        term(t.value);
        body(t.body);
        return;
      default:
        return;
    }
  };
  const body = (b: Body): void => {
    for (const e of b) {
      switch (e.kind) {
        case 'term':
          term(e.term);
          break;
        case 'unify':
          term(e.left);
          term(e.right);
          break;
        case 'somein':
          term(e.domain);
          break;
        case 'every':
          term(e.domain);
          body(e.body);
          break;
        default:
          break;
      }
      for (const w of e.withs) term(w.value);
    }
  };
  for (const c of [{ value: r.value, body: r.body }, ...r.elses]) {
    if (c.value) term(c.value);
    body(c.body);
  }
  for (const s of r.suffix) term(s);
}

/** A path of nodes from `start`'s dependencies back to `start` (ending with it), or null (depth first, each node once). */
function pathBack(start: RuleNode, depsOf: (n: RuleNode) => RuleNode[]): RuleNode[] | null {
  const seen = new Set<RuleNode>();
  const dfs = (n: RuleNode): RuleNode[] | null => {
    for (const d of depsOf(n)) {
      if (d === start) return [d];
      if (seen.has(d)) continue;
      seen.add(d);
      const rest = dfs(d);
      if (rest) return [d, ...rest];
    }
    return null;
  };
  return dfs(start);
}

/** Several errors as one RegoError: the first carrying all of them in `all` (as OPA reports a stage's errors). */
function combineErrors(errors: readonly RegoError[]): RegoError {
  const [first, ...more] = errors as [RegoError, ...RegoError[]];
  if (more.length === 0) return first;
  const loc = first.location;
  if (first instanceof RegoTypeError && loc) return new RegoTypeError(first.detail, loc, first.details, more);
  return new RegoError(first.code, first.detail, loc, more);
}

/** Builds the rule tree from parsed modules (a fresh Compiler each time). */
export function compileModules(modules: Module[], options: CompileOptions = {}): RuleNode {
  return new Compiler(modules, options).compile();
}

interface AnnotationIndex {
  /** Package-scope annotations by package path. */
  packages: Map<string, Record<string, unknown>>;
  /** Subpackages-scope annotations by package path. */
  subpackages: Map<string, Record<string, unknown>>;
  /** Document-scope annotations by rule path. */
  documents: Map<string, Record<string, unknown>>;
}

function rulePath(pkg: string[], r: Rule): string[] {
  return [...pkg, ...r.ref.map((t) => (t.type === 'scalar' ? String(t.value) : t.type === 'var' ? t.name : '_'))];
}

function annotationIndex(modules: readonly Module[]): AnnotationIndex {
  const index: AnnotationIndex = { packages: new Map(), subpackages: new Map(), documents: new Map() };
  for (const m of modules) {
    const key = m.pkg.join('.');
    if (m.annotations) (m.annotations.scope === 'subpackages' ? index.subpackages : index.packages).set(key, m.annotations);
    for (const r of m.rules) if (r.annotations?.scope === 'document') index.documents.set(rulePath(m.pkg, r).join('.'), r.annotations);
  }
  return index;
}

/** rego.metadata.rule(): the rule's own rule-scope annotations; rego.metadata.chain(): rule, document, package, subpackages. */
function metadataOf(r: Rule, pkg: string[], index: AnnotationIndex): { rule: Value; chain: Value } {
  const path = rulePath(pkg, r);
  const own = r.annotations?.scope === 'rule' ? r.annotations : undefined;
  const chain: unknown[] = [own ? { path, annotations: own } : { path }];
  const doc = index.documents.get(path.join('.'));
  if (doc) chain.push({ path, annotations: doc });
  const p = index.packages.get(pkg.join('.'));
  if (p) chain.push({ path: pkg, annotations: p });
  for (let n = pkg.length; n >= 0; n--) {
    const sub = index.subpackages.get(pkg.slice(0, n).join('.'));
    if (sub) chain.push({ path: pkg.slice(0, n), annotations: sub });
  }
  return { rule: fromJSON(own ?? {}), chain: fromJSON(chain) };
}

export function compileQuery(body: Body, root: RuleNode, ctx?: Partial<ResolveCtx>): CompiledQuery {
  const arities = root.arities ?? new Map<string, number>();
  const full: ResolveCtx = { pkg: ctx?.pkg ?? [], names: ctx?.names ?? new Set(), imports: ctx?.imports ?? new Map(), fresh: { n: 0 }, arities };
  const scope = new Scope(null);
  const resolved = resolveBody(body, scope, full, false);
  const outputVars = [...bodyVars(resolved, new Set(), TOP_VARS)].filter((v) => !v.startsWith('$'));
  const ordered = reorderBody(resolved, new Set(), [], arities);
  checkQueryTypes(ordered, root);
  return { body: ordered, outputVars };
}

// ── name resolution ───────────────────────────────────────────────────────────────────────────

interface ResolveCtx {
  /** What `rego.metadata.rule()` and `rego.metadata.chain()` return inside the rule being compiled. */
  meta?: { rule: Value; chain: Value };
  pkg: string[];
  names: Set<string>;
  imports: Map<string, Term>;
  fresh: { n: number };
  /** User function arities of the modules being compiled. */
  arities: ReadonlyMap<string, number>;
}

class Scope {
  readonly decl = new Map<string, string>();
  /** Names this body declares (`:=`, `some`) further down: inside earlier closures they are closure-locals. */
  readonly pending = new Set<string>();
  /** How each name first occurred in this body (OPA's rewriteLocalVars): a second declaration is an error. */
  readonly occurrence = new Map<string, 'seen' | 'assigned' | 'declared' | 'arg'>();
  constructor(readonly parent: Scope | null) {}
  lookup(name: string): string | undefined {
    return this.decl.get(name) ?? this.parent?.lookup(name);
  }
}

function compileRule(r: Rule, ctx: ResolveCtx): CompiledRule {
  const scope = new Scope(null);
  const name = ['data', ...ctx.pkg, ...r.ref.map((t) => (t.type === 'scalar' ? String(t.value) : '[_]'))].join('.');
  let args: Term[] | null = null;
  const argVars = new Set<string>();
  // a template string argument matches when the string it builds (from body bindings) equals the argument
  const argChecks: Expr[] = [];
  if (r.args) {
    const plain = r.args.map((a, i) => {
      if (a.type !== 'template') return a;
      const v: Term = { type: 'var', name: `$arg${i}`, loc: a.loc };
      argChecks.push({ kind: 'unify', left: v, right: a, assign: false, negated: false, withs: [], loc: a.loc });
      return v;
    });
    args = plain.map((a) => resolveTerm(a, scope, ctx, true));
    for (const a of args) for (const v of patternVarsOf(a)) {
      scope.decl.set(v, v);
      scope.occurrence.set(v, 'arg');
      argVars.add(v);
    }
  }
  const compileClause = (value: Term | null, body: Body, suffix: Term[]): { value: Term | null; body: Body; suffix: Term[] } => {
    const s = new Scope(scope);
    const rb = resolveBody(argChecks.length ? [...body, ...argChecks] : body, s, ctx, false);
    const rv = value ? resolveTerm(value, s, ctx, false) : null;
    const rs = suffix.map((t) => resolveTerm(t, s, ctx, false));
    const heads = rv ? [...rs, rv] : rs;
    const ordered = reorderClause(rb, argVars, heads, ctx.arities);
    const hs = ordered.heads;
    return { value: rv ? (hs[hs.length - 1] as Term) : null, body: ordered.body, suffix: rv ? hs.slice(0, -1) : hs };
  };
  const main = compileClause(r.value, r.body, r.ref);
  const elses = r.elses.map((e) => {
    const c = compileClause(e.value ?? { type: 'scalar', value: true, loc: e.loc }, e.body, []);
    return { value: c.value, body: c.body, loc: e.loc };
  });
  return {
    suffix: main.suffix,
    args,
    value: main.value,
    multi: r.multi,
    isDefault: r.isDefault,
    body: main.body,
    elses,
    loc: r.loc,
    name,
  };
}

function dataRef(path: string[], loc: Location): Term {
  return {
    type: 'ref',
    head: { type: 'var', name: 'data', loc },
    path: path.map((s) => ({ type: 'scalar', value: s, loc }) as Term),
    loc,
  };
}

/** Resolve a variable occurrence: local, root document, import alias or package rule. */
function resolveVarName(name: string, loc: Location, scope: Scope, ctx: ResolveCtx): Term {
  const local = scope.lookup(name);
  if (local !== undefined) return { type: 'var', name: local, loc };
  if (ROOTS.has(name)) return { type: 'var', name, loc };
  const imp = ctx.imports.get(name);
  if (imp) {
    const parts = refParts(imp) as string[];
    if (parts[0] === 'input') {
      return parts.length === 1
        ? { type: 'var', name: 'input', loc }
        : { type: 'ref', head: { type: 'var', name: 'input', loc }, path: parts.slice(1).map((s) => ({ type: 'scalar', value: s, loc }) as Term), loc };
    }
    return dataRef(parts.slice(1), loc);
  }
  if (ctx.names.has(name)) return dataRef([...ctx.pkg, name], loc);
  if (!scope.occurrence.has(name)) scope.occurrence.set(name, 'seen');
  return { type: 'var', name, loc };
}

function resolveTerm(t: Term, scope: Scope, ctx: ResolveCtx, declaring: boolean): Term {
  switch (t.type) {
    case 'scalar':
      return t;
    case 'var':
      if (declaring || t.name.startsWith('$')) return t;
      return resolveVarName(t.name, t.loc, scope, ctx);
    case 'ref': {
      const head = resolveTerm(t.head, scope, ctx, false);
      const path = t.path.map((p) => resolveTerm(p, scope, ctx, false));
      if (head.type === 'ref') return { type: 'ref', head: head.head, path: [...head.path, ...path], loc: t.loc };
      return { type: 'ref', head, path, loc: t.loc };
    }
    case 'array':
    case 'set':
      return { ...t, items: t.items.map((x) => resolveTerm(x, scope, ctx, declaring)) };
    case 'object':
      return { ...t, items: t.items.map(([k, v]) => [resolveTerm(k, scope, ctx, false), resolveTerm(v, scope, ctx, declaring)] as [Term, Term]) };
    case 'call': {
      // OPA rewrites these to constants at compile time: the annotations of the rule they appear in
      if (ctx.meta && t.args.length === 0 && t.op === 'rego.metadata.rule') return { type: 'scalar', value: ctx.meta.rule, loc: t.loc };
      if (ctx.meta && t.args.length === 0 && t.op === 'rego.metadata.chain') return { type: 'scalar', value: ctx.meta.chain, loc: t.loc };
      const args = t.args.map((a) => resolveTerm(a, scope, ctx, false));
      return { ...t, op: resolveCallName(t.op, t.loc, scope, ctx), args };
    }
    case 'template':
      return { ...t, parts: t.parts.map((p) => (typeof p === 'string' ? p : resolveTerm(p, scope, ctx, false))) };
    case 'arraycompr':
    case 'setcompr': {
      const s = closureScope(scope, ctx);
      const body = resolveBody(t.body, s, ctx, true);
      return { ...t, body, head: resolveTerm(t.head, s, ctx, false) };
    }
    case 'objectcompr': {
      const s = closureScope(scope, ctx);
      const body = resolveBody(t.body, s, ctx, true);
      return { ...t, body, key: resolveTerm(t.key, s, ctx, false), value: resolveTerm(t.value, s, ctx, false) };
    }
  }
}

function closureScope(scope: Scope, ctx: ResolveCtx): Scope {
  const s = new Scope(scope);
  for (let p: Scope | null = scope; p; p = p.parent) for (const n of p.pending) if (!s.decl.has(n)) s.decl.set(n, fresh(n, ctx));
  return s;
}

function resolveCallName(op: string, loc: Location, scope: Scope, ctx: ResolveCtx): string {
  const parts = op.split('.');
  const first = parts[0] as string;
  if (first === 'data') return op;
  if (scope.lookup(first) === undefined) {
    const imp = ctx.imports.get(first);
    if (imp) {
      const ip = refParts(imp) as string[];
      if (ip[0] === 'data') return [...ip, ...parts.slice(1)].join('.');
    }
    if (ctx.names.has(first)) return ['data', ...ctx.pkg, ...parts].join('.');
  }
  if (!lookupBuiltin(op) && !INTERNAL_OPS.has(op)) {
    throw new RegoError('rego_type_error', `undefined function ${op}`, loc);
  }
  return op;
}

const INTERNAL_OPS = new Set(['internal.member_2', 'internal.member_3', 'eq', 'assign']);

function fresh(name: string, ctx: ResolveCtx): string {
  return `$${name}${ctx.fresh.n++}`;
}

/** `nested` bodies (comprehensions, every) rename their declarations so they never clash with outer variables. */
function resolveBody(body: Body, scope: Scope, ctx: ResolveCtx, nested: boolean): Body {
  const out: Body = [];
  for (const e of body) {
    if (e.kind === 'some') for (const v of e.vars) if (v.type === 'var') scope.pending.add(v.name);
    if (e.kind === 'unify' && e.assign) for (const v of patternVarsOf(e.left)) scope.pending.add(v);
  }
  const declare = (v: Term, how: 'assigned' | 'declared', at: Location): Term => {
    if (v.type !== 'var' || v.name.startsWith('$')) return v;
    // the rule's arguments share the top body's level, as in OPA
    const before = scope.occurrence.get(v.name) ?? (scope.parent?.occurrence.get(v.name) === 'arg' ? 'arg' : undefined);
    if (before === 'arg') throw new RegoError('rego_compile_error', `arg ${v.name} redeclared`, at);
    if (before) throw new RegoError('rego_compile_error', `var ${v.name} ${before === 'seen' ? 'referenced' : before} above`, at);
    scope.occurrence.set(v.name, how);
    const n = nested ? fresh(v.name, ctx) : v.name;
    scope.pending.delete(v.name);
    scope.decl.set(v.name, n);
    return { ...v, name: n };
  };
  const declarePattern = (t: Term, how: 'assigned' | 'declared', at?: Location): Term => {
    if (t.type === 'var') return declare(t, how, at ?? t.loc);
    if (t.type === 'array') return { ...t, items: t.items.map((x) => declarePattern(x, how, at)) };
    if (t.type === 'object') return { ...t, items: t.items.map(([k, v]) => [resolveTerm(k, scope, ctx, false), declarePattern(v, how, at)] as [Term, Term]) };
    return resolveTerm(t, scope, ctx, false);
  };
  for (const e of body) {
    const withs = e.withs.map((w) => ({ ...w, value: resolveWithValue(w.value, scope, ctx), target: resolveWithTarget(w.target, scope, ctx) }));
    switch (e.kind) {
      case 'term':
        out.push({ ...e, term: resolveTerm(e.term, scope, ctx, false), withs });
        break;
      case 'unify':
        if (e.assign) {
          const right = resolveTerm(e.right, scope, ctx, false);
          const left = declarePattern(e.left, 'assigned');
          out.push({ ...e, left, right, withs });
        } else out.push({ ...e, left: resolveTerm(e.left, scope, ctx, false), right: resolveTerm(e.right, scope, ctx, false), withs });
        break;
      case 'some':
        for (const v of e.vars) declare(v, 'declared', e.loc);
        break;
      case 'somein': {
        const domain = resolveTerm(e.domain, scope, ctx, false);
        const key = e.key ? declarePattern(e.key, 'declared', e.loc) : null;
        const value = declarePattern(e.value, 'declared', e.loc);
        out.push({ ...e, key, value, domain, withs });
        break;
      }
      case 'every': {
        const domain = resolveTerm(e.domain, scope, ctx, false);
        const s = new Scope(scope);
        const inner = { ...ctx };
        const declIn = (v: Term | null): Term | null => {
          if (!v) return null;
          if (v.type !== 'var') return resolveTerm(v, s, inner, false);
          const n = fresh(v.name, ctx);
          s.decl.set(v.name, n);
          return { ...v, name: n };
        };
        const key = declIn(e.key);
        const value = declIn(e.value) as Term;
        const eb = resolveBody(e.body, s, ctx, true);
        out.push({ ...e, key, value, domain, body: eb, withs });
        break;
      }
    }
  }
  return out;
}

/** A `with` value naming a function or builtin (`with count as my_count`) becomes a function reference. */
function resolveWithValue(t: Term, scope: Scope, ctx: ResolveCtx): Term {
  const parts = refParts(t);
  if (parts && scope.lookup(parts[0] as string) === undefined && !ROOTS.has(parts[0] as string)) {
    const name = parts.join('.');
    if (lookupBuiltin(name)) return { type: 'scalar', value: `fn:${name}`, loc: t.loc };
    const r = resolveTerm(t, scope, ctx, false);
    const rp = refParts(r);
    if (rp && rp[0] === 'data' && ctx.arities.has(rp.join('.'))) return { type: 'scalar', value: `fn:${rp.join('.')}`, loc: t.loc };
    return r;
  }
  return resolveTerm(t, scope, ctx, false);
}

function resolveWithTarget(t: Term, scope: Scope, ctx: ResolveCtx): Term {
  const parts = refParts(t);
  if (!parts) throw new RegoError('rego_type_error', 'with target must be a reference', t.loc);
  if (parts[0] === 'input' || parts[0] === 'data') return t;
  const name = parts.join('.');
  if (lookupBuiltin(name)) return { type: 'scalar', value: `builtin:${name}`, loc: t.loc };
  const r = resolveTerm(t, scope, ctx, false);
  const rp = refParts(r);
  if (rp && rp[0] === 'data') return r;
  throw new RegoError('rego_type_error', `with keyword target ${name} must reference existing input, data, or a function`, t.loc);
}

// ── safety: reorder body literals so every variable is bound before use (OPA's reorderBodyForSafety) ──

function patternVarsOf(t: Term, out = new Set<string>()): Set<string> {
  if (t.type === 'var') out.add(t.name);
  else if (t.type === 'array') for (const x of t.items) patternVarsOf(x, out);
  else if (t.type === 'object') for (const [, v] of t.items) patternVarsOf(v, out);
  return out;
}

function isRootVar(name: string): boolean {
  return name === 'data' || name === 'input';
}

/** Vars an expression uses (not those `some` declares), closures included: what must be safe before it runs. */
const USED_VARS: VarScope = { closures: true, declared: false };
/** Vars of a body outside nested closures (comprehensions, `every`), `some` declarations left out. */
const TOP_VARS: VarScope = { closures: false, declared: false };

class Safety {
  constructor(
    readonly universe: Set<string>,
    private readonly arities: ReadonlyMap<string, number>,
  ) {}

  /** Unbound vars needed to evaluate `t` as a value (ref keys and closure-locals excluded). */
  needs(t: Term, bound: Set<string>, out: Set<string>): void {
    switch (t.type) {
      case 'scalar':
        return;
      case 'var':
        if (!bound.has(t.name) && !isRootVar(t.name)) out.add(t.name);
        return;
      case 'ref':
        this.needs(t.head, bound, out);
        for (const p of t.path) this.needsPattern(p, bound, out);
        return;
      case 'array':
      case 'set':
        for (const x of t.items) this.needs(x, bound, out);
        return;
      case 'object':
        for (const [k, v] of t.items) {
          this.needs(k, bound, out);
          this.needs(v, bound, out);
        }
        return;
      case 'call':
        for (const a of t.args) this.needs(a, bound, out);
        return;
      case 'template':
        for (const p of t.parts) if (typeof p !== 'string') this.needs(p, bound, out);
        return;
      default:
        for (const v of varsOf(t)) if (this.universe.has(v) && !bound.has(v) && !isRootVar(v)) out.add(v);
    }
  }

  /** Like needs, but plain variables in array/object positions are outputs. */
  needsPattern(t: Term, bound: Set<string>, out: Set<string>): void {
    if (t.type === 'var') return;
    if (t.type === 'array') {
      for (const x of t.items) this.needsPattern(x, bound, out);
      return;
    }
    if (t.type === 'object') {
      for (const [k, v] of t.items) {
        this.needs(k, bound, out);
        this.needsPattern(v, bound, out);
      }
      return;
    }
    this.needs(t, bound, out);
  }

  /** Vars bound by evaluating refs inside `t` (their key positions). */
  outputs(t: Term, out: Set<string>): void {
    switch (t.type) {
      case 'ref':
        this.outputs(t.head, out);
        for (const p of t.path) {
          patternVarsOf(p, out);
          this.outputs(p, out);
        }
        return;
      case 'array':
      case 'set':
        for (const x of t.items) this.outputs(x, out);
        return;
      case 'object':
        for (const [k, v] of t.items) {
          this.outputs(k, out);
          this.outputs(v, out);
        }
        return;
      case 'call':
        for (const a of t.args) this.outputs(a, out);
        return;
      case 'template':
        for (const p of t.parts) if (typeof p !== 'string') this.outputs(p, out);
        return;
      default:
        return;
    }
  }

  private evaluable(t: Term, bound: Set<string>): boolean {
    const n = new Set<string>();
    this.needs(t, bound, n);
    return n.size === 0;
  }

  private withOutputs(t: Term, bound: Set<string>): Set<string> {
    const o = new Set(bound);
    this.outputs(t, o);
    return o;
  }

  /** Vars bound after unifying a and b, or null if neither side can be evaluated yet. */
  unify(a: Term, b: Term, bound: Set<string>): Set<string> | null {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as Array<[Term, Term]>) {
      if (this.evaluable(x, bound)) {
        const b2 = this.withOutputs(x, bound);
        if (this.evaluable(y, b2)) return this.withOutputs(y, b2);
        const n = new Set<string>();
        this.needsPattern(y, b2, n);
        if (n.size === 0) {
          const b3 = this.withOutputs(y, b2);
          patternVarsOf(y, b3);
          return b3;
        }
      }
    }
    if (a.type === 'array' && b.type === 'array' && a.items.length === b.items.length) {
      let cur: Set<string> = bound;
      const pending = a.items.map((x, i) => [x, b.items[i] as Term] as [Term, Term]);
      let progress = true;
      while (pending.length && progress) {
        progress = false;
        for (let i = 0; i < pending.length; i++) {
          const [x, y] = pending[i] as [Term, Term];
          const r = this.unify(x, y, cur);
          if (r) {
            cur = r;
            pending.splice(i, 1);
            i--;
            progress = true;
          }
        }
      }
      return pending.length ? null : cur;
    }
    if (a.type === 'object' && b.type === 'object' && a.items.length === b.items.length) {
      let cur: Set<string> = bound;
      for (const [k, v] of a.items) {
        const other = b.items.find(([k2]) => k2.type === 'scalar' && k.type === 'scalar' && k2.value === k.value);
        if (!other) return null;
        const r = this.unify(v, other[1], cur);
        if (!r) return null;
        cur = r;
      }
      return cur;
    }
    return null;
  }

  /**
   * Vars `e` would bind if its inputs were safe (OPA's output vars, used to report only the unsafe ones): the pattern
   * side of a unification against a non-variable, the output argument of a call, `some … in` targets, and ref keys
   * below a bound head.
   */
  potentialOutputs(e: Expr, bound: Set<string>): Set<string> {
    const out = new Set<string>();
    if (e.negated) return out;
    const refKeys = (t: Term): void => this.refKeyOutputs(t, bound, out);
    switch (e.kind) {
      case 'unify': {
        refKeys(e.left);
        refKeys(e.right);
        this.unifiedOutputs(e.left, e.right, bound, out);
        break;
      }
      case 'term': {
        refKeys(e.term);
        const t = e.term;
        if (t.type === 'call') {
          const arity = callArity(t.op, this.arities);
          if (arity !== null && t.args.length === arity + 1) patternVarsOf(t.args[arity] as Term, out);
        }
        break;
      }
      case 'somein':
        refKeys(e.domain);
        if (e.key) patternVarsOf(e.key, out);
        patternVarsOf(e.value, out);
        break;
      default:
        break;
    }
    return out;
  }

  /** `a = b`: a variable pattern unified with a value is bound; two bare variables bind nothing. */
  private unifiedOutputs(a: Term, b: Term, bound: Set<string>, out: Set<string>): void {
    if (a.type === 'var' && b.type === 'var') return;
    if (a.type === 'array' && b.type === 'array' && a.items.length === b.items.length) {
      a.items.forEach((x, i) => this.unifiedOutputs(x, b.items[i] as Term, bound, out));
      return;
    }
    if (knownValue(b, bound)) patternVarsOf(a, out);
    if (knownValue(a, bound)) patternVarsOf(b, out);
  }

  /** Keys of refs whose head is bound (`xs[i]` binds i when xs is known), outside closures. */
  private refKeyOutputs(t: Term, bound: Set<string>, out: Set<string>): void {
    switch (t.type) {
      case 'ref': {
        const head = t.head;
        const headKnown = head.type !== 'var' || bound.has(head.name) || isRootVar(head.name);
        if (headKnown) for (const p of t.path) patternVarsOf(p, out);
        this.refKeyOutputs(head, bound, out);
        for (const p of t.path) this.refKeyOutputs(p, bound, out);
        return;
      }
      case 'array':
      case 'set':
        for (const x of t.items) this.refKeyOutputs(x, bound, out);
        return;
      case 'object':
        for (const [k, v] of t.items) {
          this.refKeyOutputs(k, bound, out);
          this.refKeyOutputs(v, bound, out);
        }
        return;
      case 'call':
        for (const a of t.args) this.refKeyOutputs(a, bound, out);
        return;
      default:
        return;
    }
  }

  /** Vars bound after `e`, or null if `e` cannot run yet. */
  expr(e: Expr, bound: Set<string>): Set<string> | null {
    for (const w of e.withs) if (!this.evaluable(w.value, bound)) return null;
    if (e.negated) {
      const vs = new Set<string>();
      exprVars(e, vs, USED_VARS);
      // OPA: every variable of a negated expression must be bound by then, wildcards included (`not xs[_]` is unsafe)
      for (const v of vs) if (this.universe.has(v) && !bound.has(v) && !isRootVar(v)) return null;
      return bound;
    }
    switch (e.kind) {
      case 'some':
        return bound;
      case 'term': {
        const t = e.term;
        if (t.type === 'call') {
          const arity = callArity(t.op, this.arities);
          if (arity !== null && t.args.length === arity + 1) {
            const ins = t.args.slice(0, arity);
            const n = new Set<string>();
            for (const a of ins) this.needs(a, bound, n);
            if (n.size) return null;
            const b2 = new Set(bound);
            for (const a of ins) this.outputs(a, b2);
            const last = t.args[arity] as Term;
            const n2 = new Set<string>();
            this.needsPattern(last, b2, n2);
            if (n2.size) return null;
            this.outputs(last, b2);
            patternVarsOf(last, b2);
            return b2;
          }
        }
        const b2 = this.withOutputs(t, bound);
        if (!this.evaluable(t, b2)) return null;
        return b2;
      }
      case 'unify':
        return this.unify(e.left, e.right, bound);
      case 'somein': {
        if (!this.evaluable(e.domain, bound)) return null;
        const b2 = this.withOutputs(e.domain, bound);
        for (const x of [e.key, e.value]) {
          if (!x) continue;
          const n = new Set<string>();
          this.needsPattern(x, b2, n);
          if (n.size) return null;
          this.outputs(x, b2);
          patternVarsOf(x, b2);
        }
        return b2;
      }
      case 'every': {
        if (!this.evaluable(e.domain, bound)) return null;
        const inner = new Set<string>();
        bodyVars(e.body, inner, USED_VARS);
        for (const v of inner) if (this.universe.has(v) && !bound.has(v) && !isRootVar(v)) return null;
        return this.withOutputs(e.domain, bound);
      }
    }
  }
}

/** Declared arity of a builtin or `null` for user functions (resolved at evaluation). */
export function callArity(op: string, arities: ReadonlyMap<string, number>): number | null {
  if (op === 'internal.member_2') return 2;
  if (op === 'internal.member_3') return 3;
  if (op.startsWith('data.')) return arities.get(op) ?? null;
  const b = lookupBuiltin(op);
  if (!b || b.sig.variadic) return null;
  return b.sig.args.length;
}


/** Reorder a body and, recursively, closures inside it. `entry` are vars bound when the body starts. */
export function reorderBody(body: Body, entry: Set<string>, heads: Term[], arities: ReadonlyMap<string, number>, outerUniverse?: Set<string>): Body {
  return reorderClause(body, entry, heads, arities, outerUniverse).body;
}

/** Reorder a body; head terms (rule value and key terms, comprehension heads) are checked and reordered too. */
export function reorderClause(
  body: Body,
  entry: Set<string>,
  heads: Term[],
  arities: ReadonlyMap<string, number>,
  outerUniverse?: Set<string>,
): { body: Body; heads: Term[] } {
  const universe = new Set<string>([...entry, ...(outerUniverse ?? [])]);
  for (const h of heads) varsOf(h, universe, false);
  bodyVars(body, universe, TOP_VARS);
  const safety = new Safety(universe, arities);
  let bound = new Set(entry);
  for (const v of outerUniverse ?? []) bound.add(v);
  const remaining = [...body];
  const out: Body = [];
  let progress = true;
  while (remaining.length && progress) {
    progress = false;
    for (let i = 0; i < remaining.length; i++) {
      const e = remaining[i] as Expr;
      const next = safety.expr(e, bound);
      if (next) {
        out.push(reorderNested(e, universe, arities));
        bound = next;
        remaining.splice(i, 1);
        i--;
        progress = true;
      }
    }
  }
  if (remaining.length) throw unsafeVarsError(remaining, bound, safety);
  for (const h of heads) {
    const n = new Set<string>();
    safety.needs(h, bound, n);
    const v = [...n][0];
    if (v !== undefined) throw new RegoError('rego_unsafe_var_error', `var ${displayVar(v)} is unsafe`, h.loc);
    safety.outputs(h, bound);
  }
  return { body: out, heads: heads.map((h) => reorderTerm(h, universe, arities)) };
}

/**
 * OPA's report for a body that cannot be ordered: one error per unsafe variable, at the first expression (by location)
 * that uses it, sorted by location and then message. A variable the expression would bind once its inputs were safe
 * (`s := substring(x, 0, 1)` binds s) is not unsafe there. Only wildcards unsafe: one `var _ is unsafe`.
 */
function unsafeVarsError(remaining: Body, bound: Set<string>, safety: Safety): RegoError {
  const firstUse = new Map<string, Location>();
  for (const e of remaining) {
    const vs = new Set<string>();
    exprVars(e, vs, USED_VARS);
    const outs = safety.potentialOutputs(e, bound);
    for (const v of vs) {
      if (bound.has(v) || isRootVar(v) || outs.has(v) || !(safety.universe.has(v) || v.startsWith('$_'))) continue;
      const seen = firstUse.get(v);
      if (!seen || compareLocations(e.loc, seen) < 0) firstUse.set(v, e.loc);
    }
  }
  let errors = [...firstUse]
    .filter(([v]) => !isGeneratedVar(v))
    .map(([v, loc]) => new RegoError('rego_unsafe_var_error', `var ${displayVar(v)} is unsafe`, loc));
  if (errors.length === 0) {
    // only wildcards (or the check above found no culprit): the first remaining expression, as before
    const e = remaining[0] as Expr;
    const vs = new Set<string>();
    exprVars(e, vs, USED_VARS);
    const open = [...vs].filter((v) => !bound.has(v) && !isRootVar(v)).sort();
    errors = [new RegoError('rego_unsafe_var_error', `var ${displayVar(open[0] ?? '?')} is unsafe`, e.loc)];
  }
  errors.sort((a, b) => compareLocations(a.location as Location, b.location as Location) || (a.detail < b.detail ? -1 : a.detail > b.detail ? 1 : 0));
  const [first, ...more] = errors as [RegoError, ...RegoError[]];
  return new RegoError(first.code, first.detail, first.location, more);
}

/** Not a bare variable, nor a ref below an unbound variable (OPA's unifier marks the other side safe then). */
function knownValue(t: Term, bound: Set<string>): boolean {
  if (t.type === 'var') return false;
  if (t.type === 'ref' && t.head.type === 'var') return bound.has(t.head.name) || isRootVar(t.head.name);
  return true;
}

/** Wildcards and the engine's own query variables (`__x__`): never named in an unsafe-var error, as OPA's IsGenerated. */
function isGeneratedVar(v: string): boolean {
  return v.startsWith('$') || (v.startsWith('__') && v.endsWith('__'));
}

function compareLocations(a: Location, b: Location): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.row - b.row || a.col - b.col;
}

function displayVar(v: string): string {
  return v.startsWith('$') ? v.replace(/^\$/, '').replace(/\d+$/, '') : v;
}

function reorderNested(e: Expr, universe: Set<string>, arities: ReadonlyMap<string, number>): Expr {
  const fix = (t: Term): Term => reorderTerm(t, universe, arities);
  switch (e.kind) {
    case 'term':
      return { ...e, term: fix(e.term), withs: e.withs.map((w) => ({ ...w, value: fix(w.value) })) };
    case 'unify':
      return { ...e, left: fix(e.left), right: fix(e.right), withs: e.withs.map((w) => ({ ...w, value: fix(w.value) })) };
    case 'somein':
      return { ...e, domain: fix(e.domain), withs: e.withs.map((w) => ({ ...w, value: fix(w.value) })) };
    case 'every': {
      const entry = new Set<string>();
      if (e.key) varsOf(e.key, entry);
      varsOf(e.value, entry);
      return { ...e, domain: fix(e.domain), body: reorderBody(e.body, entry, [], arities, universe) };
    }
    default:
      return e;
  }
}

function reorderTerm(t: Term, universe: Set<string>, arities: ReadonlyMap<string, number>): Term {
  const r = (x: Term): Term => reorderTerm(x, universe, arities);
  switch (t.type) {
    case 'ref':
      return { ...t, head: r(t.head), path: t.path.map(r) };
    case 'array':
    case 'set':
      return { ...t, items: t.items.map(r) };
    case 'object':
      return { ...t, items: t.items.map(([k, v]) => [r(k), r(v)] as [Term, Term]) };
    case 'call':
      return { ...t, args: t.args.map(r) };
    case 'template':
      return { ...t, parts: t.parts.map((p) => (typeof p === 'string' ? p : r(p))) };
    case 'arraycompr':
    case 'setcompr': {
      const captured = intersect(universe, varsOf(t));
      const r2 = reorderClause(t.body, captured, [t.head], arities, universe);
      return { ...t, body: r2.body, head: r2.heads[0] as Term };
    }
    case 'objectcompr': {
      const captured = intersect(universe, varsOf(t));
      const r2 = reorderClause(t.body, captured, [t.key, t.value], arities, universe);
      return { ...t, body: r2.body, key: r2.heads[0] as Term, value: r2.heads[1] as Term };
    }
    default:
      return t;
  }
}

function intersect(a: Set<string>, b: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const x of b) if (a.has(x)) out.add(x);
  return out;
}

export type { Value };
