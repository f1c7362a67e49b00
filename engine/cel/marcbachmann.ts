// Default CEL adapter: @marcbachmann/cel-js (fast: ~3M evaluations/s here; type-checks with positioned errors).
import { Environment } from '@marcbachmann/cel-js';
import { RE2JS, RE2JSSyntaxException } from 're2js';
import { CEL_LIMITS, CelCompileError, CelEvaluationError, type CelEngine, type CelObjectType, type CelProgram, type CelVariable, type CelVariableType } from './engine.ts';

const TYPE_NAMES: Record<CelVariableType, string> & Record<string, string | undefined> = {
  map: 'map',
  list: 'list',
  timestamp: 'google.protobuf.Timestamp',
  dyn: 'dyn',
  string: 'string',
  int: 'int',
  double: 'double',
  bool: 'bool',
};

const MACROS = new Set(['exists', 'all', 'exists_one', 'map', 'filter']);

interface AstNode {
  op: string;
  args: unknown;
  start?: number;
}

function isNode(v: unknown): v is AstNode {
  return !!v && typeof v === 'object' && 'op' in v;
}

/** Rejects macros nested deeper than the limit: nested comprehensions multiply evaluation cost. */
function checkComprehensionNesting(node: unknown, depth: number): void {
  if (Array.isArray(node)) {
    for (const n of node) checkComprehensionNesting(n, depth);
    return;
  }
  if (!isNode(node)) return;
  if (node.op === 'rcall' && Array.isArray(node.args) && MACROS.has(node.args[0] as string)) {
    const [, receiver, args] = node.args as [string, unknown, unknown[]];
    checkComprehensionNesting(receiver, depth);
    if (depth + 1 > CEL_LIMITS.maxComprehensionNesting) {
      throw new CelCompileError(`macros nested more than ${CEL_LIMITS.maxComprehensionNesting} deep`, node.start);
    }
    checkComprehensionNesting(args, depth + 1);
    return;
  }
  checkComprehensionNesting(node.args, depth);
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim().replaceAll(RE2_MATCHES, 'matches');
}

// cel-js runs `matches` on a backtracking JS RegExp (`^(a+)+$` on 30 characters takes a minute) and refuses a second
// overload, so every `x.matches(p)` call is renamed in the AST to this RE2 one: cel-spec's semantics, linear time.
const RE2_MATCHES = 'matches_re2';
const RE2_CACHE = new Map<string, RE2JS>();

function re2Matches(text: string, pattern: string): boolean {
  let re = RE2_CACHE.get(pattern);
  if (!re) {
    try {
      re = RE2JS.compile(pattern);
    } catch (err) {
      if (err instanceof RE2JSSyntaxException) throw new CelEvaluationError(`invalid regular expression ${JSON.stringify(pattern)}: ${err.message}`);
      throw err;
    }
    if (RE2_CACHE.size >= 1000) RE2_CACHE.clear();
    RE2_CACHE.set(pattern, re);
  }
  return re.test(text);
}

/** Points every `<receiver>.matches(<pattern>)` call at the RE2 implementation. */
function useRE2Matches(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) useRE2Matches(n);
    return;
  }
  if (!isNode(node)) return;
  if (node.op === 'rcall' && Array.isArray(node.args) && node.args[0] === 'matches') node.args[0] = RE2_MATCHES;
  useRE2Matches(node.args);
}

function offsetOf(err: unknown): number | undefined {
  const e = err as { range?: { start?: number }; node?: { start?: number; pos?: number } };
  return e.range?.start ?? e.node?.start ?? e.node?.pos;
}

/**
 * The library reads a plain object's type from its `constructor` property, so an object with an own `constructor` key
 * (a service label, a signal name) is "Unsupported type" and every expression reading it fails. Such objects become
 * Maps, which the library reads as CEL maps; everything else is passed through untouched (same reference).
 */
function withoutConstructorKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = withoutConstructorKeys(value[i]);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return out ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // Maps, Dates, the library's own values
  const record = value as Record<string, unknown>;
  let changed = Object.hasOwn(record, 'constructor');
  const entries: Array<[string, unknown]> = [];
  for (const k of Object.keys(record)) {
    const v = withoutConstructorKeys(record[k]);
    if (v !== record[k]) changed = true;
    entries.push([k, v]);
  }
  if (!changed) return value;
  return Object.hasOwn(record, 'constructor') ? new Map(entries) : Object.fromEntries(entries);
}

