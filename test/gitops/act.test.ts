import { afterAll, describe, expect, it } from 'vitest';
import { act } from '../../app/act.ts';
import type { Forge } from '../../gitops/forge/forge.ts';
import { LEDGER_BRANCH, appendLedgerEntry, type EventEntry } from '../../gitops/ledger.ts';
import { Repository } from '../../gitops/repo.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore, type StubOptions } from './stub-core.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const key = sshTestKey(tmp.path);
const signer = sshSigner(key.privateKey);
let n = 0;

function freshRepo(extra: Record<string, string> = {}): string {
  const bare = `${tmp.path}/shop-${n++}.git`;
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: { ...SHOP_FILES, ...extra } }]);
  return bare;
}

function refs(bare: string): string {
  return git(bare, ['for-each-ref', '--format=%(refname) %(objectname)']);
}

function run(bare: string, d = diagnosis(), stub: StubOptions = {}, now = '2026-11-21T02:13:00Z') {
  const core = stubCore(stub);
  return act({ diagnosis: d, bundle: stubBundle, repo: bare, signer, core, now }).then((r) => ({ ...r, core }));
}

function trailersOf(bare: string, rev: string): Record<string, string> {
  const message = git(bare, ['log', '-1', '--format=%B', rev]);
  const parsed = git(bare, ['interpret-trailers', '--parse'], { input: message });
  return Object.fromEntries(parsed.trim().split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
}

describe('act: auto mode writes a signed commit and a ledger entry', () => {
  it('commits the plan on main, signed, with the §6 subject and trailers', async () => {
    const bare = freshRepo();
    const before = git(bare, ['rev-parse', 'main']).trim();
    const { decision, actuation } = await run(bare);
    expect(decision.mode).toBe('auto');
    expect(actuation.commit).toBe(git(bare, ['rev-parse', 'main']).trim());
    expect(git(bare, ['rev-parse', 'main~1']).trim()).toBe(before);
    expect(git(bare, ['diff', '--name-only', 'main~1', 'main']).trim()).toBe('apps/checkout/deployment.yaml');
    expect(gitStatus(bare, [...key.gitConfig, 'verify-commit', 'main']).status).toBe(0);
    const subject = git(bare, ['log', '-1', '--format=%s', 'main']).trim();
    expect(subject).toBe('arbiter(checkout): restart deployment');
    expect(subject.length).toBeLessThanOrEqual(72);
    expect(trailersOf(bare, 'main')).toEqual({
      'Arbiter-Decision': decision.id,
      'Arbiter-Incident': 'INC-1',
      'Arbiter-Action': 'restart',
      'Arbiter-Target': 'shop/checkout',
      'Arbiter-Mode': 'auto',
      'Arbiter-Support': '0.90',
      'Arbiter-Idempotency-Key': decision.idempotencyKey,
      'Arbiter-Bundle-Revision': 'stub-1',
    });
    expect(git(bare, ['log', '-1', '--format=%b', 'main'])).toMatch(/OOMKilled 3 times in 1h/);
  });

  it('appends decisions/YYYY/MM/DD/<id>.json to an orphan, signed ledger branch', async () => {
    const bare = freshRepo();
    const { decision, actuation } = await run(bare);
    const path = `decisions/2026/11/21/${decision.id}.json`;
    const entry = JSON.parse(git(bare, ['show', `${LEDGER_BRANCH}:${path}`]));
    expect(entry.idempotencyKey).toBe(decision.idempotencyKey);
    expect(entry.actuation).toEqual({ commit: actuation.commit, branch: 'main', pullRequest: null });
    expect(gitStatus(bare, ['merge-base', 'main', LEDGER_BRANCH]).status).toBe(1);
    expect(gitStatus(bare, [...key.gitConfig, 'verify-commit', LEDGER_BRANCH]).status).toBe(0);
    expect(trailersOf(bare, LEDGER_BRANCH)).toMatchObject({ 'Arbiter-Decision': decision.id, 'Arbiter-Ledger-Entry': path, 'Arbiter-Ledger-Seq': '1' });
    expect(actuation.ledgerCommit).toBe(git(bare, ['rev-parse', LEDGER_BRANCH]).trim());
  });
});

describe('act: idempotency', () => {
  it('a repeated request changes no ref and returns the earlier result', async () => {
    const bare = freshRepo();
    const first = await run(bare);
    const snapshot = refs(bare);
    const again = await run(bare, diagnosis({ id: 'diag-2' }), {}, '2026-11-21T02:15:00Z');
    expect(refs(bare)).toBe(snapshot);
    expect(again.actuation.repeated).toBe(true);
    expect(again.actuation.commit).toBe(first.actuation.commit);
    expect(again.decision.id).toBe(first.decision.id);
  });

  it('an actuation commit without a ledger entry (crash between pushes) is recorded, not repeated', async () => {
    const bare = freshRepo();
    const first = await run(bare);
    git(bare, ['update-ref', '-d', `refs/heads/${LEDGER_BRANCH}`]);
    const main = git(bare, ['rev-parse', 'main']).trim();
    const again = await run(bare);
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(main);
    expect(again.actuation.repeated).toBe(true);
    expect(again.actuation.foundIn).toBe('branch');
    const entry = JSON.parse(git(bare, ['show', `${LEDGER_BRANCH}:decisions/2026/11/21/${first.decision.id}.json`]));
    expect(entry.actuation.commit).toBe(first.actuation.commit);
  });
});

describe('act: decisions that do not act are recorded too', () => {
  it('an escalation writes only a ledger entry', async () => {
    const bare = freshRepo();
    const main = git(bare, ['rev-parse', 'main']).trim();
    const { decision, actuation } = await run(bare, diagnosis({ kind: null }));
    expect(decision.mode).toBe('escalate');
    expect(actuation.commit).toBeNull();
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(main);
    expect(git(bare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH])).toContain(`decisions/2026/11/21/${decision.id}.json`);
  });

  it('a plan that edits outside the catalog paths is escalated and writes nothing on main', async () => {
    const bare = freshRepo();
    const main = git(bare, ['rev-parse', 'main']).trim();
    const { decision, actuation } = await run(bare, diagnosis(), { extraEdit: 'apps/other/deployment.yaml' });
    expect(decision.mode).toBe('escalate');
    expect(decision.guardrails.find((g) => g.name === 'blast-radius')?.applied).toBe(true);
    expect(actuation.commit).toBeNull();
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(main);
  });
});

