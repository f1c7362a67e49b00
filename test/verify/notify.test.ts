// Notifications (DESIGN §4.5): a webhook notifier posts CloudEvents with bounded retries; `act` announces notify and
// escalate decisions and reports the outcome in its result, never in the Decision.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act } from '../../app/act.ts';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { LogNotifier, NOTIFY_TYPES, WebhookNotifier, notificationEvent, type NotificationEvent } from '../../gitops/notify.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { git, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore } from '../gitops/stub-core.ts';

const tmp = tempDir();
const signer = sshSigner(sshTestKey(tmp.path).privateKey);
let server: Server;
let base: string;
/** Statuses to answer with, per path, before answering 202. */
const script = new Map<string, number[]>();
const seen: Array<{ path: string; contentType: string | undefined; event: NotificationEvent }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      seen.push({ path: req.url!, contentType: req.headers['content-type'], event: JSON.parse(body) as NotificationEvent });
      const status = script.get(req.url!)?.shift() ?? 202;
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  tmp.cleanup();
});

const sample = notificationEvent(
  NOTIFY_TYPES.escalate,
  { summary: 's', decision: 'dec-1', incident: 'INC-1', service: 'checkout', namespace: 'shop', mode: 'escalate', action: null, commit: null, branch: null, ledgerCommit: 'abc' },
  '2026-11-21T02:13:00Z',
);

describe('webhook notifier', () => {
  it('posts a structured-mode CloudEvent', async () => {
    const out = await new WebhookNotifier({ url: `${base}/a`, headers: { 'x-team': 'sre' } }).notify(sample);
    expect(out).toMatchObject({ delivered: true, attempts: 1, status: 202, notifier: 'webhook', type: 'dev.arbiter.decision.escalate' });
    const got = seen.filter((s) => s.path === '/a');
    expect(got).toHaveLength(1);
    expect(got[0]!.contentType).toMatch(/^application\/cloudevents\+json/);
    expect(got[0]!.event).toEqual(sample);
    expect(got[0]!.event).toMatchObject({ specversion: '1.0', source: 'urn:arbiter', subject: 'shop/checkout', datacontenttype: 'application/json' });
  });

  it('retries 5xx and 429 up to the bound, then succeeds', async () => {
    script.set('/b', [503, 429]);
    const out = await new WebhookNotifier({ url: `${base}/b`, attempts: 3, backoffMs: 10 }).notify(sample);
    expect(out).toMatchObject({ delivered: true, attempts: 3, status: 202 });
    expect(seen.filter((s) => s.path === '/b').map((s) => s.event.id)).toEqual([sample.id, sample.id, sample.id]);
  });

  it('gives up after the bound and says why', async () => {
    script.set('/c', [500, 500, 500, 500]);
    const out = await new WebhookNotifier({ url: `${base}/c`, attempts: 2, backoffMs: 10 }).notify(sample);
    expect(out).toMatchObject({ delivered: false, attempts: 2, status: 500, error: 'HTTP 500' });
    expect(seen.filter((s) => s.path === '/c')).toHaveLength(2);
  });

  it('does not retry a client error', async () => {
    script.set('/d', [400]);
    const out = await new WebhookNotifier({ url: `${base}/d`, attempts: 3, backoffMs: 10 }).notify(sample);
    expect(out).toMatchObject({ delivered: false, attempts: 1, status: 400 });
  });

  it('reports an unreachable receiver without throwing', async () => {
    const out = await new WebhookNotifier({ url: 'http://127.0.0.1:1/x', attempts: 2, backoffMs: 10 }).notify(sample);
    expect(out.delivered).toBe(false);
    expect(out.attempts).toBe(2);
    expect(out.error).toBeTruthy();
  });

  it('the event id is stable for the same decision and commit, so receivers can de-duplicate', () => {
    const again = notificationEvent(sample.type, { ...sample.data, summary: 'other words' }, '2026-11-21T03:00:00Z');
    expect(again.id).toBe(sample.id);
    expect(notificationEvent(sample.type, { ...sample.data, commit: 'f'.repeat(40) }, sample.time).id).not.toBe(sample.id);
  });
});

describe('act announces notify and escalate decisions', () => {
  let k = 0;
  function repo(): string {
    const bare = `${tmp.path}/shop-${k++}.git`;
    seedBareRepository(bare, [{ message: 'initial', files: SHOP_FILES }]);
    return bare;
  }

  it('notify mode: commit, ledger, then a dev.arbiter.decision.notify event carrying the commit', async () => {
    const bare = repo();
    const r = await act({ diagnosis: diagnosis({ confidence: 0.7 }), bundle: stubBundle, repo: bare, signer, core: stubCore(), notifier: new WebhookNotifier({ url: `${base}/notify` }) });
    expect(r.decision.mode).toBe('notify');
    expect(r.actuation.commit).toBe(git(bare, ['rev-parse', 'main']).trim());
    expect(r.actuation.notification).toMatchObject({ delivered: true, type: 'dev.arbiter.decision.notify' });
    const event = seen.find((s) => s.path === '/notify')!.event;
    expect(event.data).toMatchObject({ decision: r.decision.id, commit: r.actuation.commit, ledgerCommit: r.actuation.ledgerCommit, mode: 'notify', action: 'restart' });
    // the Decision stays pure: the ledger entry has no notification
    const entry = JSON.parse(git(bare, ['show', `${LEDGER_BRANCH}:decisions/2026/11/21/${r.decision.id}.json`]));
    expect(JSON.stringify(entry)).not.toMatch(/notification/);
    expect('notification' in r.decision).toBe(false);
  });

  it('escalate: no commit, a dev.arbiter.decision.escalate event', async () => {
    const bare = repo();
    const r = await act({ diagnosis: diagnosis({ kind: null, incident: 'INC-esc' }), bundle: stubBundle, repo: bare, signer, core: stubCore(), notifier: new WebhookNotifier({ url: `${base}/escalate` }) });
    expect(r.decision.mode).toBe('escalate');
    expect(r.actuation.notification).toMatchObject({ delivered: true, type: 'dev.arbiter.decision.escalate' });
    expect(seen.find((s) => s.path === '/escalate')!.event.data).toMatchObject({ decision: r.decision.id, commit: null, incident: 'INC-esc' });
  });

  it('auto mode and repeated requests notify nobody; the default notifier writes one log line', async () => {
    const bare = repo();
    const lines: string[] = [];
    const auto = await act({ diagnosis: diagnosis(), bundle: stubBundle, repo: bare, signer, core: stubCore(), notifier: new WebhookNotifier({ url: `${base}/auto` }) });
    expect(auto.decision.mode).toBe('auto');
    expect(auto.actuation.notification).toBeUndefined();
    expect(seen.some((s) => s.path === '/auto')).toBe(false);
    const esc = await act({ diagnosis: diagnosis({ kind: null, incident: 'INC-log', id: 'diag-esc' }), bundle: stubBundle, repo: bare, signer, core: stubCore(), log: (l) => lines.push(l) });
    expect(esc.actuation.notification).toMatchObject({ notifier: 'log', delivered: true });
    expect(lines.filter((l) => l.startsWith('notification dev.arbiter.decision.escalate shop/checkout'))).toHaveLength(1);
    const repeat = await act({ diagnosis: diagnosis({ kind: null, incident: 'INC-log', id: 'diag-esc' }), bundle: stubBundle, repo: bare, signer, core: stubCore(), notifier: new LogNotifier((l) => lines.push(l)) });
    expect(repeat.actuation.repeated).toBe(true);
    expect(repeat.actuation.notification).toBeUndefined();
  });
});
