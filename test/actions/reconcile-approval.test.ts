// `arbiter reconcile` for approval-mode decisions: a follow-up waits for its pull request and its clock starts at the
// merge. Real bare repositories, the real `act` (approval mode opens the pull request) and the GitHub stand-in, which
// merges for real in the bare repository (a merge commit, or a squash commit whose message is the PR body).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAction, planAction } from '../../actions/index.ts';
import { followUpAfterMerge, resolveChange, type RecordedFollowUp } from '../../actions/follow-ups.ts';
import type { Diagnosis } from '../../engine/types.ts';
import { main } from '../../bin/cli/main.ts';
import { act } from '../../app/act.ts';
import { readCommit, writeCommit, writeTreeChanges } from '../../gitops/commit.ts';
import { GitHubForge } from '../../gitops/forge/github.ts';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { findLandedChange, messageCarriesKey, reconcile } from '../../app/reconcile.ts';
import { Repository } from '../../gitops/repo.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { startGitHubStandin, type GitHubStandin } from '../support/github-standin.ts';
import { git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { stubBundle, stubCore } from '../gitops/stub-core.ts';
import { shopTree } from './fixture-tree.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const signer = sshSigner(key.privateKey);
const TOKEN = 't0ken';
const T0 = '2026-11-21T02:13:00Z';
const CONFIG = 'apps/checkout/base/configmap.yaml';
const STAGING = 'apps/checkout/overlays/staging/kustomization.yaml';
const PROD = 'apps/checkout/overlays/production/kustomization.yaml';
let n = 0;
let github: GitHubStandin;
const repos: Record<string, string> = {};

beforeAll(async () => {
  // one stand-in for every test repository: `acme/shop-<n>` → its bare repository (filled in as tests create them)
  github = await startGitHubStandin({ repos, token: TOKEN });
});
afterAll(async () => {
  await github?.close();
  tmp.cleanup();
});

/** The real planners behind the stub decision core, which is forced to approval mode. */
const core = { ...stubCore({ mode: 'approval' }), planAction, getAction };

function freshRepo(): { bare: string; name: string; forge: GitHubForge } {
  const name = `acme/shop-${n}`;
  const bare = `${tmp.path}/shop-${n++}.git`;
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: Object.fromEntries(shopTree().files) }]);
  repos[name] = bare;
  return { bare, name, forge: new GitHubForge({ baseUrl: github.url, repository: name, token: TOKEN }) };
}

function diagnosis(incident: string, kind: 'set-config' | 'patch-image', params: Record<string, unknown>): Diagnosis {
  return {
    apiVersion: 'arbiter.dev/v1', kind: 'Diagnosis', id: `diag-${incident}`, incident, observedAt: T0, source: 'heuristics',
    target: { service: 'checkout', namespace: 'shop' },
    hypotheses: [{ cause: 'pool-exhaustion', confidence: 0.6, evidence: ['db wait time p99 2.1s'], suggestedActions: [{ kind, params }] }],
  } as Diagnosis;
}

