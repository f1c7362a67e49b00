// Builtins: print, trace, opa.runtime, time.now_ns, rego.parse_module (not yet), rego.metadata.* (not yet).
// `print` is handled by the evaluator too (undefined operands print as <undefined>).
import { RObject } from '../value.ts';
import type { Value } from '../value.ts';
import { T, register } from './registry.ts';
import { formatTerm } from '../eval.ts';

export function printLine(args: Array<Value | undefined>): string {
  return args.map((a) => (a === undefined ? '<undefined>' : typeof a === 'string' ? a : formatTerm(a))).join(' ');
}

register({
  name: 'print',
  sig: { args: [], result: T.boolean, variadic: T.any },
  fn: (args, ctx) => {
    ctx.print(printLine(args));
    return true;
  },
});

register({
  name: 'trace',
  sig: { args: [T.string], result: T.boolean },
  fn: () => true,
});

register({ name: 'opa.runtime', nondeterministic: true, sig: { args: [], result: T.object() }, fn: () => new RObject() });

register({ name: 'time.now_ns', nondeterministic: true, sig: { args: [], result: T.number }, fn: (_a, ctx) => {
  const n = ctx.nowNs;
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
} });
