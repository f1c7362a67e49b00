// Operand checks with OPA's exact messages beyond registry.ts's plain "must be X but got Y" (element and enum errors),
// shared by the B1 families.
import type { Value } from '../value.ts';
import { BigNum, RSet, typeName } from '../value.ts';
import { BuiltinError, OperandTypeError } from './registry.ts';

/** A type error whose message is spelled out in full (OPA's NewOperandElementErr / NewOperandEnumErr / custom). */
export class OperandMessageError extends BuiltinError {
  override readonly code = 'eval_type_error';
  constructor(builtin: string, message: string) {
    super(builtin, message);
    this.name = 'OperandMessageError';
  }
}

/** "operand 2 must be array of strings but got array containing number" */
export function elementError(builtin: string, pos: number, container: Value, element: Value, want: string): OperandMessageError {
  const kind = typeName(container);
  return new OperandMessageError(builtin, `operand ${pos} must be ${kind} of ${want}s but got ${kind} containing ${typeName(element)}`);
}

/** Strings of an array or set operand ("must be one of {set, array}" otherwise). */
export function expectStringsOf(builtin: string, pos: number, v: Value, kinds: Array<'set' | 'array'> = ['set', 'array']): string[] {
  if (!(Array.isArray(v) || v instanceof RSet)) throw new OperandTypeError(builtin, pos, `one of {${kinds.join(', ')}}`, v);
  const items = Array.isArray(v) ? v : v.sorted();
  for (const x of items) if (typeof x !== 'string') throw elementError(builtin, pos, v, x, 'string');
  return items as string[];
}

/** A string, or the strings of an array or set ("must be one of {string, set, array}" otherwise). */
export function expectStringOrStrings(builtin: string, pos: number, v: Value): string[] {
  if (typeof v === 'string') return [v];
  if (!(Array.isArray(v) || v instanceof RSet)) throw new OperandTypeError(builtin, pos, 'one of {string, set, array}', v);
  return expectStringsOf(builtin, pos, v);
}

/** A number operand that must be an integer (OPA: "operand N must be integer number but got floating-point number"). */
export function expectInt(builtin: string, pos: number, v: Value): number {
  if (typeof v === 'bigint') return Number(v);
  // Number.Int(): the text must be an integer (`-0` is 0, `1.0` is not)
  if (v instanceof BigNum) {
    if (/^[+-]?\d+$/.test(v.text)) return Number(v.text);
    throw new OperandMessageError(builtin, `operand ${pos} must be integer number but got floating-point number`);
  }
  if (typeof v !== 'number') throw new OperandTypeError(builtin, pos, 'number', v);
  if (!Number.isInteger(v)) throw new OperandMessageError(builtin, `operand ${pos} must be integer number but got floating-point number`);
  return v;
}
