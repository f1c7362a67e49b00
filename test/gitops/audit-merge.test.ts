// Audit after a reviewer merges arbiter's pull request: a squash or merge commit carries the PR's trailers but is not
// signed by arbiter (GitHub signs squashes with its own key, or nobody does). That is a reviewed merge, not a forgery —
// as long as the ledger recorded the pull request for that decision and key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act } from '../../app/act.ts';
import { audit, type AuditReport } from '../../gitops/audit.ts';
import { GitHubForge } from '../../gitops/forge/github.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { startGitHubStandin, type GitHubStandin } from '../support/github-standin.ts';
import { git, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore } from './stub-core.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const TOKEN = 't0ken';
const repos: Record<string, string> = {};
let github: GitHubStandin;
let n = 0;

beforeAll(async () => {
  github = await startGitHubStandin({ repos, token: TOKEN });
});
afterAll(async () => {
  await github?.close();
  tmp.cleanup();
});

const errors = (r: AuditReport) => r.findings.filter((f) => f.severity === 'error').map((f) => f.kind);
const infos = (r: AuditReport) => r.findings.filter((f) => f.severity === 'info').map((f) => f.kind);

async function approvedPullRequest(): Promise<{ bare: string; name: string; number: number; trailers: string }> {
  const name = `acme/shop-${n}`;
  const bare = `${tmp.path}/shop-${n++}.git`;
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: SHOP_FILES }]);
  repos[name] = bare;
  const forge = new GitHubForge({ baseUrl: github.url, repository: name, token: TOKEN });
  const { actuation } = await act({
    diagnosis: diagnosis({ incident: `INC-${n}` }), bundle: stubBundle, repo: bare, signer: sshSigner(key.privateKey),
    core: stubCore({ mode: 'approval' }), now: '2026-11-21T02:13:00Z', forge,
  });
  const number = actuation.pullRequest?.number;
  if (number === undefined || !actuation.commit) throw new Error('approval mode should have opened a pull request');
  const trailers = git(bare, ['log', '-1', '--format=%(trailers)', actuation.commit]);
  return { bare, name, number, trailers };
}

describe('audit of reviewer-merged pull requests', () => {
  it('accepts a squash merge of arbiter\'s pull request and reports it as a reviewed merge', async () => {
    const pr = await approvedPullRequest();
    const squash = github.mergePull(pr.name, pr.number, { method: 'squash', at: '2026-11-21T09:00:00Z' });
    expect(git(pr.bare, ['log', '-1', '--format=%(trailers:key=Arbiter-Mode,valueonly)', squash]).trim()).toBe('approval');
    const report = await audit({ repo: pr.bare, allowedSigners: key.allowedSignersFile });
    expect(errors(report)).toEqual([]);
    expect(infos(report)).toEqual(['reviewed-merge']);
    expect(report.ok).toBe(true);
  });

  it('accepts a merge commit: arbiter\'s own signed commit stays in the history', async () => {
    const pr = await approvedPullRequest();
    github.mergePull(pr.name, pr.number, { method: 'merge', at: '2026-11-21T09:00:00Z' });
    const report = await audit({ repo: pr.bare, allowedSigners: key.allowedSignersFile });
    expect(errors(report)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('still fails an unsigned commit whose trailers name a decision the ledger never sent for review', async () => {
    const pr = await approvedPullRequest();
    const forged = pr.trailers.replace(/^Arbiter-Decision: .*$/m, 'Arbiter-Decision: dec-0000000000000000');
    const work = `${tmp.path}/work-${n++}`;
    git(tmp.path, ['clone', '-q', pr.bare, work]);
    git(work, ['commit', '-q', '--allow-empty', '-m', `arbiter(checkout): restart deployment checkout\n\n${forged}`]);
    git(work, ['push', '-q', 'origin', 'HEAD:main']);
    const report = await audit({ repo: pr.bare, allowedSigners: key.allowedSignersFile });
    expect(errors(report)).toContain('unsigned');
    expect(report.ok).toBe(false);
  });
});
