// The evaluation set (issue 13): recorded incidents — an alert, what each tool returned, the correct cause, the model
// turns a scripted run replays, and the action the shipped bundle is expected to take on the diagnosis.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadBundle } from '../../engine/bundle.ts';
import { buildContext, catalogAndCalendar } from '../../engine/context.ts';
import { decide } from '../../engine/decide.ts';
import { parseDocument, schemaError } from '../../engine/ingest.ts';
import { ActionKind, Diagnosis, Dns1123Label, Rfc3339, type Decision } from '../../engine/types.ts';
import { investigate, type InvestigationResult } from '../investigate.ts';
import type { ModelClient } from '../model.ts';
import { seedFromAlert, type Seed } from '../seed.ts';
import type { InvestigationTool } from '../tools/tool.ts';

export const INCIDENTS_DIR = fileURLToPath(new URL('./incidents', import.meta.url));
export const SHIPPED_BUNDLE = fileURLToPath(new URL('../../policies/remediation', import.meta.url));

const ToolName = z.enum(['prometheus_query', 'prometheus_query_range', 'recent_changes', 'ledger_history', 'service_catalog', 'read_runbook']);

export const Incident = z
  .object({
    name: z.string().regex(/^[a-z0-9-]{1,64}$/),
    summary: z.string().max(300),
    cause: Diagnosis.shape.hypotheses.element.shape.cause,
    alert: z
      .object({ service: Dns1123Label, namespace: Dns1123Label, alertname: z.string().max(100), startsAt: Rfc3339, annotations: z.record(z.string(), z.string().max(2000)) })
      .strict(),
    tools: z.partialRecord(ToolName, z.unknown()),
    script: z.array(z.union([z.object({ calls: z.array(z.partialRecord(ToolName, z.unknown()).refine((c) => Object.keys(c).length === 1, 'one tool per call')).min(1) }).strict(), z.object({ submit: z.record(z.string(), z.unknown()) }).strict()])).min(1),
    expect: z.object({ mode: z.enum(['auto', 'notify', 'approval', 'escalate', 'shadow']), action: ActionKind.nullable() }).strict(),
  })
  .strict();
export type Incident = z.infer<typeof Incident>;

export function loadIncidents(dir = INCIDENTS_DIR): Incident[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const r = Incident.safeParse(parseDocument(readFileSync(join(dir, f), 'utf8'), f), { reportInput: true });
      if (!r.success) throw schemaError(r.error, f);
      return r.data;
    });
}

/** The Alertmanager webhook the incident's alert arrived as. */
export function alertPayloadOf(incident: Incident): Record<string, unknown> {
  const { service, namespace, alertname, startsAt, annotations } = incident.alert;
  return {
    version: '4',
    groupKey: `{}:{alertname="${alertname}",service="${service}"}`,
    status: 'firing',
    receiver: 'arbiter',
    alerts: [{ status: 'firing', labels: { alertname, service, namespace }, annotations, startsAt, fingerprint: incident.name }],
  };
}

/** Tools that replay what the incident recorded (offered only for what was recorded); a list replays call by call. */
export function recordedTools(incident: Incident): InvestigationTool[] {
  return Object.entries(incident.tools).map(([name, recorded]) => {
    let call = 0;
    return {
      name,
      description: `${name} (recorded for the evaluation set): returns what the real tool returned during the incident.`,
      input: z.record(z.string(), z.unknown()),
      async run() {
        const value = Array.isArray(recorded) ? recorded[Math.min(call, recorded.length - 1)] : recorded;
        call++;
        return value;
      },
    };
  });
}

export interface IncidentResult {
  incident: string;
  expectedCause: string;
  cause: string | null;
  confidence: number | null;
  correct: boolean;
  decision: { mode: Decision['mode']; action: string | null } | null;
  expectedAction: string | null;
  expectedMode: string;
  tokens: { input: number; output: number };
  error?: string;
}

/** The shipped bundle's decision on a diagnosis at the time it was observed (off the live clock, like replay). */
export async function shippedDecision(diagnosis: Diagnosis): Promise<Decision> {
  const bundle = await loadBundle(SHIPPED_BUNDLE);
  const sources = catalogAndCalendar({ bundleData: bundle.data });
  const context = buildContext({ diagnosis, now: diagnosis.observedAt, bundleData: bundle.data, ...sources, killSwitch: false, override: {} });
  return decide({ diagnosis, context, bundle });
}

export async function evaluateIncident(incident: Incident, options: { client: ModelClient; model: string; triageModel?: string }): Promise<IncidentResult> {
  const seed = seedFromAlert(alertPayloadOf(incident)) as Seed;
  const base = { incident: incident.name, expectedCause: incident.cause, expectedAction: incident.expect.action, expectedMode: incident.expect.mode };
  let result: InvestigationResult;
  try {
    result = await investigate(seed, { client: options.client, model: options.model, ...(options.triageModel ? { triageModel: options.triageModel } : {}), tools: recordedTools(incident), budget: { maxTurns: 8 } });
  } catch (err) {
    return { ...base, cause: null, confidence: null, correct: false, decision: null, tokens: { input: 0, output: 0 }, error: (err as Error).message };
  }
  const top = [...result.diagnosis.hypotheses].sort((a, b) => b.confidence - a.confidence)[0]!;
  const decision = await shippedDecision(result.diagnosis);
  return {
    ...base,
    cause: top.cause,
    confidence: top.confidence,
    correct: top.cause === incident.cause,
    decision: { mode: decision.mode, action: decision.action?.kind ?? null },
    tokens: { input: result.investigation.usage.inputTokens, output: result.investigation.usage.outputTokens },
  };
}

export function report(results: IncidentResult[]): string {
  const rows = results.map((r) => `${r.correct ? 'ok  ' : 'MISS'} ${r.incident.padEnd(38)} expected ${r.expectedCause.padEnd(18)} got ${(r.cause ?? '-').padEnd(18)} ${r.confidence?.toFixed(2) ?? '-   '}  decision ${r.decision ? `${r.decision.mode} ${r.decision.action ?? 'no action'}` : `none (${r.error})`}  tokens ${r.tokens.input}/${r.tokens.output}`);
  const correct = results.filter((r) => r.correct).length;
  const input = results.reduce((s, r) => s + r.tokens.input, 0);
  const output = results.reduce((s, r) => s + r.tokens.output, 0);
  const n = Math.max(1, results.length);
  return `${rows.join('\n')}\n\ncause accuracy: ${correct}/${results.length} (${((100 * correct) / n).toFixed(0)}%)\ntokens: input ${input}, output ${output}; per incident input ${Math.round(input / n)}, output ${Math.round(output / n)}\n`;
}
