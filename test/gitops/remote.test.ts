import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act } from '../../app/act.ts';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.ts';
import { git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore } from './stub-core.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
let server: GitHttpServer;
let n = 0;

beforeAll(async () => {
  server = await startGitHttpServer({ root: `${tmp.path}/srv`, auth: { username: 'bot', password: 's3cret' } });
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
});

function freshRemote(): { bare: string; url: string } {
  const name = `shop-${n++}.git`;
  const bare = `${tmp.path}/srv/${name}`;
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: SHOP_FILES }]);
  return { bare, url: server.repoUrl(name) };
}

const credentials = { username: 'bot', password: 's3cret' };

describe('act on a smart-HTTP remote', () => {
  it('clones into the cache, commits, pushes main and the ledger with credentials from the environment', async () => {
    const { bare, url } = freshRemote();
    process.env.ARBITER_GIT_USERNAME = credentials.username;
    process.env.ARBITER_GIT_PASSWORD = credentials.password;
    try {
      const { actuation } = await act({ diagnosis: diagnosis(), bundle: stubBundle, repo: url, cacheDir: `${tmp.path}/cache`, signer: sshSigner(key.privateKey), core: stubCore(), now: '2026-11-21T02:13:00Z' });
      expect(git(bare, ['rev-parse', 'main']).trim()).toBe(actuation.commit);
      expect(git(bare, ['rev-parse', LEDGER_BRANCH]).trim()).toBe(actuation.ledgerCommit);
      expect(gitStatus(bare, [...key.gitConfig, 'verify-commit', 'main']).status).toBe(0);
      expect(gitStatus(bare, ['fsck', '--strict']).status).toBe(0);
    } finally {
      delete process.env.ARBITER_GIT_USERNAME;
      delete process.env.ARBITER_GIT_PASSWORD;
    }
  });

  it('without credentials the server refuses and nothing changes', async () => {
    const { bare, url } = freshRemote();
    const before = git(bare, ['for-each-ref']);
    await expect(act({ diagnosis: diagnosis(), bundle: stubBundle, repo: url, cacheDir: `${tmp.path}/cache-anon`, signer: sshSigner(key.privateKey), core: stubCore() })).rejects.toThrow();
    expect(git(bare, ['for-each-ref'])).toBe(before);
  });
});

function actProcess(url: string, cacheDir: string, d: object): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/gitops/act-process.ts', url, cacheDir, key.privateKeyFile, JSON.stringify(d)], {
      env: { ...process.env, ARBITER_GIT_USERNAME: credentials.username, ARBITER_GIT_PASSWORD: credentials.password },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('concurrency: two arbiter processes acting on one remote', () => {
  it('both land, in some order, through fetch → re-plan → commit → push retries', async () => {
    const { bare, url } = freshRemote();
    const results = await Promise.all([
      actProcess(url, `${tmp.path}/cache-a`, diagnosis({ id: 'a', incident: 'INC-A', service: 'checkout' })),
      actProcess(url, `${tmp.path}/cache-b`, diagnosis({ id: 'b', incident: 'INC-B', service: 'payments' })),
    ]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    process.stderr.write(`concurrent act logs: ${results.map((r) => r.stderr.trim() || "(no retry)").join(" | ")}\n`);
    const [a, b] = results.map((r) => JSON.parse(r.stdout));
    const mainLog = git(bare, ['log', '--format=%H', 'main']).trim().split('\n');
    expect(mainLog).toContain(a.actuation.commit);
    expect(mainLog).toContain(b.actuation.commit);
    expect(mainLog).toHaveLength(3);
    const ledger = git(bare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH]);
    expect(ledger).toContain(`${a.decision.id}.json`);
    expect(ledger).toContain(`${b.decision.id}.json`);
    expect(git(bare, ['log', '--format=%H', LEDGER_BRANCH]).trim().split('\n')).toHaveLength(2);
    expect(git(bare, ['diff', '--name-only', 'main~2', 'main']).trim().split('\n').sort()).toEqual(['apps/checkout/deployment.yaml', 'apps/payments/deployment.yaml']);
  });
});
