// The builtin table: every Rego builtin is registered once, by name, with its signature (like OPA's ast/builtins.go
// plus topdown's RegisterBuiltinFunc). Families live in sibling files and call `register` at import time;
// `builtins/index.ts` imports every family.
import type { Value } from '../value.ts';
import { typeName } from '../value.ts';

/** Static types for signatures (OPA's types package, simplified). */
export type RegoType =
  | { type: 'any' }
  | { type: 'null' }
  | { type: 'boolean' }
  | { type: 'number' }
  | { type: 'string' }
  | { type: 'array'; of?: RegoType }
  | { type: 'set'; of?: RegoType }
  | { type: 'object'; key?: RegoType; value?: RegoType }
  | { type: 'union'; of: RegoType[] };

export const T = {
  any: { type: 'any' } as RegoType,
  null: { type: 'null' } as RegoType,
  boolean: { type: 'boolean' } as RegoType,
  number: { type: 'number' } as RegoType,
  string: { type: 'string' } as RegoType,
  array: (of?: RegoType): RegoType => ({ type: 'array', of }),
  set: (of?: RegoType): RegoType => ({ type: 'set', of }),
  object: (key?: RegoType, value?: RegoType): RegoType => ({ type: 'object', key, value }),
  union: (...of: RegoType[]): RegoType => ({ type: 'union', of }),
};

export interface Signature {
  args: RegoType[];
  result: RegoType;
  /** Extra trailing arguments of this type (e.g. `print`). */
  variadic?: RegoType;
}

/** What a builtin may use from the evaluation; never the file system or network. */
export interface BuiltinContext {
  /** Evaluation time in nanoseconds since the epoch (OPA's `time.now_ns()`: fixed for one query). */
  readonly nowNs: bigint;
  /** Raise builtin errors instead of making the expression undefined (`strict_error`). */
  readonly strict: boolean;
  /** Per-query cache, e.g. for nondeterministic builtins that must return one value per query. */
  readonly cache: Map<string, unknown>;
  /** Seeded random source for `rand.intn` and `uuid.rfc4122`, so tests can be deterministic. */
  readonly random: () => number;
  /** Where `print` writes. */
  print(line: string): void;
  /** `Date.now()` after which the evaluation is over budget (0 or absent: no deadline); long builtins check it. */
  readonly deadline?: number;
}

export interface BuiltinDef {
  /** Dotted name as in Rego: `count`, `strings.replace_n`, `io.jwt.decode_verify`. */
  name: string;
  sig: Signature;
  /**
   * Returns the result, or `undefined` when the call is undefined (e.g. a failed conversion OPA treats as
   * undefined). Throw `BuiltinError` / `OperandTypeError` for errors.
   */
  fn(args: Value[], ctx: BuiltinContext): Value | undefined;
  /** Result may differ between queries with equal inputs (time.now_ns, rand.intn, http.send). */
  nondeterministic?: boolean;
  /** Operator form (`plus` is `+`, `eq` is `==`, …) for messages. */
  infix?: string;
}

/** A builtin failed at run time → `eval_builtin_error` (or undefined unless strict, as OPA does). */
export class BuiltinError extends Error {
  readonly code: string = 'eval_builtin_error';
  constructor(
    readonly builtin: string,
    message: string,
  ) {
    super(`${builtin}: ${message}`);
    this.name = 'BuiltinError';
  }
}

/** An operand had the wrong type at run time → `eval_type_error`, e.g. "count: operand 1 must be ... but got number". */
export class OperandTypeError extends BuiltinError {
  override readonly code = 'eval_type_error';
  constructor(builtin: string, position: number, expected: string, got: Value) {
    super(builtin, `operand ${position} must be ${expected} but got ${typeName(got)}`);
    this.name = 'OperandTypeError';
  }
}

/** Halts evaluation whatever the strictness (OPA's Halt, used by e.g. `opa.runtime` misuse). */
export class BuiltinHalt extends BuiltinError {
  constructor(builtin: string, message: string) {
    super(builtin, message);
    this.name = 'BuiltinHalt';
  }
}

/**
 * Output bounds of every builtin (README "Bounded evaluation"): generous for policies, small enough that a hostile
 * value cannot exhaust memory. A builtin that would exceed one halts the evaluation (fail closed, never undefined).
 */
export const BUILTIN_LIMITS = {
  /** UTF-16 code units in one string a builtin returns (1 MiB of ASCII). */
  maxStringLength: 1 << 20,
  /** Elements of one array, set or object a builtin returns. */
  maxElements: 1_000_000,
  /** Decimal digits of one integer a builtin builds (`units.parse("1e1000000000")`, `bits.lsh(1, 1e9)`). */
  maxNumberDigits: 100_000,
} as const;

/** Throws BuiltinBudgetError when an integer would have more than maxNumberDigits decimal digits. */
export function checkNumberDigits(builtin: string, digits: number): void {
  if (digits > BUILTIN_LIMITS.maxNumberDigits) {
    throw new BuiltinBudgetError(builtin, `number with more than ${BUILTIN_LIMITS.maxNumberDigits} digits (output bound)`);
  }
}

/** A builtin hit an evaluation bound (output size or time): halts with `eval_cancel_error`, whatever the strictness. */
export class BuiltinBudgetError extends BuiltinHalt {
  override readonly code = 'eval_cancel_error';
  constructor(builtin: string, message: string) {
    super(builtin, message);
    this.name = 'BuiltinBudgetError';
  }
}

