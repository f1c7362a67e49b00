// Metric recovery (DESIGN §7): the action's verification metric, queried from Prometheus over its HTTP API
// (`/api/v1/query`), judged against a threshold or against the value the diagnosis reported.
import type { VerificationSpec } from '../../actions/types.ts';
import { sleep } from './reconciliation.ts';
import { InputError, TransientError } from '../../engine/errors.ts';

/** How one metric is queried and when it counts as recovered. */
export interface MetricRule {
  /** PromQL; `$service`, `$namespace` and `$window` (the verification window, e.g. `10m`) are substituted. */
  query: string;
  /** Recovered when the value is at or below (`decrease`) / at or above (`increase`) this. */
  threshold?: number;
  /** Recovered when the value improved by this many percent over the diagnosis signal of the same name. */
  improvementPercent?: number;
}

export interface PrometheusOptions {
  url: string;
  token?: string;
  requestTimeoutMs?: number;
}

/** One instant-query result: each series' value (NaN and ±Inf dropped). */
export interface Sample {
  values: number[];
}

export class PrometheusClient {
  constructor(private readonly options: PrometheusOptions) {}

  /** `GET /api/v1/query?query=…`; vectors give one value per series, scalars one value. */
  async query(promql: string, signal?: AbortSignal): Promise<Sample> {
    const url = `${this.options.url.replace(/\/+$/, '')}/api/v1/query?${new URLSearchParams({ query: promql })}`;
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000);
    const res = await fetch(url, {
      headers: { accept: 'application/json', ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}) },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const body = (await res.json().catch(() => ({}))) as { status?: string; error?: string; errorType?: string; data?: { resultType?: string; result?: unknown } };
    if (!res.ok || body.status !== 'success') throw new TransientError(`Prometheus query failed (HTTP ${res.status}${body.errorType ? `, ${body.errorType}` : ''}): ${body.error ?? 'no error message'}`);
    const { resultType, result } = body.data ?? {};
    let raw: string[] = [];
    if (resultType === 'vector') raw = (result as Array<{ value: [number, string] }>).map((s) => s.value[1]);
    else if (resultType === 'scalar') raw = [(result as [number, string])[1]];
    else throw new InputError(`Prometheus returned a ${resultType ?? 'missing'} result; the query must yield an instant vector or a scalar`, 'metrics');
    return { values: raw.map(Number).filter((v) => Number.isFinite(v)) };
  }
}

export function renderQuery(rule: MetricRule, vars: { service: string; namespace: string; window: string }): string {
  return rule.query.replaceAll('$service', vars.service).replaceAll('$namespace', vars.namespace).replaceAll('$window', vars.window);
}

/** The bound a value must reach to count as recovered, or a reason why recovery cannot be judged. */
export function recoveryBound(rule: MetricRule, direction: VerificationSpec['direction'], signal: number | undefined): { bound: number; basis: string } | { unjudgeable: string } {
  const candidates: Array<{ bound: number; basis: string }> = [];
  if (rule.threshold !== undefined) candidates.push({ bound: rule.threshold, basis: `threshold ${rule.threshold}` });
  if (rule.improvementPercent !== undefined && signal !== undefined) {
    const factor = direction === 'decrease' ? 1 - rule.improvementPercent / 100 : 1 + rule.improvementPercent / 100;
    candidates.push({ bound: signal * factor, basis: `${rule.improvementPercent}% ${direction === 'decrease' ? 'below' : 'above'} the diagnosed ${signal}` });
  }
  if (candidates.length === 0) {
    return { unjudgeable: rule.improvementPercent !== undefined ? 'the diagnosis carries no signal to compare with and no threshold is configured' : 'no threshold or improvementPercent is configured' };
  }
  // with both, the easier bound counts: recovery means meeting either
  return candidates.reduce((a, b) => (direction === 'decrease' ? (b.bound > a.bound ? b : a) : b.bound < a.bound ? b : a));
}

/** The worst series decides: the highest value for a metric that must decrease, the lowest for one that must rise. */
export function worst(values: number[], direction: VerificationSpec['direction']): number | undefined {
  if (values.length === 0) return undefined;
  return direction === 'decrease' ? Math.max(...values) : Math.min(...values);
}

export function meets(value: number, bound: number, direction: VerificationSpec['direction']): boolean {
  return direction === 'decrease' ? value <= bound : value >= bound;
}

export interface RecoveryCheck {
  outcome: 'recovered' | 'failed' | 'unverified';
  detail: string;
  query?: string;
  value?: number;
  bound?: number;
  samples: number;
}

export interface RecoveryOptions {
  prometheus: PrometheusClient;
  rule: MetricRule | undefined;
  spec: VerificationSpec;
  /** How long to watch (the action's window, or a configured override). */
  windowMs: number;
  pollMs: number;
  /** Samples in a row that must meet the bound (default 1). */
  consecutive?: number;
  signal?: number;
  vars: { service: string; namespace: string; window: string };
  abort?: AbortSignal;
}

/** Polls the metric for at most the window: recovered once it meets the bound, failed when the window ends first. */
export async function watchRecovery(options: RecoveryOptions): Promise<RecoveryCheck> {
  const { spec, rule } = options;
  if (!rule) return { outcome: 'unverified', detail: `no query is configured for metric ${spec.metric}`, samples: 0 };
  const target = recoveryBound(rule, spec.direction, options.signal);
  if ('unjudgeable' in target) return { outcome: 'unverified', detail: `${spec.metric}: ${target.unjudgeable}`, samples: 0 };
  const query = renderQuery(rule, options.vars);
  const deadline = Date.now() + options.windowMs;
  const needed = Math.max(1, options.consecutive ?? 1);
  let streak = 0;
  let last: number | undefined;
  let lastError: string | undefined;
  for (let samples = 1; ; samples++) {
    try {
      last = worst((await options.prometheus.query(query, options.abort)).values, spec.direction);
      lastError = last === undefined ? 'no data' : undefined;
    } catch (err) {
      if (options.abort?.aborted) throw err;
      last = undefined;
      lastError = (err as Error).message;
    }
    streak = last !== undefined && meets(last, target.bound, spec.direction) ? streak + 1 : 0;
    const said = `${spec.metric} = ${last ?? lastError}, needs ${spec.direction === 'decrease' ? '≤' : '≥'} ${round(target.bound)} (${target.basis})`;
    if (streak >= needed) return { outcome: 'recovered', detail: `recovered: ${said}`, query, value: last, bound: target.bound, samples };
    const left = deadline - Date.now();
    if (left <= 0) {
      return { outcome: 'failed', detail: `not recovered within ${options.vars.window}: ${said}`, query, ...(last !== undefined ? { value: last } : {}), bound: target.bound, samples };
    }
    await sleep(Math.min(options.pollMs, left), options.abort);
  }
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
