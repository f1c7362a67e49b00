// Alternate CEL adapter: @bufbuild/cel (closest to the spec, RE2 regexes; ~7x slower here). Parses and plans;
// variables are dynamic, so only syntax and unknown functions are caught at compile time.
import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { CEL_LIMITS, CelCompileError, CelEvaluationError, type CelEngine, type CelProgram, type CelVariable } from './engine.ts';

/** Plain objects become Maps: bufbuild reads CEL maps from Map instances. */
function toCelInput(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCelInput);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return new Map(Object.entries(value).map(([k, v]) => [k, toCelInput(v)]));
  }
  return value;
}

export function createBufbuildEngine(): CelEngine {
  const env = celEnv();
  return {
    name: '@bufbuild/cel',
    compile(source: string, _variables: readonly CelVariable[]): CelProgram {
      if (source.length > CEL_LIMITS.maxExpressionLength) {
        throw new CelCompileError(`expression longer than ${CEL_LIMITS.maxExpressionLength} characters`);
      }
      let run: (ctx?: Record<string, unknown>) => unknown;
      try {
        run = plan(env, parse(source)) as unknown as (ctx?: Record<string, unknown>) => unknown;
      } catch (err) {
        throw new CelCompileError((err as Error).message.split('\n')[0]!);
      }
      return {
        source,
        resultType: 'dyn',
        evaluate(activation) {
          const bound: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(activation)) bound[k] = toCelInput(v);
          const r = run(bound);
          if (isCelError(r)) throw new CelEvaluationError(String((r as { message?: string }).message ?? r));
          return r;
        },
      };
    },
  };
}
