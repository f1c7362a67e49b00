// Commit messages as DESIGN §6 fixes them: `arbiter(<service>): <what>`, a body a reviewer can read, the trailers.
import type { Decision, Diagnosis } from '../engine/types.ts';
import { oneLineVisible, quotedForCommit } from './inert.ts';
import { parseTrailerList, trailerRecord } from './trailers.ts';

export const SUBJECT_MAX = 72;

/** The trailer block every arbiter commit (actuation and ledger) carries, in this order. */
export interface ArbiterTrailers {
  'Arbiter-Decision': string;
  'Arbiter-Incident': string;
  'Arbiter-Action': string;
  'Arbiter-Target': string;
  'Arbiter-Mode': string;
  'Arbiter-Support': string;
  'Arbiter-Idempotency-Key': string;
  'Arbiter-Bundle-Revision': string;
}

export function decisionTrailers(decision: Decision): ArbiterTrailers {
  const target = decision.action?.target ?? decision.target;
  return {
    'Arbiter-Decision': decision.id,
    'Arbiter-Incident': decision.incident,
    'Arbiter-Action': decision.action?.kind ?? 'none',
    'Arbiter-Target': `${target.namespace || 'default'}/${target.service}`,
    'Arbiter-Mode': decision.mode,
    'Arbiter-Support': decision.support.toFixed(2),
    'Arbiter-Idempotency-Key': decision.idempotencyKey,
    'Arbiter-Bundle-Revision': oneLine(decision.bundle.revision || 'unknown'),
  };
}

function oneLine(value: string): string {
  return oneLineVisible(value);
}

/** `arbiter(<service>): <what>`, cut to 72 characters with an ellipsis when `what` is long; hidden characters spelled out. */
export function commitSubject(service: string, what: string): string {
  const subject = `arbiter(${service}): ${oneLineVisible(what)}`;
  return subject.length <= SUBJECT_MAX ? subject : `${subject.slice(0, SUBJECT_MAX - 1)}…`;
}

export function formatTrailers(trailers: object): string {
  return Object.entries(trailers)
    .map(([k, v]) => `${k}: ${oneLine(String(v))}`)
    .join('\n');
}

/**
 * Subject, blank line, body paragraphs (wrapped at 72), blank line, trailers. The message is checked the way git reads
 * it: exactly these trailers, nothing more, else it is not written (a body line must never add, hide or change one).
 */
export function formatMessage(subject: string, body: string[], trailers: object): string {
  const paragraphs = body.map((p) => p.trimEnd()).filter(Boolean);
  const message = `${subject}\n\n${paragraphs.length ? `${paragraphs.join('\n\n')}\n\n` : ''}${formatTrailers(trailers)}\n`;
  const read = parseTrailerList(message).map((t) => `${t.token}: ${t.value}`);
  const meant = formatTrailers(trailers).split('\n');
  if (read.length !== meant.length || read.some((line, i) => line !== meant[i])) {
    throw new Error(`commit message would not carry exactly its trailers as git reads them (read ${JSON.stringify(read)})`);
  }
  return message;
}

/** Wraps prose at `width` columns; lines starting with `-` or spaces are kept as they are. */
export function wrap(text: string, width = 72): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.length <= width || /^\s/.test(line)) return line;
      const indent = /^- /.test(line) ? '  ' : '';
      const out: string[] = [];
      let current = '';
      for (const word of line.split(' ')) {
        if (current && current.length + word.length + 1 > width) {
          out.push(current);
          current = indent + word;
        } else current = current ? `${current} ${word}` : word;
      }
      if (current) out.push(current);
      return out.join('\n');
    })
    .join('\n');
}

/**
 * The body of an actuation commit: diagnosis, evidence, why this action, what happens next. Text the diagnosis could
 * have shaped (its fields, and reasons or notes that may quote them) is indented under a line that says it was reported
 * by the diagnosis, so git reads none of it as a trailer, a patch divider or a scissors line (gitops/inert.ts).
 */
export function actuationBody(decision: Decision, diagnosis: Diagnosis | undefined, notes: string[], next: string): string[] {
  const body: string[] = [];
  if (diagnosis) {
    const top = [...diagnosis.hypotheses].sort((a, b) => b.confidence - a.confidence);
    const reported = [
      `diagnosis ${diagnosis.id} for incident ${diagnosis.incident}, observed ${diagnosis.observedAt}${diagnosis.source ? `, source ${diagnosis.source}` : ''}`,
      ...top.map((h) => `- ${h.cause} (confidence ${h.confidence.toFixed(2)})`),
    ];
    const evidence = top.flatMap((h) => h.evidence ?? []).slice(0, 8);
    if (evidence.length) reported.push('evidence:', ...evidence.map((e) => `- ${e}`));
    const inv = diagnosis.investigation;
    if (inv) {
      const tools = inv.tools.map((t) => `${t.name} ×${t.calls}${t.failed ? ` (${t.failed} failed)` : ''}`).join(', ') || 'none';
      reported.push(`Investigated by ${inv.model}${inv.triageModel ? ` (triage ${inv.triageModel})` : ''} in ${inv.turns} turns; read-only tools: ${tools}; tokens in ${inv.usage.inputTokens}, out ${inv.usage.outputTokens}.`);
    }
    body.push(`Reported by the diagnosis (untrusted, quoted as text):\n${quotedForCommit(reported)}`);
  }
  const why = [...decision.rationale, ...notes];
  if (why.length) body.push(`Why this action (reasons may quote the diagnosis):\n${quotedForCommit(why.map((r) => `- ${r}`))}`);
  body.push(wrap(`What happens next: ${next}`));
  return body;
}

/** The trailers of `message` exactly as `git interpret-trailers --parse` reads them, keyed by canonical spelling. */
export function parseTrailers(message: string): Record<string, string> {
  return trailerRecord(message).trailers;
}