describe('act: context from Git', () => {
  it('.arbiter/pause on the target branch is the kill switch', async () => {
    const bare = freshRepo({ '.arbiter/pause': 'incident review\n' });
    const { core, decision } = await run(bare);
    expect(core.contexts[0]!.killSwitch).toBe(true);
    expect(decision.mode).toBe('approval');
  });

  it('history counts this incident and this service in the last hour from the ledger', async () => {
    const bare = freshRepo();
    await run(bare, diagnosis({ id: 'a', incident: 'INC-1' }), {}, '2026-11-21T02:00:00Z');
    await run(bare, diagnosis({ id: 'b', incident: 'INC-2', kind: null }), {}, '2026-11-21T02:05:00Z');
    const later = await run(bare, diagnosis({ id: 'c', incident: 'INC-1', service: 'payments' }), {}, '2026-11-21T02:30:00Z');
    expect(later.core.contexts[0]!.history).toEqual({ incidentActions: 1, serviceActionsLastHour: 0, circuitOpen: false });
    const checkout = await run(bare, diagnosis({ id: 'd', incident: 'INC-3' }), {}, '2026-11-21T02:40:00Z');
    expect(checkout.core.contexts[0]!.history).toEqual({ incidentActions: 0, serviceActionsLastHour: 1, circuitOpen: false });
    const nextHour = await run(bare, diagnosis({ id: 'e', incident: 'INC-4' }), {}, '2026-11-21T03:30:00Z');
    expect(nextHour.core.contexts[0]!.history.serviceActionsLastHour).toBe(1);
  });
});

