// Operators' view of `arbiter serve` (issue 15 item 1): GET /metrics in Prometheus' text exposition, one JSON log line
// per request (accepted or rejected), warnings for degraded configurations, every config problem at once.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServeConfig, validateServeConfig } from '../../serve/config.ts';
import { serverDeps } from '../../serve/deps.ts';
import { createLogger } from '../../serve/observability.ts';
import { degradedConfiguration, startServer, type RunningServer } from '../../serve/server.ts';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.ts';
import { seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore } from '../gitops/stub-core.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const TOKEN = 'metrics-secret';
const lines: string[] = [];
let gitServer: GitHttpServer;
let arbiter: RunningServer;

beforeAll(async () => {
  gitServer = await startGitHttpServer({ root: `${tmp.path}/remotes` });
  seedBareRepository(`${tmp.path}/remotes/shop.git`, [{ message: 'initial GitOps tree', files: SHOP_FILES }]);
  const file = `${tmp.path}/serve.yaml`;
  writeFileSync(
    file,
    `listen: 127.0.0.1:0\nrepo: ${gitServer.repoUrl('shop.git')}\nbranch: main\nsigning: { key: ${key.privateKeyFile} }\ncacheDir: ${tmp.path}/cache\n` +
      `intake: { token: { env: METRICS_TEST_TOKEN } }\nnotifier: { kind: none }\nreconcile: { interval: 0s }\n`,
  );
  const config = loadServeConfig(file, { ...process.env, METRICS_TEST_TOKEN: TOKEN });
  const logger = createLogger({ write: (line: string) => void lines.push(line) });
  arbiter = await startServer(config, await serverDeps(config, { core: stubCore(), bundle: stubBundle, logger }));
});

afterAll(async () => {
  await arbiter?.close();
  await gitServer?.close();
  tmp.cleanup();
});

