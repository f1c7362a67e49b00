// `arbiter serve` (DESIGN §8): each intake format runs act against a real loopback Git remote; bad input is a 400
// naming the field and writes nothing; auth, size limit, unreachable repository, status, async verification, SIGTERM.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { loadServeConfig } from '../../serve/config.ts';
import { serverDeps } from '../../serve/deps.ts';
import { startServer, type RunningServer } from '../../serve/server.ts';
import { startArgoCdStandIn, type ArgoCdStandIn } from '../support/argocd-standin.ts';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.ts';
import { git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore } from '../gitops/stub-core.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const TOKEN = 'intake-secret';
let gitServer: GitHttpServer;
let arbiter: RunningServer;
const logs: string[] = [];
let n = 0;

function newRemote(): { bare: string; url: string } {
  const name = `shop-${n++}.git`;
  const bare = `${tmp.path}/remotes/${name}`;
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: SHOP_FILES }]);
  return { bare, url: gitServer.repoUrl(name) };
}

function configFile(repo: string, extra = ''): string {
  const file = `${tmp.path}/serve-${n++}.yaml`;
  writeFileSync(
    file,
    `listen: 127.0.0.1:0\nrepo: ${repo}\nbranch: main\nsigning: { key: ${key.privateKeyFile} }\ncacheDir: ${tmp.path}/cache-${n}\n` +
      `intake: { token: { env: ARBITER_TEST_INTAKE_TOKEN }, maxBodyBytes: 65536 }\nnotifier: { kind: none }\n${extra.includes('reconcile:') ? '' : 'reconcile: { interval: 0s }\n'}${extra}`,
  );
  return file;
}

const env = (): NodeJS.ProcessEnv => ({ ...process.env, ARBITER_TEST_INTAKE_TOKEN: TOKEN });

async function serve(repo: string, extra = '', overrides: Parameters<typeof serverDeps>[1] = {}): Promise<RunningServer> {
  const config = loadServeConfig(configFile(repo, extra), env());
  return startServer(config, await serverDeps(config, { core: stubCore(), bundle: stubBundle, log: (l) => logs.push(l), ...overrides }));
}

let remote: { bare: string; url: string };

beforeAll(async () => {
  gitServer = await startGitHttpServer({ root: `${tmp.path}/remotes` });
  remote = newRemote();
  arbiter = await serve(remote.url);
});

afterAll(async () => {
  await arbiter?.close();
  await gitServer?.close();
  tmp.cleanup();
});

async function post(path: string, body: string, headers: Record<string, string>, server = arbiter): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

const refs = (bare: string): string => git(bare, ['for-each-ref', '--format=%(refname) %(objectname)']);
const ledgerFiles = (bare: string): string => git(bare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH]);

