// `arbiter act` and `arbiter audit` as real processes with the real decision core and the shipped bundle.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.ts';
import { filesOf, git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { skipWithout } from '../support/needs.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const SHOP = filesOf('scenarios/fixtures/shop');
const MEMLEAK = 'policies/remediation/examples/memory-leak-off-hours.yaml';
/** The cart twin of the checkout memory-leak example: a different service, so both processes act. */
const CART_MEMLEAK = `apiVersion: arbiter.dev/v1
kind: Diagnosis
id: diag-cart-memleak-0213
incident: INC-5120
observedAt: 2026-11-21T02:13:00Z
target: { service: cart, namespace: shop, environment: production }
hypotheses:
  - cause: memory-leak
    confidence: 0.91
    evidence: [working set grew linearly for 6h]
    subject: { kind: Deployment, name: cart, namespace: shop }
`;
let server: GitHttpServer;
let n = 0;

beforeAll(async () => {
  server = await startGitHttpServer({ root: `${tmp.path}/srv` });
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
});

function arbiter(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/arbiter', ...args], { env: { ...process.env, XDG_CACHE_HOME: `${tmp.path}/xdg`, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function shop(root = tmp.path): string {
  const bare = `${root}/shop-${n++}.git`;
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: SHOP }]);
  return bare;
}

const actArgs = (repo: string, diagnosis = MEMLEAK) => ['act', '--diagnosis', diagnosis, '--repo', repo, '--signing-key', key.privateKeyFile, '--now', '2026-11-21T02:13:00Z', '--json'];

describe('arbiter act (CLI, shipped bundle)', () => {
  it('acts, prints {decision, actuation}, and a replay is a no-op', async () => {
    const bare = shop();
    const first = await arbiter(actArgs(bare));
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(Object.keys(out).sort()).toEqual(['actuation', 'decision']);
    expect(out.decision.mode).toBe('auto');
    expect(out.actuation.commit).toBe(git(bare, ['rev-parse', 'main']).trim());
    expect(gitStatus(bare, [...key.gitConfig, 'verify-commit', 'main']).status).toBe(0);
    expect(gitStatus(bare, [...key.gitConfig, 'verify-commit', LEDGER_BRANCH]).status).toBe(0);
    const refs = git(bare, ['for-each-ref']);
    const again = await arbiter(actArgs(bare));
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).actuation).toMatchObject({ repeated: true, commit: out.actuation.commit });
    expect(git(bare, ['for-each-ref'])).toBe(refs);
  });

  it('ARBITER_KUBECTL="" skips the render check and the actuation notes say so', async () => {
    const skipped = await arbiter(actArgs(shop()), { ARBITER_KUBECTL: '' });
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(JSON.parse(skipped.stdout).actuation.notes).toContain('render check skipped: kubectl not found');
  });

  it('without ARBITER_KUBECTL the render check runs', async (ctx) => {
    skipWithout(ctx, 'kubectl');
    const checked = await arbiter(actArgs(shop()));
    expect(checked.code, checked.stderr).toBe(0);
    expect(JSON.parse(checked.stdout).actuation.notes).not.toContain('render check skipped: kubectl not found');
  });

  it('exits 2 on bad input and changes no ref and writes no object', async () => {
    const bare = shop();
    const bad = `${tmp.path}/bad.yaml`;
    writeFileSync(bad, 'apiVersion: arbiter.dev/v1\nkind: Diagnosis\nid: x\nincident: "../../etc"\n');
    const refs = git(bare, ['for-each-ref']);
    const objects = git(bare, ['count-objects', '-v']);
    const r = await arbiter(actArgs(bare, bad));
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(git(bare, ['for-each-ref'])).toBe(refs);
    expect(git(bare, ['count-objects', '-v'])).toBe(objects);
    const noKey = await arbiter(['act', '--diagnosis', MEMLEAK, '--repo', bare, '--signing-key', `${tmp.path}/missing`]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--signing-key/);
  });

  it('two concurrent `node bin/arbiter act` processes against the loopback server both land', async () => {
    const bare = shop(`${tmp.path}/srv`);
    const url = server.repoUrl(bare.slice(bare.lastIndexOf('/') + 1));
    const cart = `${tmp.path}/cart.yaml`;
    writeFileSync(cart, CART_MEMLEAK);
    const [a, b] = await Promise.all([
      arbiter([...actArgs(url, MEMLEAK), '--cache-dir', `${tmp.path}/cache-a`]),
      arbiter([...actArgs(url, cart), '--cache-dir', `${tmp.path}/cache-b`]),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ra = JSON.parse(a.stdout);
    const rb = JSON.parse(b.stdout);
    expect([ra.decision.mode, rb.decision.mode]).toEqual(['auto', 'auto']);
    const log = git(bare, ['log', '--format=%H', 'main']).trim().split('\n');
    expect(log).toHaveLength(3);
    expect(log).toEqual(expect.arrayContaining([ra.actuation.commit, rb.actuation.commit]));
    expect(git(bare, ['log', '--format=%H', LEDGER_BRANCH]).trim().split('\n')).toHaveLength(2);
    const audit = await arbiter(['audit', '--repo', url, '--allowed-signers', key.allowedSignersFile, '--cache-dir', `${tmp.path}/cache-audit`]);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
  });
});

