// Unsafe variables are reported as OPA's compiler reports them (ast/compile.go safetyErrorSlice): one
// `rego_unsafe_var_error: var NAME is unsafe` per unsafe variable, at the first expression (by location) that uses it,
// sorted by location then message; a variable the expression would bind (`s := f(x)` binds s) is not reported there;
// generated variables (wildcards, the engine's own) are never named.
import { describe, expect, it } from 'vitest';
import { RegoError, compileModules } from '../../engine/rego/index.ts';
import { evalOpa, formatOpaPretty } from '../../engine/rego/opa-eval.ts';

const queryErrors = (query: string): string[] => {
  const out = evalOpa({ modules: [], query });
  if (!('errors' in out)) throw new Error(`expected errors for ${query}`);
  return out.errors.map((e) => `${e.location?.row}:${e.location?.col}: ${e.code}: ${e.message}`);
};
const moduleErrors = (source: string): string[] => {
  try {
    compileModules([{ file: 'p.rego', source }]);
  } catch (err) {
    if (err instanceof RegoError) return err.all.map((e) => `${e.location?.row}:${e.location?.col}: ${e.detail}`);
    throw err;
  }
  throw new Error('expected a compile error');
};

describe('unsafe variables', () => {
  it('an assignment from an unbound variable: both sides are unsafe, at the expression', () => {
    expect(queryErrors('x := y')).toEqual(['1:1: rego_unsafe_var_error: var x is unsafe', '1:1: rego_unsafe_var_error: var y is unsafe']);
  });

  it('the message and location are those of the expression that cannot run, not of the first expression', () => {
    expect(queryErrors('x := 1; x != y')).toEqual(['1:9: rego_unsafe_var_error: var y is unsafe']);
  });

  it('cascades as OPA does: each variable once, at its first use; a call result is bound by its assignment', () => {
    const source = `package p
rule if {
	my_string := x
	startswith(my_string, "foo")
	substr := substring(my_string, 0, 1)
	substr == "f"
}`;
    expect(moduleErrors(source)).toEqual(['3:2: var my_string is unsafe', '3:2: var x is unsafe', '6:2: var substr is unsafe']);
  });

  it('array unification binds only the elements unified with values', () => {
    expect(queryErrors('[a, b] = [c, 1]')).toEqual(['1:1: rego_unsafe_var_error: var a is unsafe', '1:1: rego_unsafe_var_error: var c is unsafe']);
  });

  it('keys of a ref below a known document are bound; an unbound head is unsafe', () => {
    expect(queryErrors('x := input.a[i]; q[i] == 1')).toEqual(['1:18: rego_unsafe_var_error: var q is unsafe']);
  });

  it('a wildcard alone under not is reported as var _', () => {
    expect(moduleErrors('package p\ns := {1}\nq if not s[_]')).toEqual(['3:6: var _ is unsafe']);
  });

  it('the pretty format prints every error, as OPA does', () => {
    expect(formatOpaPretty(evalOpa({ modules: [], query: 'x := y' }))).toBe(
      '2 errors occurred:\n1:1: rego_unsafe_var_error: var x is unsafe\n1:1: rego_unsafe_var_error: var y is unsafe\n',
    );
  });

  it('a safe body compiles', () => {
    expect(() => compileModules([{ file: 'p.rego', source: 'package p\nr if { x := 1; y := x; y == 1 }' }])).not.toThrow();
  });
});