function alertmanagerPayload(labels: Record<string, string>, annotations: Record<string, string>) {
  return {
    version: '4',
    groupKey: `{}/{service="${labels.service ?? ''}"}:{cause="${labels.cause ?? ''}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'arbiter',
    groupLabels: { service: labels.service },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: 'http://alertmanager.invalid',
    alerts: [{ status: 'firing', labels: { alertname: 'MemoryLeak', ...labels }, annotations, startsAt: '2026-11-21T02:31:00.123456789Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prometheus.invalid/graph', fingerprint: 'a1b2c3' }],
  };
}

describe('serve: intake formats run act', () => {
  it('POST /v1/diagnoses with JSON: a signed commit on main, a ledger entry, {decision, actuation}', async () => {
    const r = await post('/v1/diagnoses', JSON.stringify(diagnosis({ incident: 'INC-json' })), { 'content-type': 'application/json' });
    expect(r.status).toBe(200);
    expect(r.json.verification).toBe('disabled');
    expect(r.json.decision).toMatchObject({ kind: 'Decision', mode: 'auto', incident: 'INC-json' });
    expect(r.json.actuation.commit).toBe(git(remote.bare, ['rev-parse', 'main']).trim());
    expect(gitStatus(remote.bare, [...key.gitConfig, 'verify-commit', 'main']).status).toBe(0);
    expect(ledgerFiles(remote.bare)).toContain(`decisions/2026/11/21/${r.json.decision.id}.json`);
  });

  it('POST /v1/diagnoses with YAML', async () => {
    const d = diagnosis({ incident: 'INC-yaml', id: 'diag-yaml', service: 'payments' });
    const yaml = `apiVersion: arbiter.dev/v1\nkind: Diagnosis\nid: ${d.id}\nincident: ${d.incident}\nobservedAt: "${d.observedAt}"\ntarget: { service: payments, namespace: shop }\nhypotheses:\n  - cause: memory-leak\n    confidence: 0.9\n    suggestedActions: [{ kind: restart }]\n`;
    const r = await post('/v1/diagnoses', yaml, { 'content-type': 'application/yaml' });
    expect(r.status).toBe(200);
    expect(r.json.actuation.changed).toEqual(['apps/payments/deployment.yaml']);
    expect(git(remote.bare, ['log', '-1', '--format=%s', 'main']).trim()).toBe('arbiter(checkout): restart deployment'.replace('checkout', 'payments'));
  });

  it('POST /v1/cloudevents in structured mode', async () => {
    const event = { specversion: '1.0', id: 'ev-1', source: 'urn:aiops', type: 'dev.aiops.diagnosis', datacontenttype: 'application/json', data: diagnosis({ incident: 'INC-ce1', id: 'diag-ce1', kind: null }) };
    const r = await post('/v1/cloudevents', JSON.stringify(event), { 'content-type': 'application/cloudevents+json' });
    expect(r.status).toBe(200);
    expect(r.json.decision).toMatchObject({ incident: 'INC-ce1', mode: 'escalate' });
    expect(ledgerFiles(remote.bare)).toContain(`${r.json.decision.id}.json`);
  });

  it('POST /v1/cloudevents in binary mode (ce-* headers, data in the body)', async () => {
    const r = await post('/v1/cloudevents', JSON.stringify(diagnosis({ incident: 'INC-ce2', id: 'diag-ce2', kind: null })), {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'ev-2',
      'ce-source': 'urn:aiops',
      'ce-type': 'dev.aiops.diagnosis',
    });
    expect(r.status).toBe(200);
    expect(r.json.decision).toMatchObject({ incident: 'INC-ce2', diagnosis: 'diag-ce2' });
  });

  it('POST /v1/alertmanager maps the webhook through the adapter', async () => {
    const payload = alertmanagerPayload({ service: 'checkout', namespace: 'shop', cause: 'memory-leak' }, { confidence: '0.92', evidence: 'RSS +40MB/h\nOOMKilled x3', action: 'restart' });
    const r = await post('/v1/alertmanager', JSON.stringify(payload), { 'content-type': 'application/json' });
    expect(r.status).toBe(200);
    expect(r.json.decision.incident).toMatch(/^am-[0-9a-f]{24}$/);
    expect(r.json.decision.mode).toBe('auto');
    expect(r.json.actuation.commit).toBe(git(remote.bare, ['rev-parse', 'main']).trim());
    const resolved = { ...payload, status: 'resolved', alerts: payload.alerts.map((a) => ({ ...a, status: 'resolved' })) };
    const before = refs(remote.bare);
    const r2 = await post('/v1/alertmanager', JSON.stringify(resolved), { 'content-type': 'application/json' });
    expect(r2.status).toBe(200);
    expect(r2.json).toMatchObject({ decision: null, actuation: null });
    expect(refs(remote.bare)).toBe(before);
  });

  it('a repeated diagnosis changes nothing and says so', async () => {
    const before = refs(remote.bare);
    const r = await post('/v1/diagnoses', JSON.stringify(diagnosis({ incident: 'INC-json' })), { 'content-type': 'application/json' });
    expect(r.status).toBe(200);
    expect(r.json.actuation.repeated).toBe(true);
    expect(refs(remote.bare)).toBe(before);
  });

  it('two concurrent requests are serialised: both land on main', async () => {
    const before = git(remote.bare, ['rev-parse', 'main']).trim();
    const [a, b] = await Promise.all([
      post('/v1/diagnoses', JSON.stringify({ ...diagnosis({ incident: 'INC-par1', id: 'diag-par1' }), observedAt: '2026-11-21T02:41:00Z' }), { 'content-type': 'application/json' }),
      post('/v1/diagnoses', JSON.stringify({ ...diagnosis({ incident: 'INC-par2', id: 'diag-par2', service: 'payments' }), observedAt: '2026-11-21T02:41:00Z' }), { 'content-type': 'application/json' }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.json.actuation.attempts + b.json.actuation.attempts).toBe(2);
    const log = git(remote.bare, ['rev-list', `${before}..main`]).trim().split('\n');
    expect(new Set(log)).toEqual(new Set([a.json.actuation.commit, b.json.actuation.commit]));
  });
});

describe('serve: bad input is a 400 naming the field and writes nothing', () => {
  const cases: Array<[string, string, Record<string, string>, number, string]> = [
    ['confidence out of range', JSON.stringify({ ...diagnosis(), hypotheses: [{ cause: 'memory-leak', confidence: 2 }] }), { 'content-type': 'application/json' }, 400, 'hypotheses[0].confidence'],
    ['path-like id', JSON.stringify({ ...diagnosis(), id: '../x' }), { 'content-type': 'application/json' }, 400, 'id'],
    ['YAML alias', 'a: &a [1]\nb: *a\n', { 'content-type': 'application/yaml' }, 400, 'body'],
    ['not JSON', 'hello', { 'content-type': 'application/json' }, 400, 'body'],
    ['unsupported media type', 'x', { 'content-type': 'text/plain' }, 415, 'content-type'],
  ];
  for (const [name, body, headers, status, field] of cases) {
    it(`/v1/diagnoses: ${name} → ${status} {error, field: ${field}}`, async () => {
      const before = refs(remote.bare);
      const r = await post('/v1/diagnoses', body, headers);
      expect(r.status).toBe(status);
      expect(r.json.field).toBe(field);
      expect(typeof r.json.error).toBe('string');
      expect(r.text).not.toMatch(/\n\s+at /);
      expect(refs(remote.bare)).toBe(before);
    });
  }

  it('/v1/cloudevents: binary mode without ce-id → ce-id; structured data errors name data.…', async () => {
    const r = await post('/v1/cloudevents', JSON.stringify(diagnosis()), { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-source': 's', 'ce-type': 't' });
    expect(r).toMatchObject({ status: 400, json: { field: 'ce-id' } });
    const bad = { specversion: '1.0', id: 'x', source: 's', type: 't', data: { ...diagnosis(), target: { service: 'Not_A_Label' } } };
    const r2 = await post('/v1/cloudevents', JSON.stringify(bad), { 'content-type': 'application/cloudevents+json' });
    expect(r2).toMatchObject({ status: 400, json: { field: 'data.target.service' } });
    const r3 = await post('/v1/cloudevents', JSON.stringify({ specversion: '1.0', source: 's', type: 't', data: diagnosis() }), { 'content-type': 'application/cloudevents+json' });
    expect(r3).toMatchObject({ status: 400, json: { field: 'id' } });
  });

  it('/v1/alertmanager: an alert without a service label → alerts[0].labels.service', async () => {
    const before = refs(remote.bare);
    const r = await post('/v1/alertmanager', JSON.stringify(alertmanagerPayload({ cause: 'memory-leak' }, { confidence: '0.9' })), { 'content-type': 'application/json' });
    expect(r).toMatchObject({ status: 400, json: { field: 'alerts[0].labels.service' } });
    const r2 = await post('/v1/alertmanager', JSON.stringify(alertmanagerPayload({ service: 'checkout' }, {})), { 'content-type': 'application/json' });
    expect(r2).toMatchObject({ status: 400, json: { field: 'alerts[0].annotations.confidence' } });
    expect(refs(remote.bare)).toBe(before);
  });

  it('a body over the size limit → 413', async () => {
    const r = await post('/v1/diagnoses', JSON.stringify({ ...diagnosis(), padding: 'x'.repeat(70_000) }), { 'content-type': 'application/json' });
    expect(r.status).toBe(413);
    expect(r.json.field).toBe('body');
  });
});

describe('serve: auth, health, status', () => {
  it('no or a wrong bearer token → 401; /healthz needs none', async () => {
    const body = JSON.stringify(diagnosis({ incident: 'INC-auth' }));
    const none = await fetch(`${arbiter.url}/v1/diagnoses`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.json()).toMatchObject({ field: 'authorization' });
    const wrong = await post('/v1/diagnoses', body, { 'content-type': 'application/json', authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${arbiter.url}/v1/status`)).status).toBe(401);
    expect(ledgerFiles(remote.bare)).not.toMatch(/INC-auth/);
    const health = await fetch(`${arbiter.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it('GET /v1/status: kill switch, bundle revision, last decisions', async () => {
    const res = await fetch(`${arbiter.url}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const status = (await res.json()) as any;
    expect(status.killSwitch).toBe(false);
    expect(status.bundle).toEqual({ revision: 'stub-1', digest: 'sha256:stub' });
    expect(status.repository).toMatchObject({ reachable: true, branch: 'main', tip: git(remote.bare, ['rev-parse', 'main']).trim() });
    expect(status.lastDecisions.map((d: { incident: string }) => d.incident)).toContain('INC-json');
  });

  it('an unreachable repository → 503', async () => {
    const dead = await serve('http://127.0.0.1:1/nothing.git');
    try {
      const r = await post('/v1/diagnoses', JSON.stringify(diagnosis()), { 'content-type': 'application/json' }, dead);
      expect(r.status).toBe(503);
      expect(r.json.error).toMatch(/cannot reach/);
      const status = (await (await fetch(`${dead.url}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as any;
      expect(status.repository.reachable).toBe(false);
    } finally {
      await dead.close();
    }
  });
});

describe('serve: due follow-ups are reconciled on an interval', () => {
  it('the reconcile loop runs through the repository queue and reports in /v1/status', async () => {
    const server = await serve(newRemote().url, 'reconcile: { interval: 100ms }\n');
    try {
      let status: any;
      for (let i = 0; i < 100 && !status?.reconcile.lastRun; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = await (await fetch(`${server.url}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
      }
      expect(status.reconcile.lastRun).not.toBeNull();
      expect(status.reconcile.lastError).toBeNull();
    } finally {
      await server.close();
    }
  });
});

