import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as openpgp from 'openpgp';
import { afterAll, describe, expect, it } from 'vitest';
import { act } from '../../app/act.ts';
import { audit, type AuditReport } from '../../gitops/audit.ts';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { openpgpSigner } from '../../gitops/sign/openpgp.ts';
import type { Signer } from '../../gitops/sign/signer.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { describeNeeding } from '../support/needs.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore } from './stub-core.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const key = sshTestKey(tmp.path);
let n = 0;

async function repoWithDecisions(count: number, signer: Signer = sshSigner(key.privateKey)): Promise<string> {
  const bare = `${tmp.path}/shop-${n++}.git`;
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: SHOP_FILES }]);
  for (let i = 0; i < count; i++) {
    await act({ diagnosis: diagnosis({ id: `d${i}`, incident: `INC-${i}`, kind: i === 1 ? null : 'restart' }), bundle: stubBundle, repo: bare, signer, core: stubCore(), now: `2026-11-21T02:1${i}:00Z` });
  }
  return bare;
}

const kinds = (r: AuditReport) => r.findings.filter((f) => f.severity === 'error').map((f) => f.kind);

describe('audit', () => {
  it('reconstructs the decision log and passes on arbiter-made history', async () => {
    const bare = await repoWithDecisions(3);
    const report = await audit({ repo: bare, allowedSigners: key.allowedSignersFile });
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.decisions.map((d) => d.mode)).toEqual(['auto', 'escalate', 'auto']);
    expect(report.ledger).toMatchObject({ commits: 3, entries: 3 });
    expect(report.arbiterCommitsOnBranch).toBe(2);
  });

  it('reports commits signed by a key that is not an allowed signer', async () => {
    const intruder = sshTestKey(tmp.path, `intruder${n}`);
    const bare = await repoWithDecisions(1, sshSigner(intruder.privateKey));
    const report = await audit({ repo: bare, allowedSigners: key.allowedSignersFile });
    expect(report.ok).toBe(false);
    expect(kinds(report)).toEqual(['unknown-signer', 'unknown-signer']);
  });

  it('reports an actuation commit that is no longer in the branch history, then one that is gone', async () => {
    const bare = await repoWithDecisions(1);
    git(bare, ['update-ref', 'refs/heads/main', 'main~1']);
    const rewritten = await audit({ repo: bare, allowedSigners: key.allowedSignersFile });
    expect(kinds(rewritten)).toEqual(['rewritten-history']);
    git(bare, ['reflog', 'expire', '--expire=now', '--all']);
    git(bare, ['gc', '-q', '--prune=now']);
    const missing = await audit({ repo: bare, allowedSigners: key.allowedSignersFile });
    expect(kinds(missing)).toEqual(['missing-actuation']);
  });

  it('reports a ledger with a commit cut out of its chain', async () => {
    const bare = await repoWithDecisions(3);
    const tree = git(bare, ['rev-parse', `${LEDGER_BRANCH}^{tree}`]).trim();
    const message = git(bare, ['log', '-1', '--format=%B', LEDGER_BRANCH]);
    const spliced = git(bare, ['commit-tree', tree, '-p', `${LEDGER_BRANCH}~2`, '-m', message]).trim();
    git(bare, ['update-ref', `refs/heads/${LEDGER_BRANCH}`, spliced]);
    const report = await audit({ repo: bare, allowedSigners: key.allowedSignersFile });
    expect(report.ok).toBe(false);
    expect(kinds(report)).toEqual(expect.arrayContaining(['unsigned', 'rewritten-history']));
    expect(report.findings.some((f) => /sequence 3 where/.test(f.detail) || /sequence/.test(f.detail))).toBe(true);
    expect(report.findings.some((f) => f.detail.includes('without the ledger commit'))).toBe(true);
  });

  // issue 10: deleting the ledger used to pass with a warning; every arbiter commit must have its ledger entry
  it('fails when the ledger branch is deleted: the arbiter commit on the branch has no ledger entry', async () => {
    const bare = await repoWithDecisions(1);
    git(bare, ['update-ref', '-d', `refs/heads/${LEDGER_BRANCH}`]);
    const report = await audit({ repo: bare, allowedSigners: key.allowedSignersFile });
    expect(report.ok).toBe(false);
    expect(report.findings.map((f) => `${f.severity} ${f.kind}`)).toEqual(['error unrecorded-actuation', 'error missing-ledger']);
  });
});

describeNeeding(['gpg'], 'OpenPGP signing', () => {
  it('commits verify with git verify-commit against a gpg keyring, and in-process in audit', async () => {
    const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name: 'arbiter', email: 'arbiter@arbiter.invalid' }], format: 'armored' });
    const bare = await repoWithDecisions(1, await openpgpSigner(privateKey));
    const gnupg = `${tmp.path}/gnupg`;
    mkdirSync(gnupg, { mode: 0o700 });
    execFileSync('gpg', ['--batch', '--quiet', '--import'], { input: publicKey, env: { ...process.env, GNUPGHOME: gnupg } });
    const verify = gitStatus(bare, ['verify-commit', 'main'], { env: { GNUPGHOME: gnupg } });
    expect(verify.stderr).toMatch(/Good signature/);
    expect(verify.status).toBe(0);
    expect(gitStatus(bare, ['verify-commit', LEDGER_BRANCH], { env: { GNUPGHOME: gnupg } }).status).toBe(0);
    const empty = `${tmp.path}/gnupg-empty`;
    mkdirSync(empty, { mode: 0o700 });
    expect(spawnSync('git', ['verify-commit', 'main'], { cwd: bare, env: { ...process.env, GNUPGHOME: empty } }).status).not.toBe(0);

    const signers = `${tmp.path}/pgp-signers`;
    writeFileSync(signers, publicKey);
    const report = await audit({ repo: bare, allowedSigners: signers });
    expect(report.findings).toEqual([]);
    expect(report.decisions[0]!.signer).toMatch(/^openpgp:[0-9A-F]{40}$/);
    const other = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name: 'x' }], format: 'armored' });
    writeFileSync(signers, other.publicKey);
    expect(kinds(await audit({ repo: bare, allowedSigners: signers }))).toEqual(['unknown-signer', 'unknown-signer']);
  });
});
