// Expectation matching: partial (subset) matches over decisions, exact sets for changed files, and the readable
// expected-vs-actual diff every failure carries.
import { stringify } from 'yaml';

export interface Mismatch {
  /** What was checked, e.g. `mode`, `decision.candidates`, `git.changed (main)`. */
  check: string;
  expected: unknown;
  actual: unknown;
  /** Extra lines, e.g. missing / unexpected set members, a rationale. */
  notes?: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Does `actual` contain `expected`? Objects: every expected key matches (extra actual keys are fine). Arrays: every
 * expected element matches some actual element. Numbers: equal within 1e-9. Everything else: strict equality.
 */
export function partialMatch(expected: unknown, actual: unknown): boolean {
  if (isObject(expected)) return isObject(actual) && Object.entries(expected).every(([k, v]) => partialMatch(v, actual[k]));
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.every((e) => actual.some((a) => partialMatch(e, a)));
  if (typeof expected === 'number' && typeof actual === 'number') return Math.abs(expected - actual) <= 1e-9;
  if (expected === null) return actual === null || actual === undefined;
  return expected === actual;
}

/** Collects one mismatch per expected key that does not match, so a diff points at the field that differs. */
export function matchFields(check: string, expected: Record<string, unknown>, actual: unknown, out: Mismatch[]): void {
  const actualObject = isObject(actual) ? actual : {};
  for (const [key, value] of Object.entries(expected)) {
    const got = actualObject[key];
    if (partialMatch(value, got)) continue;
    if (isObject(value) && isObject(got)) matchFields(`${check}.${key}`, value, got, out);
    else out.push({ check: `${check}.${key}`, expected: value, actual: got === undefined ? '(absent)' : got });
  }
}

/** Exact set equality, reported as missing / unexpected members. */
export function matchSet(check: string, expected: string[], actual: string[], out: Mismatch[]): void {
  const want = new Set(expected);
  const have = new Set(actual);
  const missing = [...want].filter((x) => !have.has(x)).sort();
  const unexpected = [...have].filter((x) => !want.has(x)).sort();
  if (missing.length === 0 && unexpected.length === 0) return;
  const notes = [];
  if (missing.length) notes.push(`missing:    ${missing.join(', ')}`);
  if (unexpected.length) notes.push(`unexpected: ${unexpected.join(', ')}`);
  out.push({ check, expected: [...want].sort(), actual: [...have].sort(), notes });
}

function render(value: unknown): string[] {
  if (typeof value === 'string') return value.includes('\n') ? value.trimEnd().split('\n') : [value];
  if (value === undefined) return ['(absent)'];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return [`[${value.join(', ')}]`];
  const text = stringify(value, { lineWidth: 0, flowCollectionPadding: false }).trimEnd();
  return text.split('\n');
}

function block(label: string, value: unknown, sign: string): string[] {
  const lines = render(value);
  const pad = ' '.repeat(label.length);
  return lines.map((line, i) => `${sign} ${i === 0 ? label : pad}${line}`);
}

/** The diff of one scenario: for every mismatch, what was checked, `- expected`, `+ actual`, and notes. */
export function formatDiff(mismatches: Mismatch[]): string {
  const parts = mismatches.map((m) => {
    const lines = [`${m.check}:`, ...block('expected: ', m.expected, '-'), ...block('actual:   ', m.actual, '+')];
    for (const note of m.notes ?? []) lines.push(`  ${note}`);
    return lines.join('\n');
  });
  return parts.join('\n');
}