describe('serve: verification runs after the response', () => {
  let argo: ArgoCdStandIn;
  let fakeProm: Server;
  let promUrl: string;
  let errorRate = 0.001;
  beforeAll(async () => {
    argo = await startArgoCdStandIn({ token: 'argo' });
    // Prometheus's instant-query wire format (the real binary is exercised in test/verify)
    fakeProm = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, String(errorRate)] }] } }));
    });
    await new Promise<void>((r) => fakeProm.listen(0, '127.0.0.1', r));
    promUrl = `http://127.0.0.1:${(fakeProm.address() as AddressInfo).port}`;
    process.env.ARBITER_TEST_ARGO_TOKEN = 'argo';
  });
  afterAll(async () => {
    await argo.close();
    await new Promise((r) => fakeProm.close(r));
  });

  it('202, then the ledger records the reconciliation and the recovery', async () => {
    const own = newRemote();
    const server = await serve(
      own.url,
      `argocd: { url: ${argo.url}, token: { env: ARBITER_TEST_ARGO_TOKEN } }\nprometheus: { url: ${promUrl} }\nmetrics: { errorRate: { query: 'x{service="$service"}', threshold: 0.01 } }\nverification: { pollInterval: 100ms, reconcileTimeout: 5s, window: 1s }\n`,
    );
    try {
      const r = await post('/v1/diagnoses', JSON.stringify(diagnosis({ incident: 'INC-v' })), { 'content-type': 'application/json' }, server);
      expect(r.status).toBe(202);
      expect(r.json.verification).toBe('pending');
      argo.setApplication('checkout', [{ revision: r.json.actuation.commit }]);
      await server.idle();
      expect(server.recent[0]).toMatchObject({ id: r.json.decision.id, verification: 'recovered' });
      const files = ledgerFiles(own.bare);
      expect(files).toContain(`${r.json.decision.id}.reconciled.json`);
      expect(files).toContain(`${r.json.decision.id}.verification.json`);
    } finally {
      await server.close();
    }
  });

  it('after a restart, actuations without a recorded verification are verified', async () => {
    const own = newRemote();
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const { act } = await import('../../app/act.ts');
    const { sshSigner } = await import('../../gitops/sign/sshsig.ts');
    const acted = await act({ diagnosis: { ...diagnosis({ incident: 'INC-resume', id: 'diag-resume' }), observedAt: now }, bundle: stubBundle, repo: own.bare, signer: sshSigner(key.privateKey), core: stubCore() });
    argo.setApplication('checkout', [{ revision: acted.actuation.commit! }]);
    const server = await serve(
      own.url,
      `argocd: { url: ${argo.url}, token: { env: ARBITER_TEST_ARGO_TOKEN } }\nprometheus: { url: ${promUrl} }\nmetrics: { errorRate: { query: 'x', threshold: 0.01 } }\nverification: { pollInterval: 100ms, reconcileTimeout: 5s, window: 1s }\n`,
    );
    try {
      await server.idle();
      expect(server.recent[0]).toMatchObject({ id: acted.decision.id, verification: 'recovered' });
      expect(ledgerFiles(own.bare)).toContain(`${acted.decision.id}.verification.json`);
    } finally {
      await server.close();
    }
    // started again: nothing left to resume
    const again = await serve(own.url, `argocd: { url: ${argo.url}, token: { env: ARBITER_TEST_ARGO_TOKEN } }\nprometheus: { url: ${promUrl} }\n`);
    try {
      expect(again.recent).toEqual([]);
    } finally {
      await again.close();
    }
  });

  it('shutdown cancels a verification wait and still answers the request in flight', async () => {
    const own = newRemote();
    const core = stubCore();
    const server = await serve(own.url, `argocd: { url: ${argo.url}, token: { env: ARBITER_TEST_ARGO_TOKEN } }\nprometheus: { url: ${promUrl} }\nverification: { pollInterval: 100ms, reconcileTimeout: 1h }\n`, { core });
    argo.setApplication('checkout', [{ revision: 'f'.repeat(40), sync: 'OutOfSync' }]);
    const pending = post('/v1/diagnoses', JSON.stringify(diagnosis({ incident: 'INC-shut' })), { 'content-type': 'application/json' }, server);
    // close while act is still running for the request (it has built the context, it has not committed yet)
    while (core.contexts.length === 0) await new Promise((r) => setTimeout(r, 2));
    const started = Date.now();
    const closing = server.close();
    const r = await pending;
    expect(r.status).toBe(202);
    expect(r.json.actuation.commit).toBe(git(own.bare, ['rev-parse', 'main']).trim());
    await closing;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(ledgerFiles(own.bare)).not.toMatch(/verification\.json/);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});

describe('arbiter serve (the CLI)', () => {
  it('starts from a config file, answers /healthz, and exits 0 on SIGTERM', async () => {
    const file = configFile(remote.url);
    const bin = fileURLToPath(new URL('../../bin/arbiter', import.meta.url));
    const child = spawn(process.execPath, [bin, 'serve', '--config', file], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString('utf8');
        const m = /"listening":"([^"]+)"/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/SIGTERM: shutting down/);
  }, 30_000);

  it('a config error names the file and field, exit 2', async () => {
    const file = `${tmp.path}/bad.yaml`;
    writeFileSync(file, `repo: x\nsigning: { key: k }\nverification: { pollInterval: soon }\n`);
    const bin = fileURLToPath(new URL('../../bin/arbiter', import.meta.url));
    const child = spawn(process.execPath, [bin, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/bad\.yaml: verification\.pollInterval: must be a duration/);
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 30_000);
});