/** `arbiter act` in approval mode: a signed commit on the PR branch, a pull request on the stand-in, a ledger entry. */
async function propose(r: { bare: string; forge?: GitHubForge }, incident: string, kind: 'set-config' | 'patch-image', params: Record<string, unknown>) {
  const result = await act({ diagnosis: diagnosis(incident, kind, params), bundle: stubBundle, repo: r.bare, signer, core, now: T0, ...(r.forge ? { forge: r.forge } : {}) });
  expect(result.decision.mode).toBe('approval');
  expect(result.actuation.branch).toMatch(/^arbiter\//);
  return result;
}

const poolBump = { configMap: 'checkout-config', key: 'DB_POOL_SIZE', value: 40, revertAfter: '30m' };
const show = (bare: string, path: string, rev = 'main'): string => git(bare, ['show', `${rev}:${path}`]);
const refs = (bare: string): string => git(bare, ['for-each-ref', '--format=%(refname) %(objectname)']);
const tip = (bare: string, ref = 'main'): string => git(bare, ['rev-parse', ref]).trim();

describe('reconcile with a forge: the pull request decides', () => {
  it('does nothing while the pull request is open, then reverts revertAfter after the merge, exactly once', async () => {
    const r = freshRepo();
    const { decision, actuation } = await propose(r, 'INC-101', 'set-config', poolBump);
    expect(actuation.pullRequest?.number).toBe(1);
    const mainBefore = tip(r.bare);

    // open: long past the original due (T0 + 30m), still nothing, because nothing reached main
    const open = await reconcile({ repo: r.bare, now: '2026-11-21T09:00:00Z', signer, forge: r.forge });
    expect(open.steps).toEqual([]);
    expect(open.pending).toMatchObject([{ decision: decision.id, kind: 'revert', pullRequest: 1 }]);
    expect(open.pending[0]!.detail).toMatch(/awaiting the merge of pull request #1/);
    expect(tip(r.bare)).toBe(mainBefore);

    const mergeCommit = github.mergePull(r.name, 1, { method: 'merge', at: '2026-11-21T10:00:00Z' });
    expect(show(r.bare, CONFIG)).toContain('DB_POOL_SIZE: "40"');

    const early = await reconcile({ repo: r.bare, now: '2026-11-21T10:29:59Z', signer, forge: r.forge });
    expect(early.steps).toEqual([]);
    expect(early.pending).toMatchObject([{ decision: decision.id, kind: 'revert', due: '2026-11-21T10:30:00Z' }]);
    expect(early.pending[0]!.detail).toContain('pull request #1 merged at 2026-11-21T10:00:00Z');
    expect(tip(r.bare)).toBe(mergeCommit);

    const done = await reconcile({ repo: r.bare, now: '2026-11-21T10:30:00Z', signer, forge: r.forge });
    expect(done.steps).toMatchObject([{ decision: decision.id, kind: 'revert', due: '2026-11-21T10:30:00Z', outcome: 'done', changed: [CONFIG] }]);
    expect(tip(r.bare)).toBe(done.steps[0]!.commit);
    expect(tip(r.bare, 'main~1')).toBe(mergeCommit);
    expect(show(r.bare, CONFIG)).toBe(shopTree().read(CONFIG));
    expect(gitStatus(r.bare, [...key.gitConfig, 'verify-commit', 'main']).status).toBe(0);
    const message = git(r.bare, ['log', '-1', '--format=%B', 'main']);
    expect(git(r.bare, ['interpret-trailers', '--parse'], { input: message })).toContain(`Arbiter-Follow-Up: revert ${decision.id}`);
    const entry = JSON.parse(show(r.bare, `decisions/2026/11/21/${decision.id}.revert.json`, LEDGER_BRANCH));
    expect(entry).toMatchObject({ kind: 'FollowUp', outcome: 'done', followUp: { kind: 'revert', due: '2026-11-21T10:30:00Z' }, actuation: { commit: done.steps[0]!.commit, branch: 'main' } });

    const before = refs(r.bare);
    const again = await reconcile({ repo: r.bare, now: '2026-11-22T00:00:00Z', signer, forge: r.forge });
    expect(again).toEqual({ now: '2026-11-22T00:00:00Z', steps: [], pending: [] });
    expect(refs(r.bare)).toBe(before);
  });

  it('cancels the follow-up when the pull request is closed without merging, in the ledger only', async () => {
    const r = freshRepo();
    const { decision } = await propose(r, 'INC-102', 'set-config', poolBump);
    github.closePull(r.name, 1, '2026-11-21T04:00:00Z');
    const mainBefore = tip(r.bare);
    const ledgerBefore = tip(r.bare, LEDGER_BRANCH);

    const cancelled = await reconcile({ repo: r.bare, now: '2026-11-21T05:00:00Z', signer, forge: r.forge });
    expect(cancelled.steps).toMatchObject([{ decision: decision.id, kind: 'revert', outcome: 'cancelled', commit: null, changed: [] }]);
    expect(cancelled.steps[0]!.detail).toBe('revert cancelled: pull request #1 was closed without merging at 2026-11-21T04:00:00Z, so the change never reached main');
    expect(cancelled.pending).toEqual([]);
    expect(tip(r.bare)).toBe(mainBefore);
    expect(tip(r.bare, `${LEDGER_BRANCH}~1`)).toBe(ledgerBefore);
    const entry = JSON.parse(show(r.bare, `decisions/2026/11/21/${decision.id}.revert.json`, LEDGER_BRANCH));
    expect(entry).toMatchObject({ kind: 'FollowUp', outcome: 'cancelled', actuation: { commit: null, pullRequest: { number: 1 } } });
    expect(gitStatus(r.bare, [...key.gitConfig, 'verify-commit', LEDGER_BRANCH]).status).toBe(0);

    const before = refs(r.bare);
    expect(await reconcile({ repo: r.bare, now: '2026-11-23T00:00:00Z', signer, forge: r.forge })).toEqual({ now: '2026-11-23T00:00:00Z', steps: [], pending: [] });
    expect(refs(r.bare)).toBe(before);
  });

  it('promotes a staged image the validation period after the merge; the kill switch holds the promotion', async () => {
    const r = freshRepo();
    const { decision } = await propose(r, 'INC-103', 'patch-image', { image: 'registry.example.com/shop/checkout:1.4.3' });
    expect(show(r.bare, STAGING)).not.toContain('newTag: 1.4.3');
    github.mergePull(r.name, 1, { method: 'squash', at: '2026-11-22T00:00:00Z' });
    expect(show(r.bare, STAGING)).toContain('newTag: 1.4.3');

    // 48 h after the decision but not after the merge: nothing
    expect((await reconcile({ repo: r.bare, now: '2026-11-23T02:13:00Z', signer, forge: r.forge })).steps).toEqual([]);

    // the kill switch on main holds a due promotion
    const repo = await Repository.open(r.bare);
    const head = tip(r.bare);
    const tree = await writeTreeChanges(repo.store, (await readCommit(repo.store, head)).tree, [{ path: '.arbiter/pause', content: 'incident review\n' }]);
    const paused = await writeCommit(repo.store, { tree, parents: [head], message: 'pause arbiter\n', signer });
    await repo.updateBranch('main', paused, head);
    const held = await reconcile({ repo: r.bare, now: '2026-11-24T00:00:00Z', signer, forge: r.forge });
    expect(held.steps).toMatchObject([{ decision: decision.id, kind: 'promote', outcome: 'paused', due: '2026-11-24T00:00:00Z' }]);
    expect(tip(r.bare)).toBe(paused);

    await repo.updateBranch('main', head, paused, { force: true });
    const done = await reconcile({ repo: r.bare, now: '2026-11-24T00:00:00Z', signer, forge: r.forge });
    expect(done.steps).toMatchObject([{ decision: decision.id, kind: 'promote', outcome: 'done', changed: [PROD] }]);
    expect(show(r.bare, PROD)).toContain('newTag: "1.4.3"');
    expect(gitStatus(r.bare, [...key.gitConfig, 'verify-commit', 'main']).status).toBe(0);
  });
});

describe('reconcile without a forge: the target branch decides', () => {
  it('finds a squash merge by the trailers the pull request body repeats; its committer date starts the clock', async () => {
    const r = freshRepo();
    const { decision, actuation } = await propose(r, 'INC-201', 'set-config', poolBump);
    // not merged: nothing, however late
    const waiting = await reconcile({ repo: r.bare, now: '2026-11-30T00:00:00Z', signer });
    expect(waiting.steps).toEqual([]);
    expect(waiting.pending).toMatchObject([{ decision: decision.id, kind: 'revert' }]);

    const squash = github.mergePull(r.name, actuation.pullRequest!.number, { method: 'squash', at: '2026-11-21T12:00:00Z' });
    // a squash keeps only the base as parent: the PR commit is not an ancestor, the trailers are in the message
    expect(gitStatus(r.bare, ['merge-base', '--is-ancestor', actuation.commit!, 'main']).status).toBe(1);
    expect(git(r.bare, ['log', '-1', '--format=%B', 'main'])).toContain(`Arbiter-Idempotency-Key: ${decision.idempotencyKey}`);

    const early = await reconcile({ repo: r.bare, now: '2026-11-21T12:29:00Z', signer });
    expect(early.steps).toEqual([]);
    expect(early.pending).toMatchObject([{ decision: decision.id, due: '2026-11-21T12:30:00Z' }]);
    expect(early.pending[0]!.detail).toContain(`change landed on main in ${squash.slice(0, 12)} at 2026-11-21T12:00:00Z`);

    const done = await reconcile({ repo: r.bare, now: '2026-11-21T12:30:00Z', signer });
    expect(done.steps).toMatchObject([{ decision: decision.id, outcome: 'done', changed: [CONFIG] }]);
    expect(show(r.bare, CONFIG)).toBe(shopTree().read(CONFIG));
    const before = refs(r.bare);
    expect((await reconcile({ repo: r.bare, now: '2026-11-22T00:00:00Z', signer })).steps).toEqual([]);
    expect(refs(r.bare)).toBe(before);
  });

  it('finds a true merge through the merge commit and dates it by the merge, not by the proposal', async () => {
    const r = freshRepo();
    const { decision } = await propose(r, 'INC-202', 'set-config', poolBump);
    const merge = github.mergePull(r.name, 1, { method: 'merge', at: '2026-11-21T20:00:00Z' });
    const result = await reconcile({ repo: r.bare, now: '2026-11-21T20:10:00Z', signer });
    expect(result.pending).toMatchObject([{ decision: decision.id, due: '2026-11-21T20:30:00Z' }]);
    expect(result.pending[0]!.detail).toContain(merge.slice(0, 12));
    // a forge that does not know the pull request (404) leaves the branch to decide, with the same clock
    const elsewhere = freshRepo();
    const unknown = await reconcile({ repo: r.bare, now: '2026-11-21T20:10:00Z', signer, forge: elsewhere.forge });
    expect(unknown.pending).toEqual(result.pending);
  });

  it('finds a rebase merge by the commit message GitHub keeps, dated by its new committer date', async () => {
    const r = freshRepo();
    const { decision, actuation } = await propose(r, 'INC-204', 'set-config', poolBump);
    const rebased = github.mergePull(r.name, 1, { method: 'rebase', at: '2026-11-22T08:00:00Z' });
    expect(rebased).not.toBe(actuation.commit);
    expect(git(r.bare, ['rev-parse', 'main~1']).trim()).toBe(git(r.bare, ['rev-parse', `${actuation.commit}~1`]).trim());
    const early = await reconcile({ repo: r.bare, now: '2026-11-22T08:29:59Z', signer });
    expect(early.pending).toMatchObject([{ decision: decision.id, due: '2026-11-22T08:30:00Z' }]);
    const done = await reconcile({ repo: r.bare, now: '2026-11-22T08:30:00Z', signer, forge: r.forge });
    expect(done.steps).toMatchObject([{ decision: decision.id, outcome: 'done', due: '2026-11-22T08:30:00Z' }]);
    expect(show(r.bare, CONFIG)).toBe(shopTree().read(CONFIG));
  });

  it('a closed pull request is invisible without a forge: the follow-up keeps waiting', async () => {
    const r = freshRepo();
    const { decision } = await propose(r, 'INC-203', 'set-config', poolBump);
    github.closePull(r.name, 1);
    const before = refs(r.bare);
    const result = await reconcile({ repo: r.bare, now: '2026-11-25T00:00:00Z', signer });
    expect(result.steps).toEqual([]);
    expect(result.pending).toMatchObject([{ decision: decision.id, pullRequest: 1 }]);
    expect(refs(r.bare)).toBe(before);
  });
});

describe('arbiter reconcile --forge github (CLI)', () => {
  async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const [w, e] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
    process.stdout.write = ((c: string) => (out.push(String(c)), true)) as typeof process.stdout.write;
    process.stderr.write = ((c: string) => (err.push(String(c)), true)) as typeof process.stderr.write;
    try {
      return { code: await main(argv), out: out.join(''), err: err.join('') };
    } finally {
      process.stdout.write = w;
      process.stderr.write = e;
    }
  }

  it('reads the pull request from the forge and cancels a closed one', async () => {
    const r = freshRepo();
    const { decision } = await propose(r, 'INC-301', 'set-config', poolBump);
    github.closePull(r.name, 1, '2026-11-21T03:00:00Z');
    const saved = process.env.ARBITER_GITHUB_TOKEN;
    process.env.ARBITER_GITHUB_TOKEN = TOKEN;
    try {
      const base = ['reconcile', '--repo', r.bare, '--signing-key', key.privateKeyFile, '--now', '2026-11-21T04:00:00Z'];
      const run = await capture([...base, '--forge', 'github', '--forge-url', github.url, '--forge-repo', r.name, '--json']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.out)).toMatchObject({ steps: [{ decision: decision.id, outcome: 'cancelled' }], pending: [] });
      const bad = await capture([...base, '--forge-url', github.url]);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/--forge: --forge-url and --forge-repo need --forge github/);
      const missing = await capture([...base, '--forge', 'github', '--forge-url', github.url]);
      expect(missing.code).toBe(2);
      expect(missing.err).toMatch(/--forge-repo: required with --forge github/);
    } finally {
      if (saved === undefined) delete process.env.ARBITER_GITHUB_TOKEN;
      else process.env.ARBITER_GITHUB_TOKEN = saved;
    }
  });
});

