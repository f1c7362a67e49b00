// Notifications (DESIGN §4.5, §7): `notify` and `escalate` decisions and compensations are announced as CloudEvents.
// A Notifier never throws: delivery is best effort with bounded retries, and the outcome is reported to the caller.
import { createHash } from 'node:crypto';
import type { Decision } from '../engine/types.ts';

export const NOTIFY_TYPES = {
  notify: 'dev.arbiter.decision.notify',
  escalate: 'dev.arbiter.decision.escalate',
  compensation: 'dev.arbiter.verification.compensated',
  verificationFailed: 'dev.arbiter.verification.failed',
} as const;
export type NotificationType = (typeof NOTIFY_TYPES)[keyof typeof NOTIFY_TYPES];

/** The `data` of a notification CloudEvent: what a human (or a pager rule) needs to act on it. */
export interface NotificationData {
  summary: string;
  decision: string;
  incident: string;
  service: string;
  namespace: string;
  mode: string;
  action: string | null;
  /** The commit this is about: the actuation commit, or the compensating commit; null when nothing was written. */
  commit: string | null;
  branch: string | null;
  ledgerCommit: string | null;
  detail?: string;
}

/** A CloudEvents 1.0 event in structured JSON mode. */
export interface NotificationEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: NotificationType;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: NotificationData;
}

export interface NotificationOutcome {
  type: NotificationType;
  id: string;
  notifier: string;
  delivered: boolean;
  attempts: number;
  /** HTTP status of the last attempt, when there was a response. */
  status?: number;
  error?: string;
}

export interface Notifier {
  readonly name: string;
  notify(event: NotificationEvent): Promise<NotificationOutcome>;
}

export const EVENT_SOURCE = 'urn:arbiter';

/** Builds the event; its id is a function of type, decision and commit, so a receiver can de-duplicate retries. */
export function notificationEvent(type: NotificationType, data: NotificationData, time: string): NotificationEvent {
  const id = createHash('sha256').update(JSON.stringify([type, data.decision, data.commit])).digest('hex').slice(0, 32);
  return { specversion: '1.0', id, source: EVENT_SOURCE, type, subject: `${data.namespace}/${data.service}`, time, datacontenttype: 'application/json', data };
}

/** The notification a decision calls for (notify, escalate), or undefined for modes that only commit. */
export function decisionNotification(decision: Decision, actuation: { commit: string | null; branch: string | null; ledgerCommit: string | null }, time: string): NotificationEvent | undefined {
  if (decision.mode !== 'notify' && decision.mode !== 'escalate') return undefined;
  const target = decision.action?.target ?? decision.target;
  const what = decision.action ? `${decision.action.kind} on ${target.namespace}/${target.service}` : `no action on ${target.namespace}/${target.service}`;
  const summary =
    decision.mode === 'notify'
      ? `arbiter carried out ${what} for incident ${decision.incident}${actuation.commit ? ` (commit ${actuation.commit.slice(0, 12)})` : ''}`
      : `arbiter escalates incident ${decision.incident} to a human: ${decision.action ? `recommended ${what}` : what}`;
  return notificationEvent(
    decision.mode === 'notify' ? NOTIFY_TYPES.notify : NOTIFY_TYPES.escalate,
    {
      summary,
      decision: decision.id,
      incident: decision.incident,
      service: target.service,
      namespace: target.namespace,
      mode: decision.mode,
      action: decision.action?.kind ?? null,
      commit: actuation.commit,
      branch: actuation.branch,
      ledgerCommit: actuation.ledgerCommit,
      detail: decision.rationale.at(-1),
    },
    time,
  );
}

/** Writes one line per event to a log (stderr by default): the notifier when none is configured. */
export class LogNotifier implements Notifier {
  readonly name = 'log';
  constructor(private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}
  async notify(event: NotificationEvent): Promise<NotificationOutcome> {
    this.log(`notification ${event.type} ${event.subject}: ${event.data.summary}`);
    return { type: event.type, id: event.id, notifier: this.name, delivered: true, attempts: 1 };
  }
}

/** Drops every event (still reported, as not delivered). */
export class NoopNotifier implements Notifier {
  readonly name = 'none';
  async notify(event: NotificationEvent): Promise<NotificationOutcome> {
    return { type: event.type, id: event.id, notifier: this.name, delivered: false, attempts: 0, error: 'notifications are off' };
  }
}

export interface WebhookOptions {
  url: string;
  /** Total attempts (default 3). */
  attempts?: number;
  /** Per-attempt timeout (default 5000 ms). */
  timeoutMs?: number;
  /** First backoff (default 200 ms), doubled per attempt, with jitter. */
  backoffMs?: number;
  headers?: Record<string, string>;
}

/** Posts each event as a structured-mode CloudEvent; retries on network errors, 408, 429 and 5xx. */
export class WebhookNotifier implements Notifier {
  readonly name = 'webhook';
  constructor(private readonly options: WebhookOptions) {}

  async notify(event: NotificationEvent): Promise<NotificationOutcome> {
    const attempts = Math.max(1, this.options.attempts ?? 3);
    const outcome: NotificationOutcome = { type: event.type, id: event.id, notifier: this.name, delivered: false, attempts: 0 };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      outcome.attempts = attempt;
      try {
        const res = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json; charset=utf-8', ...this.options.headers },
          body: JSON.stringify(event),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
        });
        await res.arrayBuffer().catch(() => undefined);
        outcome.status = res.status;
        if (res.ok) {
          delete outcome.error;
          outcome.delivered = true;
          return outcome;
        }
        outcome.error = `HTTP ${res.status}`;
        if (!(res.status === 408 || res.status === 429 || res.status >= 500)) return outcome;
      } catch (err) {
        delete outcome.status;
        outcome.error = err instanceof Error ? (err.name === 'TimeoutError' ? 'timed out' : (err.cause as Error | undefined)?.message ?? err.message) : String(err);
      }
      if (attempt < attempts) {
        const base = (this.options.backoffMs ?? 200) * 2 ** (attempt - 1);
        await new Promise((r) => setTimeout(r, Math.round(base * (0.5 + Math.random()))));
      }
    }
    return outcome;
  }
}