describe('arbiter act --forge github (CLI)', () => {
  it('opens the pull request for an approval decision through the GitHub API stand-in', async () => {
    const { startGitHubStandin } = await import('../support/github-standin.ts');
    const bare = `${tmp.path}/srv/freeze.git`;
    const overlay = 'apps/checkout/overlays/production/kustomization.yaml';
    seedBareRepository(bare, [
      { message: 'initial GitOps tree', files: SHOP },
      { message: 'hotfix: checkout 1.4.2', files: { [overlay]: SHOP[overlay]!.replace('newTag: "1.4.1"', 'newTag: "1.4.2"') } },
    ]);
    const github = await startGitHubStandin({ repos: { 'acme/shop': bare }, token: 'gh-token' });
    try {
      const r = await arbiter(
        ['act', '--diagnosis', 'policies/remediation/examples/change-freeze.yaml', '--repo', server.repoUrl('freeze.git'), '--signing-key', key.privateKeyFile,
          '--forge', 'github', '--forge-url', github.url, '--forge-repo', 'acme/shop', '--cache-dir', `${tmp.path}/cache-freeze`, '--json'],
        { ARBITER_GITHUB_TOKEN: 'gh-token' },
      );
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.decision.mode).toBe('approval');
      const [pr] = github.pulls('acme/shop');
      expect(out.actuation.pullRequest.number).toBe(pr!.number);
      expect(pr!.head).toBe(out.actuation.branch);
      expect(pr!.labels).toContain('action:rollback');
      expect(pr!.reviewers).toEqual(['team-checkout']);
      expect(git(bare, ['show', `${out.actuation.branch}:${overlay}`])).toContain('newTag: "1.4.1"');
      expect(gitStatus(bare, [...key.gitConfig, 'verify-commit', out.actuation.branch]).status).toBe(0);
    } finally {
      await github.close();
    }
  });
});

describe('arbiter audit (CLI)', () => {
  it('passes on arbiter-made history and fails (exit 1) on an unsigned commit with Arbiter- trailers', async () => {
    const bare = shop();
    expect((await arbiter(actArgs(bare))).code).toBe(0);
    const ok = await arbiter(['audit', '--repo', bare, '--allowed-signers', key.allowedSignersFile, '--json']);
    expect(ok.code, ok.stdout).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report.decisions).toHaveLength(1);
    expect(report.decisions[0].signer).toBe('arbiter@arbiter.invalid');

    const tree = git(bare, ['rev-parse', 'main^{tree}']).trim();
    const forged = git(bare, ['commit-tree', tree, '-p', 'main', '-m', 'arbiter(cart): restart\n\nArbiter-Decision: dec-forged\nArbiter-Mode: auto'], {}).trim();
    git(bare, ['update-ref', 'refs/heads/main', forged]);
    const bad = await arbiter(['audit', '--repo', bare, '--allowed-signers', key.allowedSignersFile]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/ERROR unsigned/);
  });

  it('exits 2 when the allowed-signers file is missing', async () => {
    const r = await arbiter(['audit', '--repo', shop(), '--allowed-signers', `${tmp.path}/nope`]);
    expect(r.code).toBe(2);
  });
});
