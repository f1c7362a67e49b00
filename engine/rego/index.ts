// Public API of the Rego engine (OPA's rego package, the small part arbiter needs):
//   const compiled = compileModules([{ file: 'p.rego', source }]);
//   const results = evalQuery(compiled, 'data.arbiter.policies', { input });
// Results are OPA-shaped: one entry per solution, with the query's variable bindings (as Values) and, for
// single-term queries, the term's value under `expressions`. Errors are RegoError with OPA's code and location.
import './builtins/index.ts';
import { RegoError } from './ast.ts';
import type { Body, Location } from './ast.ts';
import { compileModules as compileTree, compileQuery } from './compile.ts';
import type { CompileOptions, CompiledQuery, CompiledRule, RuleNode } from './compile.ts';
import { DEFAULT_LIMITS, Evaluator } from './eval.ts';
import type { EvalLimits, RuleTracer } from './eval.ts';
import { parseModule, parseQuery } from './parser.ts';
import { BigNum, RObject, RSet, normalizeNumber } from './value.ts';
import type { Value } from './value.ts';

export { RegoError } from './ast.ts';
export { BUILTIN_LIMITS } from './builtins/registry.ts';
export type { Body, Expr, Location, Module, Rule, Term } from './ast.ts';
export { Compiler } from './compile.ts';
export type { CompileOptions, CompiledQuery, CompiledRule, RuleNode } from './compile.ts';
export { typeOfJsonSchema } from './schema.ts';
export { parseModule, parseQuery } from './parser.ts';
export { canonical as canonicalModule, formatModule } from './format.ts';
export { RegoTypeError } from './typecheck.ts';
export { BigNum, RObject, RSet, formatNumber, fromJSON, keyOf, stringifyJSON, toJSON } from './value.ts';
export { parseJSONText } from './builtins/encoding-json.ts';
export type { Value } from './value.ts';

export interface Compiled {
  readonly root: RuleNode;
  readonly files: string[];
  /** Compiled queries by source text (queries are compiled once and reused). */
  readonly queries: Map<string, CompiledQuery>;
}

export interface EvalOptions {
  /** The input document (already a Value, or plain JSON that is converted). */
  input?: unknown;
  /** Base documents under `data` (plain JSON or a Value). */
  data?: unknown;
  /** Raise builtin errors instead of treating them as undefined. */
  strict?: boolean;
  /** Evaluation time for `time.now_ns` (default: the wall clock at call time). */
  nowNs?: bigint;
  /** Where `print` writes (default: dropped). */
  print?: (line: string) => void;
  /** Seeded random source for `rand.intn` (default Math.random). */
  random?: () => number;
  limits?: Partial<EvalLimits>;
  /** Called for every value a rule produces, with the rule's location (for explanations). */
  tracer?: (rule: { name: string; location: Location }, value: Value) => void;
}

export interface QueryResult {
  /** Variable bindings of the query (generated and wildcard variables excluded). */
  bindings: Map<string, Value>;
}

/**
 * Parse and compile modules into one rule tree. Throws RegoError (rego_parse_error, rego_unsafe_var_error, …).
 * `options.inputSchema` (a JSON Schema of `input`) makes refs into `input` type-checked, as `opa check --schema`.
 */
export function compileModules(modules: Array<{ file: string; source: string }>, options: CompileOptions = {}): Compiled {
  const parsed = modules.map((m) => parseModule(m.file, m.source));
  return { root: compileTree(parsed, options), files: modules.map((m) => m.file), queries: new Map() };
}

function prepare(compiled: Compiled, query: string): CompiledQuery {
  let q = compiled.queries.get(query);
  if (!q) {
    const body: Body = parseQuery(query);
    q = compileQuery(body, compiled.root);
    compiled.queries.set(query, q);
  }
  return q;
}

/** Evaluate a query; each result holds one solution's bindings. */
export function evalQuery(compiled: Compiled, query: string, opts: EvalOptions = {}): QueryResult[] {
  return evalCompiledQuery(compiled, prepare(compiled, query), opts);
}

/**
 * Compile a query body (parsed with `parseQuery`, possibly rewritten by the caller) against the modules: safety,
 * ordering and call resolution as for a query string. Throws RegoError (e.g. rego_unsafe_var_error).
 */
