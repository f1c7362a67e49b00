// cel-spec conformance cases (as shipped by @bufbuild/cel-spec) run through arbiter's CEL adapter.
// Subset: cases without bindings, containers or type environments whose expected result is a plain value or an error.
import { tests as conformance } from '@bufbuild/cel-spec/testdata/conformance.js';
import type { CelEngine } from '../../engine/cel/engine.ts';

interface RawValue {
  int64Value?: string;
  uint64Value?: string;
  doubleValue?: number | string;
  stringValue?: string;
  boolValue?: boolean;
  nullValue?: unknown;
  bytesValue?: string;
  listValue?: { values?: RawValue[] };
  mapValue?: { entries?: Array<{ key: RawValue; value: RawValue }> };
  [other: string]: unknown;
}
interface RawTest {
  original: { name?: string; expr: string; value?: RawValue; evalError?: unknown; bindings?: unknown; container?: string; typeEnv?: unknown; disableCheck?: boolean; disableMacros?: boolean; checkOnly?: boolean };
}
interface RawSuite {
  name: string;
  suites?: RawSuite[];
  tests?: RawTest[];
}

export interface ConformanceResult {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
}

const SUPPORTED = new Set(['int64Value', 'uint64Value', 'doubleValue', 'stringValue', 'boolValue', 'nullValue', 'bytesValue', 'listValue', 'mapValue']);

function supported(v: RawValue): boolean {
  const keys = Object.keys(v);
  if (keys.length !== 1 || !SUPPORTED.has(keys[0]!)) return false;
  if (v.listValue) return (v.listValue.values ?? []).every(supported);
  if (v.mapValue) return (v.mapValue.entries ?? []).every((e) => supported(e.key) && supported(e.value));
  return true;
}

function bigintOf(x: unknown): bigint | undefined {
  if (typeof x === 'bigint') return x;
  if (x && typeof x === 'object') {
    const inner = (x as { value?: unknown }).value;
    if (typeof inner === 'bigint') return inner;
    const prim = (x as { valueOf(): unknown }).valueOf();
    if (typeof prim === 'bigint') return prim;
  }
  return undefined;
}

function listOf(x: unknown): unknown[] | undefined {
  if (Array.isArray(x)) return x;
  if (x && typeof x === 'object' && Symbol.iterator in x && !(x instanceof Map) && typeof x !== 'string') {
    const arr = [...(x as Iterable<unknown>)];
    if (!arr.every((e) => Array.isArray(e) && e.length === 2) || arr.length === 0) return arr;
  }
  return undefined;
}

function entriesOf(x: unknown): Array<[unknown, unknown]> | undefined {
  if (x instanceof Map) return [...x.entries()];
  if (x && typeof x === 'object' && typeof (x as { entries?: unknown }).entries === 'function') return [...(x as { entries(): Iterable<[unknown, unknown]> }).entries()];
  if (x && typeof x === 'object' && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype) return Object.entries(x);
  return undefined;
}

function matches(expected: RawValue, actual: unknown): boolean {
  if (expected.int64Value !== undefined) return bigintOf(actual) === BigInt(expected.int64Value) && typeof actual === 'bigint';
  if (expected.uint64Value !== undefined) return bigintOf(actual) === BigInt(expected.uint64Value);
  if (expected.doubleValue !== undefined) {
    const d = Number(expected.doubleValue);
    return typeof actual === 'number' && (Number.isNaN(d) ? Number.isNaN(actual) : Object.is(actual, d) || actual === d);
  }
  if (expected.stringValue !== undefined) return actual === expected.stringValue;
  if (expected.boolValue !== undefined) return actual === expected.boolValue;
  if ('nullValue' in expected) return actual === null;
  if (expected.bytesValue !== undefined) return actual instanceof Uint8Array && Buffer.from(actual).toString('base64') === expected.bytesValue;
  if (expected.listValue) {
    const list = listOf(actual);
    const want = expected.listValue.values ?? [];
    return !!list && list.length === want.length && want.every((w, i) => matches(w, list[i]));
  }
  if (expected.mapValue) {
    const entries = entriesOf(actual);
    const want = expected.mapValue.entries ?? [];
    return !!entries && entries.length === want.length && want.every((w) => entries.some(([k, v]) => matches(w.key, typeof k === 'number' ? BigInt(k) : k) || (matches(w.key, k) && matches(w.value, v))) && entries.some(([k, v]) => (matches(w.key, k) || (typeof k === 'string' && /^\d+$/.test(k) && matches(w.key, BigInt(k)))) && matches(w.value, v)));
  }
  return false;
}

function* walk(suite: RawSuite, path: string[]): Generator<{ path: string; test: RawTest }> {
  for (const t of suite.tests ?? []) yield { path: [...path, t.original.name ?? t.original.expr].join('/'), test: t };
  for (const s of suite.suites ?? []) yield* walk(s, [...path, s.name]);
}

/** Extension libraries (strings, math, optionals, two-variable macros, ...) are not part of core CEL. */
const EXTENSION_FILES = /(_ext$|^optionals$|^macros2$|^proto2|^proto3|^wrappers$|^enums$|^dynamic$|^type_deduction|^network)/;

export function runConformance(engine: CelEngine, options: { core?: boolean } = {}): ConformanceResult {
  const core = options.core ?? true;
  const result: ConformanceResult = { passed: 0, failed: 0, skipped: 0, failures: [] };
  const root = conformance as unknown as RawSuite;
  const suites = core ? { ...root, suites: (root.suites ?? []).filter((s) => !EXTENSION_FILES.test(s.name)) } : root;
  for (const { path, test } of walk(suites, [])) {
    const o = test.original;
    const expectsError = o.evalError !== undefined;
    if (o.bindings || o.container || o.typeEnv || o.disableMacros || o.checkOnly || (!expectsError && (!o.value || !supported(o.value)))) {
      result.skipped++;
      continue;
    }
    let ok: boolean;
    try {
      const value = engine.compile(o.expr, []).evaluate({});
      ok = !expectsError && matches(o.value!, value);
    } catch {
      ok = expectsError;
    }
    if (ok) result.passed++;
    else {
      result.failed++;
      result.failures.push(path);
    }
  }
  return result;
}
