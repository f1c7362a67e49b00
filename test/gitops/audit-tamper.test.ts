// Audit cannot be fooled (issue 10): every tamper below exits 1, and clean histories with human commits exit 0.
// Each forged commit is first shown to carry an Arbiter- trailer as the stock `git` reads it, so the test is about
// what git sees, not about arbiter's own parser.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { act } from '../../app/act.ts';
import { audit, formatAuditReport, type AuditReport } from '../../gitops/audit.ts';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { git, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore } from './stub-core.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const key = sshTestKey(tmp.path);
const signer = sshSigner(key.privateKey);
let n = 0;

const errors = (r: AuditReport) => r.findings.filter((f) => f.severity === 'error').map((f) => f.kind);

async function decided(count: number): Promise<string> {
  const bare = `${tmp.path}/shop-${n++}.git`;
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: SHOP_FILES }]);
  for (let i = 0; i < count; i++) {
    await act({ diagnosis: diagnosis({ id: `d${i}`, incident: `INC-${i}` }), bundle: stubBundle, repo: bare, signer, core: stubCore(), now: `2026-11-21T02:1${i}:00Z` });
  }
  return bare;
}

/** A clone to commit in as a human would, pushed back to main. */
function asHuman(bare: string, work: (dir: string) => void): void {
  const dir = `${tmp.path}/work-${n++}`;
  git(tmp.path, ['clone', '-q', bare, dir]);
  work(dir);
  git(dir, ['push', '-q', 'origin', 'HEAD:main']);
}

function humanCommit(bare: string, message: string, files: Record<string, string | null> = {}): void {
  asHuman(bare, (dir) => {
    for (const [path, content] of Object.entries(files)) {
      if (content === null) git(dir, ['rm', '-q', path]);
      else {
        spawnSync('mkdir', ['-p', `${dir}/${path.split('/').slice(0, -1).join('/')}`]);
        spawnSync('sh', ['-c', `cat > "${dir}/${path}"`], { input: content });
        git(dir, ['add', path]);
      }
    }
    git(dir, ['commit', '-q', '--allow-empty', '--cleanup=verbatim', '-F', '-'], { input: message });
  });
}

/** The Arbiter- trailers the stock git reads in the tip commit of main. */
const gitReadsArbiterTrailers = (bare: string): string[] =>
  git(bare, ['log', '-1', '--format=%(trailers:only,unfold)', 'main']).split('\n').filter((l) => /^arbiter-/i.test(l));

function cli(bare: string): { code: number; out: string } {
  const r = spawnSync(process.execPath, ['bin/arbiter', 'audit', '--repo', bare, '--allowed-signers', key.allowedSignersFile], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: `${tmp.path}/xdg` } });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

const check = async (bare: string) => audit({ repo: bare, allowedSigners: key.allowedSignersFile });

describe('unsigned commits that git reads as carrying Arbiter- trailers', () => {
  it.each([
    ['Signed-off-by plus free text (git\'s 25% rule)', 'restart checkout\n\nSigned-off-by: mallory <m@x>\nArbiter-Action: restart\nArbiter-Mode: auto\nthis line is free text\nso is this one\n'],
    ['a space before the colon', 'restart checkout\n\nArbiter-Action : restart\n'],
    ['lower-case keys', 'restart checkout\n\narbiter-mode: auto\narbiter-action: restart\n'],
    ['upper-case keys and a continuation line', 'restart checkout\n\nARBITER-DECISION: d0\n  continued\n'],
    ['a trailing comment block', 'restart checkout\n\nArbiter-Mode: auto\n\n# comment\n'],
    ['CRLF line ends', 'restart checkout\r\n\r\nArbiter-Mode: auto\r\n'],
  ])('%s', async (_name, message) => {
    const bare = await decided(1);
    humanCommit(bare, message, { 'apps/checkout/deployment.yaml': 'kind: Deployment\nimage: evil.example/miner:latest\n' });
    expect(gitReadsArbiterTrailers(bare).length).toBeGreaterThan(0);
    const report = await check(bare);
    expect(errors(report)).toEqual(['unsigned']);
    expect(cli(bare).code).toBe(1);
  });
});

