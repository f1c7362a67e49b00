// Builtins: bits.and, bits.or, bits.xor, bits.negate, bits.lsh, bits.rsh (integers only, exact)
import { isInteger, normalizeNumber } from '../value.ts';
import type { RNumber, Value } from '../value.ts';
import { OperandTypeError, T, register } from './registry.ts';

function intArg(name: string, pos: number, v: Value): bigint {
  if ((typeof v !== 'number' && typeof v !== 'bigint') || !isInteger(v as RNumber)) throw new OperandTypeError(name, pos, 'integer', v);
  return BigInt(v);
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
  if (b < 0n) throw new OperandTypeError('bits.lsh', 2, 'unsigned integer', Number(b));
  return a << b;
});
binary('bits.rsh', (a, b) => {
  if (b < 0n) throw new OperandTypeError('bits.rsh', 2, 'unsigned integer', Number(b));
  return a >> b;
});
register({ name: 'bits.negate', sig: { args: [T.number], result: T.number }, fn: ([a]) => normalizeNumber(~intArg('bits.negate', 1, a!)) });