describe('merge detection and the follow-up clock (pure parts)', () => {
  const KEY = `sha256:${'ab'.repeat(32)}`;

  it('a key counts only inside a paragraph of trailers (CRLF bodies, several trailer blocks)', () => {
    expect(messageCarriesKey(`t\n\nbody\n\nArbiter-Decision: d\nArbiter-Idempotency-Key: ${KEY}\n`, KEY)).toBe(true);
    expect(messageCarriesKey(`t (#4)\r\n\r\n## Summary\r\n\r\nArbiter-Mode: approval\r\nArbiter-Idempotency-Key: ${KEY}\r\n`, KEY)).toBe(true);
    expect(messageCarriesKey(`t\n\n* a\n\nArbiter-Idempotency-Key: ${KEY}\n\n* b\n\nSigned-off-by: x <x@y>\n`, KEY)).toBe(true);
    expect(messageCarriesKey(`t\n\nthe key was Arbiter-Idempotency-Key: ${KEY} in prose\n`, KEY)).toBe(false);
    expect(messageCarriesKey(`t\n\nArbiter-Idempotency-Key: ${KEY.slice(0, -1)}0\n`, KEY)).toBe(false);
  });

  it('due after the merge keeps the scheduled delay, whatever the times', () => {
    const time = fc.integer({ min: Date.parse('2020-01-01T00:00:00Z') / 1000, max: Date.parse('2040-01-01T00:00:00Z') / 1000 }).map((s) => new Date(s * 1000).toISOString().replace(/\.000Z$/, 'Z'));
    fc.assert(
      fc.property(time, fc.integer({ min: 0, max: 30 * 86_400 }), time, (decidedAt, delaySeconds, mergedAt) => {
        const entry: RecordedFollowUp = {
          decision: 'd',
          followUp: { kind: 'revert', due: new Date(Date.parse(decidedAt) + delaySeconds * 1000).toISOString(), detail: 'x', action: { kind: 'restart', target: { service: 's', namespace: 'n' }, params: {} } },
        };
        const after = followUpAfterMerge(entry, decidedAt, mergedAt);
        expect(Date.parse(after.followUp.due) - Date.parse(mergedAt)).toBe(delaySeconds * 1000);
        expect(after.followUp.action).toEqual(entry.followUp.action);
      }),
    );
  });

  it('the branch is the evidence of a merge; the forge gives its time and closures', () => {
    const landed = { commit: 'c1', at: '2026-11-21T05:00:00Z' };
    const pr = { number: 7, state: 'closed' as const, merged: true, mergedAt: '2026-11-21T04:59:58Z', closedAt: '2026-11-21T04:59:58Z' };
    expect(resolveChange(landed, pr)).toEqual({ state: 'merged', at: pr.mergedAt, commit: 'c1', via: 'forge' });
    expect(resolveChange(landed, undefined)).toEqual({ state: 'merged', at: landed.at, commit: 'c1', via: 'branch' });
    // merged on the forge but not on this branch yet: a revert planned now would find "nothing to revert"
    expect(resolveChange(undefined, pr)).toMatchObject({ state: 'open' });
    expect(resolveChange(undefined, { ...pr, merged: false, mergedAt: null })).toEqual({ state: 'closed', at: pr.closedAt });
    // closed, yet the change is on the branch (landed by hand): the follow-up still applies
    expect(resolveChange(landed, { ...pr, merged: false, mergedAt: null })).toMatchObject({ state: 'merged', via: 'branch' });
    expect(resolveChange(undefined, { ...pr, state: 'open', merged: false, mergedAt: null, closedAt: null })).toEqual({ state: 'open', detail: 'awaiting the merge of pull request #7' });
  });

  it('the search is bounded: 5,000 commits of the branch, then it gives up', async () => {
    const bare = `${tmp.path}/long-${n++}.git`;
    git(tmp.path, ['init', '-q', '--bare', bare]);
    const KEY_MESSAGE = `squashed (#9)\n\nArbiter-Idempotency-Key: ${KEY}\n`;
    // commit 1 (the oldest) and commit 101 carry the key; 6,000 commits in all
    const stream: string[] = [];
    for (let i = 1; i <= 6000; i++) {
      const message = i === 1 || i === 101 ? KEY_MESSAGE : `change ${i}\n`;
      stream.push(`commit refs/heads/main\nmark :${i}\ncommitter A <a@x.invalid> ${1_790_000_000 + i} +0000\ndata ${Buffer.byteLength(message)}\n${message}\n`);
    }
    git(bare, ['fast-import', '--quiet'], { input: stream.join('') });
    const repo = await Repository.open(bare);
    const at = (i: number): string => new Date((1_790_000_000 + i) * 1000).toISOString().replace(/\.000Z$/, 'Z');
    // commit 101 is the 5,900th from the tip: beyond the budget; commit 1000 puts it at 900
    expect(await findLandedChange(repo.store, tip(bare), { key: KEY, stopAt: new Set() })).toBeUndefined();
    const c1000 = git(bare, ['rev-parse', 'main~5000']).trim();
    expect(await findLandedChange(repo.store, c1000, { key: KEY, stopAt: new Set() })).toEqual({ commit: git(bare, ['rev-parse', 'main~5899']).trim(), at: at(101) });
  });

  it('the search stops where the pull request branched off', async () => {
    const r = freshRepo();
    const { decision, actuation } = await propose(r, 'INC-401', 'set-config', poolBump);
    github.mergePull(r.name, 1, { method: 'squash', at: '2026-11-21T06:00:00Z' });
    const repo = await Repository.open(r.bare);
    const found = await findLandedChange(repo.store, tip(r.bare), { key: decision.idempotencyKey, stopAt: new Set() });
    expect(found).toEqual({ commit: tip(r.bare), at: '2026-11-21T06:00:00Z' });
    const parent = git(r.bare, ['rev-parse', `${actuation.commit}~1`]).trim();
    expect(await findLandedChange(repo.store, tip(r.bare), { key: decision.idempotencyKey, stopAt: new Set([tip(r.bare)]) })).toBeUndefined();
    expect(await findLandedChange(repo.store, parent, { key: decision.idempotencyKey, stopAt: new Set() })).toBeUndefined();
  });
});
