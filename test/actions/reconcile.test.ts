// `arbiter reconcile` against a real bare repository: due follow-ups become signed commits plus ledger entries,
// exactly once; promotions wait for the validation period and are cancelled by a failed verification.
import { afterAll, describe, expect, it } from 'vitest';
import { planAction } from '../../actions/index.ts';
import type { Plan } from '../../actions/types.ts';
import type { ActionKind, ActionParams, Decision } from '../../engine/types.ts';
import { main } from '../../bin/cli/main.ts';
import { readCommit, writeCommit, writeTreeChanges } from '../../gitops/commit.ts';
import { LEDGER_BRANCH, appendLedgerEntry, type EventEntry, type LedgerEntry } from '../../gitops/ledger.ts';
import { reconcile } from '../../app/reconcile.ts';
import { Repository } from '../../gitops/repo.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { shopTree } from './fixture-tree.ts';
import { catalogOf, context, NOW } from './setup.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const key = sshTestKey(tmp.path);
const signer = sshSigner(key.privateKey);
let n = 0;

const CONFIG = 'apps/checkout/base/configmap.yaml';
const STAGING = 'apps/checkout/overlays/staging/kustomization.yaml';
const PROD = 'apps/checkout/overlays/production/kustomization.yaml';

function freshRepo(): string {
  const bare = `${tmp.path}/shop-${n++}.git`;
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: Object.fromEntries(shopTree().files) }]);
  return bare;
}

/** Carries out one plan the way `act` does in auto mode, recording its follow-up in the decision entry. */
async function actuate(bare: string, id: string, kind: ActionKind, params: ActionParams): Promise<Plan> {
  const repo = await Repository.open(bare);
  const tip = (await repo.tip('main'))!;
  const plan = await planAction({ tree: shopTree(), service: catalogOf(shopTree()).checkout!, context, action: { kind, target: { service: 'checkout', namespace: 'shop' }, params } });
  const tree = await writeTreeChanges(repo.store, (await readCommit(repo.store, tip)).tree, plan.edits.map((e) => ({ path: e.path, content: e.after })));
  const commit = await writeCommit(repo.store, { tree, parents: [tip], message: `arbiter(checkout): ${kind}\n\nArbiter-Action: ${kind}\n`, signer });
  await repo.updateBranch('main', commit, tip);
  const decision = {
    apiVersion: 'arbiter.dev/v1', kind: 'Decision', id, idempotencyKey: `sha256:${'a'.repeat(64)}`, incident: 'INC-7', diagnosis: 'd-7', decidedAt: NOW, mode: 'auto',
    action: plan.applied, support: 0.9, target: { service: 'checkout', namespace: 'shop' }, candidates: [], guardrails: [], rationale: [],
    resolution: { combine: 'priority', select: 'cost', winner: kind, overruled: [] }, bundle: { revision: 'r1', digest: 'sha256:x' },
  } as unknown as Decision;
  await appendToLedger(repo, { ...decision, actuation: { commit, branch: 'main', pullRequest: null }, followUp: plan.followUp });
  return plan;
}

async function appendToLedger(repo: Repository, entry: LedgerEntry): Promise<void> {
  const tip = await repo.tip(LEDGER_BRANCH);
  await repo.updateBranch(LEDGER_BRANCH, await appendLedgerEntry(repo.store, tip, entry, signer), tip);
}

const show = (bare: string, path: string, rev = 'main'): string => git(bare, ['show', `${rev}:${path}`]);
const refs = (bare: string): string => git(bare, ['for-each-ref', '--format=%(refname) %(objectname)']);