/** Samples of the text exposition format: `name{a="b",…} value`, comments skipped. */
function parseExposition(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `exposition line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const l of m![2]?.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g) ?? []) labels[l[1]!] = l[2]!;
    out.push({ name: m![1]!, labels, value: Number(m![3]) });
  }
  return out;
}

async function scrape() {
  const res = await fetch(`${arbiter.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}
const sample = (samples: ReturnType<typeof parseExposition>, name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? 0;

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${arbiter.url}/v1/diagnoses`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers } });

const logLines = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('GET /metrics', () => {
  it('counts decisions by mode, action and outcome, and observes evaluation and actuation time', async () => {
    const before = await scrape();
    const res = await post(diagnosis({ incident: 'INC-metrics' }));
    expect(res.status).toBe(200);
    const { decision } = (await res.json()) as { decision: { mode: string; action: { kind: string } } };
    const after = await scrape();
    const labels = { mode: decision.mode, action: decision.action.kind, outcome: 'committed' };
    expect(sample(after, 'arbiter_decisions_total', labels)).toBe(sample(before, 'arbiter_decisions_total', labels) + 1);
    expect(sample(after, 'arbiter_evaluation_seconds_count')).toBe(sample(before, 'arbiter_evaluation_seconds_count') + 1);
    expect(sample(after, 'arbiter_actuation_seconds_count', { mode: decision.mode })).toBe(sample(before, 'arbiter_actuation_seconds_count', { mode: decision.mode }) + 1);
    expect(after.some((s) => s.name === 'arbiter_queue_depth')).toBe(true);
    expect(sample(after, 'arbiter_http_requests_total', { route: '/v1/diagnoses', status: '200' })).toBeGreaterThanOrEqual(1);
  });
  it('needs the intake token', async () => {
    expect((await fetch(`${arbiter.url}/metrics`)).status).toBe(401);
  });
  it('a path chosen by a caller does not become a label value', async () => {
    await fetch(`${arbiter.url}/no-such-thing-${Math.random()}`);
    const samples = await scrape();
    expect(samples.filter((s) => s.name === 'arbiter_http_requests_total').every((s) => !s.labels.route!.startsWith('/no-such'))).toBe(true);
    expect(sample(samples, 'arbiter_http_requests_total', { route: 'other', status: '404' })).toBeGreaterThanOrEqual(1);
  });
});

describe('request logs', () => {
  it('one JSON line per request with level, time, request id, method, path, status, duration; rejected ones too', async () => {
    const start = lines.length;
    await post(diagnosis({ incident: 'INC-log', id: 'diag-log' }), { 'x-request-id': 'req-accepted-1' });
    await post(diagnosis({ incident: 'INC-log' }), { authorization: 'Bearer wrong', 'x-request-id': 'req-401' });
    await fetch(`${arbiter.url}/v1/diagnoses`, { method: 'POST', body: 'x', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/csv', 'x-request-id': 'req-415' } });
    await post({ apiVersion: 'arbiter.dev/v1' }, { 'x-request-id': 'req-400' });
    const logged = logLines().slice(start).filter((l) => l.msg === 'request');
    for (const [id, status, level] of [['req-accepted-1', 200, 'info'], ['req-401', 401, 'warn'], ['req-415', 415, 'warn'], ['req-400', 400, 'warn']] as const) {
      const line = logged.find((l) => l.reqId === id);
      expect(line, id).toMatchObject({ level, method: 'POST', path: '/v1/diagnoses', status });
      expect(Number.isNaN(Date.parse(line!.time as string))).toBe(false);
      expect(typeof line!.durationMs).toBe('number');
    }
  });
  it('a request without an id gets a fresh one, echoed in x-request-id', async () => {
    const res = await fetch(`${arbiter.url}/healthz`, { headers: { 'x-request-id': 'not a valid id!' } });
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((r) => setTimeout(r, 10));
    expect(logLines().some((l) => l.reqId === id && l.path === '/healthz' && l.status === 200)).toBe(true);
  });
});

describe('startup warnings', () => {
  it('logged for no Prometheus (verification off while acting) and no forge', () => {
    const warnings = logLines().filter((l) => l.level === 'warn' && typeof l.warning === 'string').map((l) => l.warning);
    expect(warnings).toEqual(expect.arrayContaining(['verification-disabled', 'no-forge']));
    expect(warnings).not.toContain('no-intake-token');
  });
  it('degradedConfiguration names each degradation', () => {
    const config = { intake: { maxBodyBytes: 1 }, verification: { enabled: true } } as Parameters<typeof degradedConfiguration>[0];
    expect(degradedConfiguration(config, { signer: null }).map((w) => w.code)).toEqual(['no-intake-token', 'verification-disabled', 'no-forge', 'unsigned']);
  });
});

describe('config validation', () => {
  it('reports every problem at once', () => {
    const bad = { listen: 'nowhere', repo: 42, signing: {}, intake: { token: { env: 'ARBITER_UNSET_FOR_TEST' } }, bogus: true };
    let message = '';
    try {
      validateServeConfig(bad, 'serve.yaml', '/etc/arbiter', {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^serve\.yaml: \d+ problems:\n/);
    expect(message).not.toMatch(/more problem/);
    for (const field of ['listen', 'repo', 'signing.key']) expect(message).toMatch(new RegExp(`\\n  ${field.replace('.', '\\.')}: `));
  });
  it('schema-valid documents list every unreadable secret at once', () => {
    const doc = { listen: '127.0.0.1:0', repo: '/r', signing: { key: '/k' }, intake: { token: { env: 'ARBITER_UNSET_A' } }, prometheus: { url: 'http://127.0.0.1:1', token: { env: 'ARBITER_UNSET_B' } } };
    expect(() => validateServeConfig(doc, 'serve.yaml', '/etc', {})).toThrow(/2 problems:\n  intake\.token\.env: environment variable ARBITER_UNSET_A is not set\n  prometheus\.token\.env: environment variable ARBITER_UNSET_B is not set/);
  });
  it('verify does not need the intake token', () => {
    const doc = { listen: '127.0.0.1:0', repo: '/r', signing: { key: '/k' }, intake: { token: { env: 'ARBITER_UNSET_A' } } };
    expect(validateServeConfig(doc, 'serve.yaml', '/etc', {}, { intakeToken: false }).intake.token).toBeUndefined();
  });
});
