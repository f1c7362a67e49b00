// Reporters: pretty (one line per scenario, a diff under each failure, a summary — like `opa test`), JSON (exactly
// `{"scenarios": [{name, status, diff?}], "summary": {...}}`) and JUnit XML for CI.
import type { ScenarioResult } from './run.ts';

export type ReporterName = 'pretty' | 'json' | 'junit';
export const REPORTERS: readonly ReporterName[] = ['pretty', 'json', 'junit'];

export interface Summary {
  total: number;
  passed: number;
  failed: number;
  durationMs: number;
}

export function summarize(results: ScenarioResult[], durationMs: number): Summary {
  const passed = results.filter((r) => r.status === 'pass').length;
  return { total: results.length, passed, failed: results.length - passed, durationMs };
}

/** One line as a scenario finishes; failures are followed by their diff, indented. */
export function prettyLine(result: ScenarioResult): string {
  const head = `${result.status === 'pass' ? 'PASS' : 'FAIL'} ${result.name} (${result.durationMs} ms)`;
  if (!result.diff) return `${head}\n`;
  return `${head}\n${result.diff.split('\n').map((l) => `    ${l}`).join('\n')}\n`;
}

export function prettySummary(summary: Summary): string {
  return `\n${summary.passed} passed, ${summary.failed} failed (${(summary.durationMs / 1000).toFixed(1)} s)\n`;
}

export function jsonReport(results: ScenarioResult[], summary: Summary): string {
  const scenarios = results.map((r) => (r.diff ? { name: r.name, status: r.status, diff: r.diff } : { name: r.name, status: r.status }));
  return `${JSON.stringify({ scenarios, summary })}\n`;
}

function xmlEscape(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** JUnit XML as CI systems read it: one testsuite, one testcase per scenario, a <failure> carrying the diff. */
export function junitReport(results: ScenarioResult[], summary: Summary): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const cases = results.map((r) => {
    const open = `    <testcase classname="scenarios.${xmlEscape(r.file.split('/').pop()!.replace(/\.ya?ml$/, ''))}" name="${xmlEscape(r.name)}" time="${seconds(r.durationMs)}"`;
    if (r.status === 'pass') return `${open}/>`;
    const first = r.diff?.split('\n')[0] ?? 'scenario failed';
    return `${open}>\n      <failure message="${xmlEscape(first)}" type="ScenarioMismatch">${xmlEscape(r.diff ?? '')}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="arbiter scenarios" tests="${summary.total}" failures="${summary.failed}" errors="0" time="${seconds(summary.durationMs)}">`,
    `  <testsuite name="scenarios" tests="${summary.total}" failures="${summary.failed}" errors="0" skipped="0" time="${seconds(summary.durationMs)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
