// DESIGN §7 end to end: act (stub core) → Argo CD stand-in reports the commit → a real Prometheus answers the
// metric query → recovered closes it, not recovered reverts with a signed commit, opens the circuit and notifies.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { act } from '../../app/act.ts';
import { audit } from '../../gitops/audit.ts';
import { LEDGER_BRANCH, ledgerHistory } from '../../gitops/ledger.ts';
import { WebhookNotifier, type NotificationEvent } from '../../gitops/notify.ts';
import { Repository } from '../../gitops/repo.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { PrometheusClient, type MetricRule } from '../../gitops/verify/metrics.ts';
import { ArgoCdWatcher } from '../../gitops/verify/reconciliation.ts';
import { verifyActuation, type VerifyOptions } from '../../app/verify.ts';
import { startArgoCdStandIn, type ArgoCdStandIn } from '../support/argocd-standin.ts';
import { git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { describeNeeding } from '../support/needs.ts';
import { missingTool } from '../support/prereqs.ts';
import { startExporter, startPrometheus, type Exporter, type PrometheusProcess } from '../support/prometheus.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore } from '../gitops/stub-core.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const signer = sshSigner(key.privateKey);
let exporter: Exporter;
let prom: PrometheusProcess;
let argo: ArgoCdStandIn;
let receiver: Server;
let receiverUrl: string;
const received: NotificationEvent[] = [];
let n = 0;

beforeAll(async () => {
  if (missingTool('prometheus')) return; // every suite here skips, with the reason printed
  exporter = await startExporter();
  for (const service of ['checkout', 'payments', 'other']) exporter.set('arbiter_test_error_rate', { service }, 0.3);
  [prom, argo] = await Promise.all([startPrometheus({ targets: [exporter.hostPort] }), startArgoCdStandIn({ token: 'argo-token' })]);
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      received.push(JSON.parse(body) as NotificationEvent);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  await prom.waitFor('arbiter_test_error_rate{service="checkout"}');
}, 30_000);

afterAll(async () => {
  await Promise.all([prom?.close(), argo?.close(), exporter?.close(), new Promise((r) => receiver?.close(r))]);
  tmp.cleanup();
});

const RULES: Record<string, MetricRule> = { errorRate: { query: 'max(arbiter_test_error_rate{service="$service"})', threshold: 0.01 } };

async function actuated(service: string) {
  const bare = `${tmp.path}/shop-${n++}.git`;
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: SHOP_FILES }]);
  const before = git(bare, ['rev-parse', 'main']).trim();
  const result = await act({ diagnosis: diagnosis({ service, incident: `INC-${service}` }), bundle: stubBundle, repo: bare, signer, core: stubCore(), now: '2026-11-21T02:13:00Z' });
  expect(result.decision.mode).toBe('auto');
  return { bare, before, result, commit: result.actuation.commit! };
}

function options(bare: string, r: Awaited<ReturnType<typeof actuated>>, extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    repo: bare,
    signer,
    decision: r.result.decision,
    commit: r.commit,
    spec: { metric: 'errorRate', direction: 'decrease', window: '10m' },
    watcher: new ArgoCdWatcher({ url: argo.url, token: 'argo-token' }),
    prometheus: new PrometheusClient({ url: prom.url }),
    metrics: RULES,
    reconcileTimeoutMs: 5000,
    pollMs: 100,
    windowMs: 2500,
    notifier: new WebhookNotifier({ url: receiverUrl, attempts: 2 }),
    clock: () => '2026-11-21T02:20:00Z',
    ...extra,
  };
}

async function ledgerEntry(bare: string, suffix: string, decision: string) {
  const files = git(bare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH]).split('\n');
  const path = files.find((f) => f.startsWith('decisions/') && f.endsWith(`${decision}.${suffix}.json`));
  return path ? JSON.parse(git(bare, ['show', `${LEDGER_BRANCH}:${path}`])) : undefined;
}

async function circuitAt(bare: string, service: string, now: string): Promise<boolean> {
  const repo = await Repository.open(bare);
  try {
    return (await ledgerHistory(repo.store, await repo.tip(LEDGER_BRANCH), { incident: 'x', service, now, cooldownMinutes: 30 })).circuitOpen;
  } finally {
    repo.store.close();
  }
}

