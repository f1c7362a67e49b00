// What an investigation starts from: the identity arbiter fixes (id, incident, observedAt, target) and what the model
// reads as data (the alert's labels and annotations, or a partial diagnosis's signals and hypotheses).
import { z } from 'zod';
import { alertGroupOf, type NothingFiring } from '../engine/alertmanager.ts';
import { canonicalJson, sha256Hex } from '../engine/canonical.ts';
import { schemaError } from '../engine/ingest.ts';
import { API_VERSION, Diagnosis, Hypothesis, Target } from '../engine/types.ts';

export interface Seed {
  id: string;
  incident: string;
  observedAt: string;
  target: Diagnosis['target'];
  signals?: Record<string, number>;
  /** Shown to the model as data: alert labels/annotations, earlier hypotheses. */
  evidence: Record<string, unknown>;
}

const MAX_ALERTS_SHOWN = 20;
const MAX_TEXT = 1000;

function clip(value: unknown): unknown {
  if (typeof value === 'string') return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
  if (value && typeof value === 'object' && !Array.isArray(value)) return Object.fromEntries(Object.entries(value).slice(0, 50).map(([k, v]) => [k.slice(0, 100), clip(v)]));
  return typeof value === 'number' || typeof value === 'boolean' ? value : null;
}

/** From an Alertmanager webhook: the group identity of engine/alertmanager.ts; numeric `signal_<name>` annotations. */
export function seedFromAlert(payload: unknown, source = 'alert'): Seed | NothingFiring {
  const group = alertGroupOf(payload, source);
  if ('ignored' in group) return group;
  const signals: Record<string, number> = {};
  for (const { alert } of group.firing) {
    for (const [key, value] of Object.entries(alert.annotations ?? {})) {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (key.startsWith('signal_') && Number.isFinite(n) && key.length <= 135) signals[key.slice(7)] = Math.max(signals[key.slice(7)] ?? -Infinity, n);
    }
  }
  return {
    id: group.id,
    incident: group.incident,
    observedAt: group.observedAt,
    target: group.target,
    ...(Object.keys(signals).length ? { signals } : {}),
    evidence: {
      firingAlerts: group.firing.slice(0, MAX_ALERTS_SHOWN).map(({ alert }) => ({ labels: clip(alert.labels), annotations: clip(alert.annotations), startsAt: clip(alert.startsAt) })),
      ...(group.firing.length > MAX_ALERTS_SHOWN ? { moreAlerts: group.firing.length - MAX_ALERTS_SHOWN } : {}),
    },
  };
}

/** A partial Diagnosis: `target` is required, everything else optional (hypotheses are hints the model may check). */
const PartialDiagnosis = z
  .object({
    apiVersion: z.literal(API_VERSION).optional(),
    kind: z.literal('Diagnosis').optional(),
    id: Diagnosis.shape.id.optional(),
    incident: Diagnosis.shape.incident.optional(),
    observedAt: Diagnosis.shape.observedAt.optional(),
    source: Diagnosis.shape.source,
    target: Target,
    signals: Diagnosis.shape.signals,
    hypotheses: z.array(Hypothesis).max(50).optional(),
  })
  .strict();

/** From a partial Diagnosis; a missing id is derived from its content, a missing observedAt is `now`. */
export function seedFromPartialDiagnosis(value: unknown, source: string, now: Date): Seed {
  const r = PartialDiagnosis.safeParse(value, { reportInput: true });
  if (!r.success) throw schemaError(r.error, source);
  const d = r.data;
  const id = d.id ?? `llm-${sha256Hex(canonicalJson(d)).slice(0, 24)}`;
  return {
    id,
    incident: d.incident ?? id,
    observedAt: d.observedAt ?? now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    target: d.target,
    ...(d.signals ? { signals: d.signals } : {}),
    evidence: { ...(d.source ? { reportedBy: d.source } : {}), ...(d.hypotheses ? { earlierHypotheses: d.hypotheses } : {}), ...(d.signals ? { signals: d.signals } : {}) },
  };
}
