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

/** arbiter's own folds (never the diagnosis's: its text is always in code): the opening line for `title`, and the close. */
export const FOLD_CLOSE = '</details>';
export function foldOpen(title: string): string {
  return `<details><summary>${title}</summary>`;
}
const EVIDENCE_FOLD = 'Diagnosis, policy verdicts, conflict resolution and guardrails';
const RATIONALE_FOLD = 'Rationale';
/** The fold titles arbiter uses, in order (for tests that tell arbiter's structure from injected HTML). */
export const FOLD_TITLES = [EVIDENCE_FOLD, RATIONALE_FOLD] as const;

const LABELS: Record<string, string> = { newTag: 'image tag', image: 'image', count: 'replicas', replicas: 'replicas', minReplicas: 'replicas (HPA minimum)', weight: 'traffic weight' };

/** `key: value  # comment` (also a list item `- key: value`), value unquoted; undefined for any other line. */
function keyValue(line: string): { key: string; value: string } | undefined {
  const m = /^\s*(?:-\s+)?([A-Za-z0-9_./-]+):\s*(.*?)\s*(?:#.*)?$/.exec(line);
  if (!m || m[2] === '' || m[2] === '|' || m[2] === '>') return undefined;
  return { key: m[1]!, value: m[2]!.replace(/^(["'])(.*)\1$/, '$2') };
}

/**
 * What the edits change, as from → to pairs: each removed `key: value` line paired, in order, with the next added
 * line of the same key; an added key with no removed counterpart is shown as set. Values come from the repository
 * (and may come from action parameters): shown as code.
 */
export function changeSummary(edits: FileEdit[], limit = 4): string[] {
  const out: string[] = [];
  for (const e of edits) {
    if (e.before === null || e.after === null) {
      out.push(`${codeSpan(e.path)} ${e.before === null ? 'created' : 'deleted'}`);
      continue;
    }
    const before = e.before.split('\n');
    const after = e.after.split('\n');
    const kept = new Map<string, number>();
    for (const l of after) kept.set(l, (kept.get(l) ?? 0) + 1);
    const removed: string[] = [];
    for (const l of before) {
      const n = kept.get(l) ?? 0;
      if (n > 0) kept.set(l, n - 1);
      else removed.push(l);
    }
    const pool = new Map<string, number>();
    for (const l of before) pool.set(l, (pool.get(l) ?? 0) + 1);
    const added: string[] = [];
    for (const l of after) {
      const n = pool.get(l) ?? 0;
      if (n > 0) pool.set(l, n - 1);
      else added.push(l);
    }
    const addedKv = added.map(keyValue);
    const used = new Set<number>();
    for (const r of removed.map(keyValue)) {
      if (!r) continue;
      const i = addedKv.findIndex((a, j) => a !== undefined && !used.has(j) && a.key === r.key);
      if (i < 0) continue;
      used.add(i);
      out.push(`${LABELS[r.key] ?? codeSpan(r.key)} ${codeSpan(r.value)} → ${codeSpan(addedKv[i]!.value)}`);
    }
    addedKv.forEach((a, j) => {
      if (a && !used.has(j)) out.push(`${LABELS[a.key] ?? codeSpan(a.key)} set to ${codeSpan(a.value)}`);
    });
  }
  return out.length > limit ? [...out.slice(0, limit), `${out.length - limit} more`] : out;
}

const GUARDRAIL_WORDS: Record<string, string> = {
  'kill-switch': 'the kill switch is on (`.arbiter/pause` or `arbiter.yaml`): every change waits for a human',
  'circuit-breaker': 'the circuit is open: a recent arbiter action on this service failed verification',
  'service-rate-limit': 'the service reached its hourly limit of arbiter actions',
  'policy-errors': 'a policy failed while deciding, so arbiter fails closed',
};

/** Why a human must decide, in words: the guardrails that capped the mode, the policies that require approval, the gate. */
export function approvalReasons(decision: Decision): string[] {
  const out: string[] = [];
  for (const g of decision.guardrails) if (g.applied && g.name !== 'parameter-bounds') out.push(GUARDRAIL_WORDS[g.name] ?? `guardrail ${codeSpan(g.name)} applies`);
  const winner = decision.action ? decision.candidates.find((c) => c.action.kind === decision.action!.kind) : undefined;
  if (winner?.effect === 'require_approval') {
    for (const v of winner.verdicts) {
      if (v.effect === 'require_approval') out.push(`policy ${codeSpan(v.policy)} requires approval${v.reason ? ` (${codeSpan(v.reason)})` : ''}`);
    }
  } else if (winner) {
    // the gate sentence is the engine's own, anchored at the start of a rationale line (a diagnosis line starts otherwise)
    for (const r of decision.rationale) {
      const m = /^Support (\d+(?:\.\d+)?) < notify gate (\d+(?:\.\d+)?) with effect [a-z_]+: mode approval\.$/.exec(r);
      if (m) out.push(`support ${m[1]} is below the notify gate ${m[2]} for ${winner.action.kind}`);
    }
  }
  if (out.length === 0) out.push(`the decision's mode is ${decision.mode}`);
  return out;
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
  const service = action?.target.service ?? decision.target.service;
  const changes = changeSummary(edits);
  out.push(
    `**${action?.kind ?? 'No action'} on ${codeSpan(service)}: ${changes.length ? changes.join(', ') : 'no file changes'}.** ` +
      `A human must decide because ${approvalReasons(decision).join('; and ')}.`,
    '',
  );
  out.push(
    `arbiter proposes **${action?.kind ?? 'no action'}** on ${codeSpan(`${action?.target.namespace ?? decision.target.namespace}/${action?.target.service ?? decision.target.service}`)} ` +
      `for incident ${codeSpan(decision.incident)} (decision ${codeSpan(decision.id)}, support ${decision.support.toFixed(2)}, risk ${input.risk}). ` +
      'It needs approval before it is applied: merge to apply, close to reject.',
  );
  out.push('', foldOpen(EVIDENCE_FOLD));
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
  out.push('', FOLD_CLOSE);
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
  if (decision.rationale.length) out.push('', foldOpen(RATIONALE_FOLD), '', '## Rationale', '', codeBlock(decision.rationale.map((r) => `- ${oneLineVisible(r)}`)), '', FOLD_CLOSE);
  out.push('', formatTrailers(decisionTrailers(decision)));
  return `${out.join('\n')}\n`;
}