describeNeeding(['prometheus'], 'verification: the metric recovers', () => {
  it('waits for Argo CD to report our commit Synced and Healthy, queries Prometheus and closes with ledger entries', async () => {
    const r = await actuated('checkout');
    exporter.set('arbiter_test_error_rate', { service: 'checkout' }, 0.004);
    await prom.waitFor('arbiter_test_error_rate{service="checkout"}', (v) => v < 0.01);
    argo.setApplication('checkout', [
      { revision: r.before, sync: 'OutOfSync', health: 'Healthy' },
      { revision: r.commit, sync: 'Synced', health: 'Progressing', phase: 'Running' },
      { revision: r.commit },
    ]);
    const main = git(r.bare, ['rev-parse', 'main']).trim();
    const v = await verifyActuation(options(r.bare, r));
    expect(v.outcome).toBe('recovered');
    expect(v.reconciliation?.reconciled).toBe(true);
    expect(v.reconciliation?.polls).toBe(3);
    expect(v.recovery?.value).toBeCloseTo(0.004);
    expect(v.compensation).toBeNull();
    expect(argo.authorizations.at(-1)).toBe('Bearer argo-token');
    expect(git(r.bare, ['rev-parse', 'main']).trim()).toBe(main);
    expect((await ledgerEntry(r.bare, 'reconciled', r.result.decision.id))?.outcome).toBe('reconciled');
    const closing = await ledgerEntry(r.bare, 'verification', r.result.decision.id);
    expect(closing).toMatchObject({ kind: 'Verification', outcome: 'recovered', decision: r.result.decision.id });
    expect(v.ledgerCommits).toHaveLength(2);
    expect(gitStatus(r.bare, [...key.gitConfig, 'verify-commit', LEDGER_BRANCH]).status).toBe(0);
    expect(await circuitAt(r.bare, 'checkout', '2026-11-21T02:25:00Z')).toBe(false);
    // a second run is a no-op
    const again = await verifyActuation(options(r.bare, r));
    expect(again.outcome).toBe('already-verified');
    expect(again.ledgerCommits).toHaveLength(0);
  }, 20_000);
});

