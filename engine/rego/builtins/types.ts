// Builtins: is_number, is_string, is_boolean, is_array, is_set, is_object, is_null, type_name, to_number
import { RObject, RSet, isNumber, numberFromText, typeName } from '../value.ts';
import { goQuote } from './strings-format.ts';
import type { Value } from '../value.ts';
import { BuiltinError, OperandTypeError, T, register } from './registry.ts';

const checks: Array<[string, (v: Value) => boolean]> = [
  ['is_number', isNumber],
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
    if (isNumber(v)) return v;
    if (typeof v === 'string') {
      // builtinToNumber: inf/nan refused, then strconv.ParseFloat must accept the text, which becomes the number's text
      if (/^[+-]*(nan|inf|infinity)$/i.test(v)) throw new OperandTypeError('to_number', 1, 'valid number string', v);
      if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) {
        if (!Number.isFinite(Number(v))) throw new BuiltinError('to_number', `strconv.ParseFloat: parsing ${goQuote(v)}: value out of range`);
        return numberFromText(v);
      }
      // a hexadecimal float needs its p exponent (`0x1Fp0`); plain `0x1F` is a syntax error to ParseFloat
      const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(v);
      if (hex && (hex[2] || hex[3])) {
        const [, sign, int = '', frac = '', exp = '0'] = hex;
        const f = Number(BigInt(`0x${int}${frac}` === '0x' ? '0' : `0x${int}${frac}`)) * 2 ** (Number(exp) - 4 * frac.length);
        if (!Number.isFinite(f)) throw new BuiltinError('to_number', `strconv.ParseFloat: parsing ${goQuote(v)}: value out of range`);
        return sign === '-' ? -f : f;
      }
      throw new BuiltinError('to_number', `strconv.ParseFloat: parsing ${goQuote(v)}: invalid syntax`);
    }
    throw new OperandTypeError('to_number', 1, 'one of {null, boolean, number, string}', v!);
  },
});