/** Input documents (diagnosis, context, action, data) as the library can read them, converted once per document. */
const adopted = new WeakMap<object, unknown>();
const INPUT_DOCUMENTS = ['diagnosis', 'context', 'action', 'data'] as const;
function adoptActivation(activation: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  let out: Record<string, unknown> | undefined;
  for (const name of INPUT_DOCUMENTS) {
    const v = activation[name];
    if (v === null || typeof v !== 'object') continue;
    let a = adopted.get(v);
    if (a === undefined) adopted.set(v, (a = withoutConstructorKeys(v)));
    if (a !== v) (out ??= { ...activation })[name] = a;
  }
  return out ?? activation;
}

const ENVIRONMENT_OPTIONS = {
  homogeneousAggregateLiterals: false,
  limits: {
    maxAstNodes: CEL_LIMITS.maxAstNodes,
    maxDepth: CEL_LIMITS.maxDepth,
    maxListElements: CEL_LIMITS.maxLiteralElements,
    maxMapEntries: CEL_LIMITS.maxLiteralElements,
    maxCallArguments: 16,
  },
};

export function createMarcbachmannEngine(): CelEngine {
  // Expressions are checked in an environment with the declared object types, and evaluated in one where those
  // variables are plain maps: the library would otherwise copy every input object into its own class on each call.
  const environments = new Map<string, Environment>();
  const typeIds = new WeakMap<readonly CelObjectType[], number>();
  let nextTypeId = 1;
  const environmentFor = (variables: readonly CelVariable[], types: readonly CelObjectType[], typed: boolean): Environment => {
    let typesId = typeIds.get(types);
    if (typesId === undefined) typeIds.set(types, (typesId = nextTypeId++));
    const declared = types.map((t) => t.name);
    // a type naming a declared object type is a map where it is evaluated (a list of them, a list of maps)
    const typeOf = (t: string): string => TYPE_NAMES[t] ?? (typed ? t : declared.includes(t) ? 'map' : declared.some((d) => t.includes(d)) ? 'dyn' : t);
    const key = `${typed ? 'typed' : 'plain'}${typesId}|${variables.map((v) => `${v.name}:${v.type}`).join(',')}`;
    let env = environments.get(key);
    if (!env) {
      env = new Environment(ENVIRONMENT_OPTIONS);
      env.registerFunction(`string.${RE2_MATCHES}(string): bool`, re2Matches);
      if (typed) for (const t of types) env.registerType(t.name, { fields: Object.fromEntries(Object.entries(t.fields).map(([f, ft]) => [f, typeOf(ft)])) });
      for (const v of variables) env.registerVariable(v.name, typeOf(v.type));
      environments.set(key, env);
    }
    return env;
  };
  const NO_TYPES: readonly CelObjectType[] = [];
  return {
    name: '@marcbachmann/cel-js',
    compile(source: string, variables: readonly CelVariable[], types?: readonly CelObjectType[]): CelProgram {
      if (source.length > CEL_LIMITS.maxExpressionLength) {
        throw new CelCompileError(`expression longer than ${CEL_LIMITS.maxExpressionLength} characters`, CEL_LIMITS.maxExpressionLength);
      }
      let fn: ReturnType<Environment['parse']>;
      let typedFn: ReturnType<Environment['parse']>;
      try {
        typedFn = environmentFor(variables, types ?? NO_TYPES, true).parse(source);
        fn = types && types.length > 0 ? environmentFor(variables, types, false).parse(source) : typedFn;
      } catch (err) {
        throw new CelCompileError(firstLine((err as Error).message), offsetOf(err));
      }
      checkComprehensionNesting(fn.ast, 0);
      useRE2Matches(fn.ast);
      if (typedFn !== fn) useRE2Matches(typedFn.ast);
      const checked = typedFn.check();
      if (!checked.valid) throw new CelCompileError(firstLine(checked.error?.message ?? 'type error'), offsetOf(checked.error));
      return {
        source,
        resultType: checked.type ?? 'dyn',
        evaluate(activation) {
          // evaluation errors are expected control flow (a missing key), so skip their costly stack traces
          const limit = Error.stackTraceLimit;
          Error.stackTraceLimit = 0;
          try {
            return fn(adoptActivation(activation) as Record<string, unknown>);
          } catch (err) {
            throw new CelEvaluationError(firstLine((err as Error).message));
          } finally {
            Error.stackTraceLimit = limit;
          }
        },
      };
    },
  };
}
