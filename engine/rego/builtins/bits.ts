// Builtins: bits.and, bits.or, bits.xor, bits.negate, bits.lsh, bits.rsh (integers only, exact)
import { isInteger, isNumber, normalizeNumber, plainNumber } from '../value.ts';
import type { Value } from '../value.ts';
import { BuiltinError, OperandTypeError, T, checkNumberDigits, register } from './registry.ts';

/** OPA's wording for non-integer and negative operands (still eval_type_error). */
class IntegerOperandError extends BuiltinError {
  override readonly code = 'eval_type_error';
}

function intArg(name: string, pos: number, v: Value): bigint {
  if (!isNumber(v)) throw new OperandTypeError(name, pos, 'number', v);
  const n = plainNumber(v);
  if (!isInteger(n)) throw new IntegerOperandError(name, `operand ${pos} must be integer number but got floating-point number`);
  return BigInt(n);
}

function binary(name: string, op: (a: bigint, b: bigint) => bigint | undefined): void {
  register({
    name,
    sig: { args: [T.number, T.number], result: T.number },
    fn: ([a, b]) => {
      const r = op(intArg(name, 1, a!), intArg(name, 2, b!));
      return r === undefined ? undefined : normalizeNumber(r);
    },
  });
}
binary('bits.and', (a, b) => a & b);
binary('bits.or', (a, b) => a | b);
binary('bits.xor', (a, b) => a ^ b);
binary('bits.lsh', (a, b) => {
  if (b < 0n) throw new IntegerOperandError('bits.lsh', 'operand 2 must be an unsigned integer number but got a negative integer');
  // each shifted bit adds log10(2) digits: bound the result before building it
  if (a !== 0n) checkNumberDigits('bits.lsh', Math.ceil((a.toString(16).length * 4 + Number(b)) * Math.LOG10E * Math.LN2));
  return a << b;
});
binary('bits.rsh', (a, b) => {
  if (b < 0n) throw new IntegerOperandError('bits.rsh', 'operand 2 must be an unsigned integer number but got a negative integer');
  return a >> b;
});
register({ name: 'bits.negate', sig: { args: [T.number], result: T.number }, fn: ([a]) => normalizeNumber(~intArg('bits.negate', 1, a!)) });
