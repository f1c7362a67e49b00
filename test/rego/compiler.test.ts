// The Rego compiler is an object with named stages (OPA's ast.Compiler): state lives on the object, so two
// compilations interleaved stage by stage never see each other's state; errors of a stage are collected together;
// the language core imports nothing from the rest of arbiter.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Compiler, RegoError, evalRef, parseModule } from '../../engine/rego/index.ts';
import type { Compiled, RuleNode } from '../../engine/rego/index.ts';

const REGO_DIR = fileURLToPath(new URL('../../engine/rego', import.meta.url));
/** Arbiter's adapters around the language core: they may import arbiter, and reach the core through index.ts only. */
const ADAPTERS = new Set(['backend.ts', 'wasm.ts', 'tester.ts', 'opa-eval.ts', 'input-schema.ts']);

const asCompiled = (root: RuleNode): Compiled => ({ root, files: [], queries: new Map() });

function sources(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p).map((s) => ({ file: `${e.name}/${s.file}`, text: s.text })));
    else if (e.name.endsWith('.ts')) out.push({ file: e.name, text: readFileSync(p, 'utf8') });
  }
  return out;
}

function importsOf(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\('([^']+)'\)/gm)].map((m) => (m[1] ?? m[2] ?? m[3]) as string);
}

describe('the compiler runs a table of named stages', () => {
  it('lists its stages in the order OPA runs the corresponding ones', () => {
    const names = new Compiler([]).stages.map((s) => s.name);
    expect(names.indexOf('ResolveRefsAndCheckSafety')).toBeGreaterThan(names.indexOf('SetRuleArities'));
    expect(names.indexOf('CheckDuplicateImports')).toBeLessThan(names.indexOf('ResolveRefsAndCheckSafety'));
    expect(names.indexOf('CheckRuleConflicts')).toBeGreaterThan(names.indexOf('ResolveRefsAndCheckSafety'));
    expect(names.indexOf('CheckRecursion')).toBeGreaterThan(names.indexOf('CheckRuleConflicts'));
    expect(names[names.length - 1]).toBe('CheckTypes');
    expect(new Set(names).size).toBe(names.length);
  });

  it('collects the errors of one stage together and stops there', () => {
    const m = parseModule('p.rego', 'package p\n\na if { x }\nb if { y }\n');
    const c = new Compiler([m]);
    expect(() => c.compile()).toThrow(RegoError);
    expect(c.errors.map((e) => `${e.code}: ${e.detail}`)).toEqual(['rego_unsafe_var_error: var x is unsafe', 'rego_unsafe_var_error: var y is unsafe']);
  });
});

describe('two compilations interleaved stage by stage', () => {
  // the same function name with a different arity in each: the safety stage of one must see its own arities
  const a = parseModule('a.rego', 'package p\n\nf(x) := x + 1\n\nr := y if f(1, y)\n');
  const b = parseModule('b.rego', 'package p\n\nf(x, z) := x + z\n\nr := y if f(1, 2, y)\n');

  it('each compiles and evaluates as it does alone', () => {
    const ca = new Compiler([a]);
    const cb = new Compiler([b]);
    // b's stages run between a's: with shared (module-level) state, a would see b's arity for data.p.f
    for (let i = 0; i < ca.stages.length; i++) {
      (cb.stages[i] as { f: () => void }).f();
      (ca.stages[i] as { f: () => void }).f();
    }
    expect(ca.errors).toEqual([]);
    expect(cb.errors).toEqual([]);
    expect(evalRef(asCompiled(ca.root), 'data.p.r')).toBe(2);
    expect(evalRef(asCompiled(cb.root), 'data.p.r')).toBe(3);
  });

  it('numbers the nodes of each tree densely from 0', () => {
    const ca = new Compiler([a]);
    const cb = new Compiler([b, parseModule('c.rego', 'package q.s\n\nt := 1\n')]);
    ca.compile();
    cb.compile();
    const ids = (n: RuleNode): number[] => [n.id, ...[...n.children.values()].flatMap(ids)];
    for (const root of [ca.root, cb.root]) {
      const all = ids(root).sort((x, y) => x - y);
      expect(all).toEqual(all.map((_, i) => i));
    }
  });
});

describe('the language core stands alone', () => {
  const files = sources(REGO_DIR);

  it('core modules import only the core and npm packages, never the rest of arbiter', () => {
    const bad: string[] = [];
    for (const { file, text } of files) {
      if (ADAPTERS.has(file)) continue;
      for (const spec of importsOf(text)) {
        if (!spec.startsWith('.')) continue;
        const depth = file.split('/').length - 1;
        const up = spec.split('/').filter((s) => s === '..').length;
        if (up > depth) bad.push(`${file} → ${spec}`);
        if (ADAPTERS.has(spec.replace(/^\.\//, ''))) bad.push(`${file} → ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('adapters reach the core only through its entry module index.ts', () => {
    const bad: string[] = [];
    for (const { file, text } of files) {
      if (!ADAPTERS.has(file)) continue;
      for (const spec of importsOf(text)) {
        if (!spec.startsWith('./')) continue;
        const target = spec.slice(2);
        if (target !== 'index.ts' && !ADAPTERS.has(target)) bad.push(`${file} → ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('no module of engine/rego keeps mutable state at module level (no top-level let, no static counters)', () => {
    const bad = files.flatMap(({ file, text }) =>
      text
        .split('\n')
        .map((line, i) => ({ line, i }))
        .filter(({ line }) => /^(?:export\s+)?(?:let|var)\s/.test(line) || /^\s+static\s+\w+\s*=\s*\d/.test(line))
        .map(({ i }) => `${file}:${i + 1}`),
    );
    expect(bad).toEqual([]);
  });
});