describeNeeding(['prometheus'], 'verification: the metric does not recover', () => {
  it('reverts with a signed compensating commit, records it, opens the circuit within the cooldown and notifies', async () => {
    const r = await actuated('payments');
    exporter.set('arbiter_test_error_rate', { service: 'payments' }, 0.3);
    argo.setApplication('payments', [{ revision: r.commit }]);
    const v = await verifyActuation(options(r.bare, r, { signal: 0.32, metrics: { errorRate: { query: RULES.errorRate!.query, improvementPercent: 50 } } }));
    expect(v.outcome).toBe('failed');
    expect(v.recovery?.detail).toMatch(/errorRate = 0\.3, needs ≤ 0\.16/);
    expect(v.compensation).toMatchObject({ outcome: 'reverted', changed: ['apps/payments/deployment.yaml'] });
    const tip = git(r.bare, ['rev-parse', 'main']).trim();
    expect(v.compensation!.commit).toBe(tip);
    expect(git(r.bare, ['rev-parse', 'main~1']).trim()).toBe(r.commit);
    expect(git(r.bare, ['diff', '--name-only', r.before, 'main']).trim()).toBe('');
    expect(gitStatus(r.bare, [...key.gitConfig, 'verify-commit', 'main']).status).toBe(0);
    const trailers = git(r.bare, ['interpret-trailers', '--parse'], { input: git(r.bare, ['log', '-1', '--format=%B', 'main']) });
    expect(trailers).toContain(`Arbiter-Compensates: ${r.commit}`);
    expect(trailers).toContain('Arbiter-Mode: escalate');
    expect(await ledgerEntry(r.bare, 'compensation', r.result.decision.id)).toMatchObject({ kind: 'Compensation', outcome: 'reverted', actuation: { commit: tip, branch: 'main' } });
    expect(await ledgerEntry(r.bare, 'verification', r.result.decision.id)).toMatchObject({ outcome: 'failed' });
    expect(await circuitAt(r.bare, 'payments', '2026-11-21T02:40:00Z')).toBe(true);
    expect(await circuitAt(r.bare, 'payments', '2026-11-21T03:00:00Z')).toBe(false);
    expect(await circuitAt(r.bare, 'checkout', '2026-11-21T02:40:00Z')).toBe(false);
    expect(v.notification).toMatchObject({ delivered: true, type: 'dev.arbiter.verification.compensated' });
    const event = received.find((e) => e.data.decision === r.result.decision.id)!;
    expect(event).toMatchObject({ specversion: '1.0', type: 'dev.arbiter.verification.compensated', subject: 'shop/payments', data: { commit: tip, mode: 'escalate' } });
    // arbiter audit accepts the verification steps and the compensating commit
    const report = await audit({ repo: r.bare, allowedSigners: key.allowedSignersFile });
    expect(report.findings).toEqual([]);
    expect(report.decisions.map((d) => d.mode).sort()).toEqual(['auto', 'compensation:reverted', 'verification:failed', 'verification:reconciled']);
    // the next decision on the service sees the open circuit
    const core = stubCore();
    await act({ diagnosis: diagnosis({ service: 'payments', incident: 'INC-later', id: 'diag-later' }), bundle: stubBundle, repo: r.bare, signer, core, now: '2026-11-21T02:30:00Z' });
    expect(core.contexts[0]!.history.circuitOpen).toBe(true);
  }, 20_000);

  it('a commit the controller never reports applied is treated as not recovered (bounded wait)', async () => {
    const r = await actuated('checkout');
    argo.setApplication('checkout', [{ revision: r.before, sync: 'OutOfSync' }]);
    const started = Date.now();
    const v = await verifyActuation(options(r.bare, r, { reconcileTimeoutMs: 800 }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(v.outcome).toBe('failed');
    expect(v.reconciliation?.detail).toMatch(/did not report .* applied and healthy within/);
    expect(v.recovery).toBeNull();
    expect(v.compensation?.outcome).toBe('reverted');
    expect(await ledgerEntry(r.bare, 'reconciled', r.result.decision.id)).toBeUndefined();
  }, 20_000);

  it('a file changed again after the actuation is not overwritten: the compensation fails and says which', async () => {
    const r = await actuated('checkout');
    // a human edits the same file on main after arbiter's commit
    const work = `${tmp.path}/work-${n++}`;
    git(tmp.path, ['clone', '-q', r.bare, work]);
    git(work, ['commit', '-q', '--allow-empty', '-m', 'noop']);
    const file = `${work}/apps/checkout/deployment.yaml`;
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(file, `${readFileSync(file, 'utf8')}# tuned by hand\n`);
    git(work, ['commit', '-q', '-am', 'hand edit']);
    git(work, ['push', '-q', 'origin', 'main']);
    const main = git(r.bare, ['rev-parse', 'main']).trim();
    argo.setApplication('checkout', [{ revision: main }]);
    exporter.set('arbiter_test_error_rate', { service: 'checkout' }, 0.5);
    await prom.waitFor('arbiter_test_error_rate{service="checkout"}', (v) => v === 0.5);
    const v = await verifyActuation(options(r.bare, r, { windowMs: 300 }));
    expect(v.reconciliation?.reconciled).toBe(true);
    expect(v.outcome).toBe('failed');
    expect(v.compensation).toMatchObject({ outcome: 'failed', commit: null });
    expect(v.compensation!.detail).toMatch(/apps\/checkout\/deployment\.yaml changed on main/);
    expect(git(r.bare, ['rev-parse', 'main']).trim()).toBe(main);
    expect(await ledgerEntry(r.bare, 'compensation', r.result.decision.id)).toMatchObject({ kind: 'Compensation', outcome: 'failed' });
    expect(await circuitAt(r.bare, 'checkout', '2026-11-21T02:40:00Z')).toBe(true);
    expect(v.notification?.type).toBe('dev.arbiter.verification.failed');
  }, 20_000);
});

describeNeeding(['prometheus'], 'Prometheus client against the real HTTP API', () => {
  it('instant vectors, empty vectors, scalars; errors and range vectors are refused with the reason', async () => {
    const client = new PrometheusClient({ url: prom.url });
    expect((await client.query('arbiter_test_error_rate{service="other"}')).values).toEqual([0.3]);
    expect((await client.query('arbiter_test_error_rate{service="nobody"}')).values).toEqual([]);
    expect((await client.query('scalar(vector(2))')).values).toEqual([2]);
    expect((await client.query('vector(0) / vector(0)')).values).toEqual([]);
    await expect(client.query('sum(')).rejects.toThrow(/HTTP 400, bad_data/);
    await expect(client.query('arbiter_test_error_rate[1m]')).rejects.toThrow(/matrix result/);
  });
});