/** Throws BuiltinBudgetError once the evaluation's deadline has passed (call it inside long loops). */
export function checkDeadline(builtin: string, ctx: Pick<BuiltinContext, 'deadline'> | undefined): void {
  if (ctx?.deadline && Date.now() > ctx.deadline) throw new BuiltinBudgetError(builtin, 'evaluation exceeded its time budget');
}

/** Throws BuiltinBudgetError when a string of `length` code units would exceed the output bound. */
export function checkStringLength(builtin: string, length: number): void {
  if (length > BUILTIN_LIMITS.maxStringLength) {
    throw new BuiltinBudgetError(builtin, `result longer than ${BUILTIN_LIMITS.maxStringLength} characters (output bound)`);
  }
}

/** Throws BuiltinBudgetError when a collection of `count` elements would exceed the output bound. */
export function checkElementCount(builtin: string, count: number | bigint): void {
  if (count > BUILTIN_LIMITS.maxElements) {
    throw new BuiltinBudgetError(builtin, `result has more than ${BUILTIN_LIMITS.maxElements} elements (output bound)`);
  }
}

const TABLE = new Map<string, BuiltinDef>();

export function register(def: BuiltinDef): void {
  if (TABLE.has(def.name)) throw new Error(`builtin ${def.name} registered twice`);
  TABLE.set(def.name, def);
}

/** `<format>.is_valid`: true for a string `parse` accepts, false for anything else (never an error, as in OPA). */
export function registerValidity(name: string, parse: (s: string) => unknown): void {
  register({
    name,
    sig: { args: [T.any], result: T.boolean },
    fn: ([x]) => {
      if (typeof x !== 'string') return false;
      try {
        parse(x);
        return true;
      } catch {
        return false;
      }
    },
  });
}

export function lookupBuiltin(name: string): BuiltinDef | undefined {
  return TABLE.get(name);
}

export function allBuiltins(): BuiltinDef[] {
  return [...TABLE.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

// ── operand checks shared by every family (positions are 1-based, as in OPA's messages) ────────

import { RObject, RSet, isNumber, plainNumber } from '../value.ts';
import type { RNumber } from '../value.ts';

export function expectString(builtin: string, pos: number, v: Value): string {
  if (typeof v !== 'string') throw new OperandTypeError(builtin, pos, 'string', v);
  return v;
}

/** A number operand as a JS number or bigint (a BigNum's exact integer, or its nearest double): for builtins that need no text. */
export function expectNumber(builtin: string, pos: number, v: Value): number | bigint {
  if (!isNumber(v)) throw new OperandTypeError(builtin, pos, 'number', v);
  return plainNumber(v);
}

/** A number operand as it is, text included (arithmetic, sprintf). */
export function expectExactNumber(builtin: string, pos: number, v: Value): RNumber {
  if (!isNumber(v)) throw new OperandTypeError(builtin, pos, 'number', v);
  return v;
}

export function expectBoolean(builtin: string, pos: number, v: Value): boolean {
  if (typeof v !== 'boolean') throw new OperandTypeError(builtin, pos, 'boolean', v);
  return v;
}

export function expectArray(builtin: string, pos: number, v: Value): Value[] {
  if (!Array.isArray(v)) throw new OperandTypeError(builtin, pos, 'array', v);
  return v;
}

export function expectObject(builtin: string, pos: number, v: Value): RObject {
  if (!(v instanceof RObject)) throw new OperandTypeError(builtin, pos, 'object', v);
  return v;
}

export function expectSet(builtin: string, pos: number, v: Value): RSet {
  if (!(v instanceof RSet)) throw new OperandTypeError(builtin, pos, 'set', v);
  return v;
}

/** For "must be one of {set, array}" style operands. */
export function expectCollection(builtin: string, pos: number, v: Value, kinds: Array<'array' | 'set' | 'object' | 'string'>): Value {
  const t = typeName(v);
  if (!(kinds as string[]).includes(t)) throw new OperandTypeError(builtin, pos, `one of {${kinds.join(', ')}}`, v);
  return v;
}

/**
 * Throws BuiltinBudgetError when the JSON text of `v` would exceed the string bound. Values share structure
 * (`[x, x]` nested 30 times is 2^30 leaves), so this counts with an early exit instead of serializing first: it
 * visits at most about maxStringLength nodes.
 */
export function checkSerializedSize(builtin: string, v: Value): void {
  const limit = BUILTIN_LIMITS.maxStringLength;
  let size = 0;
  const over = (): never => {
    throw new BuiltinBudgetError(builtin, `result longer than ${limit} characters (output bound)`);
  };
  const walk = (x: Value): void => {
    if (size > limit) over();
    if (typeof x === 'string') size += x.length + 2;
    else if (Array.isArray(x)) {
      size += 2;
      for (const e of x) walk(e);
    } else if (x instanceof RSet) {
      size += 2;
      for (const e of x.unorderedValues()) walk(e);
    } else if (x instanceof RObject) {
      size += 2;
      for (const [k, e] of x.sortedEntries()) {
        walk(k);
        walk(e);
      }
    } else size += 5;
    if (size > limit) over();
  };
  walk(v);
}
