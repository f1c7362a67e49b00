// PromQL instant and range queries against the configured Prometheus (its HTTP API, read-only GET requests).
// Results are cut to a few series and points so one query cannot flood the model's context.
import { z } from 'zod';
import { Rfc3339 } from '../../engine/types.ts';
import type { InvestigationTool } from './tool.ts';

export interface PrometheusBackend {
  url: string;
  token?: string;
}

const MAX_SERIES = 20;
const MAX_POINTS = 120;
const MAX_RANGE_SECONDS = 24 * 3600;

const Query = z.string().min(1).max(2000);
const Step = z.string().regex(/^\d{1,6}(ms|s|m|h)$/, 'must be a duration such as 30s or 5m');

type Series = { metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> };

async function get(backend: PrometheusBackend, path: string, params: Record<string, string>, signal: AbortSignal): Promise<{ resultType: string; result: unknown }> {
  const url = `${backend.url.replace(/\/+$/, '')}${path}?${new URLSearchParams(params)}`;
  const res = await fetch(url, { headers: { accept: 'application/json', ...(backend.token ? { authorization: `Bearer ${backend.token}` } : {}) }, signal });
  const body = (await res.json().catch(() => ({}))) as { status?: string; error?: string; errorType?: string; data?: { resultType: string; result: unknown } };
  if (!res.ok || body.status !== 'success' || !body.data) throw new Error(`Prometheus refused the query (HTTP ${res.status}${body.errorType ? `, ${body.errorType}` : ''}): ${String(body.error ?? 'no error message').slice(0, 300)}`);
  return body.data;
}

function stepSeconds(step: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(step)!;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

function trimSeries(result: Series[]): { series: unknown[]; omittedSeries: number } {
  const shown = result.slice(0, MAX_SERIES).map((s) => {
    const values = s.values ? (s.values.length > MAX_POINTS ? s.values.filter((_, i) => i % Math.ceil(s.values!.length / MAX_POINTS) === 0) : s.values) : undefined;
    return { labels: s.metric, ...(s.value ? { value: [new Date(s.value[0] * 1000).toISOString(), s.value[1]] } : {}), ...(values ? { values: values.map(([t, v]) => [new Date(t * 1000).toISOString(), v]) } : {}) };
  });
  return { series: shown, omittedSeries: Math.max(0, result.length - MAX_SERIES) };
}

export function prometheusTools(backend: PrometheusBackend): InvestigationTool[] {
  const instant: InvestigationTool<{ query: string; time?: string }> = {
    name: 'prometheus_query',
    description: 'Run a PromQL instant query against the production Prometheus. Returns at most 20 series with their labels and value. Use it to check error rates, latency, saturation, restarts, memory.',
    input: z.object({ query: Query, time: Rfc3339.optional().describe('evaluation time (RFC 3339); default now') }).strict(),
    async run({ query, time }, signal) {
      const data = await get(backend, '/api/v1/query', { query, ...(time ? { time } : {}) }, signal);
      if (data.resultType === 'scalar' || data.resultType === 'string') return { resultType: data.resultType, value: data.result };
      return { resultType: data.resultType, ...trimSeries(data.result as Series[]) };
    },
  };
  const range: InvestigationTool<{ query: string; start: string; end: string; step: string }> = {
    name: 'prometheus_query_range',
    description: 'Run a PromQL range query (at most 24 hours, at most 120 points per series, 20 series). Use it to see when a metric changed, e.g. around a deployment.',
    input: z.object({ query: Query, start: Rfc3339, end: Rfc3339, step: Step }).strict(),
    async run({ query, start, end, step }, signal) {
      const span = (Date.parse(end) - Date.parse(start)) / 1000;
      if (!(span > 0)) throw new Error('end must be after start');
      if (span > MAX_RANGE_SECONDS) throw new Error('the range must be at most 24 hours');
      // never more than MAX_POINTS per series: a finer step is widened
      const seconds = Math.max(stepSeconds(step), Math.ceil(span / MAX_POINTS));
      const data = await get(backend, '/api/v1/query_range', { query, start, end, step: `${seconds}s` }, signal);
      return { resultType: data.resultType, step: `${seconds}s`, ...trimSeries(data.result as Series[]) };
    },
  };
  return [instant, range];
}
