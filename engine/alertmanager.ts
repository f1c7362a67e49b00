// The Alertmanager adapter (DESIGN §2): a webhook notification (payload version 4) → a Diagnosis. Pure: same payload,
// same Diagnosis. What cannot be mapped is refused with an InputError naming the payload field.
//
// Mapping (one notification = one alert group = one Diagnosis; only `firing` alerts count):
//   incident                 `am-` + first 24 hex of sha256(groupKey): every notification of the group is one incident
//   id                       `am-` + first 24 hex of sha256(groupKey + the firing alerts' fingerprints and startsAt)
//   observedAt               the latest `startsAt` of the firing alerts (UTC, whole seconds)
//   target.service           label `service` (required, the same on every firing alert)
//   target.namespace|cluster|environment   labels `namespace`, `cluster`, `environment` (optional, the same on every alert)
//   hypotheses               one per distinct label `cause` (default `unknown`); with Alertmanager `group_by: [service,
//                            cause]` that is one hypothesis per alert group
//     .confidence            annotation `confidence` (required, a number in [0,1]); the highest among the cause's alerts
//     .evidence              annotation `evidence` (one item per line), else `summary`/`description`
//     .suggestedActions      annotation `action` (optional): an action kind such as `restart`
//   signals                  annotations `signal_<name>` (numbers), e.g. `signal_errorRate: "0.12"`; the highest wins
//   source                   `alertmanager`
import { createHash } from 'node:crypto';
import { InputError } from './errors.ts';
import { validateDiagnosis } from './ingest.ts';
import { ActionKind, Dns1123Label, Hypothesis, Rfc3339, type Diagnosis } from './types.ts';

export interface Alert {
  status?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  startsAt?: unknown;
  fingerprint?: unknown;
}

/** A notification with no firing alert (all resolved): nothing to decide. */
export interface NothingFiring {
  ignored: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}

/** The identity of one notification's alert group: what every diagnosis of it shares, whoever diagnoses it. */
export interface AlertGroup {
  id: string;
  incident: string;
  observedAt: string;
  target: Diagnosis['target'];
  /** The firing alerts with their index in the payload (for field paths). */
  firing: Array<{ alert: Alert; index: number }>;
}

/**
 * Checks the payload and maps the group's identity (id, incident, observedAt, target); causes, confidences and
 * evidence are left to the caller (the heuristic mapping below, or the diagnosis tier in diagnose/).
 */
export function alertGroupOf(payload: unknown, source = 'alertmanager'): AlertGroup | NothingFiring {
  const fail = (field: string, message: string): InputError => new InputError(message, `${source}: ${field}`);
  if (!isRecord(payload)) throw fail('(document)', 'must be an Alertmanager webhook payload (a JSON object)');
  if (payload.version !== '4') throw fail('version', `must be "4" (Alertmanager webhook payload version 4), got ${JSON.stringify(payload.version)}`);
  if (typeof payload.groupKey !== 'string' || payload.groupKey.length === 0) throw fail('groupKey', 'is required (a non-empty string)');
  if (!Array.isArray(payload.alerts) || payload.alerts.length === 0) throw fail('alerts', 'must be a non-empty list');
  const alerts = payload.alerts as unknown[];
  alerts.forEach((a, i) => {
    if (!isRecord(a)) throw fail(`alerts[${i}]`, 'must be an object');
  });
  const firing = (alerts as Alert[]).map((alert, index) => ({ alert, index })).filter(({ alert }) => alert.status === 'firing');
  if (firing.length === 0) return { ignored: 'no firing alerts in the notification (all resolved): nothing to decide' };

  // target labels must agree across the group: one Diagnosis has one target
  const target: Record<string, string> = {};
  for (const name of ['service', 'namespace', 'cluster', 'environment']) {
    for (const { alert, index } of firing) {
      const value = isRecord(alert.labels) ? alert.labels[name] : undefined;
      const field = `alerts[${index}].labels.${name}`;
      if (value === undefined) {
        if (name === 'service') throw fail(field, 'is required: the label names the service to remediate');
        continue;
      }
      if (typeof value !== 'string' || !Dns1123Label.safeParse(value).success) throw fail(field, `must be a DNS-1123 label (got ${JSON.stringify(value)})`);
      if (target[name] === undefined) target[name] = value;
      else if (target[name] !== value) throw fail(field, `must be the same on every firing alert of the group ("${target[name]}" elsewhere, "${value}" here)`);
    }
  }

  let observed = -Infinity;
  const stamps: string[] = [];
  for (const { alert, index } of firing) {
    if (typeof alert.startsAt !== 'string' || !Rfc3339.safeParse(alert.startsAt).success) throw fail(`alerts[${index}].startsAt`, 'must be an RFC 3339 timestamp');
    observed = Math.max(observed, Date.parse(alert.startsAt));
    stamps.push(`${String(alert.fingerprint ?? '')}@${alert.startsAt}`);
  }
  return {
    id: `am-${digest(`${payload.groupKey}\n${stamps.sort().join('\n')}`)}`,
    incident: `am-${digest(payload.groupKey)}`,
    observedAt: new Date(observed).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    target: target as Diagnosis['target'],
    firing,
  };
}