describe('the ledger cannot be cut or removed', () => {
  it('truncation from the top (the latest entries cut) fails: their commits on main have no entry', async () => {
    const bare = await decided(3);
    git(bare, ['update-ref', `refs/heads/${LEDGER_BRANCH}`, `${LEDGER_BRANCH}~1`]);
    const report = await check(bare);
    expect(errors(report)).toEqual(['unrecorded-actuation']);
    expect(cli(bare).code).toBe(1);
  });

  it('cutting every entry but keeping the branch as an empty signed-looking commit fails', async () => {
    const bare = await decided(2);
    const empty = git(bare, ['commit-tree', git(bare, ['hash-object', '-t', 'tree', '-w', '--stdin'], { input: '' }).trim(), '-m', 'ledger\n\nArbiter-Ledger-Seq: 1']).trim();
    git(bare, ['update-ref', `refs/heads/${LEDGER_BRANCH}`, empty]);
    expect(errors(await check(bare))).toEqual(expect.arrayContaining(['unsigned', 'unrecorded-actuation']));
  });

  it('cutting entries that wrote no commit (escalations) is caught by the checkpoint an earlier audit printed', async () => {
    const bare = await decided(1);
    await act({ diagnosis: diagnosis({ id: 'esc', incident: 'INC-E', kind: null }), bundle: stubBundle, repo: bare, signer, core: stubCore(), now: '2026-11-21T03:00:00Z' });
    const first = await check(bare);
    expect(first.ok).toBe(true);
    const head = first.ledger.tip!;
    expect(formatAuditReport(first)).toContain(`ledger head ${head}`);
    git(bare, ['update-ref', `refs/heads/${LEDGER_BRANCH}`, `${LEDGER_BRANCH}~1`]);
    // without the checkpoint the cut is invisible: nothing on main refers to an escalation
    expect((await check(bare)).ok).toBe(true);
    const withCheckpoint = await audit({ repo: bare, allowedSigners: key.allowedSignersFile, expectLedger: head });
    expect(errors(withCheckpoint)).toEqual(['rewritten-history']);
    const run = spawnSync(process.execPath, ['bin/arbiter', 'audit', '--repo', bare, '--allowed-signers', key.allowedSignersFile, '--expect-ledger', head], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: `${tmp.path}/xdg` } });
    expect(run.stdout).toMatch(/no longer holds/);
    expect(run.status).toBe(1);
    const bad = spawnSync(process.execPath, ['bin/arbiter', 'audit', '--repo', bare, '--allowed-signers', key.allowedSignersFile, '--expect-ledger', 'HEAD'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--expect-ledger/);
  });

  it('deleting the ledger fails', async () => {
    const bare = await decided(1);
    git(bare, ['update-ref', '-d', `refs/heads/${LEDGER_BRANCH}`]);
    expect(errors(await check(bare))).toEqual(['unrecorded-actuation', 'missing-ledger']);
    expect(cli(bare).code).toBe(1);
  });
});

