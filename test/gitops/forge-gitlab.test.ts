// The GitLab forge against the loopback GitLab stand-in (REST API v4 wire format), with merge request branches in a
// real bare repository served by the real `git http-backend`, and the real `act` / `reconcile` on top.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act } from '../../app/act.ts';
import { reconcile } from '../../app/reconcile.ts';
import { getAction, planAction } from '../../actions/index.ts';
import { main } from '../../bin/cli/main.ts';
import { forgeToken } from '../../bin/cli/options.ts';
import type { Diagnosis } from '../../engine/types.ts';
import { pullRequestBranch, type PullRequestSpec } from '../../gitops/forge/forge.ts';
import { GitLabApiError, GitLabForge, gitlabApiRoot } from '../../gitops/forge/gitlab.ts';
import { createForge } from '../../gitops/forge/registry.ts';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { validateServeConfig } from '../../serve/config.ts';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.ts';
import { startGitLabStandin, type GitLabStandin } from '../support/gitlab-standin.ts';
import { git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { shopTree } from '../actions/fixture-tree.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore } from './stub-core.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const bare = `${tmp.path}/srv/shop.git`;
const TOKEN = 'gl-t0ken';
const USERS = { alice: 7, bob: 8 };
let server: GitHttpServer;
let gitlab: GitLabStandin;
const repos: Record<string, string> = { 'acme/shop': bare };

beforeAll(async () => {
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: SHOP_FILES }]);
  server = await startGitHttpServer({ root: `${tmp.path}/srv` });
  gitlab = await startGitLabStandin({ repos, token: TOKEN, users: USERS });
});
afterAll(async () => {
  await server.close();
  await gitlab.close();
  tmp.cleanup();
});

const logs: string[] = [];
const forge = (repository = 'acme/shop', token = TOKEN) => new GitLabForge({ baseUrl: gitlab.url, repository, token, log: (l) => logs.push(l) });
const approval = (id = 'diag-mr') =>
  act({
    diagnosis: diagnosis({ id, incident: 'INC-9', confidence: 0.5 }),
    bundle: stubBundle,
    repo: server.repoUrl('shop.git'),
    cacheDir: `${tmp.path}/cache`,
    signer: sshSigner(key.privateKey),
    core: stubCore(),
    forge: forge(),
    now: '2026-11-21T02:13:00Z',
  });

