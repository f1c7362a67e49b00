// Builtins: is_number, is_string, is_boolean, is_array, is_set, is_object, is_null, type_name, to_number
import { RObject, RSet, parseNumber, typeName } from '../value.ts';
import type { Value } from '../value.ts';
import { BuiltinError, OperandTypeError, T, register } from './registry.ts';

const checks: Array<[string, (v: Value) => boolean]> = [
  ['is_number', (v) => typeof v === 'number' || typeof v === 'bigint'],
  ['is_string', (v) => typeof v === 'string'],
  ['is_boolean', (v) => typeof v === 'boolean'],
  ['is_array', (v) => Array.isArray(v)],
  ['is_set', (v) => v instanceof RSet],
  ['is_object', (v) => v instanceof RObject],
  ['is_null', (v) => v === null],
];
for (const [name, test] of checks) register({ name, sig: { args: [T.any], result: T.boolean }, fn: ([v]) => test(v!) });

register({ name: 'type_name', sig: { args: [T.any], result: T.string }, fn: ([v]) => typeName(v!) });

register({
  name: 'to_number',
  sig: { args: [T.union(T.null, T.boolean, T.number, T.string)], result: T.number },
  fn: ([v]) => {
    if (v === null) return 0;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'number' || typeof v === 'bigint') return v;
    if (typeof v === 'string') {
      const s = v.trim() === v ? v : '';
      if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return parseNumber(s.replace(/^\+/, ''));
      if (/^0x[0-9a-fA-F]+$/.test(s)) return parseNumber(BigInt(s).toString());
      if (/^[+-]?(nan|inf|infinity)$/i.test(s)) throw new OperandTypeError('to_number', 1, 'valid number string', v);
      throw new BuiltinError('to_number', `strconv.ParseFloat: parsing ${JSON.stringify(v)}: invalid syntax`);
    }
    throw new OperandTypeError('to_number', 1, 'one of {null, boolean, number, string}', v!);
  },
});
