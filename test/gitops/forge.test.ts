import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act } from '../../app/act.ts';
import { pullRequestBranch } from '../../gitops/forge/forge.ts';
import { GitHubForge, splitReviewers } from '../../gitops/forge/github.ts';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.ts';
import { startGitHubStandin, type GitHubStandin } from '../support/github-standin.ts';
import { git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore } from './stub-core.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const bare = `${tmp.path}/srv/shop.git`;
let server: GitHttpServer;
let github: GitHubStandin;

beforeAll(async () => {
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: SHOP_FILES }]);
  server = await startGitHttpServer({ root: `${tmp.path}/srv` });
  github = await startGitHubStandin({ repos: { 'acme/shop': bare }, token: 'gh-t0ken' });
});
afterAll(async () => {
  await server.close();
  await github.close();
  tmp.cleanup();
});

const forge = () => new GitHubForge({ baseUrl: github.url, repository: 'acme/shop', token: 'gh-t0ken' });
const approval = (id = 'diag-pr') => act({
  diagnosis: diagnosis({ id, incident: 'INC-7', confidence: 0.5 }),
  bundle: stubBundle,
  repo: server.repoUrl('shop.git'),
  cacheDir: `${tmp.path}/cache`,
  signer: sshSigner(key.privateKey),
  core: stubCore(),
  forge: forge(),
  now: '2026-11-21T02:13:00Z',
});

function parseTrailerBlock(text: string): Record<string, string> {
  const parsed = git(tmp.path, ['interpret-trailers', '--parse'], { input: text });
  return Object.fromEntries(parsed.trim().split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
}

describe('approval mode opens a pull request through the forge', () => {
  it('pushes a signed commit to arbiter/<incident>/<kind>-<key8> and opens the PR as §6 says', async () => {
    const main = git(bare, ['rev-parse', 'main']).trim();
    const { decision, actuation } = await approval();
    expect(decision.mode).toBe('approval');
    const branch = pullRequestBranch('INC-7', 'restart', decision.idempotencyKey);
    expect(branch).toBe(`arbiter/INC-7/restart-${decision.idempotencyKey.slice(7, 15)}`);
    expect(actuation.branch).toBe(branch);
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(main);
    expect(git(bare, ['rev-parse', branch]).trim()).toBe(actuation.commit);
    expect(gitStatus(bare, [...key.gitConfig, 'verify-commit', branch]).status).toBe(0);

    const [pr, ...others] = github.pulls('acme/shop');
    expect(others).toHaveLength(0);
    expect(actuation.pullRequest).toEqual({ number: pr!.number, url: `https://github.invalid/acme/shop/pull/${pr!.number}` });
    expect(pr!.head).toBe(branch);
    expect(pr!.headSha).toBe(actuation.commit);
    expect(pr!.base).toBe('main');
    expect(pr!.title).toBe(git(bare, ['log', '-1', '--format=%s', branch]).trim());
    expect(pr!.labels).toEqual(['arbiter', 'risk:low', 'action:restart']);
    expect(pr!.reviewers).toEqual(['alice']);
    expect(pr!.teamReviewers).toEqual(['team-checkout']);
    for (const section of ['## Summary', '## Hypotheses', '## Evidence', '## Policy verdicts', '## Conflict resolution', '## Guardrails', '## Changes', '## Rollback', '## Verification']) {
      expect(pr!.body).toContain(section);
    }
    expect(pr!.body).toContain('OOMKilled 3 times in 1h');
    expect(parseTrailerBlock(pr!.body)).toMatchObject({ 'Arbiter-Idempotency-Key': decision.idempotencyKey, 'Arbiter-Mode': 'approval', 'Arbiter-Action': 'restart' });
    const entry = JSON.parse(git(bare, ['show', `${LEDGER_BRANCH}:decisions/2026/11/21/${decision.id}.json`]));
    // the proposal (path → blob id on the pull request branch) is what audit compares a reviewer's merge with
    const proposal = { 'apps/checkout/deployment.yaml': git(bare, ['rev-parse', `${branch}:apps/checkout/deployment.yaml`]).trim() };
    expect(entry.actuation).toEqual({ commit: actuation.commit, branch, pullRequest: actuation.pullRequest, proposal });
  });

  it('a repeat opens no second pull request and moves no ref', async () => {
    const refs = git(bare, ['for-each-ref']);
    const posts = github.requests.filter((r) => r.method !== 'GET').length;
    const again = await approval('diag-pr-2');
    expect(again.actuation.repeated).toBe(true);
    expect(git(bare, ['for-each-ref'])).toBe(refs);
    expect(github.pulls('acme/shop')).toHaveLength(1);
    expect(github.requests.filter((r) => r.method !== 'GET').length).toBe(posts);
  });

  it('when the ledger lost the entry, the open PR is found by key and recorded, not duplicated', async () => {
    git(bare, ['update-ref', '-d', `refs/heads/${LEDGER_BRANCH}`]);
    const again = await approval('diag-pr-3');
    expect(again.actuation.foundIn).toBe('pull-request');
    expect(github.pulls('acme/shop')).toHaveLength(1);
    expect(git(bare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH])).toContain(`${again.decision.id}.json`);
  });
});

describe('GitHubForge', () => {
  it('updates the open PR for the same branch instead of opening another', async () => {
    const f = forge();
    const spec = { branch: 'arbiter/INC-7/restart-' + github.pulls('acme/shop')[0]!.head.split('-').pop(), base: 'main', title: 't', body: 'first\n\nArbiter-Idempotency-Key: sha256:x\n', labels: ['arbiter'], reviewers: [], idempotencyKey: 'sha256:x' };
    const first = await f.openOrUpdatePullRequest(spec);
    const second = await f.openOrUpdatePullRequest({ ...spec, body: 'second\n\nArbiter-Idempotency-Key: sha256:x\n' });
    expect(first.created).toBe(false);
    expect(second.number).toBe(first.number);
    expect(github.pulls('acme/shop')).toHaveLength(1);
    expect(github.pulls('acme/shop')[0]!.body).toMatch(/^second/);
  });

  it('retries a transient server error', async () => {
    github.failNext(502, 1);
    const found = await forge().findOpenPullRequest({ idempotencyKey: 'sha256:none' });
    expect(found).toBeUndefined();
    expect(github.requests.at(-1)!.method).toBe('GET');
    expect(github.requests.filter((r) => r.path.startsWith('/repos/acme/shop/pulls?')).length).toBeGreaterThanOrEqual(2);
  });

  it('splits catalog owners into users and teams', () => {
    expect(splitReviewers(['alice', '@acme/sre', 'acme/payments'])).toEqual({ reviewers: ['alice'], team_reviewers: ['sre', 'payments'] });
  });
});
