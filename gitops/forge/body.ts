// The pull request body a reviewer reads (DESIGN §6): summary, hypotheses, evidence, verdicts, resolution,
// guardrails, diff summary, rollback, verification, and the trailers repeated so they survive a squash merge.
// Every piece of text the diagnosis could have shaped is rendered inert (gitops/inert.ts): no live mention,
// reference, link, image, HTML or heading can come from it.
import type { FileEdit, RiskLevel, VerificationSpec } from '../../actions/types.ts';
import type { Decision, Diagnosis } from '../../engine/types.ts';
import { codeBlock, codeSpan, oneLineVisible } from '../inert.ts';
import { formatTrailers, decisionTrailers } from '../message.ts';

/** Lines added and removed by an edit (multiset difference of lines: enough for a summary). */
export function lineCounts(edit: FileEdit): { added: number; removed: number } {
  const before = edit.before === null ? [] : edit.before.split('\n');
  const after = edit.after === null ? [] : edit.after.split('\n');
  const pool = new Map<string, number>();
  for (const line of before) pool.set(line, (pool.get(line) ?? 0) + 1);
  let added = 0;
  for (const line of after) {
    const n = pool.get(line) ?? 0;
    if (n > 0) pool.set(line, n - 1);
    else added++;
  }
  const removed = [...pool.values()].reduce((a, b) => a + b, 0);
  return { added, removed };
}

export interface PullRequestBodyInput {
  decision: Decision;
  diagnosis?: Diagnosis;
  edits: FileEdit[];
  notes: string[];
  risk: RiskLevel;
  verification?: VerificationSpec;
  base: string;
}

/** The diagnosis as the reviewer sees it: untrusted text, in fenced blocks, under a heading that says so. */
function reportedByDiagnosis(diagnosis: Diagnosis): string[] {
  const hypotheses = [...diagnosis.hypotheses].sort((a, b) => b.confidence - a.confidence);
  const subject = (h: Diagnosis['hypotheses'][number]): string => {
    if (!h.subject) return '';
    const { kind, name, namespace, revision, image } = h.subject;
    return ` ${kind}/${namespace ? `${namespace}/` : ''}${name}${revision ? ` revision ${revision}` : ''}${image ? ` image ${image}` : ''}`;
  };
  const evidence = hypotheses.flatMap((h) => (h.evidence ?? []).map((e) => `- ${oneLineVisible(e)} (${h.cause})`));
  return [
    '## Reported by the diagnosis (untrusted)',
    '',
    `Diagnosis ${codeSpan(diagnosis.id)}${diagnosis.source ? ` from ${codeSpan(diagnosis.source)}` : ''}, observed ${codeSpan(diagnosis.observedAt)}. ` +
      'What follows is the diagnosis\'s own text (it may quote attacker-controlled logs), shown verbatim and never as Markdown.',
    '',
    '### Hypotheses',
    '',
    codeBlock(hypotheses.map((h) => `${h.confidence.toFixed(2)}  ${h.cause}${subject(h)}`)),
    '',
    '### Evidence',
    '',
    codeBlock(evidence.length ? evidence : ['(none given)']),
  ];
}

export function pullRequestBody(input: PullRequestBodyInput): string {
  const { decision, diagnosis, edits } = input;
  const action = decision.action;
  const out: string[] = [];
  out.push('## Summary', '');
  out.push(
    `arbiter proposes **${action?.kind ?? 'no action'}** on ${codeSpan(`${action?.target.namespace ?? decision.target.namespace}/${action?.target.service ?? decision.target.service}`)} ` +
      `for incident ${codeSpan(decision.incident)} (decision ${codeSpan(decision.id)}, support ${decision.support.toFixed(2)}, risk ${input.risk}). ` +
      'It needs approval before it is applied: merge to apply, close to reject.',
  );
  if (diagnosis) out.push('', ...reportedByDiagnosis(diagnosis));
  out.push('', '## Policy verdicts', '', 'Reasons are shown as text: a policy may quote the diagnosis in them.', '');
  out.push('| candidate | policy | effect | priority | weight | cost | reason |', '|---|---|---|---|---|---|---|');
  for (const c of decision.candidates) {
    for (const v of c.verdicts) {
      out.push(`| ${c.action.kind} | ${codeSpan(v.policy, { table: true })} | ${v.effect} | ${v.priority} | ${v.weight} | ${v.cost} | ${codeSpan(v.reason, { table: true })} |`);
    }
    if (c.verdicts.length === 0) out.push(`| ${c.action.kind} | — | ${c.effect} (default) | | | | no policy judged it |`);
  }
  out.push('', '## Conflict resolution', '');
  out.push(`Combined with \`${decision.resolution.combine}\`, selected by \`${decision.resolution.select}\`: ${codeSpan(decision.resolution.winner)}.`);
  for (const v of decision.resolution.overruled) out.push(`- overruled: ${codeSpan(v.policy)} (${v.effect}, priority ${v.priority}): ${codeSpan(v.reason)}`);
  for (const c of decision.candidates) {
    out.push(`- ${c.action.kind}: effect ${c.effect}, support ${c.support.toFixed(2)}, pSuccess ${c.pSuccess.toFixed(2)}, expected cost ${c.expectedCost.toFixed(1)}`);
  }
  out.push('', '## Guardrails', '');
  for (const g of decision.guardrails) out.push(`- ${g.applied ? '**applied**' : 'not applied'}: ${codeSpan(g.name)} ${codeSpan(g.detail)}`);
  if (decision.guardrails.length === 0) out.push('- (none)');
  out.push('', '## Changes', '');
  for (const e of edits) {
    const { added, removed } = lineCounts(e);
    out.push(`- ${codeSpan(e.path)}: ${e.before === null ? 'created' : e.after === null ? 'deleted' : 'modified'} (+${added} −${removed})`);
  }
  if (input.notes.length) out.push('', 'Notes from the plan:', '', codeBlock(input.notes.map((n) => `- ${oneLineVisible(n)}`)));
  out.push('', '## Rollback', '');
  out.push(`Before merging: close this pull request. After merging: revert the merge commit on ${codeSpan(input.base)} (\`git revert -m 1 <merge commit>\`, or \`git revert <commit>\` after a squash merge); Argo CD / Flux reconcile the revert.`);
  out.push('', '## Verification', '');
  out.push(
    input.verification
      ? `After the change is applied, arbiter checks that \`${input.verification.metric}\` ${input.verification.direction}s within ${input.verification.window}; if not, it commits the compensating change and opens the circuit for this service.`
      : 'After the change is applied, arbiter checks that the service recovers.',
  );
  if (decision.rationale.length) out.push('', '## Rationale', '', codeBlock(decision.rationale.map((r) => `- ${oneLineVisible(r)}`)));
  out.push('', formatTrailers(decisionTrailers(decision)));
  return `${out.join('\n')}\n`;
}
