import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readCommit, writeCommit, writeTreeChanges } from '../../gitops/commit.ts';
import { Repository, ConcurrentUpdateError } from '../../gitops/repo.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const key = sshTestKey(tmp.path);
let n = 0;

function lsTree(bare: string, rev: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of git(bare, ['ls-tree', '-r', rev]).split('\n').filter(Boolean)) {
    const [meta, path] = line.split('\t');
    out[path!] = git(bare, ['cat-file', 'blob', meta!.split(' ')[2]!]);
  }
  return out;
}

describe('commits built from objects', () => {
  it('rewrites only the changed paths; git sees exactly the expected tree (any set of changes)', async () => {
    const segment = fc.constantFrom('apps', 'checkout', 'base', 'overlays', 'prod', 'a.yaml', 'b.yaml', 'k.yaml');
    const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(path, fc.option(fc.string({ maxLength: 20 }), { nil: null })), { maxLength: 8 }), async (changes) => {
        const bare = `${tmp.path}/prop-${n++}.git`;
        const initial = { 'apps/checkout/base/deploy.yaml': 'kind: Deployment\n', 'README.md': 'hi\n' };
        seedBareRepository(bare, [{ message: 'init', files: initial }]);
        const repo = await Repository.open(bare);
        const tip = (await repo.tip('main'))!;
        const expected: Record<string, string> = { ...initial };
        const applied: Array<{ path: string; content: string | null }> = [];
        for (const [p, content] of changes) {
          // a path that is a prefix of an existing file (or vice versa) is a file/directory conflict git forbids
          const clash = Object.keys(expected).some((e) => e !== p && (e.startsWith(`${p}/`) || p.startsWith(`${e}/`)));
          if (clash || applied.some((a) => a.path === p)) continue;
          applied.push({ path: p, content });
          if (content === null) delete expected[p];
          else expected[p] = content;
        }
        const tree = await writeTreeChanges(repo.store, (await readCommit(repo.store, tip)).tree, applied);
        const oid = await writeCommit(repo.store, { tree, parents: [tip], message: 'change\n' });
        await repo.updateBranch('main', oid, tip);
        expect(lsTree(bare, 'main')).toEqual(expected);
        expect(gitStatus(bare, ['fsck', '--strict']).status).toBe(0);
      }),
      { numRuns: 12 },
    );
  });

  it('signs commits that stock git verify-commit accepts', async () => {
    const bare = `${tmp.path}/signed.git`;
    seedBareRepository(bare, [{ message: 'init', files: { 'a.txt': 'a\n' } }]);
    const repo = await Repository.open(bare);
    const tip = (await repo.tip('main'))!;
    const tree = await writeTreeChanges(repo.store, (await readCommit(repo.store, tip)).tree, [{ path: 'apps/x/y.yaml', content: 'y: 1\n' }]);
    const oid = await writeCommit(repo.store, { tree, parents: [tip], message: 'arbiter(x): set y\n', signer: sshSigner(key.privateKey) });
    await repo.updateBranch('main', oid, tip);
    const verify = gitStatus(bare, [...key.gitConfig, 'verify-commit', '-v', 'main']);
    expect(verify.stderr).toMatch(/Good "git" signature/);
    expect(verify.status).toBe(0);
    const parsed = await readCommit(repo.store, oid);
    expect(parsed.signature).toMatch(/^-----BEGIN SSH SIGNATURE-----/);
    expect(git(bare, ['diff', '--name-only', tip, oid]).trim()).toBe('apps/x/y.yaml');
  });

  it('a commit signed by an unknown key fails git verify-commit', async () => {
    const bare = `${tmp.path}/unknown.git`;
    seedBareRepository(bare, [{ message: 'init', files: { 'a.txt': 'a\n' } }]);
    const other = sshTestKey(tmp.path, 'intruder');
    const repo = await Repository.open(bare);
    const tip = (await repo.tip('main'))!;
    const oid = await writeCommit(repo.store, { tree: (await readCommit(repo.store, tip)).tree, parents: [tip], message: 'x\n', signer: sshSigner(other.privateKey) });
    await repo.updateBranch('main', oid, tip);
    expect(gitStatus(bare, [...key.gitConfig, 'verify-commit', 'main']).status).not.toBe(0);
  });

  it('ref updates are compare-and-swap: a stale expected oid changes nothing', async () => {
    const bare = `${tmp.path}/cas.git`;
    const first = seedBareRepository(bare, [{ message: 'one', files: { 'a.txt': '1\n' } }, { message: 'two', files: { 'a.txt': '2\n' } }]);
    const repo = await Repository.open(bare);
    const parent = git(bare, ['rev-parse', 'main~1']).trim();
    const oid = await writeCommit(repo.store, { tree: (await readCommit(repo.store, parent)).tree, parents: [parent], message: 'stale\n' });
    await expect(repo.updateBranch('main', oid, parent)).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(first);
    expect(gitStatus(bare, ['show-ref', '--verify', 'refs/heads/main.lock']).status).not.toBe(0);
  });

  it('refuses to move a branch checked out in a work tree', async () => {
    const work = `${tmp.path}/work`;
    git(tmp.path, ['init', '-q', '-b', 'main', work]);
    git(work, ['commit', '-q', '--allow-empty', '-m', 'init']);
    const repo = await Repository.open(work);
    const tip = (await repo.tip('main'))!;
    const oid = await writeCommit(repo.store, { tree: (await readCommit(repo.store, tip)).tree, parents: [tip], message: 'x\n' });
    await expect(repo.updateBranch('main', oid, tip)).rejects.toThrow(/checked out in the work tree/);
    await repo.updateBranch('arbiter/ledger', oid, null);
    expect(git(work, ['rev-parse', 'arbiter/ledger']).trim()).toBe(oid);
  });
});
