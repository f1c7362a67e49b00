// Public API of the Rego engine (OPA's rego package, the small part arbiter needs):
//   const compiled = compileModules([{ file: 'p.rego', source }]);
//   const results = evalQuery(compiled, 'data.arbiter.policies', { input });
// Results are OPA-shaped: one entry per solution, with the query's variable bindings (as Values) and, for
// single-term queries, the term's value under `expressions`. Errors are RegoError with OPA's code and location.
import './builtins/index.ts';
import { RegoError } from './ast.ts';
import type { Body, Location } from './ast.ts';
import { compileModules as compileTree, compileQuery } from './compile.ts';
import type { CompiledQuery, CompiledRule, RuleNode } from './compile.ts';
import { DEFAULT_LIMITS, Evaluator } from './eval.ts';
import type { EvalLimits, RuleTracer } from './eval.ts';
import { parseModule, parseQuery } from './parser.ts';
import { RObject, fromJSON } from './value.ts';
import type { Value } from './value.ts';

export { RegoError } from './ast.ts';
export type { Location } from './ast.ts';
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

/** Parse and compile modules into one rule tree. Throws RegoError (rego_parse_error, rego_unsafe_var_error, …). */
export function compileModules(modules: Array<{ file: string; source: string }>): Compiled {
  const parsed = modules.map((m) => parseModule(m.file, m.source));
  return { root: compileTree(parsed), files: modules.map((m) => m.file), queries: new Map() };
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
  const q = prepare(compiled, query);
  const input = opts.input === undefined ? undefined : fromJSON(opts.input);
  const data = opts.data === undefined ? new RObject() : fromJSON(opts.data);
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
    },
    { ...DEFAULT_LIMITS, ...opts.limits },
    tracer,
  );
  return ev.query(q.body, q.outputVars).map((bindings) => ({ bindings }));
}

/** Value of a single reference query such as `data.arbiter.policies` (undefined when the query is undefined). */
export function evalRef(compiled: Compiled, ref: string, opts: EvalOptions = {}): Value | undefined {
  const results = evalQuery(compiled, `__x__ = ${ref}`, opts);
  if (results.length === 0) return undefined;
  if (results.length > 1) throw new RegoError('eval_conflict_error', `${ref} produced multiple values`);
  return results[0]?.bindings.get('__x__');
}
