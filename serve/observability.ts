// Operators' view of the server (issue 15 item 1): Prometheus metrics on GET /metrics through prom-client (its own
// registry, not the global one) and structured JSON logs through pino, one line per request, accepted or rejected.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type DestinationStream, type Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Observability {
  registry: Registry;
  logger: Logger;
  decisions: Counter<'mode' | 'action' | 'outcome'>;
  evaluationSeconds: Histogram<never>;
  actuationSeconds: Histogram<'mode'>;
  verifications: Counter<'outcome'>;
  requests: Counter<'method' | 'route' | 'status'>;
}

/** The JSON logger: level names, ISO time, no pid/hostname (they belong to the process supervisor). */
export function createLogger(destination?: DestinationStream): Logger {
  const options = {
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options, pino.destination({ dest: 2, sync: true }));
}

export function createObservability(options: { logger: Logger; queueDepth: () => number; pendingVerifications: () => number }): Observability {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'arbiter_' });
  const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
  new Gauge({ name: 'arbiter_queue_depth', help: 'Requests waiting for or holding the repository queue', registers: [registry], collect() { this.set(options.queueDepth()); } });
  new Gauge({ name: 'arbiter_verifications_pending', help: 'Verifications in progress', registers: [registry], collect() { this.set(options.pendingVerifications()); } });
  return {
    registry,
    logger: options.logger,
    decisions: new Counter({ name: 'arbiter_decisions_total', help: 'Decisions taken, by mode, action kind and outcome', labelNames: ['mode', 'action', 'outcome'], registers: [registry] }),
    evaluationSeconds: new Histogram({ name: 'arbiter_evaluation_seconds', help: 'Policy evaluation time per decision', buckets: seconds, registers: [registry] }),
    actuationSeconds: new Histogram({ name: 'arbiter_actuation_seconds', help: 'Time from diagnosis to a recorded decision (evaluation, Git work, push)', labelNames: ['mode'], buckets: seconds, registers: [registry] }),
    verifications: new Counter({ name: 'arbiter_verifications_total', help: 'Verification results', labelNames: ['outcome'], registers: [registry] }),
    requests: new Counter({ name: 'arbiter_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
  };
}

const KNOWN_ROUTES = new Set(['/healthz', '/metrics', '/v1/status', '/v1/diagnoses', '/v1/cloudevents', '/v1/alertmanager']);
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * One log line and one counter increment per request, when the response finishes (or the client goes away). The
 * request id is the caller's `x-request-id` when it is a short token, else a new UUID; it is echoed back.
 */
export function observeRequest(obs: Observability, req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', id);
  const start = process.hrtime.bigint();
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  // an attacker choosing paths must not create unbounded label values
  const route = KNOWN_ROUTES.has(path) ? path : 'other';
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    const status = res.headersSent ? res.statusCode : 499;
    const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
    obs.requests.inc({ method: req.method ?? 'UNKNOWN', route, status: String(status) });
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    obs.logger[level]({ reqId: id, method: req.method, path: path.slice(0, 256), status, durationMs: Math.round(durationMs * 1000) / 1000 }, 'request');
  };
  res.on('finish', finish);
  res.on('close', finish);
  return id;
}
