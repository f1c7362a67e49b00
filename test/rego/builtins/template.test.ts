import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lookupBuiltin } from '../../../engine/rego/builtins/index.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { fromJSON } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';
import { conformanceCases } from '../../support/conformance-cases.ts';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0, print: () => {} };
const render = (tmpl: string, vars: Record<string, unknown>): Value | undefined =>
  lookupBuiltin('strings.render_template')!.fn([tmpl, fromJSON(vars)], ctx);

describe('strings.render_template', () => {
  for (const c of conformanceCases('rendertemplate')) {
    it(c.note, () => {
      const src = /template_string := `([^`]*)`/.exec(c.modules[0]!)![1]!;
      // the vars object is Rego with raw-string keys and values: turn it into JSON
      const varsText = /template_vars := (\{.*\})/.exec(c.modules[0]!)![1]!.replace(/`([^`]*)`/g, (_m, s: string) => JSON.stringify(s));
      expect(render(src, JSON.parse(varsText) as Record<string, unknown>)).toBe(c.want_result![0]!.x);
    });
  }
  it('text without actions renders as itself', () => {
    fc.assert(fc.property(fc.string().filter((s) => !s.includes('{{')), (s) => render(s, {}) === s));
  });
  it('if / else if / else picks the first true branch', () => {
    const t = '{{if .a}}A{{else if .b}}B{{else}}C{{end}}';
    expect(render(t, { a: 1, b: 1 })).toBe('A');
    expect(render(t, { a: 0, b: true })).toBe('B');
    expect(render(t, { a: '', b: [] })).toBe('C');
  });
  it('range over an object goes in key order; else when empty', () => {
    expect(render('{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}', { m: { b: 2, a: 1 } })).toBe('a=1;b=2;');
    expect(render('{{range .xs}}{{.}}{{else}}none{{end}}', { xs: [] })).toBe('none');
  });
  it('trim markers, pipelines, functions and variables', () => {
    expect(render('a  {{- .x -}}  b', { x: 'X' })).toBe('aXb');
    expect(render('{{.xs | len}} {{index .xs 1}} {{printf "%s-%d" .s 3}}', { xs: [1, 2], s: 'q' })).toBe('2 2 q-3');
    expect(render('{{$n := .x}}{{with .o}}{{.k}}{{$n}}{{end}}', { x: 1, o: { k: 'K' } })).toBe('K1');
    expect(render('{{if and (eq .a 1) (not .b)}}yes{{end}}', { a: 1, b: false })).toBe('yes');
  });
  it('reports a malformed template as a builtin error', () => {
    expect(() => render('{{if .a}}x', { a: 1 })).toThrow(/strings.render_template: template: /);
    expect(() => render('{{nosuchfn 1}}', {})).toThrow('function "nosuchfn" not defined');
  });
  it('rejects non-object variables as a type error', () => {
    expect(() => lookupBuiltin('strings.render_template')!.fn(['x', 'y'], ctx)).toThrow('operand 2 must be object but got string');
  });
});

