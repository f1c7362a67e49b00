// Human-readable renderings of a Decision: the summary lines and the verdict table (`arbiter decide --explain`).
import { canonicalJson } from './canonical.ts';
import { describePolicyError, formatCost } from './decide.ts';
import type { Decision, Verdict } from './types.ts';

export interface VerdictRow {
  candidate: string;
  policy: string;
  effect: string;
  priority: string;
  weight: string;
  cost: string;
  /** `file:row` of the producing rule. */
  source: string;
  reason: string;
}

const describeAction = (a: { kind: string; params: Record<string, unknown> }): string =>
  Object.keys(a.params).length > 0 ? `${a.kind} ${canonicalJson(a.params)}` : a.kind;

/** One row per (candidate × verdict); a candidate without verdicts gets one row saying so. */
/** `file:row` of the rule that produced a verdict (Rego), or the policy file (CEL). */
export function sourceOf(v: Verdict): string {
  if (!v.source) return '-';
  return v.source.row !== undefined ? `${v.source.file}:${v.source.row}` : v.source.file;
}

export function verdictRows(decision: Decision): VerdictRow[] {
  const rows: VerdictRow[] = [];
  for (const c of decision.candidates) {
    const candidate = describeAction(c.action);
    if (c.verdicts.length === 0) rows.push({ candidate, policy: '(none)', effect: `${c.effect} (default)`, priority: '-', weight: '-', cost: '-', source: '-', reason: 'no policy judged this candidate' });
    for (const v of c.verdicts) {
      rows.push({ candidate, policy: v.policy, effect: v.effect, priority: String(v.priority), weight: String(v.weight), cost: String(v.cost), source: sourceOf(v), reason: v.reason });
    }
  }
  return rows;
}

export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function renderVerdictTable(decision: Decision): string {
  const rows = verdictRows(decision).map((r) => [r.candidate, r.policy, r.effect, r.priority, r.cost, r.source, r.reason]);
  return renderTable(['candidate', 'policy', 'effect', 'priority', 'cost', 'source', 'reason'], rows);
}

export function renderCandidateTable(decision: Decision): string {
  const rows = decision.candidates.map((c) => [describeAction(c.action), c.effect, c.support.toFixed(2), c.pSuccess.toFixed(2), formatCost(c.expectedCost), c.proposedBy.join(', ')]);
  return renderTable(['candidate', 'effect', 'support', 'pSuccess', 'expected cost', 'proposed by'], rows);
}

/** A few lines: mode, action, target, support, then the rationale. */
export function renderDecision(decision: Decision, explain = false): string {
  const out: string[] = [];
  const mode = decision.mode === 'shadow' ? `shadow (would be ${decision.wouldBe})` : decision.mode;
  out.push(`decision ${decision.id}: ${mode}${decision.action ? ` ${describeAction(decision.action)}` : ''} on ${decision.target.namespace}/${decision.target.service}`);
  out.push(`incident ${decision.incident}, diagnosis ${decision.diagnosis}, support ${decision.support.toFixed(2)}, bundle ${decision.bundle.revision}`);
  if (decision.mode === 'escalate' && decision.action) out.push(`recommended to the on-call engineer: ${describeAction(decision.action)}`);
  for (const r of decision.rationale) out.push(`  - ${r}`);
  if (explain) {
    out.push('', 'verdicts:', renderVerdictTable(decision), '', 'candidates:', renderCandidateTable(decision), '');
    out.push(`winner: ${decision.resolution.winner} (combine ${decision.resolution.combine}, select ${decision.resolution.select})`);
    if (decision.resolution.overruled.length > 0) {
      out.push(`overruled: ${decision.resolution.overruled.map((v) => `${v.policy} (priority ${v.priority}, ${v.effect})`).join(', ')}`);
    }
    out.push('guardrails:');
    for (const g of decision.guardrails) out.push(`  ${g.applied ? '[applied]' : '[ ok    ]'} ${g.name}: ${g.detail}`);
  }
  if (decision.errors && decision.errors.length > 0) {
    out.push(explain ? 'policy errors (each failed closed):' : `policy errors: ${decision.errors.length} (each failed closed; --explain lists them)`);
    if (explain) for (const e of decision.errors) out.push(`  ${describePolicyError(e)}`);
  }
  return `${out.join('\n')}\n`;
}