describe('approval mode opens a GitLab merge request', () => {
  it('pushes the signed branch and opens one MR with the GitHub body, labels and reviewers by user id', async () => {
    const main0 = git(bare, ['rev-parse', 'main']).trim();
    const { decision, actuation } = await approval();
    expect(decision.mode).toBe('approval');
    const branch = pullRequestBranch('INC-9', 'restart', decision.idempotencyKey);
    expect(actuation.branch).toBe(branch);
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(main0);
    expect(gitStatus(bare, [...key.gitConfig, 'verify-commit', branch]).status).toBe(0);

    const [mr, ...others] = gitlab.mergeRequests('acme/shop');
    expect(others).toHaveLength(0);
    expect(actuation.pullRequest).toEqual({ number: mr!.iid, url: `https://gitlab.invalid/acme/shop/-/merge_requests/${mr!.iid}` });
    expect(mr!.sourceBranch).toBe(branch);
    expect(mr!.targetBranch).toBe('main');
    expect(mr!.sha).toBe(actuation.commit);
    expect(mr!.title).toBe(git(bare, ['log', '-1', '--format=%s', branch]).trim());
    expect(mr!.labels).toEqual(['arbiter', 'risk:low', 'action:restart']);
    // alice resolved to id 7; `shop/team-checkout` is a group, which GitLab cannot be asked to review
    expect(mr!.reviewers).toEqual(['alice']);
    expect(logs.some((l) => l.includes('group shop/team-checkout'))).toBe(true);
    for (const section of ['## Summary', '## Evidence', '## Policy verdicts', '## Guardrails', '## Rollback']) expect(mr!.description).toContain(section);
    expect(mr!.description).toContain(`Arbiter-Idempotency-Key: ${decision.idempotencyKey}`);

    // the wire format: URL-encoded project id, PRIVATE-TOKEN auth, labels as a comma string, reviewer_ids
    const create = gitlab.requests.find((r) => r.method === 'POST')!;
    expect(create.path).toBe('/api/v4/projects/acme%2Fshop/merge_requests');
    expect(create.body).toMatchObject({ source_branch: branch, target_branch: 'main', labels: 'arbiter,risk:low,action:restart', reviewer_ids: [7] });
    expect(gitlab.requests.some((r) => r.path === '/api/v4/users?username=alice')).toBe(true);
    const entry = JSON.parse(git(bare, ['show', `${LEDGER_BRANCH}:decisions/2026/11/21/${decision.id}.json`]));
    expect(entry.actuation.pullRequest).toEqual(actuation.pullRequest);
  });

  it('a repeat opens no second MR and moves no ref', async () => {
    const refs = git(bare, ['for-each-ref']);
    const writes = gitlab.requests.filter((r) => r.method !== 'GET').length;
    const again = await approval('diag-mr-2');
    expect(again.actuation.repeated).toBe(true);
    expect(git(bare, ['for-each-ref'])).toBe(refs);
    expect(gitlab.mergeRequests('acme/shop')).toHaveLength(1);
    expect(gitlab.requests.filter((r) => r.method !== 'GET').length).toBe(writes);
  });

  it('when the ledger lost the entry, the open MR is found by its key and recorded, not duplicated', async () => {
    git(bare, ['update-ref', '-d', `refs/heads/${LEDGER_BRANCH}`]);
    const again = await approval('diag-mr-3');
    expect(again.actuation.foundIn).toBe('pull-request');
    expect(gitlab.mergeRequests('acme/shop')).toHaveLength(1);
  });
});

