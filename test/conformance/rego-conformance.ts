// OPA's Rego compliance cases run against our interpreter with OPA's semantics (v1/test/cases/cases.go):
// results compared as sets, sort_bindings, want_error / want_error_code, strict_error, input_term.
//   npm run conformance -- [directory ...]
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { RegoError, compileModules, evalQuery } from '../../engine/rego/index.ts';
import { RObject, compare, fromJSON, keyOf, toJSON } from '../../engine/rego/value.ts';
import type { Value } from '../../engine/rego/value.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CASES_DIR = resolve(HERE, '../../../shared/conformance/opa/v1');

interface Case {
  note: string;
  query: string;
  modules?: string[];
  data?: unknown;
  input?: unknown;
  input_term?: string;
  want_result?: Array<Record<string, unknown>>;
  want_error?: string;
  want_error_code?: string;
  strict_error?: boolean;
  sort_bindings?: boolean;
  ignore_generated_vars?: boolean;
}

export interface CaseOutcome {
  dir: string;
  file: string;
  note: string;
  ok: boolean;
  reason?: string;
}

export interface SuiteReport {
  passed: number;
  failed: number;
  outcomes: CaseOutcome[];
}

/** Comparable form of a result value: JSON-shaped as OPA serializes it (sets → sorted arrays). */
function canonical(v: Value, sortArrays: boolean): Value {
  const j = fromJSON(toJSON(v));
  if (sortArrays && Array.isArray(j)) return [...j].sort(compare);
  return j;
}

function bindingKey(b: Map<string, Value> | Record<string, unknown>, sortArrays: boolean, fromYaml: boolean): string {
  const o = new RObject();
  const entries = b instanceof Map ? [...b.entries()] : Object.entries(b);
  for (const [k, v] of entries) {
    if (k.startsWith('__localq')) continue;
    const val = fromYaml ? fromJSON(v) : (v as Value);
    o.set(k, canonical(val, sortArrays));
  }
  return keyOf(o);
}

function inputOf(c: Case): unknown {
  if (c.input_term !== undefined) {
    const compiled = compileModules([]);
    const r = evalQuery(compiled, `__input__ = ${c.input_term}`);
    return r[0]?.bindings.get('__input__');
  }
  return c.input;
}

/** The cases were taken from OPA main on this day; certificates in them are valid then (OPA itself uses the clock). */
const SUITE_SNAPSHOT_NS = BigInt(Date.parse('2026-03-19T00:00:00Z')) * 1_000_000n;

export function runCase(c: Case): { ok: boolean; reason?: string } {
  const wantsError = c.want_error !== undefined || c.want_error_code !== undefined;
  let results: Array<Map<string, Value>>;
  try {
    const compiled = compileModules((c.modules ?? []).map((source, i) => ({ file: `test-${i}.rego`, source })));
    const input = inputOf(c);
    results = evalQuery(compiled, c.query, {
      input,
      data: c.data ?? {},
      strict: c.strict_error ?? false,
      nowNs: SUITE_SNAPSHOT_NS,
      limits: { maxSteps: 2_000_000 },
    }).map((r) => r.bindings);
  } catch (err) {
    const code = err instanceof RegoError ? err.code : 'internal_error';
    const msg = err instanceof Error ? err.message : String(err);
    if (!wantsError) return { ok: false, reason: `unexpected error: ${msg}` };
    if (c.want_error_code !== undefined && c.want_error_code !== code) return { ok: false, reason: `error code ${code}, want ${c.want_error_code}: ${msg}` };
    if (c.want_error !== undefined && !msg.includes(c.want_error)) return { ok: false, reason: `error ${JSON.stringify(msg)} does not contain ${JSON.stringify(c.want_error)}` };
    return { ok: true };
  }
  if (wantsError) return { ok: false, reason: `want error ${c.want_error_code ?? ''} ${c.want_error ?? ''}, got ${results.length} results` };
  const sort = c.sort_bindings ?? false;
  const got = new Set(results.map((b) => bindingKey(b, sort, false)));
  const want = new Set((c.want_result ?? []).map((b) => bindingKey(b, sort, true)));
  const same = got.size === want.size && [...got].every((k) => want.has(k));
  if (same) return { ok: true };
  const show = (s: Set<string>): string => [...s].join(' | ').slice(0, 300);
  return { ok: false, reason: `got ${show(got)}; want ${show(want)}` };
}

export function runSuite(filters: string[] = [], casesDir = CASES_DIR): SuiteReport {
  const dirs = readdirSync(casesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && (filters.length === 0 || filters.includes(d.name)))
    .map((d) => d.name)
    .sort();
  const outcomes: CaseOutcome[] = [];
  for (const dir of dirs) {
    for (const file of readdirSync(join(casesDir, dir)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort()) {
      const doc = YAML.parse(readFileSync(join(casesDir, dir, file), 'utf8'), { intAsBigInt: true }) as { cases?: Case[] };
      for (const c of doc.cases ?? []) {
        let r: { ok: boolean; reason?: string };
        try {
          r = runCase(c);
        } catch (err) {
          r = { ok: false, reason: `runner error: ${(err as Error).message}` };
        }
        outcomes.push({ dir, file, note: c.note, ok: r.ok, reason: r.reason });
      }
    }
  }
  const passed = outcomes.filter((o) => o.ok).length;
  return { passed, failed: outcomes.length - passed, outcomes };
}

function main(argv: string[]): number {
  const verbose = argv.includes('-v');
  const filters = argv.filter((a) => !a.startsWith('-'));
  const start = performance.now();
  const report = runSuite(filters);
  const byDir = new Map<string, number>();
  for (const o of report.outcomes) if (!o.ok) byDir.set(o.dir, (byDir.get(o.dir) ?? 0) + 1);
  if (byDir.size) {
    console.log('failures by directory:');
    for (const [dir, n] of [...byDir.entries()].sort((a, b) => b[1] - a[1])) console.log(`  ${dir.padEnd(44)} ${n}`);
  }
  if (verbose) for (const o of report.outcomes) if (!o.ok) console.log(`FAIL ${o.dir}/${o.file} ${o.note}: ${o.reason}`);
  const out = resolve(HERE, '../../reports/conformance.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ passed: report.passed, failed: report.failed, ms: Math.round(performance.now() - start), failures: report.outcomes.filter((o) => !o.ok) }, null, 2)}\n`);
  console.log(`${report.passed} passed, ${report.failed} failed`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