export function diagnosisFromAlertmanager(payload: unknown, source = 'alertmanager'): Diagnosis | NothingFiring {
  const fail = (field: string, message: string): InputError => new InputError(message, `${source}: ${field}`);
  const group = alertGroupOf(payload, source);
  if ('ignored' in group) return group;
  const { firing, target } = group;

  const causes = new Map<string, { confidence: number; evidence: string[]; actions: Set<string> }>();
  const signals: Record<string, number> = {};
  for (const { alert, index } of firing) {
    const labels = isRecord(alert.labels) ? alert.labels : {};
    const annotations = isRecord(alert.annotations) ? alert.annotations : {};
    const at = `alerts[${index}]`;
    const cause = labels.cause ?? 'unknown';
    if (typeof cause !== 'string' || !Hypothesis.shape.cause.safeParse(cause).success) throw fail(`${at}.labels.cause`, `must be a lowercase cause such as memory-leak (got ${JSON.stringify(cause)})`);
    const raw = annotations.confidence;
    const confidence = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : typeof raw === 'number' ? raw : NaN;
    if (raw === undefined) throw fail(`${at}.annotations.confidence`, 'is required: a number in [0,1] saying how sure the detector is');
    if (!(confidence >= 0 && confidence <= 1)) throw fail(`${at}.annotations.confidence`, `must be a number in [0,1] (got ${JSON.stringify(raw)})`);
    const text = annotations.evidence ?? annotations.summary ?? annotations.description;
    if (text !== undefined && typeof text !== 'string') throw fail(`${at}.annotations.evidence`, 'must be a string (one item per line)');
    const entry = causes.get(cause) ?? { confidence: 0, evidence: [], actions: new Set<string>() };
    entry.confidence = Math.max(entry.confidence, confidence);
    for (const line of (text ?? '').split('\n').map((l) => l.trim()).filter(Boolean)) if (!entry.evidence.includes(line)) entry.evidence.push(line);
    if (annotations.action !== undefined) {
      if (!ActionKind.safeParse(annotations.action).success) throw fail(`${at}.annotations.action`, `must be an action kind (${ActionKind.options.join(', ')}), got ${JSON.stringify(annotations.action)}`);
      entry.actions.add(annotations.action as string);
    }
    causes.set(cause, entry);
    for (const [key, value] of Object.entries(annotations)) {
      if (!key.startsWith('signal_')) continue;
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(number)) throw fail(`${at}.annotations.${key}`, `must be a number (got ${JSON.stringify(value)})`);
      const name = key.slice('signal_'.length);
      signals[name] = Math.max(signals[name] ?? -Infinity, number);
    }
  }

  const diagnosis = {
    apiVersion: 'arbiter.dev/v1',
    kind: 'Diagnosis',
    id: group.id,
    incident: group.incident,
    observedAt: group.observedAt,
    source: 'alertmanager',
    target,
    ...(Object.keys(signals).length ? { signals } : {}),
    hypotheses: [...causes.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([cause, h]) => ({
        cause,
        confidence: h.confidence,
        ...(h.evidence.length ? { evidence: h.evidence.slice(0, 100) } : {}),
        ...(h.actions.size ? { suggestedActions: [...h.actions].sort().map((kind) => ({ kind })) } : {}),
      })),
  };
  // a last check against the Diagnosis schema (sizes, counts); the fields above are already checked one by one
  return validateDiagnosis(diagnosis, source);
}