describe('GitLabForge', () => {
  const spec = (over: Partial<PullRequestSpec> = {}): PullRequestSpec => ({
    branch: gitlab.mergeRequests('acme/shop')[0]!.sourceBranch,
    base: 'main',
    title: 't',
    body: 'first\n\nArbiter-Idempotency-Key: sha256:x\n',
    labels: ['arbiter'],
    reviewers: [],
    idempotencyKey: 'sha256:x',
    ...over,
  });

  it('updates the open MR for the same source branch instead of opening another; labels are added, not replaced', async () => {
    const f = forge();
    const first = await f.openOrUpdatePullRequest(spec({ labels: ['extra'] }));
    const second = await f.openOrUpdatePullRequest(spec({ title: 'retitled', body: 'second\n\nArbiter-Idempotency-Key: sha256:x\n', reviewers: ['bob', 'alice'] }));
    expect(first.created).toBe(false);
    expect(second.number).toBe(first.number);
    const mrs = gitlab.mergeRequests('acme/shop');
    expect(mrs).toHaveLength(1);
    expect(mrs[0]!.title).toBe('retitled');
    expect(mrs[0]!.description).toMatch(/^second/);
    expect(mrs[0]!.labels).toEqual(['arbiter', 'risk:low', 'action:restart', 'extra']);
    expect(mrs[0]!.reviewers).toEqual(['bob', 'alice']);
    const put = gitlab.requests.filter((r) => r.method === 'PUT').at(-1)!;
    expect(put.path).toBe(`/api/v4/projects/acme%2Fshop/merge_requests/${first.number}`);
    expect(put.body).toMatchObject({ add_labels: 'arbiter', reviewer_ids: [8, 7] });
  });

  it('an unknown user is left out of the reviewers and does not block the MR', async () => {
    git(bare, ['branch', 'feature-unknown', 'main']);
    logs.length = 0;
    const opened = await forge().openOrUpdatePullRequest(spec({ branch: 'feature-unknown', idempotencyKey: 'sha256:unknown', body: 'b', reviewers: ['mallory', 'bob'] }));
    expect(opened.created).toBe(true);
    const mr = gitlab.mergeRequests('acme/shop').find((m) => m.iid === opened.number)!;
    expect(mr.reviewers).toEqual(['bob']);
    expect(logs).toContain('no GitLab user mallory; not requested as reviewer');
  });

  it('reports opened, merged (merge commit, squash) and closed merge requests as reconcile needs them', async () => {
    const f = forge();
    const open = await f.getPullRequest(1);
    expect(open).toMatchObject({ number: 1, state: 'open', merged: false, mergedAt: null, mergeCommitSha: null, base: 'main' });
    expect(await f.getPullRequest(999)).toBeUndefined();

    git(bare, ['branch', 'feature-closed', 'main']);
    const toClose = await f.openOrUpdatePullRequest(spec({ branch: 'feature-closed', idempotencyKey: 'sha256:c', body: 'c' }));
    gitlab.closeMergeRequest('acme/shop', toClose.number, '2026-11-21T04:00:00Z');
    expect(await f.getPullRequest(toClose.number)).toMatchObject({ state: 'closed', merged: false, mergeCommitSha: null, closedAt: '2026-11-21T04:00:00.000Z' });

    const tip = gitlab.mergeRequest('acme/shop', 1, { at: '2026-11-21T05:00:00Z' });
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(tip);
    expect(git(bare, ['log', '-1', '--format=%s', 'main']).trim()).toBe(`Merge branch '${gitlab.mergeRequests('acme/shop')[0]!.sourceBranch}' into 'main'`);
    expect(await f.getPullRequest(1)).toMatchObject({ state: 'closed', merged: true, mergedAt: '2026-11-21T05:00:00.000Z', mergeCommitSha: tip });
    // once merged it is no longer found as open, so a new decision opens a new MR rather than updating a merged one
    expect(await f.findOpenPullRequest({ branch: gitlab.mergeRequests('acme/shop')[0]!.sourceBranch })).toBeUndefined();

    const unknown = gitlab.mergeRequests('acme/shop').find((m) => m.sourceBranch === 'feature-unknown')!;
    const squashTip = gitlab.mergeRequest('acme/shop', unknown.iid, { squash: true, at: '2026-11-21T06:00:00Z' });
    const status = await f.getPullRequest(unknown.iid);
    expect(status).toMatchObject({ merged: true, mergeCommitSha: squashTip });
    expect(gitlab.mergeRequests('acme/shop').find((m) => m.iid === unknown.iid)!.squashCommitSha).toBe(git(bare, ['rev-parse', `${squashTip}^2`]).trim());
  });

  it('reads the approval state: not approved until the required approvals are in', async () => {
    const f = forge();
    git(bare, ['branch', 'feature-approve', 'main']);
    const mr = await f.openOrUpdatePullRequest(spec({ branch: 'feature-approve', idempotencyKey: 'sha256:a', body: 'a' }));
    expect(await f.getApprovals(mr.number)).toEqual({ approved: false, approvalsRequired: 1, approvalsLeft: 1, approvedBy: [] });
    gitlab.approve('acme/shop', mr.number, 'bob');
    expect(await f.getApprovals(mr.number)).toEqual({ approved: true, approvalsRequired: 1, approvalsLeft: 0, approvedBy: ['bob'] });
    expect(gitlab.requests.at(-1)!.path).toBe(`/api/v4/projects/acme%2Fshop/merge_requests/${mr.number}/approvals`);
  });

  it('sends the token as PRIVATE-TOKEN: a wrong one is a 401 error, never an empty answer', async () => {
    const err = await forge('acme/shop', 'wrong').findOpenPullRequest({ branch: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitLabApiError);
    expect((err as GitLabApiError).status).toBe(401);
    await expect(forge('acme/other').getPullRequest(1)).resolves.toBeUndefined();
  });

  it('retries a rate limit and a transient server error, then gives up', async () => {
    gitlab.failNext(429, 1);
    expect(await forge().findOpenPullRequest({ idempotencyKey: 'sha256:none' })).toBeUndefined();
    expect(logs.at(-1)).toBe('GitLab answered 429; retrying after 0s');
    gitlab.failNext(502, 3);
    const err = await forge().findOpenPullRequest({ branch: 'x' }).catch((e: unknown) => e);
    expect((err as GitLabApiError).status).toBe(502);
  });

  it('is in the registry; bad repositories and URLs are input errors on their field', () => {
    expect(createForge('gitlab', { url: gitlab.url, repo: 'group/sub/project' })).toBeInstanceOf(GitLabForge);
    expect(() => createForge('gitlab', { url: gitlab.url, repo: 'project' })).toThrow(/GROUP\/PROJECT/);
    expect(() => createForge('gitlab', { url: gitlab.url, repo: 'a/../b' })).toThrow(/GROUP\/PROJECT/);
    expect(() => createForge('gitlab', { url: 'ftp://x', repo: 'a/b' })).toThrow(/http\(s\) URL/);
    expect(gitlabApiRoot('https://gitlab.example.test/')).toBe('https://gitlab.example.test/api/v4');
    expect(gitlabApiRoot('https://gitlab.example.test/api/v4')).toBe('https://gitlab.example.test/api/v4');
  });

  it('any GROUP/PROJECT path is one URL-encoded path segment', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,8}$/), { minLength: 2, maxLength: 4 }), async (segments) => {
        const path = segments.join('/');
        const before = gitlab.requests.length;
        expect(await new GitLabForge({ baseUrl: gitlab.url, repository: path, token: TOKEN }).getPullRequest(1)).toBeUndefined();
        const sent = gitlab.requests[before]!.path;
        expect(sent).toBe(`/api/v4/projects/${segments.join('%2F')}/merge_requests/1`);
      }),
      { numRuns: 20 },
    );
  });

  it('serve.yaml takes forge.kind gitlab with a subgroup path and a token from the environment', () => {
    const c = validateServeConfig({ repo: 'gitops.git', signing: { key: 'key' }, forge: { kind: 'gitlab', url: 'http://127.0.0.1:1', repo: 'platform/infra/gitops', token: { env: 'GITLAB_TOKEN' } } }, 'serve.yaml', '/etc/arbiter', { GITLAB_TOKEN: 'glpat' });
    expect(c.forge).toMatchObject({ kind: 'gitlab', repo: 'platform/infra/gitops', token: 'glpat' });
    expect(() => validateServeConfig({ repo: 'gitops.git', signing: { key: 'key' }, forge: { kind: 'gitlab', url: 'http://127.0.0.1:1', repo: 'gitops' } }, 'serve.yaml', '/etc/arbiter', {})).toThrow(/forge\.repo/);
  });

  it('reads the token from ARBITER_GITLAB_TOKEN, then GITLAB_TOKEN, then ARBITER_GIT_TOKEN', () => {
    expect(forgeToken('gitlab', { ARBITER_GITLAB_TOKEN: 'a', GITLAB_TOKEN: 'b', ARBITER_GIT_TOKEN: 'c' })).toBe('a');
    expect(forgeToken('gitlab', { GITLAB_TOKEN: 'b', ARBITER_GIT_TOKEN: 'c', ARBITER_GITHUB_TOKEN: 'g' })).toBe('b');
    expect(forgeToken('gitlab', { ARBITER_GIT_TOKEN: 'c', ARBITER_GITHUB_TOKEN: 'g' })).toBe('c');
    expect(forgeToken('github', { GITLAB_TOKEN: 'b', ARBITER_GITHUB_TOKEN: 'g' })).toBe('g');
    expect(forgeToken('gitlab', {})).toBeUndefined();
  });
});