describe('reconcile: scheduled reverts', () => {
  it('waits until due, then reverts with a signed commit and a ledger entry, exactly once', async () => {
    const bare = freshRepo();
    const plan = await actuate(bare, 'dec-1', 'set-config', { configMap: 'checkout-config', key: 'DB_POOL_SIZE', value: 40, revertAfter: '30m' });
    expect(show(bare, CONFIG)).toContain('DB_POOL_SIZE: "40"');

    const early = await reconcile({ repo: bare, now: '2026-11-21T02:42:59Z', signer });
    expect(early.steps).toEqual([]);
    expect(early.pending).toEqual([{ decision: 'dec-1', kind: 'revert', due: plan.followUp!.due, detail: plan.followUp!.detail }]);

    const done = await reconcile({ repo: bare, now: '2026-11-21T02:43:00Z', signer });
    expect(done.steps).toMatchObject([{ decision: 'dec-1', kind: 'revert', outcome: 'done', changed: [CONFIG] }]);
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(done.steps[0]!.commit);
    expect(show(bare, CONFIG)).toBe(shopTree().read(CONFIG));
    expect(gitStatus(bare, [...key.gitConfig, 'verify-commit', 'main']).status).toBe(0);
    expect(git(bare, ['log', '-1', '--format=%s', 'main']).trim()).toBe('arbiter(checkout): revert: set DB_POOL_SIZE=20 in checkout-config');
    const trailers = git(bare, ['interpret-trailers', '--parse'], { input: git(bare, ['log', '-1', '--format=%B', 'main']) });
    expect(trailers).toContain('Arbiter-Follow-Up: revert dec-1');
    expect(trailers).toContain('Arbiter-Action: set-config');
    expect(git(bare, ['show', `${LEDGER_BRANCH}:decisions/2026/11/21/dec-1.revert.json`])).toContain('"outcome": "done"');

    const before = refs(bare);
    const again = await reconcile({ repo: bare, now: '2026-11-21T05:00:00Z', signer });
    expect(again).toEqual({ now: '2026-11-21T05:00:00Z', steps: [], pending: [] });
    expect(refs(bare)).toBe(before);
  });

  it('records a follow-up commit that landed before a crash instead of writing it again', async () => {
    const bare = freshRepo();
    await actuate(bare, 'dec-2', 'set-config', { configMap: 'checkout-config', key: 'DB_POOL_SIZE', value: 45, revertAfter: '1h' });
    const ledgerBefore = git(bare, ['rev-parse', LEDGER_BRANCH]).trim();
    const first = await reconcile({ repo: bare, now: '2026-11-21T03:13:00Z', signer });
    // simulate the crash: the ledger entry never made it
    git(bare, ['update-ref', `refs/heads/${LEDGER_BRANCH}`, ledgerBefore]);
    const main = git(bare, ['rev-parse', 'main']).trim();
    const second = await reconcile({ repo: bare, now: '2026-11-21T03:14:00Z', signer });
    expect(second.steps).toMatchObject([{ outcome: 'done', commit: first.steps[0]!.commit }]);
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(main);
  });
});

describe('reconcile: staged promotions', () => {
  it('promotes to production after the validation period', async () => {
    const bare = freshRepo();
    await actuate(bare, 'dec-3', 'patch-image', { image: 'registry.example.com/shop/checkout:1.4.3' });
    expect(show(bare, STAGING)).toContain('newTag: 1.4.3');
    expect((await reconcile({ repo: bare, now: '2026-11-22T02:13:00Z', signer })).steps).toEqual([]);
    const r = await reconcile({ repo: bare, now: '2026-11-23T02:13:00Z', signer });
    expect(r.steps).toMatchObject([{ kind: 'promote', outcome: 'done', changed: [PROD] }]);
    expect(show(bare, PROD)).toContain('newTag: "1.4.3"');
    expect(git(bare, ['log', '-1', '--format=%s', 'main']).trim()).toBe('arbiter(checkout): promote: patch image to 1.4.3 in production');
  });

  it('cancels the promotion when verification failed in staging, writing nothing to main', async () => {
    const bare = freshRepo();
    await actuate(bare, 'dec-4', 'patch-image', { image: 'registry.example.com/shop/checkout:1.4.3' });
    const repo = await Repository.open(bare);
    const failed: EventEntry = {
      apiVersion: 'arbiter.dev/v1', kind: 'Verification', id: 'dec-4.verify', decision: 'dec-4', incident: 'INC-7', target: { service: 'checkout', namespace: 'shop' },
      at: '2026-11-21T03:00:00Z', outcome: 'failed', detail: 'errorRate did not decrease', actuation: { commit: null, branch: null, pullRequest: null },
    };
    await appendToLedger(repo, failed);
    const main = git(bare, ['rev-parse', 'main']).trim();
    const r = await reconcile({ repo: bare, now: '2026-11-24T00:00:00Z', signer });
    expect(r.steps).toMatchObject([{ kind: 'promote', outcome: 'cancelled', commit: null }]);
    expect(r.steps[0]!.detail).toMatch(/verification of decision dec-4 failed/);
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(main);
    expect((await reconcile({ repo: bare, now: '2026-11-25T00:00:00Z', signer })).steps).toEqual([]);
  });
});

describe('arbiter reconcile (CLI)', () => {
  it('runs end to end with --json and needs a signing key', async () => {
    const bare = freshRepo();
    await actuate(bare, 'dec-5', 'set-config', { configMap: 'checkout-config', key: 'LOG_LEVEL', value: 'debug', revertAfter: '10m' });
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string) => (chunks.push(String(c)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['reconcile', '--repo', bare, '--signing-key', key.privateKeyFile, '--now', '2026-11-21T02:23:00Z', '--json']);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    expect(JSON.parse(chunks.join(''))).toMatchObject({ steps: [{ decision: 'dec-5', outcome: 'done' }] });
    const errors: string[] = [];
    const ewrite = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((c: string) => (errors.push(String(c)), true)) as typeof process.stderr.write;
    try {
      expect(await main(['reconcile', '--repo', bare])).toBe(2);
      expect(await main(['reconcile', '--repo', bare, '--signing-key', key.privateKeyFile, '--now', 'yesterday'])).toBe(2);
    } finally {
      process.stderr.write = ewrite;
    }
    expect(errors.join('')).toMatch(/--signing-key: required/);
    expect(errors.join('')).toMatch(/--now: must be an RFC 3339 timestamp/);
  });
});