export function compileQueryBody(compiled: Compiled, body: Body): CompiledQuery {
  return compileQuery(body, compiled.root);
}

/** Evaluate a query body from `compileQueryBody`; like `evalQuery`, each result holds one solution's bindings. */
export function evalCompiledQuery(compiled: Compiled, q: CompiledQuery, opts: EvalOptions = {}): QueryResult[] {
  const limits: EvalLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const input = opts.input === undefined ? undefined : documentValue(opts.input, 'input', limits);
  const data = opts.data === undefined ? new RObject() : documentValue(opts.data, 'data', limits);
  const tracer: RuleTracer | undefined = opts.tracer
    ? (rule: CompiledRule, v: Value) => opts.tracer?.({ name: rule.name, location: rule.loc }, v)
    : undefined;
  let seed = 0x2f6b3c1d;
  const ev = new Evaluator(
    compiled.root,
    data,
    input,
    {
      nowNs: opts.nowNs ?? BigInt(Date.now()) * 1_000_000n,
      strict: opts.strict ?? false,
      cache: new Map(),
      random:
        opts.random ??
        (() => {
          // deterministic xorshift so repeated evaluations agree
          seed ^= seed << 13;
          seed ^= seed >>> 17;
          seed ^= seed << 5;
          return ((seed >>> 0) % 1_000_000) / 1_000_000;
        }),
      print: opts.print ?? (() => {}),
      deadline: limits.timeoutMs > 0 ? Date.now() + limits.timeoutMs : 0,
    },
    limits,
    tracer,
  );
  try {
    return ev.query(q.body, q.outputVars).map((bindings) => ({ bindings }));
  } catch (err) {
    // a value or recursion deeper than the JS stack: a clean Rego error, never a crash
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      throw new RegoError('eval_cancel_error', 'evaluation exceeded the stack (a deeply nested value or deep recursion)');
    }
    throw err;
  }
}

/**
 * `input` or `data` as a Value. Plain JSON is converted once and bounded (limits.maxInputDepth / maxInputNodes, so a
 * huge, deeply nested or cyclic document is a RegoError, not a stack overflow); a Value (RObject/RSet) is taken as is,
 * which lets callers convert a document once and reuse it across evaluations.
 */
export function documentValue(x: unknown, what: 'input' | 'data', limits: Pick<EvalLimits, 'maxInputDepth' | 'maxInputNodes'> = DEFAULT_LIMITS): Value {
  if (x instanceof RObject || x instanceof RSet || x instanceof BigNum) return x;
  return convertDocument(x, 0, { what, limits, nodes: 0 });
}

interface Conversion {
  what: string;
  limits: Pick<EvalLimits, 'maxInputDepth' | 'maxInputNodes'>;
  nodes: number;
}

function convertDocument(x: unknown, depth: number, c: Conversion): Value {
  if (++c.nodes > c.limits.maxInputNodes) {
    throw new RegoError('eval_input_error', `${c.what} holds more than ${c.limits.maxInputNodes} values (limits.maxInputNodes)`);
  }
  if (x === null || x === undefined) return null;
  switch (typeof x) {
    case 'boolean':
    case 'string':
    case 'number':
      return x;
    case 'bigint':
      return normalizeNumber(x);
  }
  if (x instanceof RObject || x instanceof RSet || x instanceof BigNum) return x;
  if (depth >= c.limits.maxInputDepth) {
    throw new RegoError('eval_input_error', `${c.what} is nested deeper than ${c.limits.maxInputDepth} levels (limits.maxInputDepth)`);
  }
  if (Array.isArray(x)) {
    const out: Value[] = new Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = convertDocument(x[i], depth + 1, c);
    return out;
  }
  const o = new RObject();
  const rec = x as Record<string, unknown>;
  for (const k of Object.keys(rec)) o.set(k, convertDocument(rec[k], depth + 1, c));
  return o;
}

/** Value of a single reference query such as `data.arbiter.policies` (undefined when the query is undefined). */
export function evalRef(compiled: Compiled, ref: string, opts: EvalOptions = {}): Value | undefined {
  const results = evalQuery(compiled, `__x__ = ${ref}`, opts);
  if (results.length === 0) return undefined;
  if (results.length > 1) throw new RegoError('eval_conflict_error', `${ref} produced multiple values`);
  return results[0]?.bindings.get('__x__');
}