describe('act: the circuit breaker reads verification outcomes from the ledger', () => {
  it('a failed verification on the service within the cooldown opens the circuit; after it, it is closed', async () => {
    const bare = freshRepo();
    const first = await run(bare, diagnosis({ id: 'a', incident: 'INC-1' }), {}, '2026-11-21T02:00:00Z');
    const repo = await Repository.open(bare);
    const tip = await repo.tip(LEDGER_BRANCH);
    const event: EventEntry = {
      apiVersion: 'arbiter.dev/v1',
      kind: 'Verification',
      id: `${first.decision.id}.verification`,
      decision: first.decision.id,
      incident: 'INC-1',
      target: { service: 'checkout', namespace: 'shop' },
      at: '2026-11-21T02:10:00Z',
      outcome: 'failed',
      detail: 'errorRate did not decrease within 10m',
      actuation: { commit: null, branch: null, pullRequest: null },
    };
    await repo.updateBranch(LEDGER_BRANCH, await appendLedgerEntry(repo.store, tip, event, signer), tip);
    const within = await run(bare, diagnosis({ id: 'b', incident: 'INC-2' }), {}, '2026-11-21T02:30:00Z');
    expect(within.core.contexts[0]!.history.circuitOpen).toBe(true);
    const other = await run(bare, diagnosis({ id: 'c', incident: 'INC-3', service: 'payments' }), {}, '2026-11-21T02:31:00Z');
    expect(other.core.contexts[0]!.history.circuitOpen).toBe(false);
    const after = await run(bare, diagnosis({ id: 'd', incident: 'INC-4' }), {}, '2026-11-21T02:41:00Z');
    expect(after.core.contexts[0]!.history.circuitOpen).toBe(false);
    const audit = await import('../../gitops/audit.ts');
    expect((await audit.audit({ repo: bare, allowedSigners: key.allowedSignersFile })).ok).toBe(true);
  });
});

describe('act: the ledger moved after the actuation was published', () => {
  it('only the ledger entry is re-appended on the new ledger tip; the actuation is not redone', async () => {
    const bare = freshRepo();
    await run(bare, diagnosis({ id: 'first', incident: 'INC-0', kind: null }), {}, '2026-11-21T01:00:00Z');
    let pullRequests = 0;
    const forge: Forge = {
      findOpenPullRequest: async () => undefined,
      async openOrUpdatePullRequest(spec) {
        pullRequests++;
        // another arbiter records a decision between our branch push and our ledger push
        await run(bare, diagnosis({ id: 'other', incident: 'INC-9', kind: null }), {}, '2026-11-21T02:00:00Z');
        return { number: 7, url: 'https://forge.invalid/7', branch: spec.branch, headSha: '', title: spec.title, body: spec.body, created: true };
      },
    };
    const result = await act({ diagnosis: diagnosis({ confidence: 0.5 }), bundle: stubBundle, repo: bare, signer, core: stubCore(), forge, now: '2026-11-21T02:13:00Z' });
    expect(result.decision.mode).toBe('approval');
    expect(pullRequests).toBe(1);
    const ledger = git(bare, ['log', '--format=%s', LEDGER_BRANCH]).trim().split('\n');
    expect(ledger).toHaveLength(3);
    expect(git(bare, ['log', '-1', '--format=%B', LEDGER_BRANCH])).toMatch(/Arbiter-Ledger-Seq: 3/);
    expect(git(bare, ['rev-parse', `${result.actuation.ledgerCommit}~1`]).trim()).not.toBe('');
    const audit = await import('../../gitops/audit.ts');
    expect((await audit.audit({ repo: bare, allowedSigners: key.allowedSignersFile })).findings).toEqual([]);
  });
});

describe('act: bad input', () => {
  it('an invalid diagnosis is an InputError and changes nothing', async () => {
    const bare = freshRepo();
    const snapshot = refs(bare);
    const bad = { text: JSON.stringify({ ...diagnosis(), incident: '../etc' }), source: 'bad.json' };
    await expect(act({ diagnosis: bad, bundle: stubBundle, repo: bare, signer, core: stubCore() })).rejects.toMatchObject({ code: 'InputError' });
    expect(refs(bare)).toBe(snapshot);
  });

  it('refuses to run without a signing decision', async () => {
    const bare = freshRepo();
    await expect(act({ diagnosis: diagnosis(), bundle: stubBundle, repo: bare, signer: undefined as never, core: stubCore() })).rejects.toThrow(/signing/);
  });
});
