// The CEL adapter: the engine compiles and evaluates CEL through this interface only, so the library is swappable.

/** Variable types the adapter must understand (a subset of CEL's type names). */
export type CelVariableType = 'map' | 'list' | 'timestamp' | 'dyn' | 'string' | 'int' | 'double' | 'bool';

export interface CelVariable {
  name: string;
  /** One of CelVariableType, a CEL type such as `list<string>`, or the name of a declared CelObjectType. */
  type: CelVariableType | (string & {});
}

/** A message type with named fields (CEL type names, or other declared object types): unknown fields are errors. */
export interface CelObjectType {
  name: string;
  fields: Readonly<Record<string, string>>;
}

/**
 * A compiled expression. `evaluate` returns CEL values in JS form: bigint for int, number for double,
 * string, boolean, null, arrays for lists, Map or plain objects for maps, Date for timestamps.
 * It throws `CelEvaluationError` (no such key, no overload, division by zero, ...).
 */
export interface CelProgram {
  readonly source: string;
  /** The statically inferred result type, e.g. `bool`, `double`, `dyn`. */
  readonly resultType: string;
  evaluate(activation: Readonly<Record<string, unknown>>): unknown;
}

export interface CelEngine {
  readonly name: string;
  /**
   * Parses and type-checks against the variables' types (`types` declares the object types they name; an adapter
   * that cannot check fields treats them as maps); throws `CelCompileError` with the offset of the problem in `source`.
   */
  compile(source: string, variables: readonly CelVariable[], types?: readonly CelObjectType[]): CelProgram;
}

/** Static bounds on an expression, so no policy can make evaluation slow (CEL has no loops beyond macros). */
export const CEL_LIMITS = {
  /** Characters in one expression. */
  maxExpressionLength: 4096,
  /** AST nodes in one expression. */
  maxAstNodes: 1000,
  /** Nesting depth of the AST. */
  maxDepth: 48,
  /** Elements in a list literal / entries in a map literal. */
  maxLiteralElements: 100,
  /** Macros (`exists`, `all`, `map`, `filter`, `exists_one`) nested inside one another's bodies. */
  maxComprehensionNesting: 2,
} as const;

export class CelCompileError extends Error {
  constructor(
    message: string,
    /** 0-based offset in the expression. */
    readonly offset?: number,
  ) {
    super(message);
    this.name = 'CelCompileError';
  }
}

export class CelEvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CelEvaluationError';
  }
}

/** CEL value (JS form) → plain JSON-like value: int/uint → number, Map → object, Date → RFC 3339 string. */
export function celToPlain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(celToPlain);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = celToPlain(v);
    return out;
  }
  if (typeof (value as { valueOf(): unknown }).valueOf === 'function') {
    const prim = (value as { valueOf(): unknown }).valueOf();
    if (typeof prim === 'bigint' || typeof prim === 'number') return Number(prim);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = celToPlain(v);
  return out;
}