describe('reconcile with a GitLab merge request', () => {
  const T0 = '2026-11-21T02:13:00Z';
  const CONFIG = 'apps/checkout/base/configmap.yaml';
  const core = { ...stubCore({ mode: 'approval' }), planAction, getAction };
  const signer = sshSigner(key.privateKey);
  let n = 0;
  function freshRepo(): { bare: string; name: string; forge: GitLabForge } {
    const name = `acme/rec-${n}`;
    const dir = `${tmp.path}/rec-${n++}.git`;
    seedBareRepository(dir, [{ message: 'initial GitOps tree', files: Object.fromEntries(shopTree().files) }]);
    repos[name] = dir;
    return { bare: dir, name, forge: new GitLabForge({ baseUrl: gitlab.url, repository: name, token: TOKEN }) };
  }
  const diag = (incident: string): Diagnosis =>
    ({
      apiVersion: 'arbiter.dev/v1', kind: 'Diagnosis', id: `diag-${incident}`, incident, observedAt: T0, source: 'heuristics',
      target: { service: 'checkout', namespace: 'shop' },
      hypotheses: [{ cause: 'pool-exhaustion', confidence: 0.6, evidence: ['db wait'], suggestedActions: [{ kind: 'set-config', params: { configMap: 'checkout-config', key: 'DB_POOL_SIZE', value: 40, revertAfter: '30m' } }] }],
    }) as Diagnosis;

  it('waits while the MR is open and starts the revert clock at the merge', async () => {
    const r = freshRepo();
    const { decision, actuation } = await act({ diagnosis: diag('INC-501'), bundle: stubBundle, repo: r.bare, signer, core, now: T0, forge: r.forge });
    expect(actuation.pullRequest?.number).toBe(1);
    const open = await reconcile({ repo: r.bare, now: '2026-11-21T09:00:00Z', signer, forge: r.forge });
    expect(open.steps).toEqual([]);
    expect(open.pending[0]!.detail).toMatch(/awaiting the merge of pull request #1/);

    gitlab.mergeRequest(r.name, 1, { at: '2026-11-21T10:00:00Z' });
    const early = await reconcile({ repo: r.bare, now: '2026-11-21T10:29:59Z', signer, forge: r.forge });
    expect(early.steps).toEqual([]);
    expect(early.pending).toMatchObject([{ decision: decision.id, kind: 'revert', due: '2026-11-21T10:30:00Z' }]);
    const done = await reconcile({ repo: r.bare, now: '2026-11-21T10:30:00Z', signer, forge: r.forge });
    expect(done.steps).toMatchObject([{ decision: decision.id, kind: 'revert', outcome: 'done', changed: [CONFIG] }]);
    expect(git(r.bare, ['show', `main:${CONFIG}`])).toBe(shopTree().read(CONFIG));
  });

  it('arbiter reconcile --forge gitlab (GITLAB_TOKEN) cancels the follow-up of a closed MR', async () => {
    const r = freshRepo();
    const { decision } = await act({ diagnosis: diag('INC-502'), bundle: stubBundle, repo: r.bare, signer, core, now: T0, forge: r.forge });
    gitlab.closeMergeRequest(r.name, 1, '2026-11-21T03:00:00Z');
    const saved = { ...process.env };
    const out: string[] = [];
    const w = process.stdout.write.bind(process.stdout);
    process.env.GITLAB_TOKEN = TOKEN;
    delete process.env.ARBITER_GITLAB_TOKEN;
    delete process.env.ARBITER_GIT_TOKEN;
    process.stdout.write = ((c: string) => (out.push(String(c)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['reconcile', '--repo', r.bare, '--signing-key', key.privateKeyFile, '--now', '2026-11-21T04:00:00Z', '--forge', 'gitlab', '--forge-url', gitlab.url, '--forge-repo', r.name, '--json']);
    } finally {
      process.stdout.write = w;
      process.env = saved;
    }
    expect(code).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ steps: [{ decision: decision.id, outcome: 'cancelled' }], pending: [] });
    expect(gitlab.requests.filter((q) => q.path === `/api/v4/projects/${encodeURIComponent(r.name)}/merge_requests/1`).length).toBeGreaterThan(0);
  });
});