describe('reviewed merges of arbiter\'s pull requests (no forge configured)', () => {
  async function proposed(): Promise<{ bare: string; commit: string; branch: string }> {
    const bare = `${tmp.path}/shop-${n++}.git`;
    seedBareRepository(bare, [{ message: 'initial GitOps tree', files: SHOP_FILES }]);
    const { actuation } = await act({ diagnosis: diagnosis({ incident: 'INC:9' }), bundle: stubBundle, repo: bare, signer, core: stubCore({ mode: 'approval' }), now: '2026-11-21T02:13:00Z' });
    expect(actuation.proposal).toEqual({ 'apps/checkout/deployment.yaml': expect.stringMatching(/^[0-9a-f]{40}$/) });
    return { bare, commit: actuation.commit!, branch: actuation.branch! };
  }
  const squash = (pr: { bare: string; commit: string; branch: string }, extra?: (dir: string) => void) =>
    asHuman(pr.bare, (dir) => {
      git(dir, ['merge', '-q', '--squash', `origin/${pr.branch}`]);
      extra?.(dir);
      git(dir, ['commit', '-q', '-C', pr.commit]);
    });

  it('a human squash merge carrying the trailers passes as a reviewed merge', async () => {
    const pr = await proposed();
    squash(pr);
    expect(gitReadsArbiterTrailers(pr.bare).length).toBeGreaterThan(0);
    const report = await check(pr.bare);
    expect(report.findings.map((f) => `${f.severity} ${f.kind}`)).toEqual(['info reviewed-merge']);
    expect(cli(pr.bare).code).toBe(0);
  });

  it('a cherry-pick (rebase merge) of the proposal passes, even once the pull request branch is gone', async () => {
    const pr = await proposed();
    asHuman(pr.bare, (dir) => git(dir, ['cherry-pick', pr.commit]));
    git(pr.bare, ['update-ref', '-d', `refs/heads/${pr.branch}`]);
    expect((await check(pr.bare)).ok).toBe(true);
  });

  it('a "merge" that also deletes other services\' files fails', async () => {
    const pr = await proposed();
    squash(pr, (dir) => git(dir, ['rm', '-q', 'apps/payments/deployment.yaml', 'apps/other/deployment.yaml']));
    const report = await check(pr.bare);
    expect(errors(report)).toEqual(['unreviewed-change']);
    expect(report.findings[0]!.detail).toMatch(/apps\/other\/deployment\.yaml, apps\/payments\/deployment\.yaml/);
    expect(cli(pr.bare).code).toBe(1);
  });

  it('an unsigned commit reusing an approval\'s trailers with another change fails', async () => {
    const pr = await proposed();
    const message = git(pr.bare, ['log', '-1', '--format=%B', pr.commit]);
    humanCommit(pr.bare, message, { 'apps/payments/deployment.yaml': 'kind: Deployment\nimage: evil.example/miner:latest\n' });
    expect(errors(await check(pr.bare))).toEqual(['unreviewed-change']);
  });

  it('merging the same approval twice fails (a replay)', async () => {
    const pr = await proposed();
    squash(pr);
    humanCommit(pr.bare, 'revert\n', { 'apps/checkout/deployment.yaml': SHOP_FILES['apps/checkout/deployment.yaml']! });
    squash(pr);
    expect(errors(await check(pr.bare))).toEqual(['replayed-merge']);
  });

  it('trailers given twice with different values are not a reviewed merge', async () => {
    const pr = await proposed();
    asHuman(pr.bare, (dir) => {
      git(dir, ['merge', '-q', '--squash', `origin/${pr.branch}`]);
      const message = git(dir, ['log', '-1', '--format=%B', pr.commit]).trimEnd();
      git(dir, ['commit', '-q', '-F', '-'], { input: `${message}\narbiter-mode: auto\n` });
    });
    expect(errors(await check(pr.bare))).toEqual(['ambiguous-trailers']);
  });
});

describe('clean histories pass, and an empty one is not silently passed', () => {
  it('arbiter decisions interleaved with human commits (some with Signed-off-by) exit 0', async () => {
    const bare = await decided(1);
    humanCommit(bare, 'docs: mention the arbiter bot\n\nSigned-off-by: alice <a@x>\n', { 'README.md': 'arbiter acts here\n' });
    humanCommit(bare, 'bump payments\n\nReviewed-by: bob\nArbiter rules apply: see README\n', { 'apps/payments/deployment.yaml': 'kind: Deployment\n' });
    await act({ diagnosis: diagnosis({ id: 'd9', incident: 'INC-9' }), bundle: stubBundle, repo: bare, signer, core: stubCore(), now: '2026-11-21T03:00:00Z' });
    humanCommit(bare, 'chore: tidy\n');
    const report = await check(bare);
    expect(report.findings).toEqual([]);
    expect(report.arbiterCommitsOnBranch).toBe(2);
    const run = cli(bare);
    expect(run.out).toMatch(/audit passed/);
    expect(run.code).toBe(0);
  });

  it('a repository arbiter never wrote to says there is nothing to audit, and exits 1', async () => {
    const bare = `${tmp.path}/empty-${n++}.git`;
    seedBareRepository(bare, [{ message: 'initial', files: SHOP_FILES }, { message: 'human change\n\nSigned-off-by: a <a@x>', files: { 'x.txt': 'x\n' } }]);
    const report = await check(bare);
    expect(report.audited).toBe(false);
    expect(errors(report)).toEqual(['nothing-to-audit']);
    expect(formatAuditReport(report)).toMatch(/nothing to audit/);
    const run = cli(bare);
    expect(run.out).toMatch(/nothing to audit/);
    expect(run.code).toBe(1);
  });
});
