import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectStore } from '../../gitops/objects.ts';
import { PackReader } from '../../gitops/pack.ts';
import { git, seedBareRepository, tempDir } from '../support/git.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('pack reader', () => {
  it('reads every object of a gc-ed repository (deltas included) exactly as git cat-file does', async () => {
    const bare = `${tmp.path}/packed.git`;
    const commits = Array.from({ length: 12 }, (_, i) => ({
      message: `v${i}`,
      files: {
        'apps/checkout/deployment.yaml': `kind: Deployment\nreplicas: ${i}\n${'  padding line that makes deltas worthwhile\n'.repeat(40)}`,
        [`apps/svc-${i}/config.yaml`]: `value: ${i}\n`,
        'big.bin': Buffer.alloc(70_000 + i, i).toString('latin1'),
      },
    }));
    seedBareRepository(bare, commits);
    git(bare, ['gc', '-q', '--aggressive', '--prune=now']);
    const oids = git(bare, ['rev-list', '--objects', '--all']).trim().split('\n').map((l) => l.slice(0, 40));
    expect(oids.length).toBeGreaterThan(40);
    const verify = git(bare, ['verify-pack', '-v', ...execFileSync('sh', ['-c', `ls ${bare}/objects/pack/*.idx`], { encoding: 'utf8' }).trim().split('\n')]);
    expect(verify).toMatch(/chain length = [1-9]/);
    const reader = new PackReader(`${bare}/objects/pack`);
    const store = new ObjectStore(bare);
    for (const oid of oids) {
      const expectedType = git(bare, ['cat-file', '-t', oid]).trim();
      const expected = execFileSync('git', ['cat-file', expectedType, oid], { cwd: bare });
      const got = reader.read(oid, () => undefined)!;
      expect(got.type).toBe(expectedType);
      expect(got.content.equals(expected)).toBe(true);
      expect((await store.read(oid)).content.equals(expected)).toBe(true);
    }
    expect(reader.read('0'.repeat(40), () => undefined)).toBeUndefined();
    reader.close();
  });
});

describe('pack writer', () => {
  it('batched objects land as one pack git accepts; many small packs are consolidated', async () => {
    const bare = `${tmp.path}/written.git`;
    seedBareRepository(bare, [{ message: 'init', files: { 'a.txt': 'a\n' } }]);
    const store = new ObjectStore(bare);
    const { readCommit, writeCommit, writeTreeChanges } = await import('../../gitops/commit.ts');
    const { Repository } = await import('../../gitops/repo.ts');
    const repo = await Repository.open(bare);
    let tip = (await repo.tip('main'))!;
    for (let i = 0; i < 55; i++) {
      repo.store.beginBatch();
      const tree = await writeTreeChanges(repo.store, (await readCommit(repo.store, tip)).tree, [{ path: `apps/s${i % 7}/f.yaml`, content: `v: ${i}\n` }]);
      const commit = await writeCommit(repo.store, { tree, parents: [tip], message: `c${i}\n` });
      await repo.updateBranch('main', commit, tip);
      tip = commit;
    }
    const packs = execFileSync('sh', ['-c', `ls ${bare}/objects/pack/*.idx | wc -l`], { encoding: 'utf8' }).trim();
    expect(Number(packs)).toBeLessThan(10);
    expect(git(bare, ['fsck', '--strict', '--no-dangling']).trim()).toBe('');
    expect(git(bare, ['show', 'main:apps/s5/f.yaml'])).toBe('v: 54\n');
    expect(git(bare, ['rev-list', '--count', 'main']).trim()).toBe('56');
    expect((await new ObjectStore(bare).read(tip)).type).toBe('commit');
    void store;
  });
});
